"""Handing freed heap memory back to the system, so a long-running server's memory stays flat.

Every request allocates and frees large CPU buffers (decoded frames, the processor's pixel arrays,
sound). Once a buffer of a few MiB has been freed, glibc raises its threshold for serving allocations
from separate mappings (up to 32 MiB) and serves later ones from its heap; what is freed there stays
resident, interleaved with live data, until `malloc_trim` hands the free pages back. So the resident
memory of the server climbed by hundreds of MiB under load with nothing leaking: on the preview model,
after 6 minutes of 8 users, one `malloc_trim(0)` took it from 1454 to 1159 MiB; another, while
requests ran, from 1391 to 1231 MiB in 70 ms.

`HeapTrimmer` trims from a background thread after requests ran, at most once per interval, preferably
while the engine is idle. Without glibc's `malloc_trim` (macOS, musl) it does nothing.

Trimming gives back whole free pages; what it cannot give back is the spread of each heap. glibc gives
threads their own heaps ("arenas"), up to 8 per core: the server's threads (Gradio's workers, the
engine's, torch's, the tokenizer's) filled all 16 on 2 cores, and each heap fragmented on its own, so
the lowest RSS of each minute crept up (1204 to 1244 MiB over 25 minutes of 8 users, 1.5 MiB/min,
while Python's own objects stayed flat). `limit_arenas` caps them at 2 before the first thread
starts: then the creep was gone (+0.1 MiB/min over 12 minutes), RSS was ~45 MiB lower and requests as
fast. `MALLOC_ARENA_MAX` in the environment, where set, is left to decide.

For finding where memory goes, `OMNI_DEBUG_MEMORY=SECONDS` makes the trimmer log every trim's effect and
start `MemoryReport`: every SECONDS one log line with the resident and anonymous memory, the threads,
glibc's arenas and free heap bytes (`malloc_info`), the Python objects and the types whose count grew
most; with `PYTHONTRACEMALLOC=N` set too, the source lines whose allocations grew most since the last
report. It costs a walk of all objects per report (and tracemalloc slows every allocation): for
investigating, not for serving.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import re
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
    except OSError:
        return None
    return getattr(libc, "malloc_trim", None)


ARENAS = 2  # glibc's default on 2 cores is 16


def limit_arenas(count: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas at `count`; call it before any thread starts (a cap set later does not
    remove heaps made meanwhile). False where the C library has no `mallopt` or the environment
    already says (`MALLOC_ARENA_MAX`)."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_ARENA_MAX, count))


_M_ARENA_MAX = -8  # glibc's malloc.h


def debug_interval_s() -> float | None:
    """`OMNI_DEBUG_MEMORY`'s seconds between memory reports; None when it is not set."""
    value = os.environ.get("OMNI_DEBUG_MEMORY", "").strip()
    try:
        return max(1.0, float(value)) if value else None
    except ValueError:
        return None


def trim() -> bool:
    """Give the heap's free pages back to the system; False where the C library cannot."""
    release = _malloc_trim()
    if release is None:
        return False
    release(0)
    return True


class HeapTrimmer:
    """A background thread that trims once requests have run: `HeapTrimmer(lambda: engine.busy).start()`.

    It looks at `busy()` every `poll_s`; after activity it trims when the engine is idle and `interval_s`
    has passed since the last trim, or while busy once `max_wait_s` has passed (a server that is never
    idle is trimmed too). Trimming holds the allocator's locks for up to ~0.1 s, so idle moments come
    first.

    Under steady load the engine is never idle (the next request in line takes the place the moment
    one ends), so it is looked at often (a look takes a lock, microseconds) and the longest wait is
    short. With 6 users on the preview model every trim came while busy, took 11-43 ms and gave back
    100-230 MiB, which requests took again within 1-2 s; with 120 s as the longest wait, a minute
    without a trim ended ~100 MiB higher at its lowest than a minute with one.
    """

    def __init__(
        self,
        busy: Callable[[], bool],
        interval_s: float = 20.0,
        max_wait_s: float = 30.0,
        poll_s: float = 0.1,
    ) -> None:
        self.busy = busy
        self.interval_s = interval_s
        self.max_wait_s = max_wait_s
        self.poll_s = poll_s
        self.trims = 0
        self._thread: threading.Thread | None = None
        self._debug = debug_interval_s() is not None

    def start(self) -> bool:
        """Start the thread (once); False where the C library cannot trim."""
        if self._thread is None and _malloc_trim() is not None:
            self._thread = threading.Thread(target=self._loop, name="omni-heap-trim", daemon=True)
            self._thread.start()
            every = debug_interval_s()
            if every is not None:
                MemoryReport(every).start()
        return self._thread is not None

    def _loop(self) -> None:
        active = False
        last = time.monotonic()
        while True:
            time.sleep(self.poll_s)
            busy = self.busy()
            active = active or busy
            since = time.monotonic() - last
            if not active or since < self.interval_s or (busy and since < self.max_wait_s):
                continue
            before = rss_mib() if self._debug else None
            started = time.perf_counter()
            trim()
            self.trims += 1
            took_ms = (time.perf_counter() - started) * 1000
            if before is None:
                log.debug("heap trimmed in %.0f ms", took_ms)
            else:
                log.info(
                    "heap trim %d (%s): RSS %.0f -> %.0f MiB in %.0f ms",
                    self.trims, "busy" if busy else "idle", before, rss_mib(), took_ms,
                )  # fmt: skip
            active, last = busy, time.monotonic()


def rss_mib() -> float:
    """This process's resident memory."""
    return _status_kib("VmRSS") / 1024


def _status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _anonymous_mib() -> float:
    try:
        text = Path("/proc/self/smaps_rollup").read_text()
    except OSError:
        return 0.0
    found = re.search(r"^Anonymous:\s+(\d+) kB", text, re.M)
    return int(found.group(1)) / 1024 if found else 0.0


def malloc_summary() -> dict[str, float] | None:
    """glibc's own account (`malloc_info`): its arenas, and the MiB its heaps hold and hold free."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        info = libc.malloc_info
    except (OSError, AttributeError):
        return None
    buffer, size = ctypes.c_char_p(), ctypes.c_size_t()
    libc.open_memstream.restype = ctypes.c_void_p
    libc.open_memstream.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t)]
    info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    libc.free.argtypes = [ctypes.c_void_p]
    stream = libc.open_memstream(ctypes.byref(buffer), ctypes.byref(size))
    if not stream:
        return None
    info(0, stream)
    libc.fclose(stream)
    xml = ctypes.string_at(buffer, size.value).decode(errors="replace")
    libc.free(ctypes.cast(buffer, ctypes.c_void_p))
    tail = xml[xml.rfind("</heap>") :]  # the totals over all arenas follow the last arena

    def total(pattern: str) -> float:
        found = re.search(pattern, tail)
        return int(found.group(1)) / 2**20 if found else 0.0

    return {
        "arenas": float(xml.count("<heap nr=")),
        "heap_mib": total(r'<system type="current" size="(\d+)"'),
        "free_mib": total(r'<total type="fast" count="\d+" size="(\d+)"')
        + total(r'<total type="rest" count="\d+" size="(\d+)"'),
        "mmap_mib": total(r'<total type="mmap" count="\d+" size="(\d+)"'),
    }


class MemoryReport:
    """One log line about this process's memory every `every_s` seconds (see the module's doc)."""

    def __init__(self, every_s: float, top: int = 8) -> None:
        self.every_s = every_s
        self.top = top
        self._types: Counter[str] = Counter()
        self._snapshot: tracemalloc.Snapshot | None = None

    def start(self) -> None:
        threading.Thread(target=self._loop, name="omni-memory-report", daemon=True).start()

    def _loop(self) -> None:
        while True:
            time.sleep(self.every_s)
            try:
                log.info("%s", self.line())
            except Exception:  # a report must never end the server
                log.exception("memory report failed")

    def line(self) -> str:
        types = Counter(type(o).__name__ for o in gc.get_objects())
        grown = (types - self._types).most_common(self.top) if self._types else []
        self._types = types
        parts = [
            f"RSS {rss_mib():.0f} MiB, anonymous {_anonymous_mib():.0f} MiB, "
            f"threads {threading.active_count()} ({_status_kib('Threads')} in the process)",
            f"objects {sum(types.values())}, grown: {', '.join(f'{k} +{v}' for k, v in grown) or '-'}",
        ]
        heap = malloc_summary()
        if heap is not None:
            parts.append(
                f"glibc: {heap['arenas']:.0f} arenas, heap {heap['heap_mib']:.0f} MiB "
                f"({heap['free_mib']:.0f} free), mmapped {heap['mmap_mib']:.0f} MiB"
            )
        if tracemalloc.is_tracing():
            snapshot = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(False, tracemalloc.__file__)]
            )
            if self._snapshot is not None:
                diffs = snapshot.compare_to(self._snapshot, "lineno")[: self.top]
                parts.append(
                    "traced growth: "
                    + "; ".join(
                        f"{d.traceback[0].filename}:{d.traceback[0].lineno} {d.size_diff / 1024:+.0f} KiB"
                        for d in diffs
                    )
                )
            self._snapshot = snapshot
        return "memory: " + " | ".join(parts)
