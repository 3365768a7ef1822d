"""omni_demo.media on real files made in tmp_path (numpy + soundfile, Pillow, ffmpeg lavfi)."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image
from sentences import assert_one_sentence

from omni_demo import media
from omni_demo.errors import InputError
from omni_demo.types import Media

needs_ffmpeg = pytest.mark.usefixtures("ffmpeg")  # fails, not skips, without the ffmpeg command

_ACTIONS = (
    "try again",
    "choose",
    "attach",
    "trim",
    "convert",
    "check",
    "turn off",
    "record",
    "upload",
    "shrink",
    "crop",
    "give",
    "link to",
    "use ",
)


def assert_user_sentence(error: InputError, *, not_in: str = "") -> str:
    """One plain sentence that says what to do, without paths or traceback text."""
    message = str(error)
    assert message
    assert "\n" not in message
    assert "Traceback" not in message
    assert "Error" not in message  # no exception class names
    assert message.endswith(".")
    assert not re.search(r"[.!?]\s+[A-Z]", message), f"more than one sentence: {message}"
    assert any(action in message.lower() for action in _ACTIONS), f"no advice: {message}"
    if not_in:
        assert not_in not in message, f"leaks {not_in!r}: {message}"
    return message


def raises_input_error(call: object, *args: object, not_in: str = "") -> str:
    with pytest.raises(InputError) as info:
        call(*args)  # type: ignore[operator]
    return assert_user_sentence(info.value, not_in=not_in)


def sine(seconds: float, rate: int, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[int(np.argmax(spectrum))])


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True, timeout=60)


def make_video(path: Path, seconds: float, with_audio: bool) -> Path:
    video = ["-f", "lavfi", "-i", f"testsrc=size=64x48:rate=10:duration={seconds}"]
    audio = ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={seconds}"]
    codecs = ["-c:v", "libx264", "-pix_fmt", "yuv420p"] + (["-c:a", "aac"] if with_audio else [])
    ffmpeg(*video, *(audio if with_audio else []), *codecs, str(path))
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    return {
        "sound": make_video(folder / "with sound.mp4", 1.5, with_audio=True),
        "silent": make_video(folder / "silent.mp4", 1.5, with_audio=False),
        "long": make_video(folder / "long.mp4", 3.0, with_audio=True),
    }


@pytest.fixture
def wav_44k_stereo(tmp_path: Path) -> Path:
    left = sine(1.0, 44_100, 440.0)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, left], axis=1), 44_100)
    return path


# ------------------------------------------------------------------------------------------ kinds


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("a.wav", "audio"),
        ("a.MP3", "audio"),
        ("a.flac", "audio"),
        ("a.ogg", "audio"),
        ("a.opus", "audio"),
        ("a.m4a", "audio"),
        ("p.png", "image"),
        ("p.JPG", "image"),
        ("p.webp", "image"),
        ("p.gif", "image"),
        ("v.mp4", "video"),
        ("v.mov", "video"),
        ("v.mkv", "video"),
        ("v.webm", "video"),
        ("v.avi", "video"),
    ],
)
def test_media_kind_of_by_extension(name: str, kind: str) -> None:
    assert media.media_kind_of(f"/tmp/gradio/abc123/{name}") == kind


@pytest.mark.parametrize("name", ["notes.xyz", "report.pdf", "README"])
def test_media_kind_of_refuses_unknown_types(name: str) -> None:
    message = raises_input_error(media.media_kind_of, f"/tmp/gradio/abc123/{name}", not_in="/tmp/gradio")
    assert name in message
    assert "png" in message
    assert "mp4" in message
    if "." in name:
        assert Path(name).suffix in message


# ------------------------------------------------------------------------------------------ audio


def test_load_audio_wav_44k_stereo_becomes_16k_mono(wav_44k_stereo: Path) -> None:
    samples = media.load_audio(str(wav_44k_stereo), max_seconds=10)
    assert samples.dtype == np.float32
    assert samples.ndim == 1
    assert abs(samples.size - media.AUDIO_RATE) <= 0.01 * media.AUDIO_RATE
    assert dominant_hz(samples, media.AUDIO_RATE) == pytest.approx(440, abs=2)
    # Identical channels average to the same level (no +3 dB from FFmpeg's downmix).
    assert float(np.abs(samples).max()) == pytest.approx(0.5, abs=0.02)


def test_load_audio_16k_float_passes_through_unchanged(tmp_path: Path) -> None:
    # Already at the target format: PyAV's resampler takes its passthrough path (flushes with None).
    original = sine(0.5, media.AUDIO_RATE, 1000.0)
    path = tmp_path / "exact.wav"
    sf.write(path, original, media.AUDIO_RATE, subtype="FLOAT")
    samples = media.load_audio(str(path), max_seconds=10)
    np.testing.assert_allclose(samples, original, atol=1e-6)


@needs_ffmpeg
@pytest.mark.parametrize(
    ("ext", "codec"), [(".mp3", "libmp3lame"), (".ogg", "libvorbis"), (".opus", "libopus")]
)
def test_load_audio_compressed_formats(tmp_path: Path, ext: str, codec: str) -> None:
    path = tmp_path / f"tone{ext}"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2", "-c:a", codec, str(path))
    samples = media.load_audio(str(path), max_seconds=10)
    assert abs(samples.size - 2 * media.AUDIO_RATE) <= 0.02 * 2 * media.AUDIO_RATE
    assert dominant_hz(samples, media.AUDIO_RATE) == pytest.approx(440, abs=3)


def test_load_audio_too_long_from_header(tmp_path: Path) -> None:
    path = tmp_path / "speech.wav"
    sf.write(path, sine(3.0, 8000), 8000)
    message = raises_input_error(media.load_audio, str(path), 2.0, not_in=str(tmp_path))
    assert "speech.wav" in message
    assert "3 s long" in message
    assert "limit is 2 s" in message


def test_load_audio_too_long_without_header_stops_decoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Browser recordings may carry no duration; decoding must stop once past the limit.
    monkeypatch.setattr(media, "_stream_duration_s", lambda container, stream: None)
    path = tmp_path / "recording.wav"
    sf.write(path, sine(3.0, 8000), 8000)
    message = raises_input_error(media.load_audio, str(path), 2.0)
    assert "longer than the 2 s limit" in message


def test_load_audio_within_slack_of_limit_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "trimmed.wav"
    sf.write(path, sine(2.2, 8000), 8000)
    assert media.load_audio(str(path), max_seconds=2.0).size == pytest.approx(
        2.2 * media.AUDIO_RATE, rel=0.01
    )


def test_load_audio_too_short(tmp_path: Path) -> None:
    path = tmp_path / "blip.wav"
    sf.write(path, sine(0.05, 16_000), 16_000)
    assert "too short" in raises_input_error(media.load_audio, str(path), 10.0)


def test_load_audio_zero_samples(tmp_path: Path) -> None:
    path = tmp_path / "nothing.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 16_000)
    raises_input_error(media.load_audio, str(path), 10.0)


def test_load_audio_cleans_nan(tmp_path: Path) -> None:
    data = sine(0.5, 16_000)
    data[100:200] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, data, 16_000, subtype="FLOAT")
    assert np.isfinite(media.load_audio(str(path), 10.0)).all()


def test_load_audio_missing_file(tmp_path: Path) -> None:
    message = raises_input_error(media.load_audio, str(tmp_path / "gone.wav"), 10.0, not_in=str(tmp_path))
    assert "gone.wav" in message


@needs_ffmpeg
def test_load_audio_of_silent_video_says_no_sound(videos: dict[str, Path]) -> None:
    assert "no sound" in raises_input_error(media.load_audio, str(videos["silent"]), 10.0)


# ------------------------------------------------------------------------------------------ bad files


@pytest.mark.parametrize("name", ["clip.wav", "photo.png", "movie.mp4"])
def test_empty_files_are_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")
    kind = media.media_kind_of(str(path))
    message = raises_input_error(media.validate, Media(kind, str(path)), 10.0, False, not_in=str(tmp_path))
    assert "empty" in message
    assert name in message


@pytest.mark.parametrize(
    "name", ["clip.wav", "clip.mp3", "photo.png", "photo.jpg", "movie.mp4", "movie.webm"]
)
def test_random_bytes_are_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(np.random.default_rng(1234).bytes(256 * 1024))
    kind = media.media_kind_of(str(path))
    message = raises_input_error(media.validate, Media(kind, str(path)), 10.0, False, not_in=str(tmp_path))
    assert name in message


def test_playlist_disguised_as_video_is_not_followed(tmp_path: Path) -> None:
    # A crafted upload must not make FFmpeg open other files (hls/concat demuxers are not allowed).
    path = tmp_path / "trap.mp4"
    path.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n")
    raises_input_error(media.probe_video, str(path))
    raises_input_error(media.load_audio, str(path), 10.0)


@needs_ffmpeg
def test_other_demuxers_are_not_used_even_for_valid_audio(tmp_path: Path) -> None:
    path = tmp_path / "sun.wav"  # really a Sun .au file: valid audio, but outside the allowed demuxers
    ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-f", "au", str(path))
    assert "sun.wav" in raises_input_error(media.load_audio, str(path), 10.0)


# ------------------------------------------------------------------------------------------ images


def test_load_image_png_rgba_becomes_rgb_on_white(tmp_path: Path) -> None:
    image = Image.new("RGBA", (40, 30), (255, 0, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, 20, 30))  # left half fully transparent (black underneath)
    path = tmp_path / "logo.png"
    image.save(path)
    loaded = media.load_image(str(path))
    path.unlink()  # fully loaded: usable after the file is gone
    assert loaded.mode == "RGB"
    assert loaded.size == (40, 30)
    assert loaded.getpixel((5, 5)) == (255, 255, 255)
    assert loaded.getpixel((30, 5)) == (255, 0, 0)


def test_load_image_jpeg_and_palette(tmp_path: Path) -> None:
    jpg = tmp_path / "photo.jpg"
    Image.new("RGB", (16, 16), (0, 128, 255)).save(jpg, quality=95)
    gif = tmp_path / "anim.gif"
    Image.new("P", (8, 8), 3).save(gif)
    assert media.load_image(str(jpg)).mode == "RGB"
    assert media.load_image(str(gif)).size == (8, 8)


def test_load_image_applies_exif_rotation(tmp_path: Path) -> None:
    image = Image.new("RGB", (40, 20), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display", as phones write it
    path = tmp_path / "phone.jpg"
    image.save(path, exif=exif)
    assert media.load_image(str(path)).size == (20, 40)


def test_load_image_truncated(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(
        buffer, "PNG"
    )
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    assert "cut.png" in raises_input_error(media.load_image, str(path))


def test_load_image_refuses_huge_pixel_count(tmp_path: Path) -> None:
    path = tmp_path / "poster.png"
    Image.new("1", (8000, 7000)).save(path)  # 56 Mpx, but only a few KB on disk
    message = raises_input_error(media.load_image, str(path))
    assert "8000 × 7000" in message
    assert "50 megapixel" in message


def test_load_image_refuses_extreme_aspect_ratio(tmp_path: Path) -> None:
    path = tmp_path / "strip.png"
    Image.new("RGB", (2000, 4)).save(path)
    assert "crop" in raises_input_error(media.load_image, str(path))


def test_load_image_refuses_non_image_content(tmp_path: Path) -> None:
    path = tmp_path / "fake.png"
    sf.write(path.with_suffix(".wav"), sine(0.5, 16_000), 16_000)
    path.with_suffix(".wav").rename(path)
    assert "fake.png" in raises_input_error(media.load_image, str(path))


# ------------------------------------------------------------------------------------------ video


@needs_ffmpeg
def test_probe_video_with_audio(videos: dict[str, Path]) -> None:
    info = media.probe_video(str(videos["sound"]))
    assert info.duration_s == pytest.approx(1.5, abs=0.1)
    assert (info.width, info.height) == (64, 48)
    assert info.fps == pytest.approx(10)
    assert info.has_audio is True


@needs_ffmpeg
def test_probe_video_without_audio(videos: dict[str, Path]) -> None:
    info = media.probe_video(str(videos["silent"]))
    assert info.has_audio is False
    assert info.duration_s == pytest.approx(1.5, abs=0.1)


@needs_ffmpeg
def test_probe_video_reads_duration_from_packets_when_header_lacks_it(
    videos: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(media, "_stream_duration_s", lambda container, stream: None)
    assert media.probe_video(str(videos["sound"])).duration_s == pytest.approx(1.5, abs=0.15)


@needs_ffmpeg
def test_load_video_audio_extracts_16k_mono(videos: dict[str, Path]) -> None:
    samples = media.load_video_audio(str(videos["sound"]), max_seconds=10)
    assert samples.dtype == np.float32
    assert samples.ndim == 1
    assert samples.size == pytest.approx(1.5 * media.AUDIO_RATE, rel=0.02)
    assert dominant_hz(samples, media.AUDIO_RATE) == pytest.approx(440, abs=3)


@needs_ffmpeg
def test_load_video_audio_without_sound_track(videos: dict[str, Path]) -> None:
    message = raises_input_error(media.load_video_audio, str(videos["silent"]), 10.0)
    assert "silent.mp4" in message
    assert "no sound track" in message
    assert "turn off “audio in video”" in message


@needs_ffmpeg
def test_check_video_limits(videos: dict[str, Path]) -> None:
    assert media.check_video(str(videos["silent"]), 10.0, need_audio=False).has_audio is False
    assert media.check_video(str(videos["sound"]), 10.0, need_audio=True).has_audio is True
    assert "audio in video" in raises_input_error(media.check_video, str(videos["silent"]), 10.0, True)
    message = raises_input_error(media.check_video, str(videos["long"]), 1.0, False)
    assert "3 s long" in message
    assert "limit is 1 s" in message


@needs_ffmpeg
def test_probe_video_of_audio_file(tmp_path: Path) -> None:
    path = tmp_path / "song.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac", str(path))
    assert "no video picture" in raises_input_error(media.probe_video, str(path))


@needs_ffmpeg
def test_cover_art_is_not_a_video(tmp_path: Path) -> None:
    cover = tmp_path / "cover.png"
    Image.new("RGB", (32, 32), (200, 0, 0)).save(cover)
    path = tmp_path / "album.mp3"
    ffmpeg(
        "-f", "lavfi", "-i", "sine=duration=1", "-i", str(cover),
        "-map", "0", "-map", "1", "-c:a", "libmp3lame", "-c:v", "png", "-disposition:v", "attached_pic",
        str(path),
    )  # fmt: skip
    assert media.load_audio(str(path), 10.0).size == pytest.approx(media.AUDIO_RATE, rel=0.02)
    raises_input_error(media.probe_video, str(path))


# ------------------------------------------------------------------------------------------ validate


@needs_ffmpeg
def test_validate_accepts_each_kind(tmp_path: Path, wav_44k_stereo: Path, videos: dict[str, Path]) -> None:
    png = tmp_path / "ok.png"
    Image.new("RGB", (32, 32)).save(png)
    media.validate(Media("audio", str(wav_44k_stereo)), 10.0, need_video_audio=False)
    media.validate(Media("image", str(png)), 10.0, need_video_audio=False)
    media.validate(Media("video", str(videos["sound"])), 10.0, need_video_audio=True)


@needs_ffmpeg
def test_validate_accepts_browser_webm_recording_as_audio(tmp_path: Path) -> None:
    path = tmp_path / "recording.webm"
    ffmpeg("-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libopus", "-f", "webm", str(path))
    media.validate(Media("audio", str(path)), 10.0, need_video_audio=False)


@needs_ffmpeg
def test_validate_video_needs_audio(videos: dict[str, Path]) -> None:
    raises_input_error(media.validate, Media("video", str(videos["silent"])), 10.0, True)


@pytest.mark.parametrize(
    ("declared", "name", "words"),
    [
        ("audio", "photo.png", "an image file but was sent as audio"),
        ("image", "song.mp3", "audio file but was sent as an image"),
        ("video", "photo.jpg", "an image file but was sent as a video"),
        ("image", "clip.mp4", "a video file but was sent as an image"),
    ],
)
def test_validate_kind_mismatch(tmp_path: Path, declared: str, name: str, words: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"not checked: the kind mismatch is found first")
    message = raises_input_error(media.validate, Media(declared, str(path)), 10.0, False)  # type: ignore[arg-type]
    assert words in message
    assert name in message


# ------------------------------------------------------------------------------------------ output


def test_to_int16_clips_and_scales() -> None:
    samples = np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, np.nan], dtype=np.float32)
    out = media.to_int16(samples)
    assert out.dtype == np.int16
    assert out.tolist() == [-32767, -32767, 0, 16384, 32767, 32767, 0]
    assert media.to_int16(np.zeros(0, dtype=np.float32)).shape == (0,)


def test_write_wav_round_trip(tmp_path: Path) -> None:
    samples = sine(0.25, 24_000, amp=1.2)  # overshoot must clip, not wrap around
    path = media.write_wav(tmp_path / "reply.wav", samples, 24_000)
    info = sf.info(path)
    assert (info.samplerate, info.channels, info.subtype) == (24_000, 1, "PCM_16")
    data, _ = sf.read(path, dtype="int16")
    np.testing.assert_array_equal(data, media.to_int16(samples))
    assert data.max() == 32767


def test_write_wav_rejects_stereo(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mono"):
        media.write_wav(tmp_path / "x.wav", np.zeros((10, 2), dtype=np.float32), 24_000)


@pytest.mark.usefixtures("ffmpeg")
def test_a_video_too_long_and_thin_gets_one_sentence(tmp_path: Path) -> None:
    # The vision processor refuses frames over 200:1; unchecked, that came out as an unexpected error.
    path = tmp_path / "strip.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=808x2:rate=10:duration=1", "-c:v", "libx264", str(path))
    with pytest.raises(media.InputError, match="too long and thin") as info:
        media.probe_video(str(path))
    assert_one_sentence(str(info.value))
