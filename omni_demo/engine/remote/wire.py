"""Streamed chat-completion chunks -> the engine's events, one parser per service.

Each parser takes the chunks of one reply in order (as JSON objects, the `data:` lines of the
server-sent events) and returns the `TextDelta`s and `AudioChunk`s they carry. A chunk it cannot
read raises `OmniError` with one sentence; the engine stops the stream there.

Wire shapes, by service:

- vLLM-Omni (`vllm serve ... --omni`): every chunk has a top-level `modality`, "text" or "audio"
  (`OmniChatCompletionStreamResponse.modality` in vllm-omni's
  `vllm_omni/entrypoints/openai/protocol/chat_completion.py`). Text chunks carry `delta.content`;
  audio chunks carry one base64 WAV file (24 kHz) per chunk, in `delta.content` or, in other
  versions, in `delta.audio.data`: both are accepted, and the branch is taken on `modality`, never on
  the content's look. A chunk without `modality` is text (the field's default).
- vLLM (`vllm serve Qwen/Qwen3-Omni-...`): the OpenAI chat-completion chunk; text in `delta.content`.
  With a reasoning parser, a Thinking model's reasoning arrives in `delta.reasoning_content` (older
  vLLM) or `delta.reasoning` (newer): it is wrapped in <think>...</think>, the form the page splits.
- DashScope (Model Studio, `compatible-mode/v1`, Qwen-Omni): text in `delta.content`; speech in
  `delta.audio.data` as base64 raw PCM16 little-endian mono at 24 kHz, even when `format` is "wav"
  (Alibaba Cloud's Qwen-Omni guide, "Model Studio > Qwen-Omni", decodes it with
  `np.frombuffer(base64.b64decode(data), dtype=np.int16)` at 24000 Hz). `delta.audio.transcript`
  repeats the spoken text and is ignored; the last audio delta carries only `id` / `expires_at`.

Chunks with no choices (the usage chunk), role-only deltas and keep-alive chunks yield nothing.
"""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any

import numpy as np
import soundfile as sf

from omni_demo.errors import OmniError
from omni_demo.types import SAMPLE_RATE, AudioChunk, TextDelta

Piece = TextDelta | AudioChunk


def malformed(service: str) -> OmniError:
    """The server sent a chunk that does not follow its own wire format."""
    return OmniError("remote.malformed", service=service)


class ChunkParser:
    """The OpenAI chat-completion chunk, text only (plain vLLM); subclasses add speech."""

    service = "vLLM"

    def __init__(self) -> None:
        self._thinking = False  # inside a <think> block opened for reasoning deltas

    def feed(self, chunk: Any) -> list[Piece]:
        """The events carried by one chunk, in order."""
        if not isinstance(chunk, dict):
            raise malformed(self.service)
        choices = chunk.get("choices")
        if choices is None and ("usage" in chunk or "id" in chunk):
            return []  # a usage-only chunk may omit choices altogether
        if not isinstance(choices, list):
            raise malformed(self.service)
        pieces: list[Piece] = []
        for choice in choices:
            if not isinstance(choice, dict):
                raise malformed(self.service)
            delta = choice.get("delta")
            if delta is None:
                continue
            if not isinstance(delta, dict):
                raise malformed(self.service)
            pieces += self._delta(chunk, delta)
        return pieces

    def finish(self) -> list[Piece]:
        """Events owed at the end of the stream (a <think> block still open)."""
        if self._thinking:
            self._thinking = False
            return [TextDelta("</think>")]
        return []

    def _delta(self, chunk: dict[str, Any], delta: dict[str, Any]) -> list[Piece]:
        return self._text(delta)

    def _text(self, delta: dict[str, Any]) -> list[Piece]:
        pieces: list[Piece] = []
        reasoning = delta.get("reasoning_content", delta.get("reasoning"))
        content = delta.get("content")
        for value in (reasoning, content):
            if value is not None and not isinstance(value, str):
                raise malformed(self.service)
        if reasoning:
            if not self._thinking:
                self._thinking = True
                pieces.append(TextDelta("<think>"))
            pieces.append(TextDelta(reasoning))
        if content:
            if self._thinking:
                self._thinking = False
                pieces.append(TextDelta("</think>"))
            pieces.append(TextDelta(content))
        return pieces


class VllmOmniParser(ChunkParser):
    service = "vLLM-Omni"

    def _delta(self, chunk: dict[str, Any], delta: dict[str, Any]) -> list[Piece]:
        modality = chunk.get("modality") or "text"
        if modality == "text":
            return self._text(delta)
        if modality != "audio":
            raise malformed(self.service)
        audio = delta.get("audio")
        data = delta.get("content")
        if not data and isinstance(audio, dict):
            data = audio.get("data")
        if not data:
            return []  # the role-only first chunk of the audio choice
        if not isinstance(data, str):
            raise malformed(self.service)
        samples, rate = self._wav(_b64(data, self.service))
        return [AudioChunk(samples, rate)] if len(samples) else []

    def _wav(self, raw: bytes) -> tuple[np.ndarray, int]:
        if not raw.startswith(b"RIFF"):
            raise malformed(self.service)
        try:
            samples, rate = sf.read(io.BytesIO(raw), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
            raise malformed(self.service) from exc
        return np.ascontiguousarray(samples.mean(axis=1), dtype=np.float32), int(rate)


class DashScopeParser(ChunkParser):
    service = "DashScope"

    def _delta(self, chunk: dict[str, Any], delta: dict[str, Any]) -> list[Piece]:
        pieces = self._text(delta)
        audio = delta.get("audio")
        if audio is None:
            return pieces
        if not isinstance(audio, dict):
            raise malformed(self.service)
        data = audio.get("data")
        if not data:
            return pieces  # a transcript-only delta, or the closing one with id / expires_at
        if not isinstance(data, str):
            raise malformed(self.service)
        raw = _b64(data, self.service)
        if len(raw) % 2:
            raise malformed(self.service)  # PCM16 comes in whole 2-byte samples
        samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
        return [*pieces, AudioChunk(samples, SAMPLE_RATE)] if len(samples) else pieces


def _b64(data: str, service: str) -> bytes:
    if data.startswith("data:"):
        data = data.partition(",")[2]  # tolerate a data URL around the base64
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise malformed(service) from exc


PARSERS: dict[str, type[ChunkParser]] = {
    "vllm-omni": VllmOmniParser,
    "vllm": ChunkParser,
    "dashscope": DashScopeParser,
}
