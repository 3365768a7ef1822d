"""Does a token sampler draw from the distribution that transformers' warpers + `torch.multinomial` draw from?

The fast path's `device_sample` (the code predictor's residual codes, inside a CUDA graph) claims the
distribution of temperature -> top-k -> top-p -> `multinomial`, which `Picker` and `generate()` take
with transformers' warpers. Here a sampler draws many samples from one set of logits, `multinomial`
draws as many from the warpers' probabilities, and chi-square tests compare the sampler's counts
with the exact probabilities and with `multinomial`'s counts. Everything runs on the logits' device
(CPU or CUDA) with fixed seeds, in torch alone, so a GPU test can reuse it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

VOCAB = 2048  # the code predictor's vocabulary
LEADERS = 64  # ids in a slow fall: top-k and top-p cut among them
FALL = 0.05  # logit step between neighbouring leaders: the id at a cut still holds ~0.4-7 % of the mass
REJECT_BELOW = 1e-4  # p-value under which two distributions count as different

# (top_k, top_p, temperature) -> [n, 1] ids, drawn from logits [n, 1, vocab], one per row.
Sampler = Callable[[Any, int, float, float], Any]


@dataclass(frozen=True)
class Setting:
    top_k: int
    top_p: float
    temperature: float


@dataclass(frozen=True)
class Verdict:
    fit_p: float  # the sampler's counts under the exact probabilities
    same_p: float  # the sampler's counts against multinomial's
    reference_fit_p: float  # multinomial's counts under the exact probabilities (the test's own check)
    total_variation: float  # between the sampler's and multinomial's frequencies, for the message
    outside: int  # draws of ids the warpers give no probability

    @property
    def same(self) -> bool:
        return self.outside == 0 and min(self.fit_p, self.same_p) > REJECT_BELOW


def sample_logits(device: Any = "cpu", seed: int = 0) -> Any:
    """[1, 1, VOCAB]: LEADERS ids (scattered) in a slow geometric fall, the rest far below."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(VOCAB, generator=generator) - 6.0
    leaders = torch.randperm(VOCAB, generator=generator)[:LEADERS]
    logits[leaders] = 4.0 - FALL * torch.arange(LEADERS, dtype=torch.float32)
    return logits.view(1, 1, VOCAB).to(device)


def exact_probs(logits: Any, setting: Setting) -> Any:
    """What `multinomial` samples from after transformers' warpers, in `generate()`'s order (float64, CPU)."""
    import torch
    from transformers.generation import (
        LogitsProcessorList,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    warpers = LogitsProcessorList()
    if setting.temperature != 1.0:
        warpers.append(TemperatureLogitsWarper(setting.temperature))
    warpers.append(TopKLogitsWarper(top_k=setting.top_k))
    if setting.top_p < 1.0:
        warpers.append(TopPLogitsWarper(top_p=setting.top_p))
    scores = warpers(None, logits[:, -1].float())
    return torch.softmax(scores.double(), dim=-1)[0].cpu()


def multinomial_draws(probs: Any, draws: int, seed: int, device: Any) -> Any:
    import torch

    generator = torch.Generator(device=device).manual_seed(seed)
    return torch.multinomial(probs.float().to(device), draws, replacement=True, generator=generator)


def sampler_draws(
    sample: Sampler, logits: Any, setting: Setting, draws: int, seed: int, rows: int = 5000
) -> Any:
    """`draws` ids from `sample`, `rows` rows of the same logits per call, under a fixed seed.

    The sampler takes its noise from torch's default generators; they are restored afterwards.
    """
    import torch

    device = logits.device
    batch = logits.expand(rows, 1, logits.shape[-1]).contiguous()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        chunks = [
            sample(batch, setting.top_k, setting.top_p, setting.temperature) for _ in range(-(-draws // rows))
        ]
    return torch.cat(chunks).reshape(-1)[:draws]


def counts(samples: Any, vocab: int = VOCAB) -> Any:
    import torch

    return torch.bincount(samples.reshape(-1).cpu(), minlength=vocab).double()


def chi_square_p(statistic: float, dof: int) -> float:
    """Upper tail of the chi-square distribution (the regularised upper incomplete gamma function)."""
    import torch

    if dof <= 0:
        return 1.0
    half = torch.tensor([dof / 2, statistic / 2], dtype=torch.float64)
    return float(torch.special.gammaincc(half[0], half[1]))


def goodness_of_fit(observed: Any, probs: Any) -> float:
    """p-value of `observed` counts under `probs`; ids expected fewer than 5 times are pooled."""
    expected = probs * observed.sum()
    big = expected >= 5
    obs = [*observed[big].tolist(), float(observed[~big].sum())]
    exp = [*expected[big].tolist(), float(expected[~big].sum())]
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    statistic = sum((o - e) ** 2 / e for o, e in zip(obs, exp, strict=True))
    return chi_square_p(statistic, len(exp) - 1)


def same_distribution(a: Any, b: Any) -> float:
    """p-value that two count vectors come from one distribution (2 x k contingency table); ids seen
    fewer than 10 times in both together are pooled."""
    big = (a + b) >= 10
    columns = [(float(x), float(y)) for x, y in zip(a[big].tolist(), b[big].tolist(), strict=True)]
    columns.append((float(a[~big].sum()), float(b[~big].sum())))
    columns = [(x, y) for x, y in columns if x + y > 0]
    total_a, total_b = sum(x for x, _ in columns), sum(y for _, y in columns)
    total = total_a + total_b
    statistic = 0.0
    for x, y in columns:
        for observed, row_total in ((x, total_a), (y, total_b)):
            expected = row_total * (x + y) / total
            statistic += (observed - expected) ** 2 / expected
    return chi_square_p(statistic, len(columns) - 1)


def compare(sample: Sampler, logits: Any, setting: Setting, draws: int, seed: int = 1234) -> Verdict:
    """Draw `draws` ids through `sample` and through the warpers + `multinomial`; test both."""
    probs = exact_probs(logits, setting)
    fast = counts(sampler_draws(sample, logits, setting, draws, seed), probs.numel())
    reference = counts(multinomial_draws(probs, draws, seed + 1, logits.device), probs.numel())
    outside = int(fast[probs == 0].sum())
    return Verdict(
        fit_p=0.0 if outside else goodness_of_fit(fast, probs),
        same_p=same_distribution(fast, reference),
        reference_fit_p=goodness_of_fit(reference, probs),
        total_variation=float((fast - reference).abs().sum() / (2 * draws)),
        outside=outside,
    )
