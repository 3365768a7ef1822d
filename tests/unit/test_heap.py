from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time

from omni_demo.housekeeping import heap

# A fresh process, so glibc's allocator starts from its defaults: once a 16 MiB buffer is freed,
# 1 MiB buffers come from the heap, and freeing them leaves them resident until the heap is trimmed
# (decoded frames and pixel arrays behave so in the server).
_FRAGMENTED_HEAP = textwrap.dedent(
    """
    import os, numpy as np
    from omni_demo.housekeeping import heap

    def rss_mib():
        for line in open(f"/proc/{os.getpid()}/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024

    del_me = np.ones(16 << 20, np.uint8)
    del del_me
    live, freed = [], []
    for _ in range(300):
        freed.append(np.ones(1 << 20, np.uint8))
        live.append(np.ones(4096, np.uint8))
    del freed
    before = rss_mib()
    assert heap.trim()
    print(before, rss_mib())
    """
)


def test_trimming_gives_freed_heap_memory_back() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _FRAGMENTED_HEAP], capture_output=True, text=True, check=True
    ).stdout
    before, after = map(float, out.split())
    assert before - after > 200, (before, after)  # 300 MiB were freed


class _Engine:
    def __init__(self) -> None:
        self.busy = False


def _wait_for(condition, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_the_trimmer_trims_after_activity_and_prefers_idle_moments() -> None:
    engine = _Engine()
    trimmer = heap.HeapTrimmer(lambda: engine.busy, interval_s=0.05, max_wait_s=1.5, poll_s=0.01)
    assert trimmer.start()
    assert trimmer.start()  # once: a second call starts no second thread
    time.sleep(0.3)
    assert trimmer.trims == 0  # no request ran: nothing to give back
    engine.busy = True
    time.sleep(0.3)
    assert trimmer.trims == 0  # busy, and the longest wait is not over
    assert _wait_for(lambda: trimmer.trims == 1)  # never idle: trimmed once the wait is over
    engine.busy = False
    assert _wait_for(lambda: trimmer.trims == 2)  # the request that ran meanwhile, now idle
    time.sleep(0.3)
    assert trimmer.trims == 2  # idle since: nothing more


def test_glibc_s_own_account_and_the_memory_report() -> None:
    summary = heap.malloc_summary()
    assert summary is not None
    assert summary["arenas"] >= 1
    assert summary["heap_mib"] > 0
    report = heap.MemoryReport(every_s=60)
    assert "arenas" in report.line()
    kept = [[i] for i in range(20_000)]  # 20,000 more lists
    grown = re.search(r"grown: list \+(\d+)", report.line())  # the type that grew most comes first
    assert grown, report.line()
    assert 19_000 <= int(grown.group(1)) <= 21_000  # others may come and go meanwhile
    assert len(kept) == 20_000


def test_the_debug_interval_is_read_from_the_environment(monkeypatch) -> None:
    monkeypatch.delenv("OMNI_DEBUG_MEMORY", raising=False)
    assert heap.debug_interval_s() is None
    monkeypatch.setenv("OMNI_DEBUG_MEMORY", "30")
    assert heap.debug_interval_s() == 30.0
    monkeypatch.setenv("OMNI_DEBUG_MEMORY", "soon")
    assert heap.debug_interval_s() is None


# Eight threads alive at once, each allocating: glibc gives each its own heap unless capped.
_THREAD_HEAPS = textwrap.dedent(
    """
    import sys, threading
    from omni_demo.housekeeping import heap

    if sys.argv[1] == "capped":
        assert heap.limit_arenas(2)
    barrier = threading.Barrier(8)
    kept = []

    def work():
        kept.append([bytearray(100_000) for _ in range(10)])
        barrier.wait()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(int(heap.malloc_summary()["arenas"]))
    """
)


def _arenas(mode: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run(
        [sys.executable, "-c", _THREAD_HEAPS, mode], capture_output=True, text=True, check=True, env=env
    )
    return int(out.stdout)


def test_limiting_arenas_keeps_threads_to_two_heaps() -> None:
    assert _arenas("free") >= 5  # glibc's own choice: a heap per thread, up to 8 per core
    assert _arenas("capped") <= 2


def test_the_environment_s_arena_setting_is_left_alone(monkeypatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert not heap.limit_arenas()
