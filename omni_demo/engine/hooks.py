"""Taps into generation: text tokens from the thinker, code frames from the talker.

Both are called from the generation threads, put events on the engine's queue, and raise
`GenerationCancelled` as soon as the user has pressed Stop, which unwinds the loops at once. The
speech tap hands its frames to the speech thread, which turns them into audio chunks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from transformers import StoppingCriteria, StoppingCriteriaList, TextStreamer

from omni_demo.engine.speech import StreamingDecoder
from omni_demo.engine.workers import worker
from omni_demo.errors import GenerationCancelled
from omni_demo.types import AudioChunk, TextDelta


class TextTap(TextStreamer):
    """The thinker's streamer: counts tokens, times them, and emits decoded text deltas."""

    def __init__(self, tokenizer: Any, progress: Any, events: Any, cancel: Any, feed: Any = None) -> None:
        super().__init__(tokenizer, skip_prompt=True, skip_special_tokens=True)
        self._progress = progress
        self._events = events
        self._cancel = cancel
        self._feed = feed  # the talker's TextFeed when speech follows the text

    def put(self, value: Any) -> None:
        if self._cancel.is_set():
            raise GenerationCancelled
        if not self.next_tokens_are_prompt:  # the first call carries the prompt, not new tokens
            now = time.perf_counter()
            if self._progress.first_token is None:
                self._progress.first_token = now
            self._progress.last_token = now
            self._progress.text_tokens += int(value.numel())
            if self._feed is not None:
                self._feed.add(value)
        super().put(value)

    def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
        if text:
            self._progress.text.append(text)
            self._events.put(TextDelta(text))


class SpeechTap:
    """Code frames in, audio chunks out: the talker's 16 codes per frame go to a `StreamingDecoder` that
    runs on its own long-lived thread ("omni-speech"), so code2wav never holds up the talker's next
    frame. With `talker` given, a forward pre-hook on it feeds the frames (each step's `residual_codes`
    are the previous frame's 16 codes); the fast engine's loop calls `push` itself.
    """

    def __init__(
        self,
        talker: Any,
        decoder: StreamingDecoder,
        progress: Any,
        events: Any,
        cancel: Any,
        budget: Callable[[], int],
    ) -> None:
        self._decoder = decoder
        self._progress = progress
        self._events = events
        self._cancel = cancel
        self._budget = budget
        self._frames = 0  # frames pushed (the decoder may not have seen them all yet)
        self._pending: list[Future[Any]] = []  # decoding submitted and not yet seen to succeed
        self._closed = False
        self._handle = (
            None if talker is None else talker.register_forward_pre_hook(self._hook, with_kwargs=True)
        )

    @property
    def frames(self) -> int:
        return self._frames

    def _hook(self, module: Any, args: Any, kwargs: dict[str, Any]) -> None:
        if self._cancel.is_set():
            raise GenerationCancelled
        codes = kwargs.get("residual_codes")
        if codes is not None:  # None on the prefill step
            self.push(codes)

    def push(self, codes: Any) -> None:
        """One frame's 16 codes [1, 16]; decoded (and maybe emitted as a chunk) on the speech thread."""
        if self._cancel.is_set():
            raise GenerationCancelled
        self._raise_failed()
        self._frames += 1
        # A host copy (16 numbers; the talker reads its next token on the host anyway): the speech
        # thread then uses it on its own CUDA stream with no cross-stream hazard.
        frame = codes.detach().to("cpu", copy=True)
        self._pending.append(worker("omni-speech").submit(self._decode, frame))

    def over_budget(self) -> bool:
        return self._frames >= self._budget()

    def flush(self) -> None:
        """Decode what is left (the tail included) and wait until every chunk is out."""
        self._pending.append(worker("omni-speech").submit(self._decode, None))
        for future in self._pending:
            future.result()
        self._pending = []

    def remove(self) -> None:
        """Unhook; on an early end (Stop, an error) drop the frames not decoded yet."""
        if self._handle is not None:
            self._handle.remove()
        self._closed = True
        for future in self._pending:
            future.exception()  # waits; a failure after the request ended has no one to tell
        self._pending = []

    def stopping_criteria(self) -> StoppingCriteriaList:
        return StoppingCriteriaList([_FrameBudget(self, self._budget)])

    def _decode(self, frame: Any) -> None:
        """On the speech thread: one frame (None: the final flush) through the decoder."""
        if self._closed:
            return
        chunks = self._decoder.flush() if frame is None else self._decoder.push(frame)
        for chunk in chunks:
            now = time.perf_counter()
            if self._progress.first_audio is None:
                self._progress.first_audio = now
            self._progress.audio.append(chunk)
            self._progress.audio_arrivals.append((now, int(chunk.size)))
            self._events.put(AudioChunk(chunk))

    def _raise_failed(self) -> None:
        done = [f for f in self._pending if f.done()]
        self._pending = [f for f in self._pending if not f.done()]
        for future in done:
            future.result()  # raises what the decoding raised


class _FrameBudget(StoppingCriteria):
    """Stops the talker once it has made as many frames as the budget allows."""

    def __init__(self, tap: SpeechTap, budget: Callable[[], int]) -> None:
        self._tap = tap
        self._budget = budget

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        done = self._tap.frames >= self._budget()
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


class StopAfter(StoppingCriteria):
    """Ends generate() after `tokens` new tokens, whatever its max_new_tokens (the benchmark's fixed
    lengths). One per generate() call: the first call marks where the new tokens began."""

    def __init__(self, tokens: int) -> None:
        self._tokens = tokens
        self._start: int | None = None

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        length = int(input_ids.shape[-1])
        if self._start is None:
            self._start = length - 1  # called after each new token: this is the first one
        done = length - self._start >= self._tokens
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)

    def as_list(self) -> StoppingCriteriaList:
        return StoppingCriteriaList([self])
