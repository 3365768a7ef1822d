"""The long-lived worker threads: one task at a time, busy while it runs, and they know they are workers."""

from __future__ import annotations

import threading

from omni_demo.engine.workers import Worker, in_worker


def test_a_task_runs_in_the_worker_thread_and_knows_it() -> None:
    worker = Worker("test-worker")
    seen = worker.submit(lambda: (threading.current_thread().name, in_worker())).result(timeout=10)
    assert seen[0].startswith("test-worker")
    assert seen[1] is True
    assert in_worker() is False


def test_busy_while_a_task_runs_and_the_same_thread_serves_the_next() -> None:
    worker = Worker("test-busy")
    release = threading.Event()
    started = threading.Event()

    def task() -> int:
        started.set()
        release.wait(10)
        return threading.get_ident()

    first = worker.submit(task)
    assert started.wait(10)
    assert worker.busy
    release.set()
    ident = first.result(timeout=10)
    assert worker.submit(threading.get_ident).result(timeout=10) == ident
    assert not worker.busy
