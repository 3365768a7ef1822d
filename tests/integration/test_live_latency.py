"""Live voice on the preview model: the latency harness runs, and its figures stay within generous
bounds (a CPU shared with other work; the README gives the measured figures)."""

from __future__ import annotations

import asyncio

import pytest

from omni_demo.bench.live import measure

pytestmark = pytest.mark.integration


def test_end_of_speech_to_first_audio_and_barge_in(preview_engine) -> None:
    engine = preview_engine.with_options(engine="fast")
    figures = asyncio.run(measure(engine, runs=1))
    [latency] = figures["end_of_speech_to_first_audio_s"]
    # An answer is shown only once the 500 ms silence window has passed (it may have started during
    # it); the detector's silence can begin a little before the last voiced sample the harness counts
    # (the word's quiet end falls under the threshold), so somewhat less than 0.5 s is possible.
    assert 0.3 <= latency < 4.0
    [barge] = figures["barge_in"]
    assert barge["last_delta_after_speech_started_ms"] <= 150  # nothing of the old answer after that
    assert barge["engine_idle_after_speech_started_ms"] < 5000  # the cancel reached the engine
