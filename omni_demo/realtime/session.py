"""One live conversation: turn-taking, answers through the `Engine`, barge-in and truncation.

Runs on the server's event loop (each answer's engine stream runs in its own thread: `answer`).
With server VAD, an answer starts speculatively once the user has been quiet for 200 ms, its events
held back: when the silence lasts the full window (500 ms by default) it is shown at once, already
some way along; if the user speaks on, it is thrown away unseen. So the silence window no longer
adds to the wait for the first audio.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from omni_demo.config import DEFAULTS
from omni_demo.engine.base import Engine
from omni_demo.presets import reply_sampling
from omni_demo.realtime import protocol
from omni_demo.realtime.answer import Answer, Item, heard_text
from omni_demo.realtime.protocol import ProtocolError, SessionConfig, event, new_id
from omni_demo.realtime.vad import Boundary, TurnDetector, to_16k
from omni_demo.types import Request

MIN_TURN_MS = 100  # a shorter buffer is nothing to answer (OpenAI refuses commits under 100 ms)
# Camera pictures (about one a second) join the next spoken turn: the newest few only, and only the
# latest turn's pictures go to the model, so the context holds a bounded number of them.
PICTURES_PER_TURN = 4


@dataclass(frozen=True)
class LiveLimits:
    max_turn_s: float = DEFAULTS.max_clip_seconds  # longest single utterance (the engine's clip limit)
    max_session_s: float = DEFAULTS.live_max_minutes * 60  # --live-max-minutes


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
        self._answer: Answer | None = None  # the answer shown to the client, running or done
        self._tentative: tuple[Item, Answer] | None = None  # a speculative turn and its held answer
        self._cancelled: set[str] = set()  # answers whose queued deltas must not be sent
        self._pictures: deque[Path] = deque()  # sent since the last turn, newest last
        self._folder = Path(tempfile.mkdtemp(prefix="omni-live-"))

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
        if self._answer is not None and not self._answer.done:
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
        answer = self._answer
        if answer is None or answer.done:
            raise ProtocolError(
                "response_cancel_not_active",
                "There is no answer in progress to cancel.",
                message.get("event_id"),
            )
        self._cancel(answer)

    def _on_conversation_item_create(self, message: dict[str, Any]) -> None:
        """A camera picture: kept for the next spoken turn (the oldest dropped beyond a few)."""
        data, suffix = protocol.picture(message.get("item"), message.get("event_id"))
        path = self._folder / f"{new_id('picture')}{suffix}"
        path.write_bytes(data)
        self._pictures.append(path)
        while len(self._pictures) > PICTURES_PER_TURN:
            self._pictures.popleft().unlink(missing_ok=True)
        picture = Item(path.stem, "user", pictures=(path,))
        previous = self.items[-1].id if self.items else None
        self.send(event("conversation.item.added", previous_item_id=previous, item=picture.as_dict()))

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
            self._on_boundary(boundary)

    def _on_boundary(self, boundary: Boundary) -> None:
        if boundary.kind == "started":
            # The client hears of the new turn first, then of the answer it interrupts.
            self.send(event("input_audio_buffer.speech_started", audio_start_ms=boundary.ms, item_id=None))
            self._barge_in()
            self._trim_to(boundary.ms)
        elif boundary.kind == "paused":
            self._speculate()
        elif boundary.kind == "resumed":
            self._drop_tentative()
        else:
            self.send(event("input_audio_buffer.speech_stopped", audio_end_ms=boundary.ms, item_id=None))
            if self._tentative is not None:
                self._promote()
            elif self._buffered * 1000 / self.config.input_rate >= MIN_TURN_MS:
                self._commit()
                self._respond()

    def _trim_to(self, start_ms: int) -> None:
        """Keep only the audio from `start_ms` (speech start less the prefix padding) in the buffer."""
        audio = self._audio()
        first = self._heard - len(audio)  # session sample index of the buffer's first sample
        keep_from = max(0, int(start_ms * self.config.input_rate / 1000) - first)
        audio = audio[keep_from:]
        self._buffer, self._buffered = [audio], len(audio)

    def _barge_in(self) -> None:
        """The user speaks over an answer still being made: stop it, keep what was heard."""
        answer = self._answer
        if answer is None or answer.done:
            return
        # Heard so far: played in real time since its first audio (a client that knows better truncates).
        started = answer.first_audio_at
        played_ms = 0.0 if started is None else (time.monotonic() - started) * 1000
        if self.config.speak:
            answer.item.text = heard_text(answer.item.text, played_ms, answer.item.audio_ms)
            answer.item.audio_ms = min(answer.item.audio_ms, played_ms)
        self._cancel(answer)

    def _audio(self) -> np.ndarray:
        return np.concatenate(self._buffer) if self._buffer else np.zeros(0, np.int16)

    def _recorded(self) -> Item:
        """The buffer's audio as a new user item (not yet in the conversation)."""
        wav = self._folder / f"{new_id('turn')}.wav"
        item = Item(new_id("item"), "user", audio_path=wav, pictures=tuple(self._pictures))
        sf.write(item.audio_path, self._audio(), self.config.input_rate, subtype="PCM_16")
        return item

    def _commit(self) -> None:
        self._add_user(self._recorded())
        self._clear()

    def _add_user(self, item: Item) -> None:
        previous = self.items[-1].id if self.items else None
        self.items.append(item)
        for path in item.pictures:  # they belong to this turn now
            if path in self._pictures:
                self._pictures.remove(path)
        self.send(event("input_audio_buffer.committed", previous_item_id=previous, item_id=item.id))
        self.send(event("conversation.item.added", previous_item_id=previous, item=item.as_dict()))

    def _clear(self) -> None:
        self._buffer, self._buffered = [], 0

    # -- answers --------------------------------------------------------------------------------

    def _request(self, items: list[Item]) -> Request:
        sampling = reply_sampling(self.engine.info)
        if self.config.max_output_tokens is not None:
            sampling = replace(sampling, max_new_tokens=self.config.max_output_tokens)
        with_pictures = next((item for item in reversed(items) if item.pictures), None)
        return Request(
            turns=tuple(
                item.turn(with_pictures=item is with_pictures)
                for item in items
                if item.role == "user" or item.text
            ),
            system_prompt=self.config.instructions,
            voice=self.config.voice,
            return_audio=self.config.speak,
            sampling=sampling,
        )

    def _respond(self) -> None:
        answer = Answer(self.config.speak, self.send)
        self._answer = answer
        request = self._request(self.items)
        self.items.append(answer.item)
        answer.start(self.engine, request, previous_item_id=self.items[-2].id)

    def _speculate(self) -> None:
        """The user has gone quiet: start answering what was said so far, shown only if the quiet lasts."""
        if self._tentative is not None or self._buffered * 1000 / self.config.input_rate < MIN_TURN_MS:
            return
        user = self._recorded()
        answer = Answer(self.config.speak, self.send, hold=True)
        answer.start(self.engine, self._request([*self.items, user]), previous_item_id=user.id)
        self._tentative = (user, answer)

    def _drop_tentative(self) -> None:
        """The user speaks on: the speculative answer never happened."""
        if self._tentative is None:
            return
        _, answer = self._tentative
        self._tentative = None
        self._cancelled.add(answer.id)
        answer.cancel(silently=True)

    def _promote(self) -> None:
        """The quiet lasted: the speculative turn is the turn, and its answer goes out (held events first)."""
        assert self._tentative is not None
        user, answer = self._tentative
        self._tentative = None
        self._add_user(user)
        self._clear()
        self._answer = answer
        self.items.append(answer.item)
        answer.release()

    def stale(self, server_event: dict[str, Any]) -> bool:
        """A delta of a cancelled answer, queued before the cancel: the client must not get it."""
        return server_event["type"].endswith(".delta") and server_event.get("response_id") in self._cancelled

    def _cancel(self, answer: Answer) -> None:
        self._cancelled.add(answer.id)
        if answer.item.audio_ms == 0 and not answer.item.text and answer.item in self.items:
            self.items.remove(answer.item)  # nothing of it was heard: it never happened
        answer.cancel()

    # -- end ------------------------------------------------------------------------------------

    def expired(self) -> bool:
        return time.monotonic() - self.started > self.limits.max_session_s

    def close(self) -> None:
        """The connection ended: stop any answer and remove the session's recordings."""
        for answer in (self._answer, self._tentative[1] if self._tentative else None):
            if answer is not None:
                answer.cancelled.set()
        shutil.rmtree(self._folder, ignore_errors=True)
