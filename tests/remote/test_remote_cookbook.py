"""Every cookbook case on its shipped example through each remote back-end (fake services).

What reaches the server is the case's own request: its media inline, its "audio in video" setting
where the service takes one, speech asked for where the case is spoken and the service speaks.
"""

from __future__ import annotations

import pytest

from omni_demo.cookbook.cases import ASSETS_DIR, CASES
from omni_demo.cookbook.requests import build_request, runs_on
from omni_demo.types import ModelKind, Result
from remote.conftest import engine_for

MODELS = {
    ModelKind.INSTRUCT: "Qwen/Qwen3-Omni-30B-A3B-Instruct",
    ModelKind.THINKING: "Qwen/Qwen3-Omni-30B-A3B-Thinking",
    ModelKind.CAPTIONER: "Qwen/Qwen3-Omni-30B-A3B-Captioner",
}


@pytest.mark.parametrize("backend", ["vllm-omni", "vllm", "dashscope"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case_runs_on_each_back_end(fake, case, backend: str) -> None:
    # DashScope serves one model: a Thinking case then runs on Instruct, as it does locally.
    model = "qwen3-omni-flash" if backend == "dashscope" else MODELS[case.needs or ModelKind.INSTRUCT]
    service = fake(backend, model=model)
    engine = engine_for(service, remote_model=model)
    caps = engine.info.capabilities
    if not runs_on(case, caps):
        assert case.needs is ModelKind.CAPTIONER  # only the Captioner case needs its own model
        return
    paths = {kind: str(ASSETS_DIR / name) for kind, name in case.example.items()}
    built = build_request(
        case,
        paths,
        prompt=case.prompts[0] if case.prompts else "",
        system_prompt=case.system_prompt,
        voice=None,
        speak=case.speak,
        tools_json=None,
        max_new_tokens=16,
        text_before=case.prompts_before[0] if case.prompts_before else "",
    )
    engine.check(built)
    result = list(engine.stream(built))[-1]
    assert isinstance(result, Result)
    assert f"{len(case.example)} media parts" in result.text
    body = service.served[-1].body
    speaks = case.speak and caps.speech_output
    assert (result.audio is not None) == speaks
    if backend != "vllm":
        assert ("audio" in body["modalities"]) == speaks
    if backend != "dashscope":
        assert body["mm_processor_kwargs"] == {"use_audio_in_video": built.use_audio_in_video}
