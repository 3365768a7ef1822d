"""Images and videos prepared as upstream prepares them, with `qwen-omni-utils` itself as the oracle.

The cookbooks run `qwen_omni_utils.process_mm_info` (PyPI qwen-omni-utils 0.0.9) before the processor. Its
own functions decide here: `smart_nframes` and `smart_resize` over a grid of lengths, frame rates and
resolutions, and `fetch_video` (its decord reader, on real files made by ffmpeg) for the frames taken,
their size and the frame rate it reports.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from qwen_omni_utils.v2_5 import vision_process as upstream

from omni_demo import media, vision
from omni_demo.errors import InputError

# fetch_video reads files with decord here (requirements-dev.txt), the reader `qwen-omni-utils[decord]`
# installs: frames are counted and picked by their index in the file, not by timestamps.

needs_ffmpeg = pytest.mark.usefixtures("ffmpeg")  # fails, not skips, without the ffmpeg command

RATES = (8.0, 10.0, 15.0, 23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0)
SECONDS = (0.2, 0.5, 1.0, 1.7, 2.0, 3.3, 4.0, 9.9, 15.0, 30.0, 61.0, 119.5, 180.0, 300.0, 400.0, 600.0)
SIZES = ((144, 176), (240, 320), (360, 640), (640, 360), (480, 854), (720, 1280), (1080, 1920), (2160, 3840))


def _upstream_nframes(total: int, rate: float) -> int:
    try:
        return upstream.smart_nframes({}, total_frames=total, video_fps=rate)
    except ValueError:  # fewer than 2 frames: upstream refuses the video
        return 0


@pytest.mark.parametrize("rate", RATES)
def test_frame_count_and_positions_match_upstream(rate: float) -> None:
    import torch

    for seconds in SECONDS:
        total = max(1, round(seconds * rate))
        count = vision.smart_nframes(total, rate)
        assert count == _upstream_nframes(total, rate), (seconds, rate)
        if count:
            expected = torch.linspace(0, total - 1, count).round().long().tolist()  # upstream's readers
            assert vision.frame_indices(total, count) == expected, (seconds, rate)


def test_frame_positions_match_upstream_for_every_count() -> None:
    import torch

    for total in (2, 3, 5, 8, 99, 100, 101, 257, 1000, 5399):
        for count in range(2, min(total, 768) + 1, 2):
            expected = torch.linspace(0, total - 1, count).round().long().tolist()
            assert vision.frame_indices(total, count) == expected, (total, count)


@pytest.mark.parametrize(("height", "width"), SIZES)
def test_video_frame_size_matches_upstream_budget(height: int, width: int) -> None:
    """Per-frame bounds and the whole clip's pixel budget, with upstream's constants and smart_resize."""
    factor = 14 * upstream.SPATIAL_MERGE_SIZE
    low = upstream.VIDEO_MIN_TOKEN_NUM * factor**2
    total_pixels = upstream.MODEL_SEQ_LEN * factor**2 * 0.9
    for count in (2, 4, 8, 30, 120, 240, 300, 302, 360, 480, 600, 768):
        # fetch_video's own lines, on upstream's constants:
        high = max(min(upstream.VIDEO_MAX_TOKEN_NUM * factor**2, total_pixels / count * 2), int(low * 1.05))
        expected = upstream.smart_resize(height, width, factor=factor, min_pixels=low, max_pixels=high)
        assert vision.video_frame_size(height, width, count) == expected, count


@pytest.mark.parametrize(("height", "width"), [*SIZES, (28, 28), (10, 1999), (4000, 3000), (50, 9000)])
def test_image_size_matches_upstream(height: int, width: int) -> None:
    assert vision.smart_resize(height, width) == upstream.smart_resize(height, width, factor=28)


def test_a_long_hd_clip_costs_what_upstream_says() -> None:
    """720p: ~576 tokens per two frames up to 120 s, fewer at 180 s (the total budget shrinks frames)."""

    def tokens_per_pair(seconds: float) -> int:
        plan = vision.plan_video(round(seconds * 30), 30.0, 720, 1280)
        assert plan is not None
        # the processor then resizes to multiples of 32 (patch 16 × merge 2): one token per 32 × 32
        return round(plan.height / 32) * round(plan.width / 32)

    assert tokens_per_pair(60) == tokens_per_pair(120) == 576
    assert tokens_per_pair(180) < 500


# --------------------------------------------------------------------------------------- real files


def _video(
    folder: Path, name: str, size: str, rate: str, seconds: float, extra: tuple[str, ...] = ()
) -> Path:
    path = folder / name
    source = ("-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}", "-t", str(seconds))
    codec = ("-c:v", "libvpx", "-b:v", "300k") if name.endswith(".webm") else ("-pix_fmt", "yuv420p")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *source, *codec, *extra, str(path)], check=True)
    return path


FILES = {
    "4s-25fps": ("320x240", "25", 4.0, ()),
    "4s-25fps-starts-at-0.6s": ("320x240", "25", 4.0, ("-output_ts_offset", "0.6")),
    "7.3s-29.97fps": ("640x360", "30000/1001", 7.3, ()),
    "1.5s-10fps": ("176x144", "10", 1.5, ()),
    "0.3s-10fps": ("176x144", "10", 0.3, ()),
    "3s-720p-24fps": ("1280x720", "24", 3.0, ()),
    "5s-portrait": ("360x640", "30", 5.0, ()),
    "3s-webm-15fps": ("320x240", "15", 3.0, ()),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("vision")
    return {
        key: _video(folder, key + (".webm" if "webm" in key else ".mp4"), size, rate, seconds, extra)
        for key, (size, rate, seconds, extra) in FILES.items()
    }


@needs_ffmpeg
@pytest.mark.parametrize("key", list(FILES))
def test_sampled_video_equals_upstream_fetch_video(files: dict[str, Path], key: str) -> None:
    (expected, meta), sample_fps = upstream.fetch_video(
        {"video": str(files[key])}, return_video_sample_fps=True, return_video_metadata=True
    )
    ours = media.load_video_frames(str(files[key]))

    assert list(ours.indices) == list(meta["frames_indices"])
    assert ours.sample_fps == pytest.approx(sample_fps, rel=1e-9)
    assert ours.frames.shape == (expected.shape[0], expected.shape[2], expected.shape[3], 3)
    assert ours.frames.dtype == np.uint8
    # The same pictures: each frame is far closer to upstream's frame at its position than to any other.
    reference = expected.permute(0, 2, 3, 1).numpy()
    for position, frame in enumerate(ours.frames.astype(np.float32)):
        distances = [np.abs(frame - other).mean() for other in reference]
        assert int(np.argmin(distances)) == position or distances[position] == min(distances)
        assert distances[position] < 12.0


@needs_ffmpeg
def test_a_late_starting_stream_is_sampled_evenly(files: dict[str, Path]) -> None:
    """A stream that starts at 0.6 s gets the same 8 evenly spread frames, not a burst at the start."""
    late = media.load_video_frames(str(files["4s-25fps-starts-at-0.6s"]))
    plain = media.load_video_frames(str(files["4s-25fps"]))
    assert late.indices == plain.indices == (0, 14, 28, 42, 57, 71, 85, 99)
    assert late.sample_fps == 2.0


@needs_ffmpeg
def test_a_video_of_one_frame_is_one_sentence(tmp_path: Path) -> None:
    path = _video(tmp_path, "still.mp4", "320x240", "25", 0.04)
    with pytest.raises(InputError) as info:
        media.load_video_frames(str(path))
    assert "still.mp4" in str(info.value)
    assert "2 frames" in str(info.value)


def test_model_images_are_resized_like_upstream(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (301, 457, 3), dtype=np.uint8)).save(path)
    ours = media.load_model_image(str(path))
    theirs = upstream.fetch_image({"image": str(path)})
    assert ours.size == theirs.size
    assert np.array_equal(np.asarray(ours), np.asarray(theirs))
