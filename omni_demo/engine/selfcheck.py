"""The start-up self-check: the engine's streamed speech path against the stock `generate()`.

A 2-token greedy request with speech runs through the engine (fast or plain, interleaved) and through
`model.generate()` on the same inputs. The streamed path relies on transformers internals; if one is
missing or the reply differs (other text; in float32 also another length of speech or a waveform more
than 1e-3 away), one line is logged and the engine falls back to the plain stock path instead of
failing users' requests. In bf16 kernels of other shapes move near-ties, so a greedy talker may end a
frame earlier or later: there only the text is compared (the benchmark measures teacher-forced
agreement instead).
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from omni_demo.conversation import build_model_input
from omni_demo.types import Request, Result, Sampling, Turn

log = logging.getLogger(__name__)


def speech_mismatch(engine: Any) -> str | None:
    """None when the check passes or does not apply; else what differed (already logged)."""
    caps = engine.info.capabilities
    if not (caps.speech_output and caps.text_input):
        return None
    if engine.options.engine == "plain" and not engine.options.interleave:
        return None  # already the stock path
    try:
        problem = _compare(engine)
    except Exception as exc:  # a missing internal, a changed signature, ...
        problem = f"{type(exc).__name__}: {exc}"
    if problem is None:
        log.info("speech self-check against generate() passed (%s engine)", engine.options.engine)
        return None
    log.warning(
        "speech self-check against generate() failed (%s); using the plain engine",
        problem.splitlines()[0][:300],
    )
    return problem


def _compare(engine: Any) -> str | None:
    import torch

    caps = engine.info.capabilities
    request = Request(
        turns=(Turn("user", "Hi"),),
        voice=caps.default_voice,
        return_audio=True,
        sampling=Sampling(temperature=0, max_new_tokens=2),
    )
    checker = engine.with_options(talker_do_sample=False, max_speech_frames=4)
    ours = [e for e in checker.stream(request) if isinstance(e, Result)][-1]
    if ours.audio is None or not len(ours.audio):
        return "the streamed path made no speech"
    frames = math.ceil(len(ours.audio) / engine.facts.samples_per_frame)
    model_input = build_model_input(request, caps, engine.options.max_media_turns)
    inputs = engine._prepare(model_input, request)  # the engine's own processor inputs
    # generate() runs outside the engine's stream: it takes every place, so nothing shares the GPU.
    with engine.admission.exclusive(), torch.inference_mode(), _quiet():
        # generate() makes one frame fewer than its talker steps.
        sequences, wav = engine.model.generate(
            **inputs,
            return_audio=True,
            speaker=caps.default_voice,
            thinker_max_new_tokens=2,
            thinker_do_sample=False,
            talker_do_sample=False,
            talker_max_new_tokens=frames + 1,
        )
    text = engine.processor.tokenizer.decode(
        sequences[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True
    )
    if text != ours.text:
        return f"text {ours.text!r} != {text!r}"
    if engine.model.dtype != torch.float32:
        return None
    reference = wav.reshape(-1).float().cpu().numpy()
    if len(reference) != len(ours.audio):
        return f"{len(ours.audio)} samples of speech != {len(reference)}"
    difference = float(np.abs(reference - ours.audio).max())
    return f"speech differs by up to {difference:.4f}" if difference > 1e-3 else None


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence transformers' notes about its own stock generate() (flags it ignores, a repetition
    penalty over embeddings) during the check: nothing a user of the demo can act on."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        hf_logging.set_verbosity(level)
