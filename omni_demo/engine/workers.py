"""Long-lived threads for the model's work: one for each generation, one for the thinker beside the talker.

Each request used to start fresh threads. A thread's first CUDA work pays per-thread set-up (library
handles and their workspaces are per thread), which on an H200 made a 435-token prefill take ~0.26 s
in a new thread against ~0.09 s in a thread that had run it before. These threads live as long as the
process, run one task at a time, and say whether a task is still running (tests check that Stop ends it).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

_local = threading.local()


def in_worker() -> bool:
    """True inside a task of a `Worker` (such a thread must never wait for its own task)."""
    return getattr(_local, "inside", False)


class Worker:
    """One daemon-like thread that runs submitted calls in order."""

    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._running = 0
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._running > 0

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        with self._lock:
            self._running += 1
        return self._executor.submit(self._call, fn, *args)

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        _local.inside = True
        try:
            return fn(*args)
        finally:
            _local.inside = False
            with self._lock:
                self._running -= 1


@functools.cache
def worker(name: str) -> Worker:
    """The process-wide worker of that name ("omni-generate", "omni-thinker")."""
    return Worker(name)
