"""Input tokens are known before the GPU: the estimate equals what the processor makes, and a request
over the limit is refused with one sentence that says how long a clip may be."""

from __future__ import annotations

from pathlib import Path

import pytest
from sentences import assert_one_sentence

from omni_demo.conversation import build_model_input
from omni_demo.errors import InputError
from omni_demo.types import Media, Request, Result, Sampling, Turn

pytestmark = pytest.mark.integration


def _request(assets: Path, text: str, names: tuple[str, ...], audio_in_video: bool = False) -> Request:
    kinds = {".wav": "audio", ".png": "image", ".mp4": "video"}
    media = tuple(Media(kinds[Path(n).suffix], str(assets / n)) for n in names)  # type: ignore[arg-type]
    return Request(
        turns=(Turn("user", text, media=media),),
        use_audio_in_video=audio_in_video,
        return_audio=False,
        sampling=Sampling(temperature=0, max_new_tokens=1),
    )


CASES = {
    "text": ("Hello there, how are you?", (), False),
    "audio": ("Transcribe it.", ("speech_en.wav",), False),
    "image": ("What is this?", ("scene.png",), False),
    "tall-image": ("Read it.", ("ocr.png",), False),
    "video": ("Describe the video.", ("video_room.mp4",), False),
    "audio-in-video": ("What was said?", ("av_question.mp4",), True),
    "everything": ("All of it.", ("music.wav", "grounding.png", "av_question.mp4", "av_dialogue.mp4"), True),
    "two-videos": ("Compare.", ("video_room.mp4", "video_scenes.mp4"), False),
}


@pytest.mark.parametrize("key", list(CASES))
def test_estimate_equals_the_processors_count(preview_engine, assets: Path, key: str) -> None:
    text, names, aiv = CASES[key]
    request = _request(assets, text, names, aiv)
    model_input = build_model_input(request, preview_engine.info.capabilities)
    estimate = preview_engine.estimate(model_input, request)
    result = list(preview_engine.stream(request))[-1]
    assert isinstance(result, Result)
    assert estimate.tokens == result.timings.input_tokens
    assert estimate.total == result.timings.input_tokens["total"]


def test_a_video_over_the_limit_is_one_sentence_with_the_length_allowed(preview_engine, assets: Path) -> None:
    request = _request(assets, "Describe the video.", ("video_room.mp4",))
    model_input = build_model_input(request, preview_engine.info.capabilities)
    needed = preview_engine.estimate(model_input, request)
    limit = needed.total - needed.tokens["video"] // 2  # room for about half of the clip
    small = preview_engine.with_options(max_input_tokens=limit)
    with pytest.raises(InputError) as info:
        small.check(request)
    message = str(info.value)
    assert_one_sentence(message)
    assert f"{needed.total:,} input tokens" in message
    assert f"{limit:,}" in message
    width, height = needed.video_size
    assert f"{width}×{height} video may be at most about" in message
    seconds = int(message.split("at most about ")[1].split(" s", maxsplit=1)[0])
    duration = needed.tokens["video"] / needed.video_tokens_per_s
    assert 0.3 * duration <= seconds <= 0.6 * duration
    with pytest.raises(InputError):
        list(small.stream(request))
    assert not small.busy
    list(preview_engine.stream(request))  # the default limit serves it


def test_text_over_the_limit_is_one_sentence(preview_engine) -> None:
    request = Request(
        turns=(Turn("user", "word " * 400),), sampling=Sampling(temperature=0, max_new_tokens=1)
    )
    with pytest.raises(InputError) as info:
        preview_engine.with_options(max_input_tokens=100).check(request)
    assert_one_sentence(str(info.value))
    assert "shorter" in str(info.value)
