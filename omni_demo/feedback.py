"""Testers' feedback on answers, appended as JSON Lines under `--feedback-dir` (off unless set).

Each thumbs up / down, and each comment, appends one complete record to `feedback.jsonl`: when and
where it was given, the model, its kind and engine, the page language, the settings, the conversation
up to the rated answer (texts, media names, sizes and SHA-256 hashes), the answer and its timings.
A comment repeats the rating's record with the comment added and the same `id`: the last line of an
`id` is the tester's final word. With `--feedback-keep-media` the media is copied to `media/<sha256>`
(each file once). With `--feedback-repo` the same lines and media are also staged for a Hugging Face
dataset repository (`feedback_hub.HubSink`), committed in the background.

A line is written whole or not at all (one append under a lock; a failed write is cut back off), and
any failure to write becomes one sentence for the tester; the chat goes on. Nothing here imports gradio.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from omni_demo.errors import OmniError
from omni_demo.feedback_hub import HubSink
from omni_demo.media import file_digest
from omni_demo.transcript import Exchange, media_entry
from omni_demo.types import ModelInfo

FILE_NAME = "feedback.jsonl"
_LOCK = threading.Lock()
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class FeedbackError(OmniError):
    """The feedback could not be saved; the sentence says why."""


@dataclass(frozen=True)
class Source:
    """Where the answer was made, for the record."""

    model: ModelInfo
    engine: str  # "fast" or "plain" for the local engine (`engine_name`), else its class name
    tab: str  # "chat" or "cookbook/<case id>"
    lang: str  # the page language when the feedback was given


def new_id() -> str:
    return uuid.uuid4().hex


def record(
    source: Source,
    exchanges: list[Exchange],
    index: int,
    rating: str | None,
    comment: str = "",
    feedback_id: str | None = None,
) -> dict[str, Any]:
    """The feedback on `exchanges[index]` (rating "up", "down" or None for withdrawn)."""
    answer = exchanges[index]
    conversation: list[dict[str, Any]] = []
    for exchange in exchanges[: index + 1]:
        media = [media_entry(item) for item in exchange.user.media]
        conversation.append({"role": "user", "text": exchange.user.text, "media": media})
        conversation.append({"role": "assistant", "text": exchange.answer})
    info = source.model
    return {
        "id": feedback_id or new_id(),
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": rating,
        "comment": comment.strip(),
        "tab": source.tab,
        "language": source.lang,
        "model": info.name,
        "kind": info.capabilities.kind.value,
        "engine": source.engine,
        "device": info.device,
        "answer_number": index + 1,
        "settings": answer.settings,
        "conversation": conversation,
        "answer": answer.answer,
        "timings": answer.timings,
        "notices": list(answer.notices),
    }


@dataclass(frozen=True)
class FeedbackStore:
    """The `--feedback-dir` folder; `keep_media` mirrors `--feedback-keep-media`."""

    folder: Path
    keep_media: bool = False
    hub: HubSink | None = None  # `--feedback-repo`: each line and its media are staged for the Hub too

    def save(self, entry: dict[str, Any], media_paths: Sequence[str] = ()) -> None:
        """Append `entry` as one line (copying the media first when kept); raises FeedbackError."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            copies = self._keep(entry, media_paths) if self.keep_media else []
            line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
            _append(self.folder / FILE_NAME, line)
            if self.hub is not None:
                self.hub.stage_media(copies)
                with self.hub.lock:  # the scheduler lists the staged files under it: never half a line
                    _append(self.hub.lines, line)
        except OSError as exc:
            raise _sentence(exc) from exc

    def _keep(self, entry: dict[str, Any], media_paths: Sequence[str]) -> list[Path]:
        """Copy the media the entry names into `media/`; returns the copies."""
        by_hash = {file_digest(path): path for path in media_paths if Path(path).is_file()}
        copies: list[Path] = []
        for turn in entry["conversation"]:
            for item in turn.get("media", []):
                source = by_hash.get(item.get("sha256"))
                if source is None:
                    continue
                item["copy"] = _copy_once(source, self.folder / "media", item["sha256"])
                copies.append(self.folder / item["copy"])
        return copies


def _copy_once(source: str, folder: Path, digest: str) -> str:
    """Copy into `folder/<sha256><suffix>` unless it is there; a copy appears whole or not at all."""
    name = digest + Path(source).suffix.lower()
    target = folder / name
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{name}.{uuid.uuid4().hex}.partial"
        try:
            shutil.copyfile(source, partial)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    return f"media/{name}"


def _append(path: Path, line: bytes) -> None:
    """Append one line atomically: under a process lock and a file lock, cut back on failure."""
    with _LOCK:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            start = os.fstat(fd).st_size
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):  # not every file can be cut (a device, a pipe)
                    os.ftruncate(fd, start)  # never leave half a line behind
                raise
        finally:
            os.close(fd)


def _sentence(exc: OSError) -> FeedbackError:
    if exc.errno in _FULL:
        return FeedbackError("feedback.disk_full")
    return FeedbackError("feedback.unwritable")
