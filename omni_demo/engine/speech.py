"""Incremental speech decoding: code frames in, waveform chunks out, sample-accurate joins.

The stock generate() decodes speech only once the talker has finished. But code2wav is causal, so
new frames can be decoded as they arrive. Its two parts keep state between chunks:
- the pre-transformer (sliding-window attention layers) runs each frame once, over a sliding-window
  key/value cache carried from chunk to chunk, so a chunk costs its own frames, however long the
  answer (re-decoding the whole receptive field, 8 layers x 72 frames on the real checkpoint, for
  every chunk would cost ~600 frames a chunk);
- the causal convolutions that follow see `CONV_CONTEXT_FRAMES` frames of the pre-transformer's
  output before the new ones (their reach, what upstream's `chunked_decode` keeps).
Each convolution pass drops its last few hundred samples (causal transposed convolutions); those
samples are produced again by the next pass, so a chunk is emitted only up to where this pass is
exact, and the next chunk starts exactly there. The concatenated chunks then equal the one-shot
decode.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CONV_CONTEXT_FRAMES = 25  # the causal convolutions' reach: what upstream's chunked_decode keeps


class StreamingDecoder:
    """Feed 16-code frames with `push`; collect float32 chunks; `flush` at the end."""

    def __init__(self, code2wav: Any, first_chunk_frames: int = 4, chunk_frames: int = 13) -> None:
        self._code2wav = code2wav
        self._first = first_chunk_frames  # small, so the first sound comes early
        self._chunk = chunk_frames  # ~1 s: shorter chunks make browser players stutter
        self._samples_per_frame = int(code2wav.total_upsample)  # 1920 at 24 kHz = 80 ms
        self._pending: list[Any] = []  # frames [batch, num_code_groups] not yet decoded
        self._frames = 0  # frames pushed
        self._decoded_frames = 0  # frames already through the pre-transformer
        self._emitted_samples = 0  # absolute sample index where the next chunk starts
        self._cache: Any = None  # the pre-transformer's sliding-window keys and values
        self._context: Any = None  # its output for the last CONV_CONTEXT_FRAMES frames [batch, H, n]

    @property
    def frames(self) -> int:
        return self._frames

    def push(self, codes: Any) -> list[np.ndarray]:
        """Add one frame of codes; return the chunks that are now ready (usually none)."""
        self._pending.append(codes.detach())
        self._frames += 1
        return self._drain(final=False)

    def flush(self) -> list[np.ndarray]:
        """Decode whatever is left, including the tail the last call would have held back."""
        return self._drain(final=True)

    def _drain(self, final: bool) -> list[np.ndarray]:
        chunks: list[np.ndarray] = []
        while True:
            pending = len(self._pending)
            wanted = self._wanted()
            if pending <= 0 or (pending < wanted and not final):
                return chunks
            count = pending if final else wanted
            chunks.append(self._decode(self._pending[:count]))
            self._pending = self._pending[count:]

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

    def _decode(self, frames: list[Any]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            hidden = self._transformer(torch.stack(frames, dim=-1).to(self._device()))
            context = 0 if self._context is None else self._context.shape[-1]
            if context:
                hidden = torch.cat([self._context, hidden], dim=-1)
            self._context = hidden[..., max(0, hidden.shape[-1] - CONV_CONTEXT_FRAMES) :]
            wav = self._convolutions(hidden).reshape(-1)
        base = (self._decoded_frames - context) * self._samples_per_frame  # absolute index of wav[0]
        # The pass ends a few hundred samples short of its last frame (its lost tail); the next pass
        # re-creates those samples, so emit up to here and start the next chunk exactly here.
        stop = base + wav.numel()
        chunk = wav[self._emitted_samples - base : stop - base].float().cpu().numpy()
        self._emitted_samples = stop
        self._decoded_frames += len(frames)
        return chunk

    def _transformer(self, codes: Any) -> Any:
        """The pre-transformer over new frames [batch, groups, n] -> [batch, H, n], as code2wav's
        forward runs it (transformers 5.x `Qwen3OmniMoeCode2Wav.forward`), continuing its cache."""
        from transformers import DynamicCache

        model = self._code2wav
        if self._cache is None:
            self._cache = DynamicCache(config=model.config)
        embeds = model.code_embedding(codes + model.code_offset).mean(1)
        out = model.pre_transformer(inputs_embeds=embeds, cache=self._cache, use_cache=True)
        return out.last_hidden_state.permute(0, 2, 1)

    def _convolutions(self, hidden: Any) -> Any:
        """code2wav's upsampling and decoder blocks over [batch, H, n], as its forward runs them."""
        model = self._code2wav
        for blocks in model.upsample:
            for block in blocks:
                hidden = block(hidden)
        for block in model.decoder:
            hidden = block(hidden)
        return hidden.clamp(min=-1, max=1)

    def _device(self) -> Any:
        return next(self._code2wav.parameters()).device
