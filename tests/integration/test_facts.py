"""The local engine's model facts, read from the preview model's files, against the published table.

The preview is built with the real configs (token ids, speakers, code2wav's upsampling) and the real
Instruct checkpoint's talker generation settings, so what the loader reads from it must equal the
published Qwen3-Omni values the remote back-ends use; and the engine must decode with what it read.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from omni_demo.engine import local
from omni_demo.engine.facts import QWEN3_OMNI
from omni_demo.types import Request, Result, Sampling, Turn

pytestmark = pytest.mark.integration


def test_the_preview_models_facts_are_the_published_ones(preview_engine) -> None:
    read = preview_engine.facts
    # transformers saves config.json with sorted keys, so the preview lists its speakers alphabetically.
    assert sorted(read.voices) == sorted(QWEN3_OMNI.voices)
    assert replace(read, voices=QWEN3_OMNI.voices) == QWEN3_OMNI
    assert read.samples_per_frame == int(preview_engine.model.code2wav.total_upsample)
    assert preview_engine.options.max_speech_frames == QWEN3_OMNI.talker.max_new_tokens
    assert preview_engine.info.capabilities.voices == read.voices


def test_the_talker_decodes_with_the_facts_it_was_given(preview_engine, monkeypatch) -> None:
    """generate()'s arguments (the plain path) and the interleaved talker's both take the engine's facts."""
    talker = replace(preview_engine.facts.talker, temperature=0.5, top_k=7, repetition_penalty=1.2)
    engine = preview_engine.with_options(engine="plain", talker_do_sample=False)
    engine.facts = replace(engine.facts, talker=talker)
    made = local.talker_generate_kwargs
    seen: list[dict] = []

    def spy(*args: object) -> dict:
        seen.append(made(*args))
        return seen[-1]

    monkeypatch.setattr(local, "talker_generate_kwargs", spy)
    request = Request(turns=(Turn("user", "Hi"),), sampling=Sampling(temperature=0, max_new_tokens=3))

    from omni_demo.engine.plan import model_generate_kwargs

    plain = model_generate_kwargs(engine._plan(request))
    assert {k: plain[f"talker_{k}"] for k in talker.sampling()} == talker.sampling()
    results = [e for e in engine.stream(request) if isinstance(e, Result)]
    assert results[-1].audio is not None  # it spoke, through the interleaved talker
    assert len(seen) == 1
    assert {k: seen[0][k] for k in talker.sampling()} == talker.sampling()
