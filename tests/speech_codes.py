"""Watching the speech codes an engine hands its speech decoder (the fast and plain paths alike)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def engine_codes() -> Iterator[list]:
    """Collect every frame of 16 codes pushed into any `StreamingDecoder` while the block runs."""
    from omni_demo.engine.speech import StreamingDecoder

    frames: list = []
    original = StreamingDecoder.push

    def push(self, codes):
        frames.append(codes.detach().clone())
        return original(self, codes)

    StreamingDecoder.push = push  # type: ignore[method-assign]
    try:
        yield frames
    finally:
        StreamingDecoder.push = original  # type: ignore[method-assign]
