"""Checking and converting the user's media before it reaches the model.

Every problem a user can fix (a corrupt upload, a clip that is too long, a video without sound)
becomes one `InputError` sentence that names the file and says what to do. Nothing here imports
gradio, torch or transformers: decoding is PyAV (FFmpeg), images are Pillow, WAV output is soundfile.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import mimetypes
import os
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
import soundfile as sf
from PIL import Image, ImageOps

from omni_demo import vision
from omni_demo.errors import InputError
from omni_demo.i18n import Sentence
from omni_demo.types import Media, MediaKind

AUDIO_RATE = 16_000  # the audio encoder's rate

MAX_IMAGE_PIXELS = 50_000_000  # bigger photos only cost memory: the processor shrinks them anyway
MIN_AUDIO_SECONDS = 0.1  # shorter than this is an empty recording, not speech
_LIMIT_SLACK_S = 0.5  # container durations are estimates; don't refuse a clip trimmed to exactly the limit
_DECODE_DEADLINE_S = 120.0  # a 3-minute clip decodes in about a second; far longer means a pathological file
_IO_TIMEOUT_S = 15.0  # per FFmpeg open/read call, so a stuck read can't hang a worker
_PROBE_PACKETS = 300  # packets to try before deciding a video stream can't be decoded

_AUDIO_EXTS = frozenset(
    {".wav", ".wave", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".aif", ".aiff", ".wma"}
    | {".amr", ".weba", ".mka"}
)
_IMAGE_EXTS = frozenset({".png", ".jpg", ".jpeg", ".jfif", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
_VIDEO_EXTS = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".3gp", ".mpg", ".mpeg", ".flv", ".wmv"}
)
# Browsers record microphone audio as .webm, so a webm sent as audio is fine (we decode its sound).
_AUDIO_CAPABLE_VIDEO_EXTS = frozenset({".webm"})

# Only the demuxers our extensions need. Probing picks the demuxer by content, and some (hls,
# concat, image2) would open further files or URLs named inside a crafted upload.
_DEMUXERS = "wav,w64,mp3,flac,ogg,mov,aac,aiff,asf,amr,amrnb,amrwb,matroska,avi,mpeg,mpegts,flv"
_AV_OPTIONS = {"format_whitelist": _DEMUXERS, "protocol_whitelist": "file"}
# Pillow also has decoders that shell out (EPS runs Ghostscript); allow only ordinary formats.
_PIL_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "GIF", "TIFF")  # JPEG also opens camera MPO files

_KIND_WORDS: dict[str, Sentence] = {
    "audio": Sentence("word.audio"),
    "image": Sentence("word.an_image"),
    "video": Sentence("word.a_video"),
}
# What a file is in a sentence, by the `what` the readers below pass around.
_WHAT_WORDS: dict[str, Sentence] = {
    "audio clip": Sentence("word.audio_clip"),
    "video": Sentence("word.video"),
    "image": Sentence("word.image"),
}


@dataclass(frozen=True)
class VideoInfo:
    duration_s: float
    width: int
    height: int
    fps: float  # 0.0 when the file does not say
    has_audio: bool


# --------------------------------------------------------------------------------------------- kinds


def media_kind_of(path: str) -> MediaKind:
    """The kind a file is by its extension (or MIME type); uploads keep their original names."""
    name = _display_name(path)
    ext = Path(path).suffix.lower()
    kind = _kind_of_ext(ext)
    if kind is not None:
        return kind
    if not ext:
        raise InputError("media.no_extension", name=name, hint=Sentence("media.supported"))
    raise InputError("media.unsupported_type", name=name, ext=ext, hint=Sentence("media.supported"))


def _kind_of_ext(ext: str) -> MediaKind | None:
    if ext in _AUDIO_EXTS:
        return "audio"
    if ext in _IMAGE_EXTS:
        return "image"
    if ext in _VIDEO_EXTS:
        return "video"
    # Rarer spellings (.jpe, .qt, ...) still have a registered MIME type.
    mime, _ = mimetypes.guess_type(f"x{ext}", strict=False)
    major = (mime or "").split("/")[0]
    if major in ("audio", "image", "video"):
        return major  # type: ignore[return-value]  # narrowed by the tuple check
    return None


def _kind_matches(declared: MediaKind, by_ext: MediaKind, ext: str) -> bool:
    if declared == by_ext:
        return True
    return declared == "audio" and ext in _AUDIO_CAPABLE_VIDEO_EXTS


# ------------------------------------------------------------------------------------------- caching


@lru_cache(maxsize=256)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def file_digest(path: str) -> str:
    """The file's SHA-256 (remembered while the file's size and mtime stay the same)."""
    stat = os.stat(path)
    return _digest(os.path.realpath(path), stat.st_size, stat.st_mtime_ns)


class DecodedCache:
    """What was decoded (or refused) per file content, keyed by its SHA-256; bounded by bytes.

    A chat validates each turn's media and decodes it for the processor, and does both again for every
    earlier turn's media on every new turn: each file is read once instead. The key is the content,
    not the path and mtime: Gradio writes every upload of the same file to the same path again, with a
    new mtime, so a path-and-mtime key kept one more copy of the same frames per upload until the
    byte bound. A refusal is remembered too (its sentence, which names the file, so the name is part
    of the key), so a bad file is not decoded again to say the same thing. Least recently used entries
    go first past `max_bytes`.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.decodes = 0  # how many times `make` ran: what the tests count

    def get(self, what: str, path: str, params: tuple, make: Callable[[], object]) -> object:
        key = (what, file_digest(path), os.path.basename(path), params)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                value = self._entries[key][0]
                if isinstance(value, _Refused):
                    raise InputError(value.sentence)
                return value
            self.decodes += 1
        try:
            value = make()
        except InputError as exc:
            self._put(key, _Refused(exc.sentence), 256)
            raise
        self._put(key, value, _size_of(value))
        return value

    def _put(self, key: tuple, value: object, size: int) -> None:
        with self._lock:
            if key in self._entries or size > self.max_bytes:
                return
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


@dataclass(frozen=True)
class _Refused:
    sentence: Sentence


def _size_of(value: object) -> int:
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, SampledVideo):
        return int(value.frames.nbytes)
    if isinstance(value, Image.Image):
        return value.width * value.height * len(value.getbands())
    return 256


MEDIA_CACHE_BYTES = 1 << 30  # decoded frames, pictures and sound kept between turns
CACHE = DecodedCache(MEDIA_CACHE_BYTES)


def validate(media: Media, max_seconds: float, need_video_audio: bool) -> None:
    """Raise `InputError` unless the model can use this file as `media.kind`."""
    ext = Path(media.path).suffix.lower()
    by_ext = media_kind_of(media.path)
    if not _kind_matches(media.kind, by_ext, ext):
        name = _display_name(media.path)
        raise InputError(
            "media.wrong_kind", name=name, actual=_KIND_WORDS[by_ext], sent=_KIND_WORDS[media.kind]
        )
    if media.kind == "audio":
        load_audio(media.path, max_seconds)
    elif media.kind == "image":
        load_image(media.path)
    else:
        check_video(media.path, max_seconds, need_video_audio)


# --------------------------------------------------------------------------------------------- audio


def load_audio(path: str, max_seconds: float) -> np.ndarray:
    """Decode any audio (or the sound of any container) to mono float32 at 16 kHz (read-only)."""
    return _sound_of(path, max_seconds, "audio clip")


def load_video_audio(path: str, max_seconds: float) -> np.ndarray:
    """The video's sound track as mono float32 at 16 kHz (read-only)."""
    return _sound_of(path, max_seconds, "video")


def _sound_of(path: str, max_seconds: float, what: str) -> np.ndarray:
    _require_file(path, what)  # checked every time: a file may vanish after it was decoded
    return CACHE.get("sound", path, (max_seconds, what), lambda: _decoded_sound(path, max_seconds, what))


def _decoded_sound(path: str, max_seconds: float, what: str) -> np.ndarray:
    name = _display_name(path)
    with _open_av(path, what) as container:
        stream = _best_audio_stream(container)
        if stream is None:
            if what == "video":
                raise InputError("media.video_no_sound", name=name)
            raise InputError("media.no_sound", name=name)
        samples = _decode_audio(container, stream, path, max_seconds, what)
    samples.setflags(write=False)  # shared between callers: nobody may change it in place
    return samples


def _best_audio_stream(container: av.container.InputContainer) -> av.audio.stream.AudioStream | None:
    if not container.streams.audio:
        return None
    return container.streams.best("audio")


def _decode_audio(
    container: av.container.InputContainer,
    stream: av.audio.stream.AudioStream,
    path: str,
    max_seconds: float,
    what: str,
) -> np.ndarray:
    name = _display_name(path)
    # Refuse from the header first, so a 3-hour podcast is never decoded just to be rejected.
    header_s = _stream_duration_s(container, stream)
    if header_s is not None and header_s > max_seconds + _LIMIT_SLACK_S:
        raise _too_long(what, name, header_s, max_seconds)
    max_samples = int((max_seconds + _LIMIT_SLACK_S) * AUDIO_RATE)
    try:
        samples = _resampled_samples(container, stream, max_samples)
    except _TooLongError:
        raise _too_long(what, name, None, max_seconds) from None
    except _DeadlineError:
        raise InputError("media.audio_slow", name=name) from None
    if samples.size < MIN_AUDIO_SECONDS * AUDIO_RATE:
        if samples.size == 0 and what == "audio clip":
            raise InputError("media.audio_undecodable", name=name)
        if what == "video":
            raise InputError("media.video_no_sound", name=name)
        raise InputError("media.too_short", name=name)
    # Float files can hold NaN or inf, which would poison the encoder's features.
    return np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)


class _TooLongError(Exception):
    pass


class _DeadlineError(Exception):
    pass


def _resampled_samples(
    container: av.container.InputContainer, stream: av.audio.stream.AudioStream, max_samples: int
) -> np.ndarray:
    """Decode and resample, stopping as soon as the clip is known to be over the limit."""
    chunks: list[np.ndarray] = []
    total = 0
    resampler: av.AudioResampler | None = None
    source: tuple[str, str, int] | None = None
    deadline = time.monotonic() + _DECODE_DEADLINE_S
    for frame in _decoded_frames(container, stream, deadline):
        # PyAV's resampler is fixed to its first frame's format; streams may change it midway.
        frame_source = (frame.format.name, frame.layout.name, frame.sample_rate)
        if frame_source != source:
            if resampler is not None:
                chunks.extend(_frames_to_arrays(resampler.resample(None)))
            # Keep the channels and average them ourselves: FFmpeg's mono downmix adds them at -3 dB,
            # which pushes loud identical channels past 1.0 (transformers' loaders also average).
            resampler = av.AudioResampler(format="fltp", rate=AUDIO_RATE)
            source = frame_source
        for array in _frames_to_arrays(resampler.resample(frame)):
            chunks.append(array)
            total += array.size
        if total > max_samples:
            raise _TooLongError
    if resampler is not None:
        chunks.extend(_frames_to_arrays(resampler.resample(None)))
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32, copy=False)


def _decoded_frames(
    container: av.container.InputContainer, stream: av.stream.Stream, deadline: float
) -> Iterator[av.frame.Frame]:
    """Frames of one stream; a damaged packet is skipped (as ffmpeg does) rather than failing the file."""
    for packet in container.demux(stream):
        if time.monotonic() > deadline:
            raise _DeadlineError
        try:
            frames = packet.decode()
        except (av.FFmpegError, ValueError):
            continue
        yield from frames


def _frames_to_arrays(frames: list[av.AudioFrame | None]) -> list[np.ndarray]:
    # A passthrough resampler (input already 16 kHz planar float) answers a flush with [None].
    # Planar frames are (channels, samples); the mean is the mono mix.
    return [f.to_ndarray().mean(axis=0, dtype=np.float32) for f in frames if f is not None]


def _stream_duration_s(container: av.container.InputContainer, stream: av.stream.Stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    return None


def _too_long(what: str, name: str, seconds: float | None, limit: float) -> InputError:
    if seconds is None:
        return InputError("media.too_long", what=_WHAT_WORDS[what], name=name, limit=f"{limit:g}")
    length = math.ceil(seconds)
    return InputError(
        "media.too_long_by", what=_WHAT_WORDS[what], name=name, length=length, limit=f"{limit:g}"
    )


# --------------------------------------------------------------------------------------------- video


def probe_video(path: str) -> VideoInfo:
    """Size, length, frame rate and sound of a video, after checking that a frame decodes."""
    name = _display_name(path)
    with _open_av(path, "video") as container:
        stream = _video_stream(container)
        if stream is None:
            raise InputError("media.no_picture", name=name)
        width, height = stream.codec_context.width, stream.codec_context.height
        if width <= 0 or height <= 0:
            raise InputError("media.not_video", name=name)
        _check_aspect_ratio(name, width, height)
        header_s = _stream_duration_s(container, stream)
        try:
            decodable, scanned_s = _scan_video(container, stream, need_duration=header_s is None)
        except _DeadlineError:
            raise InputError("media.video_slow", name=name) from None
        if not decodable:
            raise InputError("media.video_undecodable", name=name)
        return VideoInfo(
            duration_s=header_s if header_s is not None else scanned_s,
            width=width,
            height=height,
            fps=_frame_rate(stream),
            has_audio=bool(container.streams.audio),
        )


def check_video(path: str, max_seconds: float, need_audio: bool) -> VideoInfo:
    """Probe and apply the clip-length limit and, when audio in video is on, the sound requirement."""
    _require_file(path, "video")
    info = CACHE.get("probe", path, (), lambda: probe_video(path))
    name = _display_name(path)
    if info.duration_s > max_seconds + _LIMIT_SLACK_S:
        raise _too_long("video", name, info.duration_s, max_seconds)
    if need_audio and not info.has_audio:
        raise InputError("media.video_no_sound", name=name)
    return info


def has_sound_track(path: str) -> bool:
    """Whether a video file carries sound; False for a file that can't be read (the engine's own
    check then says what is wrong with it, in one sentence)."""
    try:
        _require_file(path, "video")
        return CACHE.get("probe", path, (), lambda: probe_video(path)).has_audio
    except InputError:
        return False


@dataclass(frozen=True)
class SampledVideo:
    """The frames upstream's preprocessing would take from a file, and the rate they were taken at."""

    frames: np.ndarray  # uint8 [frames, height, width, 3], already at upstream's size
    indices: tuple[int, ...]  # decode-order positions of the frames in the file
    sample_fps: float  # frames per second actually sampled: what the processor must be told


def load_video_frames(path: str, fps: float = vision.FPS) -> SampledVideo:
    """Frames chosen and sized as `qwen-omni-utils` does (see `omni_demo.vision`), by PyAV.

    The frame count and rate come from the file (its packets and average rate, as decord reads them);
    the frames are spread evenly over the decoded frame indices, so a stream that starts late or has
    uneven timestamps is sampled as upstream samples it. Each file is decoded once (see `DecodedCache`).
    """
    _require_file(path, "video")
    return CACHE.get("frames", path, (fps,), lambda: _load_video_frames(path, fps))


def _load_video_frames(path: str, fps: float) -> SampledVideo:
    name = _display_name(path)
    plan, found = plan_video_file(path, fps)
    _, rate, height, width = found
    picked = _decode_frames(path, plan)
    if len(picked) < len(set(plan.indices)):  # the file held fewer frames than its packets promised
        decoded = max(picked, default=-1) + 1
        plan = vision.plan_video(decoded, rate, height, width, fps) if decoded else None
        if plan is None:
            raise InputError("media.video_undecodable", name=name)
        picked = _decode_frames(path, plan)
    # Shared between requests through the cache; the processor copies what it changes (it is left
    # writable because torch warns on every read-only array it wraps).
    frames = np.stack([picked[i] for i in plan.indices])
    return SampledVideo(frames, plan.indices, plan.sample_fps)


def plan_video_file(
    path: str, fps: float = vision.FPS
) -> tuple[vision.VideoPlan, tuple[int, float, int, int]]:
    """Upstream's frames and size for this file, and its (frames, frame rate, height, width)."""
    _require_file(path, "video")
    found = CACHE.get("count", path, (), lambda: _count_frames(path))
    total, rate, height, width = found
    plan = vision.plan_video(total, rate, height, width, fps) if rate > 0 else None
    if plan is None:
        name = _display_name(path)
        raise InputError("media.too_few_frames", name=name)
    return plan, found


def _count_frames(path: str) -> tuple[int, float, int, int]:
    """(frames, average frame rate, height, width) of the video stream, without decoding it."""
    name = _display_name(path)
    with _open_av(path, "video") as container:
        stream = _video_stream(container)
        if stream is None:
            raise InputError("media.no_picture", name=name)
        total, first, last = 0, None, None
        deadline = time.monotonic() + _DECODE_DEADLINE_S
        for packet in container.demux(stream):
            if time.monotonic() > deadline:
                raise InputError("media.video_slow", name=name)
            if packet.size == 0:  # the demuxer's closing empty packet
                continue
            total += 1
            if packet.pts is not None and packet.time_base is not None:
                moment = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                start = float(packet.pts * packet.time_base)
                first = start if first is None else min(first, start)
                last = moment if last is None else max(last, moment)
        rate = float(stream.average_rate) if stream.average_rate else 0.0
        if rate <= 0 and first is not None and last is not None and last > first:
            rate = total / (last - first)  # e.g. browser recordings, which state no rate
        return total, rate, stream.codec_context.height, stream.codec_context.width


def _decode_frames(path: str, plan: vision.VideoPlan) -> dict[int, np.ndarray]:
    """The planned frames by decode index, resized to the plan's size."""
    wanted, last = set(plan.indices), max(plan.indices)
    picked: dict[int, np.ndarray] = {}
    with _open_av(path, "video") as container:
        stream = _video_stream(container)
        if stream is None:  # the file changed since it was counted
            return picked
        deadline = time.monotonic() + _DECODE_DEADLINE_S
        try:
            for index, frame in enumerate(_decoded_frames(container, stream, deadline)):
                if index in wanted:
                    picked[index] = frame.to_ndarray(
                        format="rgb24", width=plan.width, height=plan.height, interpolation="BICUBIC"
                    )
                if index >= last:
                    break
        except _DeadlineError:
            name = _display_name(path)
            raise InputError("media.video_slow", name=name) from None
    return picked


def _video_stream(container: av.container.InputContainer) -> av.video.stream.VideoStream | None:
    # Cover art in an audio file shows up as a one-picture "video" stream; it is not a video.
    moving = [s for s in container.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)]
    return moving[0] if moving else None


def _scan_video(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, need_duration: bool
) -> tuple[bool, float]:
    """Whether a frame decodes, and (only when the header lacks it) the length from packet times.

    Browser recordings (MediaRecorder webm) carry no duration, so it is read off the packets; that
    demuxes the file without decoding it, which stays fast even for long files.
    """
    decodable = False
    end_s = 0.0
    deadline = time.monotonic() + _DECODE_DEADLINE_S
    for index, packet in enumerate(container.demux(stream)):
        if time.monotonic() > deadline:
            raise _DeadlineError
        if not need_duration and (decodable or index >= _PROBE_PACKETS):
            break
        if need_duration and packet.pts is not None and packet.time_base is not None:
            end_s = max(end_s, float((packet.pts + (packet.duration or 0)) * packet.time_base))
        if not decodable and index < _PROBE_PACKETS:
            with contextlib.suppress(av.FFmpegError, ValueError):
                decodable = bool(packet.decode())
    return decodable, end_s


def _frame_rate(stream: av.video.stream.VideoStream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return float(rate)
    return 0.0


# --------------------------------------------------------------------------------------------- image


def load_image(path: str) -> Image.Image:
    """An RGB image, fully decoded, upright (camera EXIF rotation applied) and on white if transparent.

    Decoded once per file (see `DecodedCache`): callers get a shared image and must not change it.
    """
    _require_file(path, "image")
    return CACHE.get("image", path, (), lambda: _load_image(path))


def _load_image(path: str) -> Image.Image:
    name = _display_name(path)
    try:
        with warnings.catch_warnings():
            # Our own pixel limit below is stricter than Pillow's bomb warning.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path, formats=_PIL_FORMATS)
    except Image.DecompressionBombError:
        raise _image_too_big(name, None) from None
    except (OSError, SyntaxError, ValueError):
        raise InputError("media.not_image", name=name) from None
    with image:
        _check_image_shape(name, image.size)
        try:
            image.load()
            upright = ImageOps.exif_transpose(image)
            return _to_rgb(upright if upright is not None else image)
        except (OSError, SyntaxError, ValueError):
            raise InputError("media.image_damaged", name=name) from None


def load_model_image(path: str) -> Image.Image:
    """`load_image`, resized as `qwen-omni-utils` resizes images (`smart_resize`, Pillow's resize)."""
    _require_file(path, "image")
    return CACHE.get("model-image", path, (), lambda: _model_image(path))


def _model_image(path: str) -> Image.Image:
    image = load_image(path)
    height, width = vision.smart_resize(image.height, image.width)
    return image if (width, height) == image.size else image.resize((width, height))


def _check_image_shape(name: str, size: tuple[int, int]) -> None:
    width, height = size
    if width * height > MAX_IMAGE_PIXELS:
        raise _image_too_big(name, size)
    _check_aspect_ratio(name, width, height)


def _check_aspect_ratio(name: str, width: int, height: int) -> None:
    """The Qwen vision processor refuses pictures and frames more extreme than this."""
    if max(width, height) > vision.MAX_RATIO * min(width, height):
        raise InputError("media.too_thin", name=name, width=width, height=height)


def _image_too_big(name: str, size: tuple[int, int] | None) -> InputError:
    limit = MAX_IMAGE_PIXELS // 1_000_000
    if size is None:
        return InputError("media.image_too_big", name=name, limit=limit)
    width, height = size
    return InputError("media.image_too_big_by", name=name, width=width, height=height, limit=limit)


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image.copy()  # a copy survives closing the file
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if not has_alpha:
        return image.convert("RGB")
    # Transparent pixels often hold black; the model should see them as the white page they show as.
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


# --------------------------------------------------------------------------------------------- output


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as 16-bit PCM; louder samples are clipped instead of wrapping around."""
    if samples.dtype == np.int16:
        return samples
    clean = np.nan_to_num(np.asarray(samples, dtype=np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
    return np.round(np.clip(clean, -1.0, 1.0) * 32767.0).astype(np.int16)


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write mono float samples as a 16-bit PCM WAV file and return its path."""
    if samples.ndim != 1:
        raise ValueError(f"write_wav expects mono samples, got shape {samples.shape}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    # libsndfile wraps float overshoot around instead of clipping, so convert ourselves.
    sf.write(str(path), to_int16(samples), sample_rate, subtype="PCM_16", format="WAV")
    return path


# --------------------------------------------------------------------------------------------- files


def _display_name(path: str) -> str:
    """The base name only: the user chose it, while the temp folder means nothing to them."""
    return Path(path).name or str(path)


def _require_file(path: str, what: str) -> None:
    name = _display_name(path)
    if not os.path.isfile(path):
        raise InputError("media.not_found", what=_WHAT_WORDS[what], name=name)
    if os.path.getsize(path) == 0:
        raise InputError("media.empty_file", what=_WHAT_WORDS[what], name=name)


# PyAV < 19 decodes metadata strictly unless told otherwise; 19 dropped the option (and replaces bad bytes).
_AV_OPEN: dict[str, str] = {"metadata_errors": "replace"} if int(av.__version__.split(".")[0]) < 19 else {}


@contextlib.contextmanager
def _open_av(path: str, what: str) -> Iterator[av.container.InputContainer]:
    """Open with FFmpeg, turning every failure to read the file into one sentence."""
    _require_file(path, what)
    name = _display_name(path)
    try:
        container = av.open(path, options=_AV_OPTIONS, timeout=(_IO_TIMEOUT_S, _IO_TIMEOUT_S), **_AV_OPEN)
    except (av.FFmpegError, OSError, ValueError, UnicodeError):
        audio = what == "audio clip"
        as_what = _KIND_WORDS["audio" if audio else "video"]
        fix = Sentence("word.wav_or_mp3" if audio else "word.mp4")
        raise InputError("media.unreadable", name=name, as_what=as_what, fix=fix) from None
    try:
        yield container
    except (av.FFmpegError, ValueError):
        # Damage past the header that the per-packet skipping could not absorb.
        raise InputError("media.damaged", name=name) from None
    finally:
        container.close()
