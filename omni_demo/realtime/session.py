"""One live conversation: turn-taking, answers through the `Engine`, barge-in and truncation.

Everything here runs on the server's event loop except the engine's stream, which is a blocking
iterator: each answer iterates it in its own thread and hands every event back to the loop. A
cancelled answer (`response.cancel`, or the user speaking over it) is marked at once: its remaining
events are dropped before they are sent, `response.done` says `cancelled`, and the thread closes the
engine's stream at its next event, which stops the generation on the GPU.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from omni_demo.engine.base import Engine
from omni_demo.errors import OmniError
from omni_demo.presets import reply_sampling
from omni_demo.realtime import protocol
from omni_demo.realtime.protocol import OUTPUT_RATE, ProtocolError, SessionConfig, event, new_id
from omni_demo.realtime.vad import TurnDetector, to_16k
from omni_demo.types import AudioChunk, Media, Request, Result, TextDelta, Turn

log = logging.getLogger(__name__)
MIN_TURN_MS = 100  # a shorter buffer is nothing to answer (OpenAI refuses commits under 100 ms)


@dataclass(frozen=True)
class LiveLimits:
    max_turn_s: float = 180.0  # longest single utterance (the engine's clip limit)
    max_session_s: float = 15 * 60.0  # --live-max-minutes


@dataclass
class Item:
    """A message in the conversation: a spoken user turn or an assistant answer."""

    id: str
    role: str  # "user" | "assistant"
    audio_path: Path | None = None  # the user's utterance as a WAV
    text: str = ""  # the assistant's transcript, cut to what was heard after a truncation
    audio_ms: float = 0.0  # assistant speech made so far

    def turn(self) -> Turn:
        if self.role == "user" and self.audio_path is not None:
            return Turn("user", media=(Media("audio", str(self.audio_path)),))
        return Turn("assistant", self.text)

    def as_dict(self, status: str = "completed") -> dict[str, Any]:
        kind = "input_audio" if self.role == "user" else "output_audio"
        part: dict[str, Any] = {"type": kind, "transcript": self.text or None}
        return {"id": self.id, "type": "message", "object": "realtime.item", "role": self.role,
                "status": status, "content": [part]}  # fmt: skip


@dataclass
class Response:
    id: str
    item: Item
    cancelled: threading.Event = field(default_factory=threading.Event)
    first_audio_at: float | None = None  # when its first audio delta was sent (monotonic)
    done: bool = False


class LiveSession:
    """The state of one `/v1/realtime` connection. `send` queues a server event for the client."""

    def __init__(
        self, engine: Engine, send: Callable[[dict[str, Any]], None], limits: LiveLimits | None = None
    ) -> None:
        self.engine = engine
        self.send = send
        self.limits = limits or LiveLimits()
        self.config = SessionConfig(voice=engine.info.capabilities.default_voice)
        if not engine.info.capabilities.speech_output:
            self.config = replace(self.config, speak=False)
        self.items: list[Item] = []
        self.started = time.monotonic()
        self._buffer: list[np.ndarray] = []  # int16 at config.input_rate, since the last commit
        self._buffered = 0  # samples in _buffer
        self._heard = 0  # input samples received over the whole session (for audio_start_ms)
        self._detector = self._new_detector()
        self._response: Response | None = None
        self._cancelled: set[str] = set()  # answers whose queued deltas must not be sent
        self._folder = Path(tempfile.mkdtemp(prefix="omni-live-"))
        self._loop = asyncio.get_running_loop()

    # -- client events --------------------------------------------------------------------------

    def opened(self) -> None:
        self.send(event("session.created", session=self.config.as_dict()))

    def handle(self, message: dict[str, Any]) -> None:
        """One parsed client event; raises ProtocolError for what the client must change."""
        handler = getattr(self, "_on_" + message["type"].replace(".", "_"))
        handler(message)

    def _on_session_update(self, message: dict[str, Any]) -> None:
        voices = self.engine.info.capabilities.voices
        config = protocol.updated(self.config, message.get("session"), voices, message.get("event_id"))
        if config.speak and not self.engine.info.capabilities.speech_output:
            config = replace(config, speak=False)  # a model without a talker answers in text
        renewed = (config.turn_detection, config.input_rate) != (
            self.config.turn_detection,
            self.config.input_rate,
        )
        self.config = config
        if renewed:
            self._detector = self._new_detector()
        self.send(event("session.updated", session=self.config.as_dict()))

    def _on_input_audio_buffer_append(self, message: dict[str, Any]) -> None:
        samples = protocol.pcm16(message.get("audio"), message.get("event_id"))
        rate = self.config.input_rate
        if (self._buffered + len(samples)) / rate > self.limits.max_turn_s:
            self._clear()
            raise ProtocolError(
                "input_too_long",
                f"One turn may last {self.limits.max_turn_s:.0f} s at most; the audio so far was dropped, "
                "so pause sooner (or commit sooner in push-to-talk).",
                message.get("event_id"),
            )
        self._buffer.append(samples)
        self._buffered += len(samples)
        self._heard += len(samples)
        if self._detector is not None:
            self._detect(samples)

    def _on_input_audio_buffer_commit(self, message: dict[str, Any]) -> None:
        if self._buffered * 1000 / self.config.input_rate < MIN_TURN_MS:
            raise ProtocolError(
                "input_audio_buffer_commit_empty",
                f"The input audio buffer holds less than {MIN_TURN_MS} ms; append audio before committing.",
                message.get("event_id"),
            )
        self._commit()

    def _on_input_audio_buffer_clear(self, message: dict[str, Any]) -> None:
        self._clear()
        self.send(event("input_audio_buffer.cleared"))

    def _on_response_create(self, message: dict[str, Any]) -> None:
        if self._response is not None and not self._response.done:
            raise ProtocolError(
                "conversation_already_has_active_response",
                "An answer is still being made; cancel it (response.cancel) before asking for another.",
                message.get("event_id"),
            )
        if not any(item.role == "user" for item in self.items):
            raise ProtocolError(
                "no_user_turn",
                "There is nothing to answer yet; speak or commit audio first.",
                message.get("event_id"),
            )
        self._respond()

    def _on_response_cancel(self, message: dict[str, Any]) -> None:
        response = self._response
        if response is None or response.done:
            raise ProtocolError(
                "response_cancel_not_active",
                "There is no answer in progress to cancel.",
                message.get("event_id"),
            )
        self._cancel(response)

    def _on_conversation_item_truncate(self, message: dict[str, Any]) -> None:
        event_id = message.get("event_id")
        item = self._item(message)
        if item.role != "assistant":
            raise ProtocolError("invalid_item", "Only an assistant item's audio can be truncated.", event_id)
        end_ms = message.get("audio_end_ms")
        if isinstance(end_ms, bool) or not isinstance(end_ms, (int, float)) or end_ms < 0:
            raise ProtocolError(
                "invalid_audio_end_ms", "`audio_end_ms` must be a number of milliseconds ≥ 0.", event_id
            )
        if item.audio_ms > 0:  # a spoken answer: keep the part of its transcript that was heard
            item.text = heard_text(item.text, float(end_ms), item.audio_ms)
            item.audio_ms = min(item.audio_ms, float(end_ms))
        self.send(event("conversation.item.truncated", item_id=item.id, content_index=0, audio_end_ms=end_ms))

    def _on_conversation_item_retrieve(self, message: dict[str, Any]) -> None:
        self.send(event("conversation.item.retrieved", item=self._item(message).as_dict()))

    def _item(self, message: dict[str, Any]) -> Item:
        item = next((i for i in self.items if i.id == message.get("item_id")), None)
        if item is None:
            raise ProtocolError(
                "item_not_found", "`item_id` names no item of this session.", message.get("event_id")
            )
        return item

    # -- turn-taking ----------------------------------------------------------------------------

    def _new_detector(self) -> TurnDetector | None:
        settings = self.config.turn_detection
        return TurnDetector(settings) if settings is not None else None

    def _detect(self, samples: np.ndarray) -> None:
        assert self._detector is not None
        for boundary in self._detector.feed(to_16k(samples, self.config.input_rate)):
            if boundary.kind == "started":
                # The client hears of the new turn first, then of the answer it interrupts.
                self.send(
                    event("input_audio_buffer.speech_started", audio_start_ms=boundary.ms, item_id=None)
                )
                self._barge_in()
                self._trim_to(boundary.ms)
            else:
                self.send(event("input_audio_buffer.speech_stopped", audio_end_ms=boundary.ms, item_id=None))
                if self._buffered * 1000 / self.config.input_rate >= MIN_TURN_MS:
                    self._commit()
                    self._respond()

    def _trim_to(self, start_ms: int) -> None:
        """Keep only the audio from `start_ms` (speech start less the prefix padding) in the buffer."""
        audio = np.concatenate(self._buffer) if self._buffer else np.zeros(0, np.int16)
        first = self._heard - len(audio)  # session sample index of the buffer's first sample
        keep_from = max(0, int(start_ms * self.config.input_rate / 1000) - first)
        audio = audio[keep_from:]
        self._buffer, self._buffered = [audio], len(audio)

    def _barge_in(self) -> None:
        """The user speaks over an answer still being made: stop it, keep what was heard."""
        response = self._response
        if response is None or response.done:
            return
        # Heard so far: played in real time since its first audio (a client that knows better truncates).
        started = response.first_audio_at
        played_ms = 0.0 if started is None else (time.monotonic() - started) * 1000
        if self.config.speak:
            response.item.text = heard_text(response.item.text, played_ms, response.item.audio_ms)
            response.item.audio_ms = min(response.item.audio_ms, played_ms)
        self._cancel(response)

    def _commit(self) -> None:
        audio = np.concatenate(self._buffer)
        item = Item(new_id("item"), "user", audio_path=self._folder / f"{len(self.items):04d}.wav")
        sf.write(item.audio_path, audio, self.config.input_rate, subtype="PCM_16")
        previous = self.items[-1].id if self.items else None
        self.items.append(item)
        self._clear()
        self.send(event("input_audio_buffer.committed", previous_item_id=previous, item_id=item.id))
        self.send(event("conversation.item.added", previous_item_id=previous, item=item.as_dict()))

    def _clear(self) -> None:
        self._buffer, self._buffered = [], 0

    # -- answers --------------------------------------------------------------------------------

    def _request(self) -> Request:
        sampling = reply_sampling(self.engine.info)
        if self.config.max_output_tokens is not None:
            sampling = replace(sampling, max_new_tokens=self.config.max_output_tokens)
        return Request(
            turns=tuple(item.turn() for item in self.items if item.role == "user" or item.text),
            system_prompt=self.config.instructions,
            voice=self.config.voice,
            return_audio=self.config.speak,
            sampling=sampling,
        )

    def _respond(self) -> None:
        request = self._request()
        item = Item(new_id("item"), "assistant")
        response = Response(new_id("resp"), item)
        self._response = response
        self.items.append(item)
        self.send(event("response.created", response=self._response_dict(response, "in_progress")))
        self.send(
            event(
                "conversation.item.added",
                previous_item_id=self.items[-2].id,
                item=item.as_dict("in_progress"),
            )
        )
        if getattr(self.engine, "busy", False):
            self.send(
                event(
                    "omni.waiting",
                    response_id=response.id,
                    message="Another answer is being made; yours starts next.",
                )
            )
        threading.Thread(
            target=self._produce, args=(response, request), daemon=True, name="live-answer"
        ).start()

    def _produce(self, response: Response, request: Request) -> None:
        """In the answer's thread: iterate the engine, handing each event to the loop."""
        stream = self.engine.stream(request)
        try:
            for item in stream:
                if response.cancelled.is_set():
                    break
                self._loop.call_soon_threadsafe(self._on_engine_event, response, item)
        except OmniError as exc:
            self._loop.call_soon_threadsafe(self._on_failed, response, str(exc))
        except Exception:  # a fault in the engine: logged once here, one sentence to the client
            log.exception("live answer failed")
            self._loop.call_soon_threadsafe(
                self._on_failed, response, "The answer failed on the server; try again."
            )
        finally:
            stream.close()  # stops the generation if it is still running

    def _on_engine_event(self, response: Response, item: Any) -> None:
        if response.cancelled.is_set():
            return
        ids = {"response_id": response.id, "item_id": response.item.id, "output_index": 0, "content_index": 0}
        if isinstance(item, TextDelta):
            response.item.text += item.text
            kind = (
                "response.output_audio_transcript.delta"
                if self.config.speak
                else "response.output_text.delta"
            )
            self.send(event(kind, delta=item.text, **ids))
        elif isinstance(item, AudioChunk) and self.config.speak:
            samples = _at_output_rate(item)
            response.item.audio_ms += len(samples) * 1000 / OUTPUT_RATE
            if response.first_audio_at is None:
                response.first_audio_at = time.monotonic()
            self.send(event("response.output_audio.delta", delta=protocol.encode_pcm16(samples), **ids))
        elif isinstance(item, Result):
            self._finish(response, "completed", ids)

    def _finish(self, response: Response, status: str, ids: dict[str, Any]) -> None:
        response.done = True
        if status == "completed":
            if self.config.speak:
                self.send(event("response.output_audio.done", **ids))
                self.send(
                    event("response.output_audio_transcript.done", transcript=response.item.text, **ids)
                )
            else:
                self.send(event("response.output_text.done", text=response.item.text, **ids))
        self.send(event("response.done", response=self._response_dict(response, status)))

    def stale(self, server_event: dict[str, Any]) -> bool:
        """A delta of a cancelled answer, queued before the cancel: the client must not get it."""
        return server_event["type"].endswith(".delta") and server_event.get("response_id") in self._cancelled

    def _cancel(self, response: Response) -> None:
        response.cancelled.set()
        self._cancelled.add(response.id)
        if response.item.audio_ms == 0 and not response.item.text:
            self.items.remove(response.item)  # nothing of it was heard: it never happened
        ids = {"response_id": response.id, "item_id": response.item.id, "output_index": 0, "content_index": 0}
        self._finish(response, "cancelled", ids)

    def _on_failed(self, response: Response, message: str) -> None:
        if response.done:
            return
        response.done = True
        if response.item in self.items and not response.item.text:
            self.items.remove(response.item)
        self.send(
            event("error", error={"type": "server_error", "code": "response_failed", "message": message})
        )
        self.send(event("response.done", response=self._response_dict(response, "failed")))

    def _response_dict(self, response: Response, status: str) -> dict[str, Any]:
        output = [response.item.as_dict("completed" if status == "completed" else "incomplete")]
        return {"id": response.id, "object": "realtime.response", "status": status, "output": output}

    # -- end ------------------------------------------------------------------------------------

    def expired(self) -> bool:
        return time.monotonic() - self.started > self.limits.max_session_s

    def close(self) -> None:
        """The connection ended: stop any answer and remove the session's recordings."""
        if self._response is not None and not self._response.done:
            self._response.cancelled.set()
        shutil.rmtree(self._folder, ignore_errors=True)


def heard_text(text: str, heard_ms: float, made_ms: float) -> str:
    """The part of an answer's transcript a listener heard after `heard_ms` of its `made_ms` of speech.

    Text and speech are not aligned token by token, so the transcript is cut in proportion, back to the
    last space where the text has spaces (whole words), else at a character.
    """
    if heard_ms >= made_ms:
        return text
    if heard_ms <= 0:
        return ""
    cut = int(len(text) * heard_ms / made_ms)
    if " " in text[:cut]:
        cut = text.rfind(" ", 0, cut + 1)
    return text[:cut].rstrip()


def _at_output_rate(chunk: AudioChunk) -> np.ndarray:
    if chunk.sample_rate == OUTPUT_RATE:
        return chunk.samples
    count = len(chunk.samples) * OUTPUT_RATE // chunk.sample_rate
    positions = np.arange(count) * chunk.sample_rate / OUTPUT_RATE
    return np.interp(positions, np.arange(len(chunk.samples)), chunk.samples).astype(np.float32)
