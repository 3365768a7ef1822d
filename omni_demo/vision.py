"""How many frames, which ones and what size: the rules of upstream's preprocessing, ported.

The Qwen3-Omni cookbooks prepare images and videos with `qwen_omni_utils.process_mm_info` (PyPI
`qwen-omni-utils` 0.0.9, `v2_5/vision_process.py`) before the processor sees them. Its rules, all
reproduced here without torch so that the token count of a request is known before the GPU:

- sizes are multiples of 28 (patch 14 × spatial merge 2), the aspect ratio kept (`smart_resize`);
- images: between 4·28² and 16384·28² pixels;
- video: `fps` 2 frames per second of the file's frame count, at least 4, at most 768 and never more
  than the file has, rounded down to an even count (`smart_nframes`); the frames are spread evenly over
  the decoded frame indices (`torch.linspace(0, total - 1, n).round()`), whatever the timestamps say;
- each video frame between 128·28² and 768·28² pixels, and all frames together within a budget of
  128000·28²·0.9 pixels, which shrinks the frames of long clips;
- the processor is told the frame rate actually sampled: `n / total_frames × file fps`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FACTOR = 28  # image_patch_size 14 × SPATIAL_MERGE_SIZE 2
IMAGE_MIN_PIXELS = 4 * FACTOR**2
IMAGE_MAX_PIXELS = 16384 * FACTOR**2
VIDEO_MIN_PIXELS = 128 * FACTOR**2
VIDEO_MAX_PIXELS = 768 * FACTOR**2
VIDEO_TOTAL_PIXELS = 128000 * FACTOR**2 * 0.9  # MODEL_SEQ_LEN 128000, 90 % of it for the frames
FPS = 2.0
FRAME_FACTOR = 2
MIN_FRAMES = 4
MAX_FRAMES = 768
MAX_RATIO = 200


def _round_by(number: float, factor: int) -> int:
    return round(number / factor) * factor


def _ceil_by(number: float, factor: int) -> int:
    return math.ceil(number / factor) * factor


def _floor_by(number: float, factor: int) -> int:
    return math.floor(number / factor) * factor


def smart_resize(
    height: int,
    width: int,
    factor: int = FACTOR,
    min_pixels: float = IMAGE_MIN_PIXELS,
    max_pixels: float = IMAGE_MAX_PIXELS,
) -> tuple[int, int]:
    """(height, width), multiples of `factor`, within [min_pixels, max_pixels], aspect ratio kept."""
    if max(height, width) / min(height, width) > MAX_RATIO:
        raise ValueError(f"aspect ratio over {MAX_RATIO}")
    h_bar = max(factor, _round_by(height, factor))
    w_bar = max(factor, _round_by(width, factor))
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = _floor_by(height / beta, factor)
        w_bar = _floor_by(width / beta, factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = _ceil_by(height * beta, factor)
        w_bar = _ceil_by(width * beta, factor)
    return h_bar, w_bar


def smart_nframes(total_frames: int, video_fps: float, fps: float = FPS) -> int:
    """Frames to sample from a video of `total_frames` at `video_fps`; 0 when it has fewer than 2."""
    min_frames = _ceil_by(MIN_FRAMES, FRAME_FACTOR)
    max_frames = _floor_by(min(MAX_FRAMES, total_frames), FRAME_FACTOR)
    wanted = total_frames / video_fps * fps
    count = min(max(wanted, min_frames), max_frames, total_frames)
    count = _floor_by(count, FRAME_FACTOR)
    return count if FRAME_FACTOR <= count <= total_frames else 0


def frame_indices(total_frames: int, count: int) -> list[int]:
    """Indices spread evenly from the first frame to the last, rounded half to even.

    Computed in float32 the way torch's CPU `linspace` computes them (from the start for the first
    half, back from the end for the second), so the rounding of ties matches it.
    """
    if count == 1:
        return [0]
    start, end = np.float32(0), np.float32(total_frames - 1)
    step = np.float32((end - start) / np.float32(count - 1))
    steps = np.arange(count)
    halfway = count // 2
    forward = start + step * steps[:halfway].astype(np.float32)
    backward = end - step * (count - 1 - steps[halfway:]).astype(np.float32)
    values = np.concatenate([forward, backward]).astype(np.float32)
    return [int(v) for v in np.round(values)]


def video_frame_size(height: int, width: int, count: int) -> tuple[int, int]:
    """(height, width) of every sampled frame: the per-frame bounds and the whole clip's budget."""
    budget = VIDEO_TOTAL_PIXELS / count * FRAME_FACTOR
    max_pixels = max(min(VIDEO_MAX_PIXELS, budget), int(VIDEO_MIN_PIXELS * 1.05))
    return smart_resize(height, width, FACTOR, VIDEO_MIN_PIXELS, max_pixels)


@dataclass(frozen=True)
class VideoPlan:
    """What upstream would take from one video file."""

    indices: tuple[int, ...]  # decode-order positions of the sampled frames
    height: int
    width: int
    sample_fps: float  # the frame rate actually sampled, for the processor

    @property
    def frames(self) -> int:
        return len(self.indices)


def plan_video(
    total_frames: int, video_fps: float, height: int, width: int, fps: float = FPS
) -> VideoPlan | None:
    """Upstream's choice of frames and size; None when the video has fewer than 2 frames."""
    count = smart_nframes(total_frames, video_fps, fps)
    if count == 0:
        return None
    h, w = video_frame_size(height, width, count)
    sample_fps = count / max(total_frames, 1e-6) * video_fps
    return VideoPlan(tuple(frame_indices(total_frames, count)), h, w, sample_fps)
