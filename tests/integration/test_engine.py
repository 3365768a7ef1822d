"""The local engine on the preview models: real processor, real generate(), real speech decoding.

Answers are random (random weights), so the tests assert on structure: events, lengths, token
counts per modality, timings being filled in, errors being one sentence, and the engine staying
usable after every error.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sentences import assert_one_sentence

from omni_demo.engine.workers import worker
from omni_demo.errors import InputError
from omni_demo.i18n import ZH, render
from omni_demo.types import (
    SAMPLE_RATE,
    AudioChunk,
    Media,
    Preparing,
    Request,
    Result,
    Sampling,
    TextDelta,
    Turn,
)

pytestmark = pytest.mark.integration

SAMPLES_PER_FRAME = 1920  # one 12.5 Hz speech frame at 24 kHz


def greedy(tokens: int = 8) -> Sampling:
    return Sampling(temperature=0, max_new_tokens=tokens)


def ask(text: str = "", *media: Media) -> Request:
    return Request(turns=(Turn("user", text, media=tuple(media)),), sampling=greedy())


def collect(engine, request: Request) -> tuple[list, Result]:
    events = [e for e in engine.stream(request) if not isinstance(e, Preparing)]
    results = [e for e in events if isinstance(e, Result)]
    assert len(results) == 1, "a stream ends with exactly one Result"
    assert events[-1] is results[0]
    assert all(isinstance(e, TextDelta | AudioChunk) for e in events[:-1])
    result = results[0]
    assert result.text == "".join(e.text for e in events if isinstance(e, TextDelta))
    assert not engine.busy
    return events, result


def chunks_of(events: list) -> list[AudioChunk]:
    return [e for e in events if isinstance(e, AudioChunk)]


def assert_still_serves(engine) -> None:
    """After an error the lock is free, no worker is left, and a small request completes."""
    assert not engine.busy
    assert not worker("omni-generate").busy
    assert not worker("omni-thinker").busy
    _, result = collect(engine, Request(turns=(Turn("user", "Hi"),), return_audio=False, sampling=greedy(2)))
    assert result.text


# --------------------------------------------------------------------------------------- happy paths


def test_text_in_text_and_speech_out(preview_engine) -> None:
    request = Request(turns=(Turn("user", "Tell me a story."),), voice="chelsie", sampling=greedy(8))
    events, result = collect(preview_engine, request)

    assert result.text.strip()
    chunks = chunks_of(events)
    assert chunks
    assert all(c.sample_rate == SAMPLE_RATE for c in chunks)
    assert all(c.samples.dtype == np.float32 and c.samples.ndim == 1 for c in chunks)
    # The first text comes before the first speech (the talker speaks what the thinker wrote).
    kinds = [type(e) for e in events]
    assert kinds.index(TextDelta) < kinds.index(AudioChunk)

    audio = result.audio
    assert audio is not None
    assert result.sample_rate == SAMPLE_RATE == 24_000
    assert audio.dtype == np.float32
    assert audio.ndim == 1
    assert np.array_equal(audio, np.concatenate([c.samples for c in chunks]))
    assert np.isfinite(audio).all()
    assert np.abs(audio).max() <= 1.0
    assert float(np.sqrt(np.mean(audio**2))) > 1e-3, "speech must not be silent"

    t = result.timings
    assert t.text_tokens == 8
    assert t.first_token_s is not None
    assert t.first_token_s >= 0
    assert t.tokens_per_s is not None
    assert t.tokens_per_s > 0
    assert t.first_audio_s is not None
    assert t.first_audio_s >= t.first_token_s
    assert t.speech_s == pytest.approx(len(audio) / SAMPLE_RATE)
    assert t.total_s >= t.first_audio_s
    assert t.real_time_factor is not None
    assert t.real_time_factor > 0
    assert set(t.input_tokens) == {"text", "total"}
    assert t.input_tokens["text"] == t.input_tokens["total"] > 0
    # The preview speaks 1.25 frames per text token; the last call's causal tail is a fraction of a frame.
    frames = math.ceil(1.25 * t.text_tokens)
    assert (frames - 1) * SAMPLES_PER_FRAME < len(audio) <= frames * SAMPLES_PER_FRAME
    # The page's player waits for nothing the engine made late: it is measured on the chunks' arrivals.
    assert t.underrun_s is not None
    assert t.underrun_s >= 0
    assert f"underrun {t.underrun_s:.2f} s" in t.summary()
    assert result.notices == ()


def test_audio_image_video_in_text_out(preview_engine, assets: Path) -> None:
    request = Request(
        turns=(
            Turn(
                "user",
                "What do you hear, read and see?",
                media=(
                    Media("audio", str(assets / "speech_en.wav")),
                    Media("image", str(assets / "ocr.png")),
                    Media("video", str(assets / "video_room.mp4")),
                ),
            ),
        ),
        return_audio=False,
        sampling=greedy(8),
    )
    events, result = collect(preview_engine, request)

    assert result.text.strip()
    assert chunks_of(events) == []
    assert result.audio is None
    t = result.timings
    assert t.first_audio_s is None
    assert t.speech_s is None
    assert t.real_time_factor is None
    sizes = t.input_tokens
    assert set(sizes) == {"text", "audio", "image", "video", "total"}
    assert all(sizes[k] > 0 for k in sizes)
    assert sizes["total"] == sizes["text"] + sizes["audio"] + sizes["image"] + sizes["video"]


def test_multi_turn_feeds_earlier_replies_back(preview_engine, assets: Path) -> None:
    tokenizer = preview_engine.processor.tokenizer
    image = Media("image", str(assets / "ocr.png"))
    turns: list[Turn] = [Turn("user", "Read this.", media=(image,))]
    results: list[Result] = []
    for follow_up in ("Say more.", "Once more.", None):
        _, result = collect(
            preview_engine, Request(turns=tuple(turns), return_audio=False, sampling=greedy(6))
        )
        results.append(result)
        if follow_up:
            turns += [Turn("assistant", result.text), Turn("user", follow_up)]

    first, second, third = (r.timings.input_tokens for r in results)
    # The earlier image stays in the context (within the media-turn bound) ...
    assert first["image"] == second["image"] == third["image"] > 0
    # ... and each prompt holds the previous one plus the reply that was given to it.
    for before, after, reply in ((first, second, results[0].text), (second, third, results[1].text)):
        reply_tokens = len(tokenizer(reply, add_special_tokens=False).input_ids)
        assert reply_tokens > 0
        assert after["text"] >= before["text"] + reply_tokens
        assert after["total"] > before["total"]


def test_media_beyond_the_bound_is_left_out_with_a_notice(preview_engine, assets: Path) -> None:
    engine = preview_engine.with_options(max_media_turns=1)
    image = Media("image", str(assets / "ocr.png"))
    turns = (
        Turn("user", "one", media=(image,)),
        Turn("assistant", "ok"),
        Turn("user", "two", media=(Media("image", str(assets / "scene.png")),)),
    )
    _, both = collect(preview_engine, Request(turns=turns, return_audio=False, sampling=greedy(2)))
    _, bounded = collect(engine, Request(turns=turns, return_audio=False, sampling=greedy(2)))

    assert both.notices == ()
    assert len(bounded.notices) == 1
    assert "1" in bounded.notices[0]
    assert 0 < bounded.timings.input_tokens["image"] < both.timings.input_tokens["image"]


def test_audio_in_video_hears_the_sound_track(preview_engine, assets: Path) -> None:
    video = Media("video", str(assets / "av_question.mp4"))
    with_sound = Request(
        turns=(Turn("user", "What colour is the ball?", media=(video,)),),
        use_audio_in_video=True,
        return_audio=False,
        sampling=greedy(4),
    )
    preview_engine.check(with_sound)
    _, heard = collect(preview_engine, with_sound)
    _, seen = collect(
        preview_engine,
        Request(turns=with_sound.turns, use_audio_in_video=False, return_audio=False, sampling=greedy(4)),
    )

    assert heard.text.strip()
    assert heard.timings.input_tokens["audio"] > 0
    assert heard.timings.input_tokens["video"] > 0
    assert "audio" not in seen.timings.input_tokens
    assert seen.timings.input_tokens["video"] > 0


def test_audio_in_video_with_a_standalone_clip_and_speech_out(preview_engine, assets: Path) -> None:
    """Audio input + speech output (the talker's audio_config bug, transformers 5.16–5.24) + a video track."""
    request = Request(
        turns=(
            Turn(
                "user",
                "",
                media=(
                    Media("audio", str(assets / "speech_en.wav")),
                    Media("video", str(assets / "av_question.mp4")),
                ),
            ),
        ),
        use_audio_in_video=True,
        sampling=greedy(8),
    )
    _, result = collect(preview_engine, request)
    _, clip_only = collect(
        preview_engine,
        Request(
            turns=(Turn("user", "", media=request.turns[0].media[:1]),),
            return_audio=False,
            sampling=greedy(2),
        ),
    )
    assert result.audio is not None
    assert len(result.audio) > 0
    # Both the clip and the video's sound track reach the audio encoder.
    assert result.timings.input_tokens["audio"] > clip_only.timings.input_tokens["audio"] > 0


# ------------------------------------------------------------------------------------------ bad input


def _random_bytes_wav(tmp: Path) -> Media:
    path = tmp / "corrupt.wav"
    path.write_bytes(np.random.default_rng(1).bytes(20_000))
    return Media("audio", str(path))


def _empty_wav(tmp: Path) -> Media:
    path = tmp / "empty.wav"
    path.write_bytes(b"")
    return Media("audio", str(path))


def _text_as_audio(tmp: Path) -> Media:
    path = tmp / "notes.txt"
    path.write_text("not audio at all\n")
    return Media("audio", str(path))


def _long_silence(tmp: Path) -> Media:
    path = tmp / "silence_200s.wav"
    sf.write(path, np.zeros(200 * 16_000, dtype=np.int16), 16_000, subtype="PCM_16")
    return Media("audio", str(path))


def _image_as_video(tmp: Path) -> Media:
    return Media("video", str(Path(__file__).resolve().parents[2] / "assets" / "ocr.png"))


def _missing(tmp: Path) -> Media:
    return Media("image", str(tmp / "gone.png"))


BAD_MEDIA: dict[str, tuple[Callable[[Path], Media], str]] = {
    "corrupt": (_random_bytes_wav, "corrupt.wav"),
    "empty-file": (_empty_wav, "empty.wav"),
    "unsupported-type": (_text_as_audio, "notes.txt"),
    "too-long": (_long_silence, "silence_200s.wav"),
    "wrong-kind": (_image_as_video, "ocr.png"),
    "missing": (_missing, "gone.png"),
}


@pytest.mark.parametrize("case", list(BAD_MEDIA))
def test_bad_media_is_one_sentence_from_check_and_stream(preview_engine, tmp_path: Path, case: str) -> None:
    make, name = BAD_MEDIA[case]
    request = ask("What is this?", make(tmp_path))

    with pytest.raises(InputError) as checked:
        preview_engine.check(request)
    with pytest.raises(InputError) as streamed:
        list(preview_engine.stream(request))

    for error in (checked.value, streamed.value):
        message = str(error)
        assert_one_sentence(message)
        assert name in message
        assert str(tmp_path) not in message
    if case == "too-long":
        assert "180" in str(checked.value)  # the default limit
    assert_still_serves(preview_engine)


def test_clip_over_a_configured_limit(preview_engine, assets: Path) -> None:
    engine = preview_engine.with_options(max_clip_seconds=2)
    for media in (
        Media("audio", str(assets / "speech_en.wav")),
        Media("video", str(assets / "video_room.mp4")),
    ):
        request = ask("?", media)
        with pytest.raises(InputError) as info:
            engine.check(request)
        assert_one_sentence(str(info.value))
        assert "2 s" in str(info.value)
        with pytest.raises(InputError):
            list(engine.stream(request))
    assert_still_serves(preview_engine)


def test_audio_in_video_on_a_silent_video(preview_engine, assets: Path) -> None:
    request = Request(
        turns=(Turn("user", "What do you hear?", media=(Media("video", str(assets / "video_room.mp4")),)),),
        use_audio_in_video=True,
        sampling=greedy(),
    )
    for attempt in (preview_engine.check, lambda r: list(preview_engine.stream(r))):
        with pytest.raises(InputError) as info:
            attempt(request)
        message = str(info.value)
        assert_one_sentence(message)
        assert "video_room.mp4" in message
        assert "audio in video" in message.lower()
    assert_still_serves(preview_engine)


@pytest.mark.parametrize("text", ["", "   \n"])
def test_empty_message(preview_engine, text: str) -> None:
    request = ask(text)
    with pytest.raises(InputError) as info:
        preview_engine.check(request)
    assert_one_sentence(str(info.value))
    with pytest.raises(InputError):
        list(preview_engine.stream(request))
    assert_still_serves(preview_engine)


def test_unknown_voice(preview_engine) -> None:
    request = Request(turns=(Turn("user", "Hi"),), voice="Bogus", sampling=greedy())
    with pytest.raises(InputError) as info:
        preview_engine.check(request)
    message = str(info.value)
    assert_one_sentence(message)
    assert "Bogus" in message
    for voice in preview_engine.info.capabilities.voices:
        assert voice in message  # lists the choices
    with pytest.raises(InputError):
        list(preview_engine.stream(request))
    # Without speech the voice does not matter.
    preview_engine.check(Request(turns=(Turn("user", "Hi"),), voice="Bogus", return_audio=False))
    assert_still_serves(preview_engine)


def test_file_deleted_after_check_fails_cleanly(preview_engine, assets: Path, tmp_path: Path) -> None:
    clip = tmp_path / "late.wav"
    clip.write_bytes((assets / "speech_en.wav").read_bytes())
    request = ask("?", Media("audio", str(clip)))
    preview_engine.check(request)
    clip.unlink()
    with pytest.raises(InputError) as info:
        list(preview_engine.stream(request))
    assert "late.wav" in str(info.value)
    assert_still_serves(preview_engine)


# -------------------------------------------------------------------------------- thinking, captioner


def test_thinking_preview_streams_text_and_never_speaks(thinking_engine) -> None:
    caps = thinking_engine.info.capabilities
    assert caps.reasons
    assert not caps.speech_output
    request = Request(turns=(Turn("user", "Why is the sky blue?"),), sampling=greedy(12))  # return_audio=True
    events, result = collect(thinking_engine, request)

    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert len(deltas) >= 2, "the reply must arrive in pieces"
    assert result.text.strip()
    assert chunks_of(events) == []
    assert result.audio is None
    assert result.timings.text_tokens == 12


def test_thinking_preview_multi_turn_with_reasoning_in_history(thinking_engine) -> None:
    turns = (
        Turn("user", "Hi"),
        Turn("assistant", "a long line of reasoning that must not be fed back</think>Hello!"),
        Turn("user", "Again"),
    )
    _, with_reasoning = collect(thinking_engine, Request(turns=turns, sampling=greedy(2)))
    plain = (turns[0], Turn("assistant", "Hello!"), turns[2])
    _, without = collect(thinking_engine, Request(turns=plain, sampling=greedy(2)))
    assert with_reasoning.timings.input_tokens == without.timings.input_tokens


def test_captioner_preview_describes_one_clip(captioner_engine, assets: Path) -> None:
    caps = captioner_engine.info.capabilities
    assert not caps.text_input
    request = Request(
        turns=(Turn("user", media=(Media("audio", str(assets / "caption.wav")),)),), sampling=greedy(8)
    )
    events, result = collect(captioner_engine, request)

    assert result.text.strip()
    assert chunks_of(events) == []
    assert result.audio is None
    assert set(result.timings.input_tokens) == {"text", "audio", "total"}
    assert result.timings.input_tokens["audio"] > 0


@pytest.mark.parametrize(
    ("text", "media"),
    [
        ("Describe the audio.", ()),
        ("Describe it in French.", ("caption.wav",)),
        ("", ("sound.wav", "caption.wav")),
        ("", ("ocr.png",)),
    ],
    ids=["text-prompt", "text-with-clip", "two-clips", "image"],
)
def test_captioner_preview_refuses_other_input(
    captioner_engine, assets: Path, text: str, media: tuple[str, ...]
) -> None:
    items = tuple(Media("image" if n.endswith(".png") else "audio", str(assets / n)) for n in media)
    request = Request(turns=(Turn("user", text, media=items),), sampling=greedy())
    with pytest.raises(InputError) as info:
        captioner_engine.check(request)
    assert_one_sentence(str(info.value))
    with pytest.raises(InputError):
        list(captioner_engine.stream(request))
    assert not captioner_engine.busy


def test_captioner_preview_accepts_clips_over_30_seconds_with_a_note(
    captioner_engine, tmp_path: Path, assets: Path
) -> None:
    """30 s is the Captioner card's recommendation, not a limit upstream: longer clips run, with a note."""
    clip = tmp_path / "long_ambience.wav"
    sf.write(clip, np.zeros(40 * 16_000, dtype=np.int16), 16_000, subtype="PCM_16")
    request = Request(turns=(Turn("user", media=(Media("audio", str(clip)),)),), sampling=greedy(2))
    captioner_engine.check(request)
    _, result = collect(captioner_engine, request)
    (note,) = result.notices
    assert "40 s long" in note
    assert "up to 30 s" in note
    assert render(note, ZH) == (
        "这段音频长 40 秒；Captioner 适用于不超过 30 秒的音频，对更长的音频，描述可能遗漏细节。"
    )
    short = Request(
        turns=(Turn("user", media=(Media("audio", str(assets / "caption.wav")),)),), sampling=greedy(2)
    )
    _, plain = collect(captioner_engine, short)
    assert plain.notices == ()


def test_no_speech_frees_the_talker(cache_dir: Path) -> None:
    """--no-speech: model.disable_talker() at load, no voices, text-only replies, memory freed reported."""
    from omni_demo.config import Settings
    from omni_demo.engine.loading import load_engine

    engine = load_engine(Settings(model="preview", cache_dir=cache_dir, no_speech=True))
    assert not engine.model.has_talker
    assert not hasattr(engine.model, "talker")
    assert engine.info.capabilities.voices == ()
    assert engine.info.speech_freed_gib is not None
    assert engine.info.speech_freed_gib > 0
    events, result = collect(engine, Request(turns=(Turn("user", "Hi"),), sampling=greedy(3)))  # return_audio
    assert result.audio is None
    assert chunks_of(events) == []


def test_thinking_sampling_comes_from_the_checkpoint(thinking_engine, preview_engine) -> None:
    """The Thinking checkpoint's generation_config.json sets its sampling (the chat's default); the
    cookbook panels keep the notebooks' greedy decoding on it."""
    from omni_demo.cookbook.cases import ASSETS_DIR, case_by_id
    from omni_demo.presets import reply_sampling
    from omni_demo.ui.cookbook import _request

    own = thinking_engine.info.sampling
    assert own is not None
    assert (own.temperature, own.top_p, own.top_k) == (0.7, 0.8, 40)  # the preview-thinking file's values
    assert preview_engine.info.sampling is None
    assert reply_sampling(thinking_engine.info).temperature == 0.7
    case = case_by_id("image-math")
    paths = {"image": str(ASSETS_DIR / case.example["image"])}
    request = _request(
        thinking_engine, case, paths, [case.prompts[0], case.prompts_before[0], "", False, None, 64, None]
    )
    assert request.sampling.greedy
    assert request.sampling.max_new_tokens == 64
