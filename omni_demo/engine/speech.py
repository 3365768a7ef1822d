"""Incremental speech decoding: code frames in, waveform chunks out, sample-accurate joins.

The stock generate() decodes speech only once the talker has finished. But code2wav is causal, so
new frames can be decoded as they arrive, with enough frames of left context: the decoder's whole
receptive field (`receptive_field`), so every join equals the one-shot decode. Each code2wav call
drops its last few hundred samples (causal transposed convolutions); those samples are produced
again by the next call, so a chunk is emitted only up to where this call is exact, and the next
chunk starts exactly there. The concatenated chunks then equal the one-shot decode.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CONV_CONTEXT_FRAMES = 25  # the causal convolutions' reach: what upstream's chunked_decode keeps


def receptive_field(code2wav: Any) -> int:
    """Frames of left context after which a new frame's samples no longer change.

    The pre-transformer stacks sliding-window attention layers, each reaching `sliding_window` frames
    further back (the real decoder: 8 layers × 72 frames = 576), then come the causal convolutions.
    """
    config = code2wav.config
    return int(config.num_hidden_layers * config.sliding_window) + CONV_CONTEXT_FRAMES


class StreamingDecoder:
    """Feed 16-code frames with `push`; collect float32 chunks; `flush` at the end."""

    def __init__(
        self,
        code2wav: Any,
        first_chunk_frames: int = 4,
        chunk_frames: int = 13,
        left_context_frames: int | None = None,
    ) -> None:
        self._code2wav = code2wav
        self._first = first_chunk_frames  # small, so the first sound comes early
        self._chunk = chunk_frames  # ~1 s: shorter chunks make browser players stutter
        self._context = receptive_field(code2wav) if left_context_frames is None else left_context_frames
        self._samples_per_frame = int(code2wav.total_upsample)  # 1920 at 24 kHz = 80 ms
        self._frames: list[Any] = []  # torch tensors [batch, num_code_groups]
        self._decoded_frames = 0  # frames already passed to code2wav as new (not context) frames
        self._emitted_samples = 0  # absolute sample index where the next chunk starts

    @property
    def frames(self) -> int:
        return len(self._frames)

    def push(self, codes: Any) -> list[np.ndarray]:
        """Add one frame of codes; return the chunks that are now ready (usually none)."""
        self._frames.append(codes.detach())
        return self._drain(final=False)

    def flush(self) -> list[np.ndarray]:
        """Decode whatever is left, including the tail the last call would have held back."""
        return self._drain(final=True)

    def _drain(self, final: bool) -> list[np.ndarray]:
        chunks: list[np.ndarray] = []
        while True:
            pending = len(self._frames) - self._decoded_frames
            wanted = self._wanted()
            if pending <= 0 or (pending < wanted and not final):
                return chunks
            end = self._decoded_frames + (pending if final else wanted)
            chunks.append(self._decode(end))

    def _wanted(self) -> int:
        """Frames in the next chunk: the first is small, then each doubles up to the full size.

        Growing gently keeps the player fed: while one chunk plays, the next (at most twice as long)
        is made, which takes less time than playing it whenever speech is made faster than real time.
        """
        size = self._first
        decoded = 0
        while decoded + size <= self._decoded_frames and size < self._chunk:
            decoded += size
            size = min(2 * size, self._chunk)
        return size

    def _decode(self, end: int) -> np.ndarray:
        import torch

        start = self._decoded_frames
        context = min(self._context, start)
        codes = torch.stack(self._frames[start - context : end], dim=-1)  # [batch, groups, frames]
        with torch.inference_mode():
            wav = self._code2wav(codes.to(self._device())).reshape(-1)
        base = (start - context) * self._samples_per_frame  # absolute index of wav[0]
        # The call's output ends a few hundred samples short of `end` frames (its lost tail); the next
        # call re-creates those samples, so emit up to here and start the next chunk exactly here.
        stop = base + wav.numel()
        chunk = wav[self._emitted_samples - base : stop - base].float().cpu().numpy()
        self._emitted_samples = stop
        self._decoded_frames = end
        return chunk

    def _device(self) -> Any:
        return next(self._code2wav.parameters()).device
