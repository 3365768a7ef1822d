"""A conversation as data: what each answer was made from, saved as a zip and read back.

The zip holds `conversation.json` (the transcript: every exchange's user text, media names and hashes,
the answer, its settings, timings and notes), the user's media under `media/` and the spoken replies
as WAV under `speech/`. Loading accepts the zip or the JSON alone (then the media is missing and left
out, with a note). Nothing here imports gradio.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from omni_demo.errors import InputError
from omni_demo.i18n import Sentence, sentence_from
from omni_demo.media import file_digest
from omni_demo.types import Media, Timings, Turn

FORMAT = "qwen3-omni-demo/conversation"
VERSION = 1
TRANSCRIPT = "conversation.json"
_MAX_UNPACKED = 4 * 1024**3  # refuse zips that would unpack to more than 4 GiB
_KINDS = ("audio", "image", "video")


@dataclass(frozen=True)
class Exchange:
    """One question and its answer, with everything needed to reproduce or report it."""

    user: Turn
    answer: str
    timings: dict[str, Any] = field(default_factory=dict)  # Timings.as_dict()
    settings: dict[str, Any] = field(default_factory=dict)  # what the answer was made with
    speech: str | None = None  # the spoken reply as a WAV file
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class SavedConversation:
    """A chat as a file holds it: its exchanges plus the settings and model it was made with (unlike
    `omni_demo.conversation`, which turns a request into the model's input)."""

    exchanges: tuple[Exchange, ...]
    settings: dict[str, Any] = field(default_factory=dict)  # the chat settings when it was saved
    model: dict[str, Any] = field(default_factory=dict)  # name, kind, engine
    missing: int = 0  # files the transcript names that were not found when it was read


def timings_from_dict(values: dict[str, Any]) -> Timings:
    known = {f.name for f in fields(Timings)}
    return Timings(**{k: v for k, v in values.items() if k in known})


def display_name(path: str) -> str:
    """The name the user gave the file; Gradio keeps it as the upload's base name."""
    return Path(path).name


def media_entry(item: Media) -> dict[str, Any]:
    """A file as a feedback record or transcript names it: kind, name, size and hash."""
    entry: dict[str, Any] = {"kind": item.kind, "name": display_name(item.path)}
    try:
        entry["bytes"] = Path(item.path).stat().st_size
        entry["sha256"] = file_digest(item.path)
    except OSError:
        entry["missing"] = True
    return entry


# --------------------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------------------


def _safe(name: str) -> str:
    cleaned = re.sub(r"[^\w.\-]+", "_", name, flags=re.UNICODE).strip("._")
    return cleaned[:80] or "file"


def transcript(
    conversation: SavedConversation, saved_at: datetime | None = None
) -> tuple[dict[str, Any], list]:
    """(the JSON transcript, [(file on disk, name in the zip)]) for `write_zip`."""
    files: list[tuple[str, str]] = []
    exchanges = []
    for number, exchange in enumerate(conversation.exchanges, start=1):
        media = []
        for index, item in enumerate(exchange.user.media, start=1):
            entry = media_entry(item)
            if not entry.get("missing"):
                entry["file"] = f"media/{number:02d}-{index}-{_safe(entry['name'])}"
                files.append((item.path, entry["file"]))
            media.append(entry)
        speech = None
        if exchange.speech and Path(exchange.speech).is_file():
            speech = f"speech/{number:02d}.wav"
            files.append((exchange.speech, speech))
        exchanges.append(
            {
                "user": {"text": exchange.user.text, "media": media},
                "answer": {
                    "text": exchange.answer,
                    "speech": speech,
                    "timings": exchange.timings,
                    "notices": [_saved_notice(n) for n in exchange.notices],
                },
                "settings": exchange.settings,
            }
        )
    data = {
        "format": FORMAT,
        "version": VERSION,
        "saved_at": (saved_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "model": conversation.model,
        "settings": conversation.settings,
        "exchanges": exchanges,
    }
    return data, files


def write_zip(conversation: SavedConversation, folder: Path | None = None) -> Path:
    """The conversation as one zip in a fresh temporary folder (or `folder`)."""
    if not conversation.exchanges:
        raise InputError("transcript.nothing")
    now = datetime.now(UTC)
    data, files = transcript(conversation, now)
    target = Path(folder or tempfile.mkdtemp(prefix="omni-conversation-"))
    path = target / f"conversation-{now.strftime('%Y%m%d-%H%M%S')}.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(TRANSCRIPT, json.dumps(data, ensure_ascii=False, indent=2))
        for source, name in files:
            archive.write(source, name)
    return path


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


def read(path: str, into: Path | None = None) -> SavedConversation:
    """A saved conversation (.zip or .json); its media is unpacked into `into` (a temp folder)."""
    name = display_name(path)
    folder = Path(into or tempfile.mkdtemp(prefix="omni-loaded-"))
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                data = _json(archive.read(TRANSCRIPT), name)
                _unpack(archive, data, folder, name)
        else:
            data = _json(Path(path).read_bytes(), name)
    except (KeyError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError("transcript.unreadable", name=name) from exc
    return _conversation(data, folder, name)


def _json(raw: bytes, name: str) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError("transcript.not_ours", name=name)
    if not isinstance(data.get("version"), int) or data["version"] > VERSION:
        raise InputError("transcript.newer", name=name)
    return data


def _member(name: object) -> str | None:
    """A zip member name the transcript may point to: `media/<file>` or `speech/<file>`, nothing else."""
    if not isinstance(name, str):
        return None
    parts = PurePosixPath(name).parts
    if len(parts) != 2 or parts[0] not in ("media", "speech") or parts[1] in ("", ".", ".."):
        return None
    return name


def _unpack(archive: zipfile.ZipFile, data: dict[str, Any], folder: Path, name: str) -> None:
    wanted = {m for m in (_member(n) for n in _named_files(data)) if m}
    members = [info for info in archive.infolist() if info.filename in wanted]
    if sum(info.file_size for info in members) > _MAX_UNPACKED:
        raise InputError("transcript.too_big", name=name)
    for info in members:
        target = folder / info.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out)


def _named_files(data: dict[str, Any]) -> list[object]:
    names: list[object] = []
    for exchange in _list(data.get("exchanges")):
        user = exchange.get("user") if isinstance(exchange, dict) else None
        answer = exchange.get("answer") if isinstance(exchange, dict) else None
        for entry in _list(user.get("media") if isinstance(user, dict) else None):
            names.append(entry.get("file") if isinstance(entry, dict) else None)
        names.append(answer.get("speech") if isinstance(answer, dict) else None)
    return names


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _conversation(data: dict[str, Any], folder: Path, name: str) -> SavedConversation:
    exchanges: list[Exchange] = []
    missing = 0
    for raw in _list(data.get("exchanges")):
        user, answer = _dict(_dict(raw).get("user")), _dict(_dict(raw).get("answer"))
        media: list[Media] = []
        for entry in map(_dict, _list(user.get("media"))):
            found = _found(folder, entry.get("file"))
            if found is None or entry.get("kind") not in _KINDS:
                missing += 1
                continue
            media.append(Media(entry["kind"], str(found)))
        speech = _found(folder, answer.get("speech"))
        text = user.get("text") if isinstance(user.get("text"), str) else ""
        if not text and not media:
            continue  # nothing left of this question: skip the pair, so turns still alternate
        exchanges.append(
            Exchange(
                user=Turn("user", text=text, media=tuple(media)),
                answer=answer.get("text") if isinstance(answer.get("text"), str) else "",
                timings=_dict(answer.get("timings")),
                settings=_dict(_dict(raw).get("settings")),
                speech=str(speech) if speech else None,
                notices=tuple(n for n in map(_loaded_notice, _list(answer.get("notices"))) if n),
            )
        )
    if not exchanges:
        raise InputError("transcript.empty", name=name)
    return SavedConversation(tuple(exchanges), _dict(data.get("settings")), _dict(data.get("model")), missing)


def _found(folder: Path, name: object) -> Path | None:
    member = _member(name)
    if member is None:
        return None
    path = folder / member
    return path if path.is_file() else None


def _saved_notice(notice: str) -> str | dict[str, Any]:
    """A notice as its English text, with its key and fields where it has them (so a page in another
    language shows it in that language when the conversation is loaded again)."""
    return {"text": str(notice), **notice.as_dict()} if isinstance(notice, Sentence) else notice


def _loaded_notice(saved: object) -> str:
    """A saved notice back as a `Sentence`; its English text where this version lacks its key."""
    if isinstance(saved, str):
        return saved
    if not isinstance(saved, dict):
        return ""
    try:
        return sentence_from(saved)
    except ValueError:
        return saved["text"] if isinstance(saved.get("text"), str) else ""


def loaded_note(conversation: SavedConversation, name: str) -> str:
    """One sentence about what could not be brought back, or ""."""
    if not conversation.missing:
        return ""
    if conversation.missing == 1:
        return Sentence("transcript.one_missing", name=name)
    return Sentence("transcript.missing", missing=conversation.missing, name=name)
