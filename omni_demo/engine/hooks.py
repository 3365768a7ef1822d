"""Taps into the stock generate(): text tokens from the thinker, code frames from the talker.

Both run inside the generation thread, put events on the engine's queue, and raise
`GenerationCancelled` as soon as the user has pressed Stop, which unwinds generate() at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from transformers import StoppingCriteria, StoppingCriteriaList, TextStreamer

from omni_demo.engine.speech import StreamingDecoder
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
    """A forward pre-hook on the talker: each step's `residual_codes` are the previous frame's 16 codes."""

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
        # No talker: the caller pushes each frame itself (the fast engine's own loop).
        self._handle = (
            None if talker is None else talker.register_forward_pre_hook(self._hook, with_kwargs=True)
        )

    def _hook(self, module: Any, args: Any, kwargs: dict[str, Any]) -> None:
        if self._cancel.is_set():
            raise GenerationCancelled
        codes = kwargs.get("residual_codes")
        if codes is not None:  # None on the prefill step
            self.push(codes)

    def push(self, codes: Any) -> None:
        """One frame's 16 codes [1, 16]; may emit an audio chunk."""
        if self._cancel.is_set():
            raise GenerationCancelled
        self._emit(self._decoder.push(codes))

    def over_budget(self) -> bool:
        return self._decoder.frames >= self._budget()

    def _emit(self, chunks: list[Any]) -> None:
        for chunk in chunks:
            now = time.perf_counter()
            if self._progress.first_audio is None:
                self._progress.first_audio = now
            self._progress.audio.append(chunk)
            self._progress.audio_arrivals.append((now, int(chunk.size)))
            self._events.put(AudioChunk(chunk))

    def flush(self) -> None:
        self._emit(self._decoder.flush())

    def remove(self) -> None:
        if self._handle is not None:
            self._handle.remove()

    def stopping_criteria(self) -> StoppingCriteriaList:
        return StoppingCriteriaList([_FrameBudget(self._decoder, self._budget)])


class _FrameBudget(StoppingCriteria):
    """Stops the talker once it has made as many frames as the budget allows."""

    def __init__(self, decoder: StreamingDecoder, budget: Callable[[], int]) -> None:
        self._decoder = decoder
        self._budget = budget

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        done = self._decoder.frames >= self._budget()
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
