"""One answer of a live session: the engine's stream in its own thread, turned into server events.

The engine's stream is a blocking iterator, so each answer iterates it in a thread and hands every
event back to the server's loop. `cancel()` marks the answer at once (its later events are dropped)
and the thread closes the engine's stream at its next event, which stops the generation on the GPU.
An answer started before the user has finished (speculatively) holds its events back until
`release()`, or is cancelled silently if the user goes on speaking.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from omni_demo.engine.admission import waiting_sentence
from omni_demo.engine.base import Engine
from omni_demo.errors import OmniError
from omni_demo.realtime import protocol
from omni_demo.realtime.protocol import OUTPUT_RATE, event, new_id
from omni_demo.types import AudioChunk, Media, Queued, Request, Result, TextDelta, Turn

log = logging.getLogger(__name__)


@dataclass
class Item:
    """A message in the conversation: a spoken user turn or an assistant answer."""

    id: str
    role: str  # "user" | "assistant"
    audio_path: Path | None = None  # the user's utterance as a WAV
    pictures: tuple[Path, ...] = ()  # camera pictures sent before the utterance (user turns)
    text: str = ""  # the assistant's transcript, cut to what was heard after a truncation
    audio_ms: float = 0.0  # assistant speech made so far

    def turn(self, with_pictures: bool = True) -> Turn:
        if self.role == "user" and self.audio_path is not None:
            pictures = self.pictures if with_pictures else ()
            media = (*(Media("image", str(p)) for p in pictures), Media("audio", str(self.audio_path)))
            return Turn("user", media=media)
        return Turn("assistant", self.text)

    def as_dict(self, status: str = "completed") -> dict[str, Any]:
        kind = "input_audio" if self.role == "user" else "output_audio"
        parts: list[dict[str, Any]] = [{"type": "input_image"} for _ in self.pictures]
        if self.role == "assistant" or self.audio_path is not None:  # not a picture on its own
            parts.append({"type": kind, "transcript": self.text or None})
        return {"id": self.id, "type": "message", "object": "realtime.item", "role": self.role,
                "status": status, "content": parts}  # fmt: skip


class Answer:
    """An assistant answer: `start()` it, then it emits its server events through `emit`."""

    def __init__(self, speak: bool, emit: Callable[[dict[str, Any]], None], hold: bool = False) -> None:
        self.id = new_id("resp")
        self.item = Item(new_id("item"), "assistant")
        self.speak = speak
        self.cancelled = threading.Event()
        self.done = False
        self.first_audio_at: float | None = None  # when its first audio delta was emitted (monotonic)
        self._emit = emit
        self._held: list[dict[str, Any]] | None = [] if hold else None
        self._ahead: int | None = None  # the place in the GPU's line last told, while it waits
        self._usage: dict[str, Any] | None = None  # the tokens it read and wrote, once completed
        self._loop = asyncio.get_running_loop()
        self._ids = {"response_id": self.id, "item_id": self.item.id, "output_index": 0, "content_index": 0}

    def start(self, engine: Engine, request: Request, previous_item_id: str | None) -> None:
        self._send(event("response.created", response=self.as_dict("in_progress")))
        added = event(
            "conversation.item.added",
            previous_item_id=previous_item_id,
            item=self.item.as_dict("in_progress"),
        )
        self._send(added)
        threading.Thread(
            target=self._produce, args=(engine, request), daemon=True, name="live-answer"
        ).start()

    def release(self) -> None:
        """Stop holding events back: send what was held, then go on live."""
        held, self._held = self._held or [], None
        for item in held:
            self._emit(item)
            if item["type"] == "response.output_audio.delta" and self.first_audio_at is None:
                self.first_audio_at = time.monotonic()

    def cancel(self, silently: bool = False) -> None:
        """Stop it now; `silently`: it was never shown (a speculative answer the user talked over)."""
        self.cancelled.set()
        if not silently and not self.done:
            self._finish("cancelled")
        self.done = True

    def as_dict(self, status: str) -> dict[str, Any]:
        output = [self.item.as_dict("completed" if status == "completed" else "incomplete")]
        response = {"id": self.id, "object": "realtime.response", "status": status, "output": output}
        return response | ({"usage": self._usage} if self._usage else {})

    # -- in the answer's thread -----------------------------------------------------------------

    def _produce(self, engine: Engine, request: Request) -> None:
        stream = engine.stream(request)
        try:
            for item in stream:
                if self.cancelled.is_set():
                    break
                self._loop.call_soon_threadsafe(self._on_engine_event, item)
        except OmniError as exc:
            self._loop.call_soon_threadsafe(self._fail, str(exc), exc.sentence.as_dict())
        except Exception:  # a fault in the engine: logged once here, one sentence to the client
            log.exception("live answer failed")
            self._loop.call_soon_threadsafe(self._fail, "The answer failed on the server; try again.")
        finally:
            stream.close()  # stops the generation if it is still running

    # -- on the server's loop -------------------------------------------------------------------

    def _on_engine_event(self, item: Any) -> None:
        if self.cancelled.is_set():
            return
        if isinstance(item, Queued):
            self._waiting(item.ahead)
        elif isinstance(item, TextDelta):
            self.item.text += item.text
            kind = "response.output_audio_transcript.delta" if self.speak else "response.output_text.delta"
            self._send(event(kind, delta=item.text, **self._ids))
        elif isinstance(item, AudioChunk) and self.speak:
            samples = at_output_rate(item)
            self.item.audio_ms += len(samples) * 1000 / OUTPUT_RATE
            if self.first_audio_at is None and self._held is None:
                self.first_audio_at = time.monotonic()
            self._send(
                event("response.output_audio.delta", delta=protocol.encode_pcm16(samples), **self._ids)
            )
        elif isinstance(item, Result):
            self._usage = usage(item)
            self._finish("completed")
            self.done = True

    def _waiting(self, ahead: int) -> None:
        """Tell the client the answer waits for the GPU, and its place in line, whenever that changes
        (the engine also repeats it a few times a second)."""
        if ahead == self._ahead:
            return
        self._ahead = ahead
        sentence = waiting_sentence(ahead)
        self._send(
            event(
                "omni.waiting",
                response_id=self.id,
                ahead=ahead,
                message=str(sentence),
                sentence=sentence.as_dict(),
            )
        )

    def _finish(self, status: str) -> None:
        if status == "completed" and self.speak:
            self._send(event("response.output_audio.done", **self._ids))
            self._send(event("response.output_audio_transcript.done", transcript=self.item.text, **self._ids))
        elif status == "completed":
            self._send(event("response.output_text.done", text=self.item.text, **self._ids))
        self._send(event("response.done", response=self.as_dict(status)))

    def _fail(self, message: str, sentence: dict[str, Any] | None = None) -> None:
        """End the answer with `message` (English); `sentence` (its key and fields) lets the page
        show it in the page's language."""
        if self.done:
            return
        self.done = True
        error = {"type": "server_error", "code": "response_failed", "message": message}
        if sentence is not None:
            error["sentence"] = sentence
        self._send(event("error", error=error))
        self._send(event("response.done", response=self.as_dict("failed")))

    def _send(self, server_event: dict[str, Any]) -> None:
        if self._held is not None:
            self._held.append(server_event)
        else:
            self._emit(server_event)


def usage(result: Result) -> dict[str, Any]:
    """The tokens an answer read and wrote, as the Realtime API's `response.done` reports them."""
    tokens = result.timings.input_tokens
    details = {f"{kind}_tokens": tokens.get(kind, 0) for kind in ("text", "audio", "image")}
    written = result.timings.text_tokens
    return {"total_tokens": tokens.get("total", 0) + written, "input_tokens": tokens.get("total", 0),
            "output_tokens": written, "input_token_details": details}  # fmt: skip


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


def at_output_rate(chunk: AudioChunk) -> np.ndarray:
    if chunk.sample_rate == OUTPUT_RATE:
        return chunk.samples
    count = len(chunk.samples) * OUTPUT_RATE // chunk.sample_rate
    positions = np.arange(count) * chunk.sample_rate / OUTPUT_RATE
    return np.interp(positions, np.arange(len(chunk.samples)), chunk.samples).astype(np.float32)
