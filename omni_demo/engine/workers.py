"""Long-lived threads for the model's work: generations, and the thinker beside the talker.

Each request used to start fresh threads. A thread's first CUDA work pays per-thread set-up (library
handles and their workspaces are per thread), which on an H200 made a 435-token prefill take ~0.26 s
in a new thread against ~0.09 s in a thread that had run it before. These threads live as long as the
process, run one task at a time, and say whether a task is still running (tests check that Stop ends it).
Requests run at once (the fast engine decodes several together), so each name is a pool that hands a
task to an idle thread, starting one only when all are busy.
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


class Pool:
    """Workers of one name: a task goes to an idle one (the same threads serve request after request)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._workers: list[Worker] = []
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        with self._lock:
            return any(w.busy for w in self._workers)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        with self._lock:
            idle = next((w for w in self._workers if not w.busy), None)
            if idle is None:
                idle = Worker(f"{self._name}-{len(self._workers)}")
                self._workers.append(idle)
            return idle.submit(fn, *args)  # counted busy at once: the next submit picks another


@functools.cache
def worker(name: str) -> Pool:
    """The process-wide pool of that name ("omni-generate", "omni-thinker")."""
    return Pool(name)
