"""The subset of the OpenAI Realtime protocol (GA event names) that the live endpoint speaks.

Client events: `session.update`, `input_audio_buffer.append` / `.commit` / `.clear`,
`response.create`, `response.cancel`, `conversation.item.truncate` / `.retrieve`. Server events are built by
`event()`; every problem with a client event is a `ProtocolError`, sent back as one `error` event
whose message is a sentence saying what to change. Audio is base64 PCM16 mono, little-endian.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from omni_demo.types import SAMPLE_RATE

INPUT_RATES = (24_000, 16_000)  # PCM16 input the endpoint accepts; 24 kHz is OpenAI's default
OUTPUT_RATE = SAMPLE_RATE  # the model's own speech, sent as it is made
CLIENT_EVENTS = (
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "response.create",
    "response.cancel",
    "conversation.item.create",
    "conversation.item.truncate",
    "conversation.item.retrieve",
)
# A picture (`conversation.item.create` with one `input_image`): its data-URL types and size limit.
PICTURE_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
MAX_PICTURE_BYTES = 2_000_000
_ids = itertools.count(1)


class ProtocolError(Exception):
    """A client event the endpoint cannot take; `message` is the sentence the client sees."""

    def __init__(self, code: str, message: str, event_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.event_id = event_id

    def as_event(self) -> dict[str, Any]:
        error = {"type": "invalid_request_error", "code": self.code, "message": self.message}
        if self.event_id:
            error["event_id"] = self.event_id
        return event("error", error=error)


@dataclass(frozen=True)
class TurnDetection:
    """Server voice-activity detection, OpenAI's defaults."""

    threshold: float = 0.5  # speech probability that counts as voice
    prefix_padding_ms: int = 300  # audio kept before the detected start of speech
    silence_duration_ms: int = 500  # silence that ends a turn


@dataclass(frozen=True)
class SessionConfig:
    """What `session.update` sets; the defaults are what a new session starts with."""

    instructions: str = ""
    voice: str | None = None  # None: the model's default voice
    input_rate: int = 24_000
    max_output_tokens: int | None = None  # None ("inf"): the engine's own limit
    turn_detection: TurnDetection | None = field(default_factory=TurnDetection)  # None: push-to-talk
    speak: bool = True  # output_modalities includes "audio"

    def as_dict(self) -> dict[str, Any]:
        detection = None
        if self.turn_detection is not None:
            detection = {"type": "server_vad", **self.turn_detection.__dict__}
        return {
            "type": "realtime",
            "object": "realtime.session",
            "instructions": self.instructions,
            "output_modalities": ["audio"] if self.speak else ["text"],
            "max_output_tokens": self.max_output_tokens or "inf",
            "audio": {
                "input": {
                    "format": {"type": "audio/pcm", "rate": self.input_rate},
                    "turn_detection": detection,
                },
                "output": {"format": {"type": "audio/pcm", "rate": OUTPUT_RATE}, "voice": self.voice},
            },
        }


def new_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):08d}"


def event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "event_id": new_id("event"), **fields}


def parse(raw: str | bytes) -> dict[str, Any]:
    """One client message -> its event dict; raises ProtocolError for anything else."""
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(
            "invalid_json", "The message is not JSON; send one JSON event per message."
        ) from exc
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError(
            "invalid_event", "The event has no `type`; send a JSON object with a `type` field."
        )
    if message["type"] not in CLIENT_EVENTS:
        raise ProtocolError(
            "unknown_event",
            f"The event type “{message['type']}” is not supported; use one of {', '.join(CLIENT_EVENTS)}.",
            message.get("event_id"),
        )
    return message


def pcm16(data: Any, event_id: str | None = None) -> np.ndarray:
    """Base64 PCM16 -> int16 samples; raises ProtocolError for anything that is not."""
    if not isinstance(data, str):
        raise ProtocolError("invalid_audio", "`audio` must be a base64 string of PCM16 samples.", event_id)
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError(
            "invalid_audio", "`audio` is not valid base64; send base64 PCM16.", event_id
        ) from exc
    if len(raw) % 2:
        raise ProtocolError(
            "invalid_audio", "`audio` has an odd number of bytes; send whole 16-bit samples.", event_id
        )
    return np.frombuffer(raw, dtype="<i2")


def picture(item: Any, event_id: str | None = None) -> tuple[bytes, str]:
    """A user item holding one `input_image` (a base64 data URL) -> (its bytes, its file suffix).

    The only items a client may create are pictures (a camera's frames); turns are spoken."""
    content = item.get("content") if isinstance(item, dict) else None
    part = content[0] if isinstance(content, list) and len(content) == 1 else None
    user = isinstance(item, dict) and item.get("role", "user") == "user"
    if not user or not isinstance(part, dict) or part.get("type") != "input_image":
        raise ProtocolError(
            "invalid_item",
            "Only a user item with one `input_image` part (a picture) can be created; speak to add a turn.",
            event_id,
        )
    url = part.get("image_url")
    head, _, data = url.partition(",") if isinstance(url, str) else ("", "", "")
    kind = head.removeprefix("data:").removesuffix(";base64")
    if not head.startswith("data:") or not head.endswith(";base64") or kind not in PICTURE_TYPES:
        raise ProtocolError(
            "invalid_image",
            "`image_url` must be a base64 data URL of a JPEG, PNG or WebP picture "
            "(data:image/jpeg;base64,…).",
            event_id,
        )
    if len(data) * 3 // 4 > MAX_PICTURE_BYTES:
        raise ProtocolError(
            "image_too_large",
            f"A picture may take {MAX_PICTURE_BYTES // 1_000_000} MB at most; send a smaller one.",
            event_id,
        )
    try:
        return base64.b64decode(data, validate=True), PICTURE_TYPES[kind]
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError("invalid_image", "`image_url` holds invalid base64 data.", event_id) from exc


def encode_pcm16(samples: np.ndarray) -> str:
    """float32 in [-1, 1] -> base64 PCM16."""
    clipped = np.clip(samples, -1.0, 1.0)
    return base64.b64encode((clipped * 32767).astype("<i2").tobytes()).decode("ascii")


def updated(
    config: SessionConfig, session: Any, voices: tuple[str, ...], event_id: str | None
) -> SessionConfig:
    """`config` with what a `session.update`'s `session` object changes."""
    if not isinstance(session, dict):
        raise ProtocolError("invalid_session", "`session` must be an object.", event_id)
    changes: dict[str, Any] = {}
    if "instructions" in session:
        if not isinstance(session["instructions"], str):
            raise ProtocolError("invalid_instructions", "`instructions` must be a string.", event_id)
        changes["instructions"] = session["instructions"]
    if "max_output_tokens" in session:
        changes["max_output_tokens"] = _max_tokens(session["max_output_tokens"], event_id)
    if "output_modalities" in session:
        modalities = session["output_modalities"]
        if not isinstance(modalities, list) or not set(modalities) <= {"audio", "text"} or not modalities:
            raise ProtocolError(
                "invalid_modalities", '`output_modalities` must be ["audio"] or ["text"].', event_id
            )
        changes["speak"] = "audio" in modalities
    audio = session.get("audio") or {}
    if not isinstance(audio, dict):
        raise ProtocolError("invalid_audio_config", "`audio` must be an object.", event_id)
    changes.update(_input(audio.get("input"), event_id))
    changes.update(_output(audio.get("output"), voices, event_id))
    return replace(config, **changes)


def _max_tokens(value: Any, event_id: str | None) -> int | None:
    if value == "inf" or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4096:
        message = '`max_output_tokens` must be a whole number from 1 to 4096, or "inf".'
        raise ProtocolError("invalid_max_output_tokens", message, event_id)
    return value


def _input(block: Any, event_id: str | None) -> dict[str, Any]:
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise ProtocolError("invalid_audio_config", "`audio.input` must be an object.", event_id)
    changes: dict[str, Any] = {}
    if "format" in block:
        changes["input_rate"] = _rate(block["format"], INPUT_RATES, "input", event_id)
    if "turn_detection" in block:
        changes["turn_detection"] = _detection(block["turn_detection"], event_id)
    return changes


def _output(block: Any, voices: tuple[str, ...], event_id: str | None) -> dict[str, Any]:
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise ProtocolError("invalid_audio_config", "`audio.output` must be an object.", event_id)
    changes: dict[str, Any] = {}
    if "format" in block:
        _rate(block["format"], (OUTPUT_RATE,), "output", event_id)
    if block.get("voice") is not None:
        wanted = str(block["voice"])
        match = next((v for v in voices if v.lower() == wanted.lower()), None)
        if match is None:
            names = ", ".join(voices) or "none (this model does not speak)"
            raise ProtocolError(
                "invalid_voice", f"The voice “{wanted}” does not exist; choose {names}.", event_id
            )
        changes["voice"] = match
    return changes


def _rate(fmt: Any, allowed: tuple[int, ...], side: str, event_id: str | None) -> int:
    rates = " or ".join(str(r) for r in allowed)
    if not isinstance(fmt, dict) or fmt.get("type", "audio/pcm") != "audio/pcm":
        raise ProtocolError(
            "invalid_audio_format",
            f"Only audio/pcm (PCM16 mono) at {rates} Hz is supported for {side}.",
            event_id,
        )
    rate = fmt.get("rate", allowed[0])
    if rate not in allowed:
        message = f"{side.capitalize()} audio at {rate} Hz is not supported; use {rates} Hz."
        raise ProtocolError("invalid_audio_format", message, event_id)
    return int(rate)


def _detection(value: Any, event_id: str | None) -> TurnDetection | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type", "server_vad") != "server_vad":
        raise ProtocolError(
            "invalid_turn_detection",
            '`turn_detection` must be {"type": "server_vad", ...} or null.',
            event_id,
        )
    defaults = TurnDetection()
    try:
        detection = TurnDetection(
            threshold=float(value.get("threshold", defaults.threshold)),
            prefix_padding_ms=int(value.get("prefix_padding_ms", defaults.prefix_padding_ms)),
            silence_duration_ms=int(value.get("silence_duration_ms", defaults.silence_duration_ms)),
        )
    except (TypeError, ValueError) as exc:
        raise ProtocolError(
            "invalid_turn_detection", "`turn_detection`'s threshold and durations must be numbers.", event_id
        ) from exc
    if not 0.0 < detection.threshold < 1.0:
        raise ProtocolError("invalid_turn_detection", "`threshold` must lie between 0 and 1.", event_id)
    if not 0 <= detection.prefix_padding_ms <= 2000 or not 100 <= detection.silence_duration_ms <= 5000:
        raise ProtocolError(
            "invalid_turn_detection",
            "`prefix_padding_ms` must be 0–2000 and `silence_duration_ms` 100–5000.",
            event_id,
        )
    return detection
