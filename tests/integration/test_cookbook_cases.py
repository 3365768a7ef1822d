"""Every cookbook case runs once on its shipped example through the right preview model."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from omni_demo.cookbook.cases import ASSETS_DIR, CASES, case_by_id
from omni_demo.cookbook.requests import build_request, render_answer, runs_on
from omni_demo.types import ModelKind, Result, TextDelta

pytestmark = pytest.mark.integration

MAX_NEW_TOKENS = 12


def _engine_for(case, request: pytest.FixtureRequest):
    if case.needs is ModelKind.CAPTIONER:
        return request.getfixturevalue("captioner_engine")
    if case.needs is ModelKind.THINKING:
        return request.getfixturevalue("thinking_engine")
    return request.getfixturevalue("preview_engine")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case_runs_on_its_example(case, request):
    engine = _engine_for(case, request)
    caps = engine.info.capabilities
    assert runs_on(case, caps)
    paths = {kind: str(ASSETS_DIR / name) for kind, name in case.example.items()}
    built = build_request(
        case,
        paths,
        prompt=case.prompts[0] if case.prompts else "",
        system_prompt=case.system_prompt,
        voice=None,
        speak=case.speak,
        tools_json=None,
        max_new_tokens=MAX_NEW_TOKENS,
        text_before=case.prompts_before[0] if case.prompts_before else "",
    )
    engine.check(built)
    events = list(engine.stream(built))

    result = events[-1]
    assert isinstance(result, Result)
    assert sum(isinstance(e, Result) for e in events) == 1
    assert result.text.strip()
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == result.text
    if case.speak:
        assert result.audio is not None
        assert len(result.audio) > 0
    rendered = render_answer(case, caps, result.text, paths, done=True)
    assert rendered.answer or rendered.reasoning or rendered.tool_calls


def test_captioner_case_accepts_a_clip_over_30_seconds(tmp_path):
    """Upstream recommends 30 s but does not enforce it; the engine adds a note to the result instead."""
    clip = tmp_path / "long.wav"
    rate = 16_000
    tone = 0.1 * np.sin(2 * np.pi * 440 * np.arange(31 * rate) / rate)
    sf.write(clip, tone.astype(np.float32), rate)
    case = case_by_id("omni-captioner")
    request = build_request(case, {"audio": str(clip)}, "", "", None, False, None, 8)
    assert request.turns[0].media[0].path == str(clip)
