"""The GPU suite's fixtures: the full-size Qwen3-Omni with random weights, started as the app starts it.

Everything here runs only on a machine with CUDA; elsewhere the tests that ask for these fixtures are
skipped by their modules. Nothing imports gradio: the GPU machine has none (the engine needs none).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from gpu.gpu_support import NO_CUDA, Watch, cuda_available

log = logging.getLogger("tests.gpu")


@pytest.fixture(scope="session")
def full_engine() -> Any:
    """Qwen3-Omni-30B-A3B-Instruct built from its config with random weights (the benchmark's builder),
    then the app's start-up: the speech self-check against generate(), then the warm-up."""
    if not cuda_available():
        pytest.skip(NO_CUDA)
    import torch

    from omni_demo.bench.models import load_full

    loaded = load_full()
    engine = loaded.engine
    log.info(
        "full-size model built in %.1f s (%.2f B parameters) on %s",
        loaded.build_s,
        loaded.params_b,
        torch.cuda.get_device_name(),
    )
    started = time.perf_counter()
    engine.start_up(warm=True)
    log.info("start-up (self-check + warm-up) took %.1f s", time.perf_counter() - started)
    assert engine.options.engine == "fast", "start-up fell back to the plain engine: see the log above"
    assert engine.fast_path is not None
    return engine


@pytest.fixture
def watch(full_engine: Any, monkeypatch: pytest.MonkeyPatch) -> Watch:
    import threading

    from omni_demo.engine.fast import graphs
    from omni_demo.engine.hooks import TextTap

    seen = Watch()
    capture = graphs.Step.capture

    def counted_capture(self: Any, warmups: int = 3) -> None:
        had = self._graph is not None
        started = time.perf_counter()
        capture(self, warmups)
        if not had and self._graph is not None:
            seen.captures.append((self, started, time.perf_counter()))

    monkeypatch.setattr(graphs.Step, "capture", counted_capture)

    fast = full_engine.fast_path
    thinker_for, frames_for = fast.thinker_for, fast.frames_for

    def noted(kind: str, decoder: Any) -> Any:
        name = threading.current_thread().name
        seen.used.append((kind, decoder.length, decoder, name, time.perf_counter()))
        return decoder

    monkeypatch.setattr(fast, "thinker_for", lambda *args: noted("thinker", thinker_for(*args)))
    monkeypatch.setattr(fast, "frames_for", lambda *args: noted("frames", frames_for(*args)))

    put = TextTap.put

    def recorded_put(self: Any, value: Any) -> None:
        if not self.next_tokens_are_prompt:  # the first call carries the prompt
            now = time.perf_counter()
            seen.tokens.setdefault(self, []).extend((int(v), now) for v in value.reshape(-1))
        put(self, value)

    monkeypatch.setattr(TextTap, "put", recorded_put)
    return seen
