"""What the fast path's talker receives at every step equals what the stock `generate()` talker receives.

The equality tests in test_fast_engine.py compare codes and waveforms; in the preview model the
text's share of the talker's input is about 1e-3, so a talker that reads its text one step late
still picks the same codes. Here the input of the talker's first decoder layer (the embeddings of
the previous frame's 16 codes plus the text of this step) is caught in both paths and compared step
by step, with a tolerance far below the change that reading the neighbouring step's text makes.
On a CPU the fast path runs its frame step as plain Python, so the hooks see every step (a captured
CUDA graph would replay without calling them).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from integration.test_fast_engine import CASES
from omni_demo.conversation import build_model_input

pytestmark = pytest.mark.integration

# Both paths add the same float32 embeddings in another order, so they differ by rounding alone
# (~3e-8 on inputs of ~0.2); the text of one step differs from the next one's by ~5e-4.
TOLERANCE = 1e-6
# A text shift must move the input by this many tolerances at least, or the comparison proves nothing.
SENSITIVITY = 100


@dataclass
class TalkerInputs:
    """Inputs of the talker's first decoder layer ([1, n, H] each) and, for generate(), its text feed."""

    steps: list[Any] = field(default_factory=list)
    text_feed: Any = None  # `trailing_text_hidden` [1, T, H], as generate() hands it to the talker
    pad: Any = None  # `tts_pad_embed` [1, 1, H], the text of the steps past the feed


@contextmanager
def talker_inputs(model) -> Iterator[TalkerInputs]:
    """Catch every input of `model.talker.model.layers[0]` (the fast path runs that module too)."""
    seen = TalkerInputs()

    def layer_hook(module, args, kwargs) -> None:
        hidden = args[0] if args else kwargs["hidden_states"]
        seen.steps.append(hidden.detach().float().clone())

    def talker_hook(module, args, kwargs) -> None:
        if seen.text_feed is None and kwargs.get("trailing_text_hidden") is not None:
            seen.text_feed = kwargs["trailing_text_hidden"].detach().float().clone()
            seen.pad = kwargs["tts_pad_embed"].detach().float().clone()

    handles = [
        model.talker.model.layers[0].register_forward_pre_hook(layer_hook, with_kwargs=True),
        model.talker.register_forward_pre_hook(talker_hook, with_kwargs=True),
    ]
    try:
        yield seen
    finally:
        for handle in handles:
            handle.remove()


def stock_talker_inputs(engine, request, talker_steps: int) -> TalkerInputs:
    """generate() on the engine's own processor inputs, greedy thinker and talker, speech on."""
    import torch

    model_input = build_model_input(request, engine.info.capabilities, engine.options.max_media_turns)
    inputs = engine._prepare(model_input, request)  # private: the engine's exact processor inputs
    with talker_inputs(engine.model) as seen, torch.inference_mode():
        engine.model.generate(
            **inputs,
            use_audio_in_video=request.use_audio_in_video,
            return_audio=True,
            thinker_max_new_tokens=request.sampling.max_new_tokens,
            thinker_do_sample=False,
            speaker=request.voice,
            talker_do_sample=False,
            talker_max_new_tokens=talker_steps,
        )
    return seen


def step_text(seen: TalkerInputs, step: int) -> Any:
    """The text generate()'s talker adds at decode step `step` (its `prepare_inputs_for_generation`)."""
    if step < seen.text_feed.shape[1]:
        return seen.text_feed[:, step : step + 1]
    return seen.pad


def worst_step(fast: list[Any], stock: list[Any]) -> tuple[int, float]:
    """The step whose inputs differ most, and by how much (max absolute difference)."""
    gaps = [float((a - b).abs().max()) for a, b in zip(fast, stock, strict=True)]
    worst = max(range(len(gaps)), key=gaps.__getitem__)
    return worst, gaps[worst]


@pytest.mark.parametrize("case", [c for c in CASES if CASES[c].return_audio])
def test_fast_talker_receives_generates_inputs_at_every_step(preview_engine, case: str) -> None:
    request = CASES[case]
    engine = preview_engine.with_options(engine="fast", talker_do_sample=False)
    with talker_inputs(engine.model) as fast:
        list(engine.stream(request))
    decode_steps = len(fast.steps) - 1  # the first input is the prompt's prefill
    assert decode_steps >= 5, "too few frames to compare"

    stock = stock_talker_inputs(engine, request, decode_steps + 1)

    assert len(stock.steps) >= len(fast.steps)
    stock_steps = stock.steps[: len(fast.steps)]  # generate()'s own last frame adds one step
    assert fast.steps[0].shape == stock_steps[0].shape
    assert all(step.shape[1] == 1 for step in fast.steps[1:])
    step, gap = worst_step(fast.steps, stock_steps)
    assert gap <= TOLERANCE, f"the talker's input at step {step} differs by {gap:.3g} (prefill is step 0)"

    # The comparison is sharp enough to see the text read one step early or late.
    texts = [step_text(stock, j) for j in range(decode_steps)]
    shifts = [float((a - b).abs().max()) for a, b in itertools.pairwise(texts)]
    assert max(shifts) >= SENSITIVITY * TOLERANCE, shifts
