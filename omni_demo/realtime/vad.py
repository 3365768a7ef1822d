"""When the user speaks: Silero VAD (v6, ONNX) per 32 ms of 16 kHz audio, and turn detection on top.

The `silero-vad` wheel ships the model file; it is run with onnxruntime directly, since importing the
`silero_vad` package would import torch and set torch's thread count for the whole process. Turn
detection follows OpenAI's server VAD: speech starts at the first frame whose probability reaches
`threshold` (the turn keeps `prefix_padding_ms` before it) and ends after `silence_duration_ms` below
`threshold - 0.15` (Silero's own hysteresis). On the way it says when a quiet stretch inside the turn
reaches `SPECULATE_MS` ("paused": the session may start answering) and when speech follows it
("resumed": that answer is thrown away).
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from omni_demo.realtime.protocol import TurnDetection

RATE = 16_000  # the model's rate
FRAME = 512  # samples per call at 16 kHz (32 ms), the only window the model takes
CONTEXT = 64  # samples of the previous window the model sees before each frame
FRAME_MS = FRAME * 1000 // RATE
SPECULATE_MS = 200  # quiet that is worth starting an answer on (shorter gaps are mostly between words)


@functools.lru_cache(maxsize=1)
def _model() -> Any:
    """One onnxruntime session for the process (its `run` is thread-safe); each detector has its state."""
    import onnxruntime  # noqa: PLC0415 (loaded with the first live session, not at import)

    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the silero-vad package is not installed")
    path = Path(spec.submodule_search_locations[0]) / "data" / "silero_vad.onnx"
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # ~0.1 ms a frame: more threads only add overhead
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


class SileroVad:
    """Speech probability of each 32 ms frame of one audio stream."""

    def __init__(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros((1, CONTEXT), dtype=np.float32)

    def probability(self, frame: np.ndarray) -> float:
        """`frame`: FRAME float32 samples at 16 kHz in [-1, 1]."""
        window = np.concatenate([self._context, frame.reshape(1, FRAME).astype(np.float32)], axis=1)
        out, self._state = _model().run(
            None, {"input": window, "state": self._state, "sr": np.array(RATE, dtype=np.int64)}
        )
        self._context = window[:, -CONTEXT:]
        return float(out[0, 0])


def to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """int16 samples at `rate` -> float32 at 16 kHz (linear interpolation: enough for detection)."""
    audio = samples.astype(np.float32) / 32768.0
    if rate == RATE or not len(audio):
        return audio
    count = len(audio) * RATE // rate
    positions = np.arange(count, dtype=np.float64) * rate / RATE
    return np.interp(positions, np.arange(len(audio)), audio).astype(np.float32)


@dataclass(frozen=True)
class Boundary:
    kind: Literal["started", "paused", "resumed", "stopped"]
    ms: int  # since the session's first input sample


class TurnDetector:
    """Feeds 16 kHz audio through the VAD and says where turns start and stop."""

    def __init__(self, settings: TurnDetection) -> None:
        self.settings = settings
        self._vad = SileroVad()
        self._pending = np.zeros(0, dtype=np.float32)
        self._frames = 0  # frames seen so far
        self._speaking = False
        self._quiet_ms = 0

    @property
    def speaking(self) -> bool:
        return self._speaking

    def feed(self, audio16k: np.ndarray) -> list[Boundary]:
        self._pending = np.concatenate([self._pending, audio16k])
        found: list[Boundary] = []
        while len(self._pending) >= FRAME:
            frame, self._pending = self._pending[:FRAME], self._pending[FRAME:]
            boundary = self._step(self._vad.probability(frame))
            if boundary is not None:
                found.append(boundary)
        return found

    def _step(self, probability: float) -> Boundary | None:
        start_ms = self._frames * FRAME_MS
        self._frames += 1
        if not self._speaking:
            if probability >= self.settings.threshold:
                self._speaking, self._quiet_ms = True, 0
                return Boundary("started", max(0, start_ms - self.settings.prefix_padding_ms))
            return None
        if probability >= self.settings.threshold - 0.15:
            paused = self._quiet_ms >= SPECULATE_MS
            self._quiet_ms = 0
            return Boundary("resumed", start_ms) if paused else None
        self._quiet_ms += FRAME_MS
        if self._quiet_ms >= self.settings.silence_duration_ms:
            self._speaking = False
            return Boundary("stopped", start_ms + FRAME_MS - self._quiet_ms)
        if self._quiet_ms - FRAME_MS < SPECULATE_MS <= self._quiet_ms:
            return Boundary("paused", start_ms + FRAME_MS - self._quiet_ms)
        return None
