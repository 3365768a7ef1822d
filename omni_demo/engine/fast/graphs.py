"""Replaying a fixed-shape step as one CUDA graph.

A decode step of Qwen3-Omni launches hundreds of small kernels; from Python each launch costs
more than the kernel itself, so the GPU mostly waits. A step whose inputs and outputs live in
fixed buffers, with no host synchronisation inside, can be recorded once with `torch.cuda.graph`
and replayed with one call. On a CPU (the preview model, the tests) the same step simply runs.
"""

from __future__ import annotations

import contextlib
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
        self._graph: Any = None

    def capture(self, warmups: int = 3) -> None:
        """Record `body` as a graph (CUDA only). Warm-up runs first, on a side stream, as torch asks."""
        import torch

        if self._device.type != "cuda" or self._graph is not None:
            return
        self._reset()
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
        with torch.cuda.graph(graph, stream=side, capture_error_mode="thread_local"), self._around():
            self._body()
        self._graph = graph
        self._reset()

    def __call__(self) -> None:
        if self._graph is not None:
            self._graph.replay()
        else:
            with self._around():
                self._body()
