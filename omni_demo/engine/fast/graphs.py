"""Replaying a fixed-shape step as one CUDA graph.

A decode step of Qwen3-Omni launches hundreds of small kernels; from Python each launch costs
more than the kernel itself, so the GPU mostly waits. A step whose inputs and outputs live in
fixed buffers, with no host synchronisation inside, can be recorded once with `torch.cuda.graph`
and replayed with one call. On a CPU (the preview model, the tests) the same step simply runs.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any


class Step:
    """`step()` runs `body` (which reads and writes only fixed buffers), from a graph once captured.

    `reset` puts the body's state (its cache position) back where a request starts; capturing runs
    the body a few times, so it is called before and after. `around` is entered around every run of
    the body (the warm-ups and the capture on CUDA, each call elsewhere), e.g. the decode attention.
    """

    def __init__(
        self,
        body: Callable[[], None],
        device: Any,
        reset: Callable[[], None],
        compile: bool = False,
        around: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext,
        pool: Any = None,
    ) -> None:
        if compile and device.type == "cuda":
            import torch

            # Inductor fuses the body's small kernels (norms, rotary, routing) before the graph records
            # them; shapes never change, so one compilation serves every replay.
            body = torch.compile(body, dynamic=False, fullgraph=False)
        self._body = body
        self._around = around
        self._device = device
        self._reset = reset
        self._pool = pool  # a graph memory pool shared with steps that never run at the same time
        self._graph: Any = None

    def capture(self, warmups: int = 3) -> None:
        """Record `body` as a graph (CUDA only). Warm-up runs first, on a side stream, as torch asks."""

        if self._device.type != "cuda" or self._graph is not None:
            return
        self._reset()
        try:  # the state is put back however capturing ends (other requests' rows depend on it)
            self._graph = self._record(warmups)
        finally:
            self._reset()

    def _record(self, warmups: int) -> Any:
        import torch

        side = torch.cuda.Stream(self._device)
        side.wait_stream(torch.cuda.current_stream(self._device))
        with torch.cuda.stream(side), self._around():
            for _ in range(warmups):
                self._body()
        torch.cuda.current_stream(self._device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        # thread_local: the other loop (thinker or talker) may be replaying its own graph meanwhile.
        # Captured on this step's own stream, not torch's one default capture stream: cuBLAS keys its
        # workspace by stream, and a graph keeps the workspace it was captured with, so two graphs
        # captured on one stream would share it while the thinker and the talker replay at once.
        with (
            torch.cuda.graph(graph, pool=self._pool, stream=side, capture_error_mode="thread_local"),
            self._around(),
        ):
            self._body()
        return graph

    @property
    def captured(self) -> bool:
        return self._graph is not None

    def __call__(self) -> None:
        if self._graph is not None:
            self._graph.replay()
        else:
            with self._around():
                self._body()


class WindowedStep:
    """One `Step` per batch size and attention window of `kv` (see `kv.windows`, `batch_sizes`), run
    with that batch and window set.

    `prepare(filled, rows)` captures every window that decode steps after a prompt of `filled`
    positions may use, for the batch sizes up to `rows` rows; calling it with `(filled, rows)` runs the
    smallest batch size holding `rows` rows and the smallest window holding `filled` slots. Capturing
    runs the body a few times: the rows' positions are put back afterwards, and what those runs wrote
    lies at or beyond each row's position, where the row's next real step writes anyway, so a capture
    between two steps of running requests leaves them intact. The graphs share one memory pool: they
    run one at a time, on one stream.
    """

    def __init__(
        self,
        body: Callable[[], None],
        kv: Any,
        device: Any,
        compile: bool = False,
        around: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext,
        smallest: int = 2048,
    ) -> None:
        from omni_demo.engine.fast.kv import windows

        pool = None
        if device.type == "cuda":
            import torch

            pool = torch.cuda.graph_pool_handle()
        self.kv = kv
        self.sizes = windows(kv.length, smallest)
        self.batches = batch_sizes(kv.rows)
        saved: list[Any] = []

        def reset() -> None:  # called before and after the capture's runs
            if saved:
                kv.position.copy_(saved.pop())
            else:
                saved.append(kv.position.clone())

        self.by_shape = {
            (batch, size): Step(
                functools.partial(self._run, body, batch, size), device, reset, compile, around, pool
            )
            for batch in self.batches
            for size in self.sizes
        }
        self.last_shape = (0, 0)  # the (batch size, window) of the latest step

    def _run(self, body: Callable[[], None], batch: int, window: int) -> None:
        self.kv.window, self.kv.batch = window, batch
        try:
            body()
        finally:
            self.kv.window, self.kv.batch = self.kv.length, self.kv.rows

    def prepare(self, filled: int, rows: int | None = None) -> None:
        """Capture the windows that decode steps after a prompt of `filled` positions can use, for the
        batch sizes up to the one holding `rows` rows (None: every batch size)."""
        from omni_demo.engine.fast.kv import window_for

        first = window_for(filled + 1, self.sizes)
        most = self.kv.rows if rows is None else self.batch_for(rows)
        for (batch, size), step in self.by_shape.items():
            if size >= first and batch <= most:
                step.capture()

    def batch_for(self, rows: int) -> int:
        """The batch size a step over `rows` rows runs with (its graph covers that many)."""
        return next(size for size in self.batches if size >= rows)

    def __call__(self, filled: int, rows: int = 1) -> None:
        """One step over the first `rows` rows whose longest query sees `filled` slots (itself included)."""
        from omni_demo.engine.fast.kv import window_for

        self.last_shape = (self.batch_for(rows), window_for(filled, self.sizes))
        self.by_shape[self.last_shape]()


def batch_sizes(rows: int) -> list[int]:
    """The batch sizes a cache of `rows` rows keeps graphs for: powers of two below `rows`, and `rows`."""
    sizes = []
    size = 1
    while size < rows:
        sizes.append(size)
        size *= 2
    return [*sizes, rows]
