"""Reply WAVs on disk, bounded: one folder per process, oldest files removed past an age or a size.

Gradio serves files from its own cache (which `gr.Blocks(delete_cache=...)` bounds); the WAVs written
here are what the handlers hand to it, plus the replies a conversation's take-away zip and feedback
refer to. Without a bound a server that runs for weeks fills its disk.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from omni_demo import media
from omni_demo.config import DEFAULTS

DEFAULT_MAX_BYTES = 1 << 30


class ReplyFiles:
    def __init__(
        self,
        folder: Path | None = None,
        max_age_s: float = DEFAULTS.temp_max_age_s,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.folder = folder or Path(tempfile.gettempdir()) / f"omni-demo-replies-{os.getpid()}"
        self.max_age_s = max_age_s
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def save(self, samples: np.ndarray, sample_rate: int) -> Path:
        """A new WAV of `samples`; older files past the age or size bound are removed first."""
        self.prune()
        self.folder.mkdir(parents=True, exist_ok=True)
        return media.write_wav(self.folder / f"reply-{uuid.uuid4().hex}.wav", samples, sample_rate)

    @contextmanager
    def transient(self, samples: np.ndarray, sample_rate: int) -> Iterator[Path]:
        """A WAV that exists only while the `with` block runs (a streamed chunk handed to Gradio).
        Nothing stays, so nothing is pruned for it (the folder is not scanned per chunk)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = media.write_wav(self.folder / f"reply-{uuid.uuid4().hex}.wav", samples, sample_rate)
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)

    def prune(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            files = []
            for path in self.folder.glob("reply-*.wav") if self.folder.is_dir() else ():
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                files.append((stat.st_mtime, stat.st_size, path))
            files.sort()  # oldest first
            total = sum(size for _, size, _ in files)
            for mtime, size, path in files:
                if now - mtime <= self.max_age_s and total <= self.max_bytes:
                    break
                path.unlink(missing_ok=True)
                total -= size

    def bytes_used(self) -> int:
        if not self.folder.is_dir():
            return 0
        return sum(p.stat().st_size for p in self.folder.glob("reply-*.wav") if p.exists())


_shared = ReplyFiles()


def reply_files() -> ReplyFiles:
    """The process's reply folder (configured once at start-up by `configure`)."""
    return _shared


def configure(max_age_s: float | None = None, max_bytes: int | None = None) -> ReplyFiles:
    if max_age_s is not None:
        _shared.max_age_s = max_age_s
    if max_bytes is not None:
        _shared.max_bytes = max_bytes
    return _shared
