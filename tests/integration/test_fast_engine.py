"""The fast engine against the stock `generate()`: with greedy decoding the same text and the same codes.

Each case runs one request through the engine's fast path (its own decode loops over fixed caches,
the code predictor's 15 steps as one fixed-shape body) and the same processor inputs through the
stock `model.generate()`, and compares the reply text, every frame of 16 speech codes and the
waveform. The inputs cover the three ways media reach the talker's positions: none, audio + image,
and a video whose sound track is part of the prompt (audio in video).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from speech_codes import engine_codes

from omni_demo.conversation import build_model_input
from omni_demo.types import Media, Request, Result, Sampling, Turn

pytestmark = pytest.mark.integration

ASSETS = Path(__file__).resolve().parents[2] / "assets"


@contextmanager
def frames_seen(model) -> Iterator[list]:
    """Every `residual_codes` (one frame of 16 codes) that the stock talker's forward receives."""
    frames: list = []

    def hook(module, args, kwargs) -> None:
        if kwargs.get("residual_codes") is not None:
            frames.append(kwargs["residual_codes"].detach().clone())

    handle = model.talker.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield frames
    finally:
        handle.remove()


def reference(engine, request: Request, talker_steps: int) -> tuple[str, list, np.ndarray | None]:
    """The stock generate() on the engine's own processor inputs (greedy thinker and talker)."""
    import torch

    model_input = build_model_input(request, engine.info.capabilities, engine.options.max_media_turns)
    inputs = engine._prepare(model_input, request)  # private: the engine's exact processor inputs
    kwargs = {
        "use_audio_in_video": request.use_audio_in_video,
        "return_audio": request.return_audio,
        "thinker_max_new_tokens": request.sampling.max_new_tokens,
        "thinker_do_sample": False,
    }
    if request.return_audio:
        kwargs |= {"speaker": request.voice, "talker_do_sample": False, "talker_max_new_tokens": talker_steps}
    with frames_seen(engine.model) as frames, torch.inference_mode():
        output = engine.model.generate(**inputs, **kwargs)
    sequences, wav = output if isinstance(output, tuple) else (output, None)
    text = engine.processor.tokenizer.decode(
        sequences[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True
    )
    return text, frames, None if wav is None else wav.reshape(-1).float().numpy()


def _request(
    text: str, media: tuple[Media, ...], tokens: int, speak: bool, audio_in_video: bool = False
) -> Request:
    return Request(
        turns=(Turn("user", text, media=media),),
        voice="Chelsie",
        return_audio=speak,
        use_audio_in_video=audio_in_video,
        sampling=Sampling(temperature=0, max_new_tokens=tokens),
    )


CASES = {
    "text": _request("Tell me about lighthouses.", (), 24, speak=False),
    "text-speech": _request("Say something nice.", (), 10, speak=True),
    "audio+image-speech": _request(
        "What do you hear and see?",
        (Media("image", str(ASSETS / "ocr.png")), Media("audio", str(ASSETS / "speech_en.wav"))),
        10,
        speak=True,
    ),
    "video-audio-in-video-speech": _request(
        "What did the boy say?", (Media("video", str(ASSETS / "av_question.mp4")),), 8, True, True
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_fast_engine_equals_generate(preview_engine, case: str) -> None:
    assert_equals_generate(preview_engine.with_options(engine="fast", talker_do_sample=False), CASES[case])


def assert_equals_generate(engine, request: Request) -> None:
    """`engine` (fast, greedy talker) gives `request` the text, codes and waveform of generate()."""
    with engine_codes() as fast_frames:
        result = list(engine.stream(request))[-1]
    assert isinstance(result, Result)

    text, plain_frames, wav = reference(engine, request, len(fast_frames) + 1)

    assert result.timings.text_tokens > 0
    assert result.text == text
    if not request.return_audio:
        assert fast_frames == []
        return
    assert len(fast_frames) > 0
    assert len(fast_frames) == len(plain_frames)
    import torch

    mismatched = [
        i for i, (a, b) in enumerate(zip(fast_frames, plain_frames, strict=True)) if not torch.equal(a, b)
    ]
    assert mismatched == [], f"speech codes differ at frames {mismatched}"
    assert result.audio is not None
    assert wav is not None
    assert len(result.audio) == len(wav)
    assert float(np.abs(result.audio - wav).max()) < 1e-3


def counted(monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> list[int]:
    """Wrap `owner.name` for the test; the list grows by one per call."""
    calls: list[int] = []
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


@pytest.mark.parametrize("name", ["fast", "plain"])
def test_fast_engine_says_which_engine_ran(preview_engine, monkeypatch, name: str) -> None:
    """The reply names the engine whose loops really made it: the fast decoder's steps or generate()."""
    from omni_demo.engine.fast.run import FastPath
    from omni_demo.engine.fast.thinker import ThinkerDecoder

    writes = counted(monkeypatch, FastPath, "write")
    decode_steps = counted(monkeypatch, ThinkerDecoder, "decode")
    generates = counted(monkeypatch, type(preview_engine.model), "generate")

    result = list(preview_engine.with_options(engine=name).stream(CASES["text"]))[-1]

    assert isinstance(result, Result)
    tokens = result.timings.text_tokens
    assert tokens > 1  # else no decode step would follow the prefill's token
    if name == "fast":  # every token after the prefill's first one is one decode step
        assert (len(writes), len(decode_steps), len(generates)) == (1, tokens - 1, 0)
    else:
        assert (len(writes), len(decode_steps), len(generates)) == (0, 0, 1)
    assert result.timings.engine == name
    assert f"{name} engine" in result.timings.summary()


def test_fast_engine_reuses_its_decoders_across_requests(preview_engine) -> None:
    """A second request of the same size reuses the first one's caches (captured once on a GPU)."""
    engine = preview_engine.with_options(engine="fast")
    list(engine.stream(CASES["text-speech"]))
    fast = engine.fast_path
    thinkers, frames = dict(fast._thinkers), dict(fast._frames)
    assert thinkers  # the first request built them (else the comparisons below are empty)
    assert frames
    list(engine.stream(CASES["text-speech"]))
    assert fast._thinkers == thinkers
    assert fast._frames == frames


def test_thinker_waits_for_the_talkers_prefill(preview_engine, monkeypatch) -> None:
    """The talker's prefill runs before the thinker's second token: the first audio does not wait for
    the prefill to share the GPU with the thinker's steps."""
    from omni_demo.engine.fast.talker import FrameStep
    from omni_demo.engine.fast.thinker import ThinkerDecoder

    order: list[str] = []
    for owner, name, label in ((ThinkerDecoder, "decode", "thinker step"), (FrameStep, "start", "talker")):
        original = getattr(owner, name)

        def noted(*args, _original=original, _label=label, **kwargs):
            order.append(_label)
            return _original(*args, **kwargs)

        monkeypatch.setattr(owner, name, noted)

    result = list(preview_engine.with_options(engine="fast").stream(CASES["text-speech"]))[-1]

    assert isinstance(result, Result)
    assert result.audio is not None
    assert "thinker step" in order
    assert order.index("talker") < order.index("thinker step")
