"""How the server's requests ended, counted since start-up (what /info reports as `served`).

- answered: the model ran to the end (also when the client had stopped waiting: it was not stopped);
- cancelled: the server stopped the request, the model at its next step or before it started;
- refused: the request was unusable, said in one sentence;
- failed: anything else (out of memory, a bug).

A client's own view cannot tell these apart: gradio_client marks a job cancelled as soon as it asks,
whatever the server then does. The load test reads these counts instead.
"""

from __future__ import annotations

import threading

OUTCOMES = ("answered", "cancelled", "refused", "failed")


class Served:
    def __init__(self) -> None:
        self._counts = dict.fromkeys(OUTCOMES, 0)
        self._lock = threading.Lock()

    def add(self, outcome: str) -> None:
        with self._lock:
            self._counts[outcome] += 1

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
