"""The fast path's on-device sampler draws what transformers' warpers + `torch.multinomial` draw (CPU).

`device_sample` chooses the code predictor's 15 residual codes of every speech frame. Here it and
`multinomial` each draw 50 000 ids from the same logits (tests/sampler_check.py, which runs on CUDA
too) under fixed seeds. The settings are the code predictor's, the page's thinker defaults, the
talker's, and one where top-k alone cuts; in each, the id at the cut still holds 0.4-7 % of the mass,
so a sampler that cuts one id early or late, forgets the temperature or takes the argmax fails, as
the second test shows with such samplers.
"""

from __future__ import annotations

import pytest
from sampler_check import REJECT_BELOW, Setting, compare, exact_probs, sample_logits

from omni_demo.engine.fast.sampling import device_sample

DRAWS = 50_000
SETTINGS = {
    "predictor": Setting(top_k=50, top_p=0.8, temperature=1.0),  # top-p cuts
    "thinker-defaults": Setting(top_k=20, top_p=0.95, temperature=0.6),  # top-p cuts
    "talker": Setting(top_k=50, top_p=1.0, temperature=0.9),  # top-k cuts
    "top-k-cuts": Setting(top_k=10, top_p=1.0, temperature=0.7),
}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_device_sample_draws_what_multinomial_draws(name: str) -> None:
    setting = SETTINGS[name]
    logits = sample_logits()
    kept = int((exact_probs(logits, setting) > 0).sum())
    assert 2 <= kept <= setting.top_k  # a real cut, else the setting tests nothing

    verdict = compare(device_sample, logits, setting, DRAWS)

    assert verdict.reference_fit_p > REJECT_BELOW, verdict  # the statistics accept multinomial itself
    assert verdict.outside == 0, verdict
    assert verdict.fit_p > REJECT_BELOW, verdict
    assert verdict.same_p > REJECT_BELOW, verdict


def _no_temperature(logits, top_k, top_p, temperature):
    return device_sample(logits, top_k, top_p, 1.0)


def _one_fewer(logits, top_k, top_p, temperature):
    return device_sample(logits, top_k - 1, top_p, temperature)


def _one_more(logits, top_k, top_p, temperature):
    return device_sample(logits, top_k + 1, top_p, temperature)


def _argmax(logits, top_k, top_p, temperature):
    return logits[:, -1].argmax(dim=-1, keepdim=True)


@pytest.mark.parametrize(
    ("wrong", "name"),
    [
        (_no_temperature, "thinker-defaults"),
        (_no_temperature, "top-k-cuts"),
        (_one_fewer, "talker"),
        (_one_fewer, "top-k-cuts"),
        (_one_more, "talker"),
        (_one_more, "top-k-cuts"),
        (_argmax, "predictor"),
    ],
)
def test_the_comparison_rejects_a_wrong_sampler(wrong, name: str) -> None:
    verdict = compare(wrong, sample_logits(), SETTINGS[name], DRAWS)
    assert not verdict.same, verdict
