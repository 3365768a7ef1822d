"""Long-lived threads for the model's work: one for each generation, one for the thinker beside the talker.

Each request used to start fresh threads. A thread's first CUDA work pays per-thread set-up (library
handles and their workspaces are per thread), which on an H200 made a 435-token prefill take ~0.26 s
in a new thread against ~0.09 s in a thread that had run it before. These threads live as long as the
process, run one task at a time, and say whether a task is still running (tests check that Stop ends it).
"""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

_local = threading.local()


def in_worker() -> bool:
    """True in a `Worker`'s thread (which must never wait for its own task)."""
    return getattr(_local, "inside", False)


class Worker:
    """One daemon thread that runs submitted calls in order, each call's outcome in a `Future`."""

    def __init__(self, name: str) -> None:
        self._tasks: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]]
        self._tasks = queue.SimpleQueue()
        self._running = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._loop, name=name, daemon=True).start()

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._running > 0

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            self._running += 1
        self._tasks.put((future, fn, args))
        return future

    def _loop(self) -> None:
        _local.inside = True
        while True:
            future, fn, args = self._tasks.get()
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to whoever waits on the future
                self._done()
                future.set_exception(exc)
            else:
                self._done()
                future.set_result(result)

    def _done(self) -> None:
        with self._lock:
            self._running -= 1


@functools.cache
def worker(name: str) -> Worker:
    """The process-wide worker of that name ("omni-generate", "omni-thinker")."""
    return Worker(name)
