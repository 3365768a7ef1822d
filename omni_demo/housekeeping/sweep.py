"""Sweeping Gradio's cache of the files that requests put there, for as long as the server runs.

Gradio's own periodic sweep (`gr.Blocks(delete_cache=(every, age))`) walks each component's set of
cached files while requests add to those sets from other threads. The first "Set changed size during
iteration" ends its background task for the rest of the process, and from then on every upload and
every reply WAV stays on disk (seen under the load test with Gradio 6.31: no file was removed after the
first minute). This sweep walks copies of the sets, with the same rule as Gradio's (files whose
inode changed longer than `max_age_s` ago go, example files Gradio keeps stay), and carries on after
any error. Gradio's `delete_cache` stays set: it also empties the cache when the server stops.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

log = logging.getLogger(__name__)


class _Page(Protocol):
    """What the sweep reads of a `gr.Blocks` (so this module needs no gradio import)."""

    @property
    def blocks(self) -> Mapping[Any, Any]: ...  # its components; each may keep files (`keep_in_cache`)

    @property
    def temp_file_sets(self) -> Iterable[set[str]]: ...  # the cached files each component made


class CacheSweeper:
    def __init__(self, demo: _Page, every_s: float, max_age_s: float) -> None:
        self.demo = demo
        self.every_s = every_s
        self.max_age_s = max_age_s
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="omni-cache-sweep", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            time.sleep(self.every_s)
            try:
                self.sweep_once()
            except Exception:  # a disk error must not end the sweeping for good
                log.exception("sweeping Gradio's cache failed; trying again in %.0f s", self.every_s)

    def sweep_once(self, now: float | None = None) -> int:
        """Remove the cached files older than `max_age_s`; how many were removed."""
        now = time.time() if now is None else now
        keep: set[str] = set()
        for block in list(self.demo.blocks.values()):
            keep |= set(getattr(block, "keep_in_cache", ()))
        removed = 0
        # list() copies a set in one step under the GIL, so requests may add files meanwhile.
        for files in list(self.demo.temp_file_sets):
            for path in list(files):
                if path in keep:
                    continue
                try:
                    if now - os.lstat(path).st_ctime <= self.max_age_s:
                        continue
                    os.remove(path)
                    removed += 1
                except FileNotFoundError:
                    pass
                files.discard(path)
        return removed
