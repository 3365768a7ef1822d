"""`FastPath`: one request through the fast loops, streaming through the engine's taps.

Text only: prefill, then decode steps until an end token or the token limit, each token handed
to the text tap (which streams it and stops us on Stop). Text and speech: the thinker runs in a
helper thread (its own CUDA stream), the talker here (another stream) as soon as the first reply
token exists, reading the text through the `TextFeed` exactly as `generate()`'s talker reads
`trailing_text_hidden`; each frame's 16 codes go to the speech tap, which decodes audio chunks.
Decoders are kept per cache length, each with one graph per attention window (captured once, before
the first prefill that needs it); lengths above `keep_up_to` are freed after the request. The default
keeps what a page request decodes over (8192 new tokens after a prompt of up to 8191: 16,384 thinker
positions, 8,192 talker positions), which the start-up warm-up captures, so such a request captures
nothing.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from omni_demo.engine.fast.sampling import Decoding, Picker
from omni_demo.engine.fast.talker import FrameStep
from omni_demo.engine.fast.thinker import ThinkerDecoder, cache_length
from omni_demo.engine.interleaved import PromptState, TextFeed, follow_thinker, talker_prefill

log = logging.getLogger(__name__)
TALKER_HEAD_START_S = 1.0  # the longest the thinker waits for the talker's prefill (see `speak`)


@dataclass(frozen=True)
class SpeechSetup:
    """What the talker needs besides the text: its decoding, voice and the prompt's media layout."""

    decoding: Decoding
    speaker_id: int
    position_kwargs: dict[str, Any]  # media grids and audio lengths: for the talker's 3-D positions


class FastPath:
    """The fast loops over one loaded model; thread-safe only under the engine's lock."""

    def __init__(
        self, model: Any, keep_up_to: int = 16384, compile: bool = False, smallest_window: int = 2048
    ) -> None:
        self.model = model
        self.compile = compile  # torch.compile each step body before capturing it (CUDA only)
        self.keep_up_to = keep_up_to
        self.smallest_window = smallest_window  # the shortest attention window a graph is kept for
        self.device = model.thinker.lm_head.weight.device
        self._thinkers: dict[int, ThinkerDecoder] = {}
        self._frames: dict[tuple[int, bool], FrameStep] = {}
        self._used: dict[str, int] = {}  # the cache lengths the latest request ran over
        self._streams = self._make_streams()
        # Capturing a graph that samples (the frame step) puts the CUDA random generator in capture
        # mode for every thread: the thinker's host-side sampling meanwhile fails with "Offset increment
        # outside graph capture". That happens when a request needs a frame step of a new size, while
        # the thinker already runs; the two take turns through this lock.
        self._rng = threading.Lock()

    # -- decoders, one per cache length ---------------------------------------------------------

    def thinker_for(self, prompt: int, new_tokens: int) -> ThinkerDecoder:
        """The thinker decoder for a prompt of `prompt` tokens and up to `new_tokens` more, with the
        graphs of every window those steps attend over captured (before the prefill)."""
        length = cache_length(prompt + new_tokens + 1)
        decoder = self._thinkers.get(length)
        if decoder is None:
            decoder = self._thinkers[length] = ThinkerDecoder(
                self.model.thinker, length, self.compile, self.smallest_window
            )
        with self._rng, _timed("thinker decoder for %d positions", length):
            decoder.capture(prompt)
        self._used["thinker_positions"] = length
        return decoder

    def frames_for(self, prompt: int, frames: int, do_sample: bool) -> FrameStep:
        """The speech frame step for a talker prompt of `prompt` positions and up to `frames` frames."""
        key = (cache_length(prompt + frames + 1, smallest=4096), do_sample)
        step = self._frames.get(key)
        if step is None:
            step = self._frames[key] = FrameStep(
                self.model.talker, key[0], do_sample, self.compile, self.smallest_window
            )
        with self._rng, _timed("speech frame step for %d positions", key[0]):
            step.capture(prompt)
        self._used["talker_positions"] = key[0]
        return step

    def cache_sizes(self) -> dict[str, int]:
        """The cache lengths (positions) the latest request decoded over (the benchmark records them)."""
        return dict(self._used)

    def release_large(self) -> None:
        """Free the caches (and graphs) of lengths above `keep_up_to`."""
        for length in [n for n in self._thinkers if n > self.keep_up_to]:
            del self._thinkers[length]
        for key in [k for k in self._frames if k[0] > 2 * self.keep_up_to]:
            del self._frames[key]

    # -- one request ----------------------------------------------------------------------------

    def write(self, inputs: Any, decoding: Decoding, use_audio_in_video: bool, text_tap: Any) -> None:
        """Text only."""
        try:
            with self._on(0):
                self._think(inputs, decoding, use_audio_in_video, text_tap, None)
        finally:
            self.release_large()

    def speak(
        self,
        inputs: Any,
        decoding: Decoding,
        use_audio_in_video: bool,
        speech: SpeechSetup,
        text_tap: Any,
        speech_tap: Any,
        feed: TextFeed,
        cancel: threading.Event,
    ) -> None:
        """Text and speech, the talker following the thinker.

        After its first token the thinker waits (at most `TALKER_HEAD_START_S`) until the talker's
        prefill is done: that prefill runs eagerly (hundreds of kernel launches) and, measured on an
        H100, took ~0.3 s while the thinker's graphs replayed beside it against well under 0.1 s alone;
        the thinker's next tokens come a moment later, the first audio much sooner.
        """
        prompt = PromptState()
        talker_ready = threading.Event()

        def think() -> None:
            with self._on(0):
                self._think(inputs, decoding, use_audio_in_video, text_tap, prompt, talker_ready)

        def talk() -> None:
            try:
                with self._on(1):
                    self._talk(inputs, speech, prompt, speech_tap, feed, talker_ready)
            finally:
                talker_ready.set()  # never leave the thinker waiting

        try:
            follow_thinker(think, talk, feed, cancel)
        finally:
            self.release_large()

    def _think(
        self,
        inputs: Any,
        decoding: Decoding,
        use_audio_in_video: bool,
        text_tap: Any,
        prompt: PromptState | None,
        talker_ready: threading.Event | None = None,
    ) -> None:
        ids = inputs["input_ids"]
        self._used.clear()
        started = time.perf_counter()
        decoder = self.thinker_for(int(ids.shape[1]), decoding.max_new_tokens)
        marks = [("decoder", time.perf_counter())]
        logits, hidden = decoder.prefill(inputs, use_audio_in_video, hidden_states=prompt is not None)
        marks.append(("prefill queued", time.perf_counter()))
        if prompt is not None:
            prompt.embeds = hidden[0]
            prompt.accepted = hidden[self.model.config.talker_config.accept_hidden_layer]
        del hidden
        picker = Picker(decoding, ids)
        marks.append(("picker", time.perf_counter()))
        text_tap.put(ids.cpu())  # a streamer's first call carries the prompt, as in generate()
        with self._rng:
            token = picker.pick(logits)
        marks.append(("picked", time.perf_counter()))
        first = True
        while True:
            chosen = token.reshape(-1).cpu()  # waits for the GPU (once per token)
            text_tap.put(chosen)  # raises on Stop
            if first:
                marks.append(("first token", time.perf_counter()))
                _log_marks(f"prompt of {ids.shape[1]} tokens", [("start", started), *marks])
                first = False
                if talker_ready is not None and not picker.finished(int(chosen)):
                    talker_ready.wait(TALKER_HEAD_START_S)
            if picker.finished(int(chosen)):
                break
            logits = decoder.decode(token)
            with self._rng:
                token = picker.pick(logits)
        text_tap.end()

    def _talk(
        self,
        inputs: Any,
        speech: SpeechSetup,
        prompt: PromptState,
        speech_tap: Any,
        feed: TextFeed,
        ready: threading.Event,
    ) -> None:
        import torch
        from transformers import DynamicCache

        model = self.model
        marks = [("start", time.perf_counter())]
        prefill = talker_prefill(
            model, inputs["input_ids"], inputs["attention_mask"], prompt, speech.speaker_id, feed.first_id
        )
        marks.append(("inputs", time.perf_counter()))
        pad = prefill.pop("tts_pad_embed")
        prefill.pop("eos_embed")
        length = int(prefill["inputs_embeds"].shape[1])
        step = self.frames_for(length, speech.decoding.max_new_tokens, speech.decoding.do_sample)
        marks.append(("frame step", time.perf_counter()))
        cache = DynamicCache(config=model.talker.config.text_config)
        out = model.talker(
            **prefill, **speech.position_kwargs, cache=cache, use_cache=True, output_hidden_states=True
        )
        step.start(cache, length, model.talker.rope_deltas, out.hidden_states[0][-1][:, -1:])
        first_logits = out.logits[:, -1]
        del cache, out
        picker = Picker(speech.decoding, prefill["talker_input_ids"].new_zeros((1, 0)))
        token = picker.pick(first_logits)
        ready.set()  # the thinker goes on
        marks.append(("prefill", time.perf_counter()))
        generation_step = 0
        while not picker.finished(int(token)):
            codes, logits = step.frame(token, feed.talker_input(generation_step, pad))
            speech_tap.push(torch.cat([token, codes], dim=-1))
            token = picker.pick(logits)
            generation_step += 1
            if generation_step in (1, 4):
                marks.append((f"frame {generation_step}", time.perf_counter()))
                _log_marks(f"talker prompt of {length} positions", marks)
            if speech_tap.over_budget() or step.room <= 0:
                break

    # -- CUDA streams: the thinker and the talker each on their own ------------------------------

    def _make_streams(self) -> list[Any]:
        import torch

        if self.device.type != "cuda":
            return []
        return [torch.cuda.Stream(self.device), torch.cuda.Stream(self.device)]

    @contextlib.contextmanager
    def _on(self, index: int) -> Iterator[None]:
        """Inference mode (it is per thread, and the buffers are inference tensors) on stream `index`."""
        import torch

        with contextlib.ExitStack() as stack:
            stack.enter_context(torch.inference_mode())
            if self._streams:
                stream = self._streams[index]
                stream.wait_stream(
                    torch.cuda.current_stream(self.device)
                )  # inputs came on the caller's stream
                stack.enter_context(torch.cuda.stream(stream))
            yield


def _log_marks(what: str, marks: list[tuple[str, float]]) -> None:
    """Debug log: when each mark came, in ms from the first."""
    if log.isEnabledFor(logging.DEBUG):
        start = marks[0][1]
        log.debug("%s: %s", what, ", ".join(f"{name} {1000 * (t - start):.0f} ms" for name, t in marks[1:]))


@contextlib.contextmanager
def _timed(what: str, size: int) -> Iterator[None]:
    """Log how long capturing took, when it took noticeable time (graphs missing for a window)."""
    started = time.perf_counter()
    yield
    elapsed = time.perf_counter() - started
    if elapsed > 0.05:
        log.info(what + " ready in %.2f s", size, elapsed)
