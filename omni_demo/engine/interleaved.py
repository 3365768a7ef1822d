"""Speech that starts while the text is still being written: the talker follows the thinker.

The stock `generate()` runs the thinker to the end, then the talker. But the talker reads the
reply's text one token per step (`trailing_text_hidden`, the projected input embedding of each
generated token), and its prefill needs only the prompt's hidden states and the FIRST reply token.
So we run the thinker in one thread and start the talker as soon as that first token exists; a
`TextFeed` stands in for `trailing_text_hidden` and waits, step by step, for the token the talker
asks for. The talker inputs are built exactly as `Qwen3OmniMoeForConditionalGeneration.generate`
builds them (transformers 5.24, batch 1), so with greedy decoding the waveform is the same.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import wait
from dataclasses import dataclass
from typing import Any

from omni_demo.engine.workers import worker
from omni_demo.errors import GenerationCancelled

_POLL_S = 0.05  # how often a waiting talker checks for Stop


class TextFeed:
    """A growing `trailing_text_hidden`: entry j is the talker-space embedding of reply token j + 1.

    generate() builds it from the thinker's per-step hidden states, which never include the last
    token (it is sampled but not fed back). So after the thinker has finished with n tokens, the
    entries are tokens 1 .. n - 2, entry n - 2 is the end-of-text marker, and the talker pads beyond.
    The talker only ever uses `generation_step < feed.shape[1]` and `feed[:, generation_step]`;
    both wait for the thinker.
    """

    def __init__(self, project: Callable[[Any], Any], eos_embed: Any, cancel: threading.Event) -> None:
        self._project = project  # token ids [1, k] -> talker-space embeddings [1, k, hidden]
        self._eos = eos_embed  # [1, 1, hidden]
        self._cancel = cancel
        self._cond = threading.Condition()
        self._entries: list[Any] = []  # one token id ([1]) per reply token
        self._first_id: Any = None  # the first reply token, which the talker's prefill needs
        self._finished = False

    # -- written by the thinker thread -----------------------------------------------------------

    def add(self, token_ids: Any) -> None:
        ids = token_ids.reshape(-1)
        with self._cond:
            if self._first_id is None:
                self._first_id = ids[:1]
            self._entries.extend(ids[i : i + 1] for i in range(ids.numel()))
            self._cond.notify_all()

    def finish(self) -> None:
        with self._cond:
            self._finished = True
            self._cond.notify_all()

    @property
    def first_id(self) -> Any:
        return self._first_id

    @property
    def finished(self) -> bool:
        return self._finished

    # -- read by the talker thread ---------------------------------------------------------------

    def wait_for_tokens(self, count: int) -> bool:
        """Block until `count` reply tokens exist (True) or the thinker ended with fewer (False)."""
        with self._cond:
            while len(self._entries) < count and not self._finished:
                if self._cancel.is_set():
                    raise GenerationCancelled
                self._cond.wait(_POLL_S)
            return len(self._entries) >= count

    def known(self, step: int) -> bool:
        """Whether `talker_input(step, ...)` can answer without waiting (a batched talker asks first)."""
        with self._cond:
            return len(self._entries) >= step + 3 or self._finished

    def has(self, step: int) -> bool:
        if self.wait_for_tokens(step + 3):  # entry `step` is reply token step + 1, known before the next
            return True
        return step <= len(self._entries) - 2  # the end marker sits at n - 2

    def entry(self, step: int) -> Any:
        """[1, hidden]. Projected here, in the reader's thread (and CUDA stream), not the writer's."""
        if step + 2 < len(self._entries):
            return self._project(self._entries[step + 1].reshape(1, 1))[:, 0]
        return self._eos[:, 0]

    def talker_input(self, step: int, pad: Any) -> Any:
        """What generate()'s talker adds to its input at `step`: the text entry while there is one,
        else the pad embedding (`trailing_text_hidden[:, step]` if `step < shape[1]`, else `tts_pad`)."""
        return self.entry(step) if self.has(step) else pad

    @property
    def shape(self) -> tuple[int, _Length, int]:
        return (1, _Length(self), int(self._eos.shape[-1]))

    def __getitem__(self, index: tuple[slice, int]) -> Any:
        _, step = index
        return self.entry(int(step))


class _Length:
    """`generation_step < feed.shape[1]` without knowing the final length yet."""

    def __init__(self, feed: TextFeed) -> None:
        self._feed = feed

    def __gt__(self, step: int) -> bool:
        return self._feed.has(int(step))


@dataclass
class PromptState:
    """The thinker's prefill hidden states, caught by a forward hook on its text model."""

    embeds: Any = None  # layer 0 (input embeddings, media merged in) [1, L, H]
    accepted: Any = None  # the layer the talker reads for media positions [1, L, H]


def catch_prompt_states(model: Any, state: PromptState) -> Any:
    """Hook the thinker's text model; the first (prefill) call's hidden states fill `state`."""
    layer = model.config.talker_config.accept_hidden_layer

    def hook(module: Any, args: Any, output: Any) -> None:
        hidden = getattr(output, "hidden_states", None)
        if state.embeds is None and hidden is not None:
            state.embeds, state.accepted = hidden[0], hidden[layer]

    return model.thinker.model.register_forward_hook(hook)


def talker_prefill(
    model: Any, input_ids: Any, attention_mask: Any, prompt: PromptState, speaker_id: int, first_token: Any
) -> dict[str, Any]:
    """The talker's inputs for batch 1, as generate() builds them, from the prompt and the first token."""
    import torch

    cfg = model.config
    length = input_ids.shape[1]
    mm = cfg.thinker_config
    media_mask = (
        (input_ids == mm.audio_token_id) | (input_ids == mm.image_token_id) | (input_ids == mm.video_token_id)
    )
    # Positions that belong to a user turn: the token after the latest <|im_start|> is "user".
    positions = torch.arange(length, device=input_ids.device).unsqueeze(0)
    starts = torch.where(input_ids == cfg.im_start_token_id, positions, positions.new_full((), -1))
    role_at = input_ids.gather(
        1, (torch.cummax(starts, dim=-1).values.clamp_min(0) + 1).clamp_max(length - 1)
    )
    user = ((role_at == cfg.user_token_id) & attention_mask.bool())[0].nonzero().flatten()
    user_parts = model._get_talker_user_parts(0, length, media_mask, prompt.accepted, prompt.embeds)
    pairs = (input_ids[0, :-1] == cfg.im_start_token_id) & (input_ids[0, 1:] == cfg.assistant_token_id)
    assistant_start = int(torch.nonzero(pairs).flatten()[-1])
    bos, eos, pad = tts_embeds(model, input_ids.device)
    # The streamer hands tokens over on the CPU; the embedding table may live on a GPU.
    first_id = first_token.reshape(1, 1).to(input_ids.device)
    first_embed = model.thinker.get_input_embeddings()(first_id).to(prompt.embeds.dtype)
    thinker_embed = torch.cat([prompt.embeds, first_embed.to(prompt.embeds.device)], dim=1)
    assistant_embeds, assistant_ids, _ = model._get_talker_assistant_parts(
        assistant_start, length + 1, speaker_id, thinker_embed, pad, bos, eos
    )
    embeds = torch.cat([user_parts[:, user], assistant_embeds.to(user_parts.device)], dim=1)
    return {
        "inputs_embeds": embeds,
        "talker_input_ids": torch.cat([input_ids[:, user], assistant_ids.to(input_ids.device)], dim=1),
        "attention_mask": attention_mask.new_ones((1, embeds.shape[1])),
        "tts_pad_embed": pad,
        "eos_embed": eos,
    }


def talker_positions(inputs: Any) -> dict[str, Any]:
    """The media layout the talker's 3-D positions need, as generate() hands it to the talker.

    Stock generate() hands the talker these and never `use_audio_in_video` (transformers 5.24, the
    talker call in Qwen3OmniMoeForConditionalGeneration.generate): the talker's positions are those of
    separate audio and video even when the sound came from the video. Same here, so that the speech
    equals generate()'s.
    """
    out = {
        key: inputs[key]
        for key in ("image_grid_thw", "video_grid_thw", "video_second_per_grid")
        if key in inputs
    }
    if "feature_attention_mask" in inputs:
        out["audio_feature_lengths"] = inputs["feature_attention_mask"].sum(dim=1)
    return out


def talker_generate_kwargs(inputs: Any, decoding: Any, stopping_criteria: Any) -> dict[str, Any]:
    """generate()'s talker call: its decoding, what the interleaved loop reads back, media positions."""
    from omni_demo.engine.plan import generate_kwargs

    return {
        **generate_kwargs(decoding, sampling=True),
        "output_hidden_states": True,
        "return_dict_in_generate": True,
        "stopping_criteria": stopping_criteria,
        **talker_positions(inputs),
    }


def tts_embeds(model: Any, device: Any) -> tuple[Any, Any, Any]:
    """The talker-space embeddings of <tts_bos>, <tts_eos> and <tts_pad>, each [1, 1, hidden]."""
    import torch

    cfg = model.config
    ids = torch.tensor([[cfg.tts_bos_token_id, cfg.tts_eos_token_id, cfg.tts_pad_token_id]], device=device)
    return model.talker.text_projection(model.thinker.get_input_embeddings()(ids)).chunk(3, dim=1)


def speak_while_thinking(
    model: Any,
    inputs: Any,
    thinker_kwargs: dict[str, Any],
    talker_kwargs: dict[str, Any],
    speaker_id: int,
    feed: TextFeed,
    cancel: threading.Event,
) -> None:
    """Run the thinker in a helper thread and the talker here, the talker following the text.

    `thinker_kwargs` must carry the streamer that calls `feed.add` for every reply token.
    """
    prompt = PromptState()
    handle = catch_prompt_states(model, prompt)

    def think() -> None:
        model.thinker.generate(**inputs, output_hidden_states=True, **thinker_kwargs)

    def talk() -> None:
        prefill = talker_prefill(
            model, inputs["input_ids"], inputs["attention_mask"], prompt, speaker_id, feed.first_id
        )
        prefill.pop("eos_embed")
        model.talker.generate(trailing_text_hidden=feed, **prefill, **talker_kwargs)

    try:
        follow_thinker(think, talk, feed, cancel)
    finally:
        handle.remove()


def follow_thinker(
    think: Callable[[], None], talk: Callable[[], None], feed: TextFeed, cancel: threading.Event
) -> None:
    """Run `think` in a helper thread and `talk` here, once the first reply token is in `feed`.

    Either side failing or being stopped stops the other; the thinker's own error wins.
    """
    failure: list[BaseException] = []

    def thinker_thread() -> None:
        try:
            think()
        except BaseException as exc:  # handed over to the talker's thread below
            failure.append(exc)
            cancel.set()  # the talker must not wait for text that will never come
        finally:
            feed.finish()

    thinker = worker("omni-thinker").submit(thinker_thread)
    try:
        if feed.wait_for_tokens(1) and not failure:
            talk()
    except BaseException as exc:
        cancel.set()  # the talker failed or was stopped: stop the thinker at its next token too
        if not (failure and isinstance(exc, GenerationCancelled)):
            raise
    finally:
        wait([thinker])
    if failure:
        raise failure[0]
