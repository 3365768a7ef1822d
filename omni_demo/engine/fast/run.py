"""`FastPath`: requests through the fast loops, streaming through the engine's taps.

Text only: prefill, then decode steps until an end token or the token limit, each token handed
to the text tap (which streams it and stops us on Stop). Text and speech: the thinker runs in a
helper thread, the talker here as soon as the first reply token exists, reading the text through
the `TextFeed` exactly as `generate()`'s talker reads `trailing_text_hidden`; each frame's 16 codes
go to the speech tap, which decodes audio chunks.

A request prefills in its own thread and CUDA stream, then joins a batched loop (`batch.py`), which
decodes it together with the other requests there. Every request that fits the kept loops (what a page
request decodes over: 8192 new tokens after a prompt of up to 8191, so 16,384 thinker positions and
8,192 talker positions) joins them, `max_batch` rows each: a step costs what its attention window holds,
not the cache's size, so a short request loses nothing there. A longer one (a long video's prompt) gets
a one-row loop of its own size, freed when no request holds it. Each loop keeps one graph per batch
size and window; the start-up warm-up captures the kept loops' graphs, so a page request captures
nothing.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from omni_demo.engine.fast.batch import Hold, TalkerLane, TalkerLoop, ThinkerLane, ThinkerLoop
from omni_demo.engine.fast.sampling import Decoding, Picker
from omni_demo.engine.fast.talker import FrameStep
from omni_demo.engine.fast.thinker import ThinkerDecoder, cache_length
from omni_demo.engine.interleaved import PromptState, TextFeed, follow_thinker, talker_prefill

log = logging.getLogger(__name__)
TALKER_HEAD_START_S = 1.0  # the longest the thinker waits for the talker's prefill (see `speak`)
TALKER_PROMPT_MARGIN = 16  # positions the talker's prompt may have beyond the thinker's (`fits_kept`)


@dataclass(frozen=True)
class SpeechSetup:
    """What the talker needs besides the text: its decoding, voice and the prompt's media layout."""

    decoding: Decoding
    speaker_id: int
    position_kwargs: dict[str, Any]  # media grids and audio lengths: for the talker's 3-D positions


class FastPath:
    """The fast loops over one loaded model; requests may call it from several threads at once."""

    def __init__(
        self,
        model: Any,
        keep_up_to: int = 16384,
        compile: bool = False,
        smallest_window: int = 2048,
        max_batch: int = 1,
    ) -> None:
        self.model = model
        self.compile = compile  # torch.compile each step body before capturing it (CUDA only)
        self.keep_up_to = keep_up_to
        self.smallest_window = smallest_window  # the shortest attention window a graph is kept for
        self.max_batch = max_batch  # rows of the loops a page request uses: requests decoded together
        self.device = model.thinker.lm_head.weight.device
        self._thinkers: dict[int, ThinkerLoop] = {}
        self._frames: dict[tuple[int, bool], TalkerLoop] = {}
        self._loops = threading.Lock()  # guards the two dicts
        self._used: dict[str, int] = {}  # the cache lengths the latest request ran over
        # transformers keeps the latest prefill's rope deltas on the module (`rope_deltas`): one prefill
        # of each model at a time, read right after it.
        self._thinker_prefill = threading.Lock()
        self._talker_prefill = threading.Lock()
        # A talker prefill runs eagerly (hundreds of kernel launches); measured on an H100 it took ~0.3 s
        # beside the thinker's graph replays against well under 0.1 s alone, and it stands between a
        # request and its first audio. So while one runs, every thinker lane sits out (at most
        # TALKER_HEAD_START_S): the thinkers write their text far ahead of the speech that reads it, and
        # the talker loop (the speech being played) goes on.
        self._talker_prefills = Hold(TALKER_HEAD_START_S)
        self._streams = threading.local()  # each request thread's own CUDA stream
        # Capturing a graph that samples (the frame step) puts the CUDA random generator in capture
        # mode for every thread: host-side sampling meanwhile fails with "Offset increment outside
        # graph capture". That happens when a frame step of a new size is captured while other loops
        # run; captures and picks take turns through this lock.
        self._rng = threading.Lock()

    # -- loops, one per cache length -------------------------------------------------------------

    def thinker_length(self, prompt: int, new_tokens: int) -> int:
        """The thinker cache a prompt of `prompt` tokens and up to `new_tokens` more decodes over."""
        return max(cache_length(prompt + new_tokens + 1), self.keep_up_to)

    def talker_length(self, prompt: int, frames: int) -> int:
        """The talker cache a talker prompt of `prompt` positions and up to `frames` frames decodes over."""
        return max(cache_length(prompt + frames + 1, smallest=4096), self.keep_up_to // 2)

    def fits_kept(self, prompt: int, new_tokens: int, frames: int | None) -> bool:
        """Whether a request (a prompt of `prompt` tokens, up to `new_tokens` more and, when it speaks,
        up to `frames` speech frames) decodes in the kept loops, whose graphs the warm-up captured. The
        talker's prompt is the thinker's and the start of the reply (6 positions more, as logged on the
        GPU), so a margin of `TALKER_PROMPT_MARGIN` is allowed for."""
        if self.thinker_length(prompt, new_tokens) > self.keep_up_to:
            return False
        talker = 0 if frames is None else self.talker_length(prompt + TALKER_PROMPT_MARGIN, frames)
        return talker <= self.keep_up_to // 2

    def thinker_for(self, prompt: int, new_tokens: int) -> ThinkerLoop:
        """The thinker loop for a prompt of `prompt` tokens and up to `new_tokens` more: the kept loop
        (`keep_up_to` positions, `max_batch` rows) for every request it holds, since a step costs what
        its window holds, not the cache's size; else a one-row loop of the request's own size."""
        length = self.thinker_length(prompt, new_tokens)
        with self._loops:
            loop = self._thinkers.get(length)
            if loop is None:
                rows = self.max_batch if length == self.keep_up_to else 1
                decoder = ThinkerDecoder(self.model.thinker, length, self.compile, self.smallest_window, rows)
                loop = self._thinkers[length] = ThinkerLoop(decoder, self._rng, self._talker_prefills)
                loop.kept = length == self.keep_up_to
            loop.users += 1  # `release` never frees a loop a request holds (even before it joins)
        self._used["thinker_positions"] = length
        return loop

    def frames_for(self, prompt: int, frames: int, do_sample: bool) -> TalkerLoop:
        """The speech loop for a talker prompt of `prompt` positions and up to `frames` frames: the kept
        one (half the thinker's, `max_batch` rows) for every request it holds, else a one-row loop."""
        kept = self.keep_up_to // 2
        key = (self.talker_length(prompt, frames), do_sample)
        with self._loops:
            loop = self._frames.get(key)
            if loop is None:
                rows = self.max_batch if key[0] == kept else 1
                step = FrameStep(
                    self.model.talker, key[0], do_sample, self.compile, self.smallest_window, rows
                )
                loop = self._frames[key] = TalkerLoop(step, self._rng)
                loop.kept = key[0] == kept
            loop.users += 1
        self._used["talker_positions"] = key[0]
        return loop

    def capture_all(self) -> None:
        """Capture every batch size of the loops the latest request used (the warm-up: a page request's
        sizes), which captured a single row's graphs."""
        used = self.cache_sizes()
        with self._loops:
            loops = [self._thinkers.get(used.get("thinker_positions", 0))]
            loops += [
                loop for (length, _), loop in self._frames.items() if length == used.get("talker_positions")
            ]
        for loop in loops:
            if loop is not None:
                loop.capture_all()

    def cache_sizes(self) -> dict[str, int]:
        """The cache lengths (positions) the latest request decoded over (the benchmark records them)."""
        return dict(self._used)

    def release(self, loop: ThinkerLoop | TalkerLoop) -> None:
        """A request is done with `loop`; a loop of a length above `keep_up_to` that no request holds
        any more is freed (its caches and graphs)."""
        with self._loops:
            loop.users -= 1
            if loop.users > 0 or loop.kept:
                return
            for loops in (self._thinkers, self._frames):
                for key in [k for k, held in loops.items() if held is loop]:
                    del loops[key]  # type: ignore[attr-defined]
        loop.close()

    def close(self) -> None:
        """End every loop's thread (the engine falls back to generate(): their memory goes)."""
        with self._loops:
            loops = [*self._thinkers.values(), *self._frames.values()]
            self._thinkers.clear()
            self._frames.clear()
        for loop in loops:
            loop.close()

    # -- one request ----------------------------------------------------------------------------

    def write(
        self,
        inputs: Any,
        decoding: Decoding,
        use_audio_in_video: bool,
        text_tap: Any,
        cancel: threading.Event | None = None,
    ) -> None:
        """Text only. Stop reaches a decoding reply through `text_tap` (it raises); `cancel` ends one that
        still waits for a free row."""
        with self._own_stream():
            self._think(inputs, decoding, use_audio_in_video, text_tap, cancel or threading.Event())

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

        After its first token the thinker's lane sits out (at most `TALKER_HEAD_START_S`) until the
        talker's prefill is done (and while it runs, so do the other requests' thinker lanes): that
        prefill runs eagerly (hundreds of kernel launches) and, measured on an H100, took ~0.3 s while
        the thinker's graphs replayed beside it against well under 0.1 s alone; the thinker's next
        tokens come a moment later, the first audio much sooner.
        """
        prompt = PromptState()
        talker_ready = threading.Event()

        def think() -> None:
            with self._own_stream():
                self._think(inputs, decoding, use_audio_in_video, text_tap, cancel, prompt, talker_ready)

        def talk() -> None:
            try:
                with self._own_stream():
                    self._talk(inputs, speech, prompt, speech_tap, feed, cancel, talker_ready)
            finally:
                talker_ready.set()  # never leave the thinker waiting

        follow_thinker(think, talk, feed, cancel)

    def _think(
        self,
        inputs: Any,
        decoding: Decoding,
        use_audio_in_video: bool,
        text_tap: Any,
        cancel: threading.Event,
        prompt: PromptState | None = None,
        talker_ready: threading.Event | None = None,
    ) -> None:
        ids = inputs["input_ids"]
        self._used.clear()
        loop = self.thinker_for(int(ids.shape[1]), decoding.max_new_tokens)
        try:
            self._think_in(loop, inputs, decoding, use_audio_in_video, text_tap, cancel, prompt, talker_ready)
        finally:
            self.release(loop)

    def _think_in(
        self,
        loop: ThinkerLoop,
        inputs: Any,
        decoding: Decoding,
        use_audio_in_video: bool,
        text_tap: Any,
        cancel: threading.Event,
        prompt: PromptState | None,
        talker_ready: threading.Event | None,
    ) -> None:
        ids = inputs["input_ids"]
        started = time.perf_counter()
        marks = [("loop", time.perf_counter())]
        with self._thinker_prefill:
            prefilled = loop.decoder.prefill(inputs, use_audio_in_video, hidden_states=prompt is not None)
        marks.append(("prefill queued", time.perf_counter()))
        if prompt is not None:
            prompt.embeds = prefilled.hidden_states[0]
            prompt.accepted = prefilled.hidden_states[self.model.config.talker_config.accept_hidden_layer]
        prefilled.hidden_states = None
        picker = Picker(decoding, ids)
        text_tap.put(ids.cpu())  # a streamer's first call carries the prompt, as in generate()
        with self._rng:
            token = picker.pick(prefilled.logits)
        chosen = token.reshape(-1).cpu()  # waits for the prefill
        text_tap.put(chosen)  # raises on Stop
        marks.append(("first token", time.perf_counter()))
        _log_marks(f"prompt of {ids.shape[1]} tokens", [("start", started), *marks])
        if picker.finished(int(chosen)):
            text_tap.end()
            return
        lane = ThinkerLane(
            picker=picker,
            token=token,
            prompt=prefilled.length,
            load=functools.partial(loop.decoder.load, prefilled),
            cancel=cancel,
            ready=None if talker_ready is None else _head_start(talker_ready),
            text_tap=text_tap,
        )
        del prefilled
        loop.run(lane)

    def _talk(
        self,
        inputs: Any,
        speech: SpeechSetup,
        prompt: PromptState,
        speech_tap: Any,
        feed: TextFeed,
        cancel: threading.Event,
        ready: threading.Event,
    ) -> None:
        model = self.model
        marks = [("start", time.perf_counter())]
        prefill = talker_prefill(
            model, inputs["input_ids"], inputs["attention_mask"], prompt, speech.speaker_id, feed.first_id
        )
        pad = prefill.pop("tts_pad_embed")
        prefill.pop("eos_embed")
        length = int(prefill["inputs_embeds"].shape[1])
        loop = self.frames_for(length, speech.decoding.max_new_tokens, speech.decoding.do_sample)
        try:
            self._talk_in(loop, prefill, pad, length, speech, speech_tap, feed, cancel, ready, marks)
        finally:
            self.release(loop)

    def _talk_in(
        self,
        loop: TalkerLoop,
        prefill: dict[str, Any],
        pad: Any,
        length: int,
        speech: SpeechSetup,
        speech_tap: Any,
        feed: TextFeed,
        cancel: threading.Event,
        ready: threading.Event,
        marks: list[tuple[str, float]],
    ) -> None:
        from transformers import DynamicCache

        model = self.model
        marks.append(("inputs", time.perf_counter()))
        cache = DynamicCache(config=model.talker.config.text_config)
        with self._talker_prefills.held():  # the thinkers' lanes sit out meanwhile
            with self._talker_prefill:
                kwargs = {**prefill, **speech.position_kwargs}
                out = model.talker(**kwargs, cache=cache, use_cache=True, output_hidden_states=True)
                rope_delta = model.talker.rope_deltas.reshape(-1)[:1].clone()
            past_hidden = out.hidden_states[0][-1][:, -1:]
            picker = Picker(speech.decoding, prefill["talker_input_ids"].new_zeros((1, 0)))
            with self._rng:
                token = picker.pick(out.logits[:, -1])
            del out
            first = int(token)  # waits for the prefill
        ready.set()  # the thinker goes on
        marks.append(("prefill", time.perf_counter()))
        _log_marks(f"talker prompt of {length} positions", marks)
        if picker.finished(first):
            return
        lane = TalkerLane(
            picker=picker,
            token=token,
            prompt=length,
            load=functools.partial(loop.frames.start, cache, length, rope_delta, past_hidden),
            cancel=cancel,
            feed=feed,
            pad=pad,
            speech_tap=speech_tap,
        )
        del cache
        loop.run(lane)

    # -- CUDA streams: each request thread on its own ----------------------------------------------

    @contextlib.contextmanager
    def _own_stream(self) -> Iterator[None]:
        """Inference mode (it is per thread, and the buffers are inference tensors) on this thread's
        own CUDA stream, after what the caller's stream has queued (the inputs came on it)."""
        import torch

        with contextlib.ExitStack() as stack:
            stack.enter_context(torch.inference_mode())
            if self.device.type == "cuda":
                stream = getattr(self._streams, "stream", None)
                if stream is None:
                    stream = self._streams.stream = torch.cuda.Stream(self.device)
                stream.wait_stream(torch.cuda.current_stream(self.device))
                stack.enter_context(torch.cuda.stream(stream))
            yield


def _head_start(talker_ready: threading.Event) -> Any:
    """A thinker lane's `ready`: once the talker's prefill is done, or `TALKER_HEAD_START_S` from now."""
    deadline = time.perf_counter() + TALKER_HEAD_START_S

    def ready() -> bool:
        return talker_ready.is_set() or time.perf_counter() > deadline

    return ready


def _log_marks(what: str, marks: list[tuple[str, float]]) -> None:
    """Debug log: when each mark came, in ms from the first."""
    if log.isEnabledFor(logging.DEBUG):
        start = marks[0][1]
        log.debug("%s: %s", what, ", ".join(f"{name} {1000 * (t - start):.0f} ms" for name, t in marks[1:]))
