"""(e) The on-device sampler against torch.multinomial, on CUDA, on the same logits.

`device_sample` chooses the code predictor's 15 residual codes of every speech frame, inside the
frame's CUDA graph. tests/sampler_check.py compares a sampler with transformers' warpers +
`torch.multinomial` on one set of logits (chi-square fit and two-sample tests, fixed seeds); the CPU
suite runs it on the CPU (tests/unit/test_fast_sampler.py). Here everything runs on the GPU: the
logits, `multinomial`, `device_sample` called directly, and `device_sample` captured once as a CUDA
graph by the engine's own `Step` and replayed for every draw (each replay must draw fresh noise). Wrong
samplers are rejected on the GPU too, so the comparison can fail here.
"""

from __future__ import annotations

from typing import Any

import pytest
from sampler_check import REJECT_BELOW, Setting, compare, exact_probs, sample_logits

from gpu.gpu_support import NO_CUDA, cuda_available

pytestmark = pytest.mark.skipif(not cuda_available(), reason=NO_CUDA)

DRAWS = 100_000  # direct calls, 5000 rows of the same logits per call
REPLAYS = 20_000  # graph replays, one draw each
SETTINGS = {
    "predictor": Setting(top_k=50, top_p=0.8, temperature=1.0),  # top-p cuts
    "thinker-defaults": Setting(top_k=20, top_p=0.95, temperature=0.6),  # top-p cuts
    "talker": Setting(top_k=50, top_p=1.0, temperature=0.9),  # top-k cuts
    "top-k-cuts": Setting(top_k=10, top_p=1.0, temperature=0.7),
}


def on_cuda(logits: Any, top_k: int, top_p: float, temperature: float) -> Any:
    """`device_sample`, checked to take and give CUDA tensors."""
    from omni_demo.engine.fast.sampling import device_sample

    assert logits.is_cuda
    chosen = device_sample(logits, top_k, top_p, temperature)
    assert chosen.is_cuda
    return chosen


def replayed() -> Any:
    """A sampler whose every draw is one replay of `device_sample`, captured per setting by `Step`."""
    import torch

    from omni_demo.engine.fast.graphs import Step
    from omni_demo.engine.fast.sampling import device_sample

    made: dict[tuple[int, float, float], tuple[Any, Any, Any]] = {}

    def sample(logits: Any, top_k: int, top_p: float, temperature: float) -> Any:
        key = (top_k, top_p, temperature)
        if key not in made:
            source = logits[:1].clone()
            chosen = torch.zeros(1, 1, dtype=torch.long, device=logits.device)

            def body() -> None:
                chosen.copy_(device_sample(source, top_k, top_p, temperature))

            step = Step(body, logits.device, reset=lambda: None)
            step.capture()
            assert step._graph is not None, "not captured"
            made[key] = (source, chosen, step)
        source, chosen, step = made[key]
        source.copy_(logits[:1])
        out = torch.empty(logits.shape[0], 1, dtype=torch.long, device=logits.device)
        for row in range(logits.shape[0]):
            step()
            out[row] = chosen[0]
        return out

    return sample


def _check(verdict: Any) -> None:
    assert verdict.reference_fit_p > REJECT_BELOW, verdict  # the statistics accept multinomial itself
    assert verdict.outside == 0, verdict
    assert verdict.fit_p > REJECT_BELOW, verdict
    assert verdict.same_p > REJECT_BELOW, verdict


@pytest.mark.parametrize("name", list(SETTINGS))
def test_device_sample_draws_what_multinomial_draws_on_cuda(name: str) -> None:
    setting = SETTINGS[name]
    logits = sample_logits("cuda")
    assert logits.is_cuda
    kept = int((exact_probs(logits, setting) > 0).sum())
    assert 2 <= kept <= setting.top_k  # a real cut, else the setting tests nothing

    _check(compare(on_cuda, logits, setting, DRAWS))


@pytest.mark.parametrize("name", list(SETTINGS))
def test_device_sample_replayed_from_a_cuda_graph(name: str) -> None:
    _check(compare(replayed(), sample_logits("cuda"), SETTINGS[name], REPLAYS))


def _no_temperature(logits: Any, top_k: int, top_p: float, temperature: float) -> Any:
    return on_cuda(logits, top_k, top_p, 1.0)


def _one_fewer(logits: Any, top_k: int, top_p: float, temperature: float) -> Any:
    return on_cuda(logits, top_k - 1, top_p, temperature)


@pytest.mark.parametrize(("wrong", "name"), [(_no_temperature, "thinker-defaults"), (_one_fewer, "talker")])
def test_the_comparison_rejects_a_wrong_sampler_on_cuda(wrong: Any, name: str) -> None:
    verdict = compare(wrong, sample_logits("cuda"), SETTINGS[name], DRAWS)
    assert not verdict.same, verdict
