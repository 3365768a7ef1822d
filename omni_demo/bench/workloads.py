"""The benchmark's workloads and their inputs, made here with numpy and PyAV (no ffmpeg binary needed).

Every workload has fixed output lengths: random weights never emit an end token reliably, so the
end tokens are suppressed until the target length (thinker and talker alike) and both paths do the
same amount of work. Inputs have the sizes a browser upload would have: a 48 kHz WAV recording, a
640×360 30 fps H.264 video with an AAC sound track.
"""

from __future__ import annotations

import math
import wave
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np

from omni_demo import media
from omni_demo.engine.facts import QWEN3_OMNI
from omni_demo.types import SAMPLE_RATE

FRAMES_PER_SECOND = SAMPLE_RATE / QWEN3_OMNI.samples_per_frame  # the talker's codec frame rate (12.5)
UPLOAD_AUDIO_RATE = 48_000
VIDEO_SIZE = (640, 360)
VIDEO_FPS = 30
MediaType = Literal["none", "audio", "video"]


@dataclass(frozen=True)
class Workload:
    name: str
    asks: str  # what the user sends, for the table; "{s}" is the clip length
    prompt: str
    text_tokens: int
    media: MediaType = "none"
    media_seconds: float = 0.0
    speech_seconds: float = 0.0  # 0: text answer only
    audio_in_video: bool = False
    thinking: bool = False  # the Thinking checkpoint's shape: no talker at all
    # False: only the fast engine runs it; the two generate() paths would take minutes per run.
    reference: bool = True
    concurrent: int = 1  # requests sent together (the same question from that many testers)
    join: bool = False  # the last of them is sent only once all the others are speaking

    @property
    def title(self) -> str:
        """One line for the table, e.g. "30 s of speech in → 128 text tokens, no speech"."""
        out = f"{self.text_tokens} text tokens"
        if self.concurrent > 1:
            how = "one more joining while the others speak" if self.join else "sent at once"
            return f"{self.concurrent} × ({self.asks} → {out} + {self.speech_seconds:g} s of speech), {how}"
        if self.speaks:
            out += f" + {self.speech_seconds:g} s of speech"
        elif self.media != "none" and not self.thinking:
            out += ", no speech"
        return f"{self.asks.format(s=f'{self.media_seconds:g}')} → {out}"

    @property
    def speech_frames(self) -> int:
        return round(self.speech_seconds * FRAMES_PER_SECOND)

    @property
    def speaks(self) -> bool:
        return self.speech_frames > 0

    def as_dict(self) -> dict[str, object]:
        return {
            "title": self.title,
            "prompt": self.prompt,
            "text_tokens": self.text_tokens,
            "media": self.media,
            "media_seconds": self.media_seconds,
            "speech_seconds": self.speech_seconds,
            "speech_frames": self.speech_frames,
            "audio_in_video": self.audio_in_video,
            "thinking": self.thinking,
            "reference": self.reference,
            "concurrent": self.concurrent,
            "join": self.join,
        }


def _video(seconds: int) -> Workload:
    return Workload(
        name=f"video-{seconds}s",
        asks="{s} s video with sound (fps 2, audio in video)",
        prompt="What happens in this video, and what can be heard?",
        text_tokens=64,
        media="video",
        media_seconds=float(seconds),
        audio_in_video=True,
    )


# The order is the run order: the Thinking shape comes last because it frees the talker.
WORKLOADS: tuple[Workload, ...] = (
    Workload(
        name="text-speech",
        asks="short text question",
        prompt="Give me a short introduction to large language models.",
        text_tokens=64,
        speech_seconds=10.0,
    ),
    Workload(
        name="audio-text",
        asks="{s} s of speech in",
        prompt="Transcribe the English audio into text.",
        text_tokens=128,
        media="audio",
        media_seconds=30.0,
    ),
    *(_video(s) for s in (15, 30, 60, 120)),
    Workload(
        name="video-120s-speech",
        asks="{s} s video with sound (fps 2, audio in video)",
        prompt="What happens in this video, and what can be heard?",
        text_tokens=64,
        media="video",
        media_seconds=120.0,
        speech_seconds=10.0,
        audio_in_video=True,
    ),
    Workload(
        name="speech-120s",
        asks="short text question",
        prompt="Tell me a long story about a lighthouse keeper, read aloud.",
        text_tokens=400,  # about what two minutes of read-aloud speech carry
        speech_seconds=120.0,
        reference=False,  # generate() makes ~8 frames a second: about 3.5 min per run on an H200
    ),
    *(
        Workload(
            name=name,
            asks="short text question",
            prompt="Give me a short introduction to large language models.",
            text_tokens=64,
            speech_seconds=10.0,
            reference=False,  # the fast engine is what serves several testers; generate() one at a time
            concurrent=count,
            join=join,
        )
        for name, count, join in (("concurrent-4", 4, False), ("concurrent-8", 8, False), ("join-4", 4, True))
    ),
    Workload(
        name="thinking",
        asks="Thinking shape (no talker): short text",
        prompt="Solve step by step: how many positive integers below 1000 are divisible by 7 but not by 11?",
        text_tokens=512,
        thinking=True,
    ),
)

# CPU preview mode: the same shapes, scaled down so all of them run in well under two minutes.
_PREVIEW_SECONDS = {15.0: 2.0, 30.0: 2.5, 60.0: 3.0, 120.0: 4.0}


def for_preview(workload: Workload) -> Workload:
    media_seconds = workload.media_seconds
    if workload.media == "video":
        media_seconds = _PREVIEW_SECONDS.get(media_seconds, 2.0)
    elif workload.media == "audio":
        media_seconds = 4.0
    return replace(
        workload,
        text_tokens=max(8, min(16, workload.text_tokens // 8)),
        media_seconds=media_seconds,
        speech_seconds=min(workload.speech_seconds, 1.0),
        reference=workload.concurrent == 1,  # generate() serves one request: no concurrent baseline
    )


def select(names: str, preview: bool) -> list[Workload]:
    """Workloads by comma-separated names or prefixes ("video" = every video length); "all" = every one."""
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    chosen = [
        w
        for w in WORKLOADS
        if "all" in wanted or any(w.name == n or w.name.startswith(n + "-") for n in wanted)
    ]
    unknown = [
        n
        for n in wanted
        if n != "all" and not any(w.name == n or w.name.startswith(n + "-") for w in WORKLOADS)
    ]
    if unknown or not chosen:
        known = ", ".join(w.name for w in WORKLOADS)
        raise SystemExit(
            f"unknown workload(s) {', '.join(unknown) or names!r}; choose from: all, video, {known}"
        )
    return [for_preview(w) for w in chosen] if preview else chosen


# ------------------------------------------------------------------------------------------- inputs


def speech_like(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """Voiced, syllable-paced harmonics with a wandering pitch, plus breath noise (float32, ±0.5)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    pitch = 140 + 30 * np.sin(2 * np.pi * 0.3 * t) + 15 * np.sin(2 * np.pi * 1.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 9))
    syllables = np.clip(np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, np.pi)), 0, None) ** 0.5
    signal = voiced * syllables + 0.05 * rng.standard_normal(t.size)
    return (0.5 * signal / max(np.abs(signal).max(), 1e-9)).astype(np.float32)


def write_speech_wav(path: Path, seconds: float, rate: int = UPLOAD_AUDIO_RATE) -> Path:
    pcm = np.round(speech_like(seconds, rate) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return path


def _backdrop(width: int, height: int) -> np.ndarray:
    """A colour gradient twice the frame's width; frames are windows sliding over it."""
    x = np.linspace(0, 2, 2 * width, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    rgb = np.stack(
        [
            np.broadcast_to(0.5 + 0.5 * np.sin(2 * np.pi * x), (height, 2 * width)),
            np.broadcast_to(0.5 + 0.5 * np.sin(2 * np.pi * y), (height, 2 * width)),
            0.5 + 0.5 * np.cos(2 * np.pi * (x + y)),
        ],
        axis=-1,
    )
    return (rgb * 255).astype(np.uint8)


def _frame_image(backdrop: np.ndarray, index: int, width: int, height: int) -> np.ndarray:
    """A panning gradient with a bouncing square, so consecutive frames differ like real footage."""
    phase = index / VIDEO_FPS
    offset = int(width * (0.5 + 0.5 * math.sin(0.4 * phase)))
    image = np.ascontiguousarray(backdrop[:, offset : offset + width])
    side = height // 4
    left = int((width - side) * (0.5 + 0.5 * math.sin(phase)))
    top = int((height - side) * (0.5 + 0.5 * math.cos(1.3 * phase)))
    image[top : top + side, left : left + side] = (240, 240, 240)
    return image


def _video_codec() -> str:
    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


def write_video(path: Path, seconds: float, size: tuple[int, int] = VIDEO_SIZE, fps: int = VIDEO_FPS) -> Path:
    """An H.264 (or MPEG-4) mp4 of `size` at `fps`, with a mono 48 kHz AAC track of speech-like sound."""
    width, height = size
    sound = speech_like(seconds, UPLOAD_AUDIO_RATE, seed=1)
    with av.open(str(path), "w") as out:
        video = out.add_stream(_video_codec(), rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "28"} if video.codec_context.name == "libx264" else {}
        audio = out.add_stream("aac", rate=UPLOAD_AUDIO_RATE, layout="mono")
        backdrop = _backdrop(width, height)
        for index in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(_frame_image(backdrop, index, width, height), format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        step = 1024
        for start in range(0, sound.size, step):
            chunk = av.AudioFrame.from_ndarray(
                sound[None, start : start + step], format="fltp", layout="mono"
            )
            chunk.sample_rate = UPLOAD_AUDIO_RATE
            chunk.pts = start
            chunk.time_base = Fraction(1, UPLOAD_AUDIO_RATE)
            out.mux(audio.encode(chunk))
        out.mux(audio.encode(None))
    return path


def make_input(workload: Workload, folder: Path) -> Path | None:
    """The workload's media file (made once, reused by every run of both paths); None for text only."""
    folder.mkdir(parents=True, exist_ok=True)
    seconds = workload.media_seconds
    if workload.media == "audio":
        return write_speech_wav(folder / f"speech-{seconds:g}s.wav", seconds)
    if workload.media == "video":
        return write_video(folder / f"video-{seconds:g}s.mp4", seconds)
    return None


def decode_audio(path: Path, rate: int = 16_000) -> np.ndarray:
    """The file's (first) sound track as mono float32 at `rate`, decoded with PyAV.

    The baseline's own loader, standing in for the upstream demo's `process_mm_info` (not installed
    here); the engine path decodes with `omni_demo.media` instead.
    """
    chunks: list[np.ndarray] = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="fltp", rate=rate)
        for frame in container.decode(audio=0):
            chunks.extend(f.to_ndarray().mean(axis=0) for f in resampler.resample(frame))
        chunks.extend(f.to_ndarray().mean(axis=0) for f in resampler.resample(None) if f is not None)
    return np.concatenate(chunks).astype(np.float32)


def sample_video_frames(path: Path, fps: float) -> np.ndarray:
    """Frames as upstream's `qwen-omni-utils` takes them (count, positions, size), uint8 [frames, h, w, 3].

    The same frames the engine sends, so both paths give the model the same tokens.
    """
    return media.load_video_frames(str(path), fps).frames
