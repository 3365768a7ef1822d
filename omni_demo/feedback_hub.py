"""Testers' feedback also committed to a Hugging Face dataset repository (`--feedback-repo`, off unless set).

A Space's disk is lost on restart unless persistent storage is bought, so the feedback writer can hand
each line (and, with `--feedback-keep-media`, its media) to this sink too. The sink stages them under
`<feedback folder>/hub/` and a background `huggingface_hub.CommitScheduler` commits what changed every
`--feedback-every` minutes:

- `data/<run>.jsonl`: this server process's lines, `<run>` its start time and a random suffix, so
  replicas and restarts never write the same file;
- `media/<sha256><suffix>`: media named by content, the same bytes whichever server sends them; a
  record's `copy` field ("media/<name>") is relative to the repository's root as to the folder's.

A restart loses at most the lines given since the last commit (one interval). When the Hub can't be
reached (no network, a wrong token, no such owner) the log gets one warning sentence per outage and
the sink tries again at the next interval; the page never notices. huggingface_hub is imported only
when the sink starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omni_demo.config import DEFAULTS

if TYPE_CHECKING:
    from concurrent.futures import Future

log = logging.getLogger(__name__)

STAGING = "hub"  # the sink's folder inside the feedback folder


@dataclass(frozen=True)
class HubOptions:
    """Where and how often feedback is committed; from `--feedback-repo` and `--feedback-every`."""

    repo_id: str  # OWNER/NAME of the dataset repository; created (private) when it does not exist
    token: str | None = field(default=None, repr=False)  # HF_TOKEN; None: huggingface_hub's saved token
    every_minutes: float = DEFAULTS.feedback_every_minutes  # time between commits
    endpoint: str | None = None  # the Hub's URL; None: HF_ENDPOINT or huggingface.co


def run_name() -> str:
    """This process's file name in the repository: sortable by start time, unique by the suffix."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


class HubSink:
    """Stages feedback lines and media under `folder` for the scheduler to commit."""

    def __init__(self, folder: Path, options: HubOptions) -> None:
        self.folder = folder
        self.options = options
        self.run = run_name()
        self.lines = folder / "data" / f"{self.run}.jsonl"
        # Appends and the scheduler's listing of the folder take this lock, so that no commit holds half
        # a line (the scheduler uploads each file up to the size it saw when listing).
        self.lock = threading.Lock()
        self._scheduler: Any = None
        self._stopped = threading.Event()
        self._failing = False

    def start(self) -> None:
        """Connect in the background: creating the repository may wait on the network."""
        self.folder.mkdir(parents=True, exist_ok=True)
        threading.Thread(target=self._connect, name="feedback-hub", daemon=True).start()

    def stage_media(self, media: Sequence[Path]) -> None:
        """Stage the kept media of a line and make the lines' folder. The writer calls this first, then
        appends the line to `lines` under `lock`, so that no committed line names a file still missing."""
        for path in media:
            _link_once(path, self.folder / "media" / path.name)
        self.lines.parent.mkdir(parents=True, exist_ok=True)

    def commit_now(self) -> Future[Any] | None:
        """Commit what is staged without waiting for the interval (None: not connected yet)."""
        return None if self._scheduler is None else self._scheduler.trigger()

    def stop(self) -> None:
        self._stopped.set()
        if self._scheduler is not None:
            self._scheduler.stop()

    @property
    def connected(self) -> bool:
        return self._scheduler is not None

    def _connect(self) -> None:
        while not self._stopped.is_set():
            try:
                self._scheduler = _scheduler(self)
                return
            except Exception as exc:  # an unreachable Hub is a warning, never a crash
                self.failed(exc)
            self._stopped.wait(self.options.every_minutes * 60)

    def failed(self, exc: BaseException) -> None:
        """One warning sentence when an outage starts; quiet while it lasts."""
        if self._failing:
            return
        self._failing = True
        log.warning(
            "Feedback could not be committed to the Hugging Face dataset %s (%s); it stays in %s and goes "
            "up with the next commit that gets through (every %g minutes).",
            self.options.repo_id,
            _reason(exc),
            self.folder,
            self.options.every_minutes,
        )

    def succeeded(self) -> None:
        if self._failing:
            self._failing = False
            log.info("Feedback reaches the Hugging Face dataset %s again.", self.options.repo_id)


def _scheduler(sink: HubSink) -> Any:
    """A CommitScheduler for this process's file and the media; raises when the Hub can't be reached."""
    from huggingface_hub import CommitScheduler, HfApi  # noqa: PLC0415 (only with --feedback-repo)

    class Scheduler(CommitScheduler):
        # The scheduler lists the folder under `self.lock`; it must be the sink's, which appends take.
        @property
        def lock(self) -> threading.Lock:
            return sink.lock

        @lock.setter
        def lock(self, _: object) -> None:
            pass  # CommitScheduler sets a lock of its own; the sink's is kept

        def push_to_hub(self) -> Any:
            # Failures become the sink's one warning; CommitScheduler would log each with its reason.
            try:
                with _quiet():
                    info = super().push_to_hub()
            except Exception as exc:  # retried at the next interval
                sink.failed(exc)
                return None
            sink.succeeded()
            return info

    options = sink.options
    api = HfApi(endpoint=options.endpoint, token=options.token, library_name="qwen3-omni-demo")
    with _quiet():
        scheduler = Scheduler(
            repo_id=options.repo_id,
            repo_type="dataset",
            folder_path=sink.folder,
            every=options.every_minutes,
            private=True,  # testers' conversations; ignored when the repository exists
            allow_patterns=[f"data/{sink.run}.jsonl", "media/[!.]*"],  # never another replica's lines
            hf_api=api,
        )
    sink.succeeded()
    return scheduler


# The HTTP client logs each request, and huggingface_hub two warnings per retry (up to five, for a
# Hub that is down): the sink's threads keep them out of the log, which gets the sink's one sentence.
_CHATTY = ("huggingface_hub.utils._http", "httpx2", "httpx")
_quiet_threads: set[int] = set()


class _FromQuietThreads(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread not in _quiet_threads


@lru_cache(maxsize=1)
def _install_filter() -> None:
    for name in _CHATTY:
        logging.getLogger(name).addFilter(_FromQuietThreads())


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Drop the chatty loggers' records made on this thread while the block runs."""
    _install_filter()
    ident = threading.get_ident()
    _quiet_threads.add(ident)
    try:
        yield
    finally:
        _quiet_threads.discard(ident)


def _link_once(source: Path, target: Path) -> None:
    """Put `source` at `target` unless it is there: a hard link where possible (no second copy on disk)."""
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
    try:
        try:
            os.link(source, partial)
        except OSError:
            shutil.copyfile(source, partial)
        partial.replace(target)
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()


def _reason(exc: BaseException) -> str:
    """A few words for the log: the HTTP status when the Hub answered, else the kind of failure."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if status is not None:
        return f"HTTP {status}"
    return type(exc).__name__
