#!/usr/bin/env python3
"""(Re)create the demo's example media in ``assets/`` from open tools only.

Speech comes from ``espeak-ng``, music and sound effects from ``sox`` (synth + mixing), pictures are drawn
with Pillow and video clips are Pillow frames piped into ``ffmpeg`` (H.264 + yuv420p, AAC audio where needed).
Everything is deterministic (fixed seeds, ``sox -R``, bit-exact muxing) and re-running overwrites the files.

Usage::

    python scripts/make_assets.py [--out assets] [--only speech_en.wav music.wav ...]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import wave
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SR = 16_000  # audio sample rate (Hz) for every WAV
FPS = 12
VW, VH = 480, 270  # video frame size
SEED = 20250518
MAX_TOTAL_BYTES = 10 * 1024 * 1024
TOOLS = ("espeak-ng", "sox", "ffmpeg", "ffprobe")
WAV_FMT = ("-r", str(SR), "-c", "1", "-b", "16")
# Debian 12's espeak-ng 1.51 "cmn" voice reads the pinyin tone digits aloud in English; the
# "cmn-latn-pinyin" voice shares the same Mandarin dictionary and pronounces Chinese characters correctly.
MANDARIN_VOICE = "cmn-latn-pinyin"

RGB = tuple[int, int, int]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
Frames = Iterator[Image.Image]
Stems = list[tuple[Path, float]]  # (wav, mix weight)


# ----------------------------------------------------------------------------------------------- helpers


class MissingToolError(RuntimeError):
    """Raised when a required command-line tool is not installed."""


def require_tools(names: Iterable[str] = TOOLS) -> None:
    """Fail early, with an install hint, when a required executable is not on PATH."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        raise MissingToolError(
            f"missing tool(s): {', '.join(missing)}. Install them with: "
            "apt-get install -y ffmpeg espeak-ng sox fonts-dejavu-core"
        )


def run(cmd: Sequence[str | Path]) -> None:
    """Run a command, raising a readable error (with stderr) when it fails."""
    args = [str(c) for c in cmd]
    proc = subprocess.run(args, capture_output=True, check=False)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()[-2000:]
        raise RuntimeError(f"command failed (exit {proc.returncode}): {shlex.join(args)}\n{err}")


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def load_font(size: int, *, bold: bool = False, mono: bool = False) -> Font:
    """DejaVu (fonts-dejavu-core) when available, else Pillow's built-in scalable font."""
    name = ("DejaVuSansMono" if mono else "DejaVuSans") + ("-Bold" if bold else "")
    for folder in ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF"):
        candidate = Path(folder) / f"{name}.ttf"
        if candidate.is_file():
            return ImageFont.truetype(str(candidate), size)
    try:
        return ImageFont.truetype(f"{name}.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def lerp(a: RGB, b: RGB, t: float) -> RGB:
    r, g, bl = (round(x + (y - x) * t) for x, y in zip(a, b, strict=True))
    return (r, g, bl)


def gradient(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], top: RGB, bottom: RGB) -> None:
    """Vertical colour gradient filling ``box`` (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = box
    for y in range(y0, y1):
        draw.line([(x0, y), (x1, y)], fill=lerp(top, bottom, (y - y0) / max(1, y1 - y0 - 1)))


def smoothstep(t: float) -> float:
    t = min(1.0, max(0.0, t))
    return t * t * (3 - 2 * t)


# ------------------------------------------------------------------------------------------ audio tools


class Audio:
    """Builds intermediate mono 16-bit WAV files with sox / espeak-ng inside a scratch directory."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self._count = 0

    def new(self, stem: str) -> Path:
        self._count += 1
        return self.tmp / f"{self._count:04d}_{stem}.wav"

    def sox(self, *args: str | Path) -> None:
        run(["sox", "-R", "-V1", *args])  # -R: repeatable (seeded) noise generators

    def synth(self, dur: float, *spec: str, effects: Sequence[str] = ()) -> Path:
        out = self.new("synth")
        self.sox("-n", *WAV_FMT, out, "synth", f"{dur:g}", *spec, *effects)
        return out

    def chain(self, segments: Sequence[Sequence[str]]) -> Path:
        """Concatenate several ``synth ...`` effect chains (sox ``:`` syntax) into one file."""
        args: list[str] = []
        for i, seg in enumerate(segments):
            args += ([":"] if i else []) + list(seg)
        out = self.new("chain")
        self.sox("-n", *WAV_FMT, out, *args)
        return out

    def speak(self, text: str, *, voice: str = "en-us", speed: int = 150, pitch: int = 50) -> Path:
        raw = self.new("espeak_raw")
        run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", raw, text])
        out = self.new("speech")
        self.sox(raw, *WAV_FMT, out)
        return out

    def effect(self, src: Path, *effects: str, out: Path | None = None) -> Path:
        out = out or self.new("fx")
        self.sox(src, *WAV_FMT, out, *effects)
        return out

    def place(self, src: Path, start: float, total: float) -> Path:
        """Delay ``src`` by ``start`` seconds and cut/pad it to exactly ``total`` seconds."""
        return self.effect(src, "pad", f"{start:g}", f"{total:g}", "trim", "0", f"{total:g}")

    def concat(self, parts: Sequence[Path]) -> Path:
        out = self.new("concat")
        self.sox(*parts, *WAV_FMT, out)
        return out

    def silence(self, dur: float) -> Path:
        return self.synth(dur, "sine", "0", effects=("vol", "0"))

    def mix(self, parts: Sequence[tuple[Path, float]], out: Path | None = None) -> Path:
        """Weighted mix (weights are normalised so nothing clips), then normalise to -1 dBFS."""
        out = out or self.new("mix")
        total = sum(w for _, w in parts)
        args: list[str | Path] = ["-m"] if len(parts) > 1 else []
        for path, weight in parts:
            args += ["-v", f"{weight / total:.4f}", path]
        self.sox(*args, *WAV_FMT, out, "norm", "-1")
        return out


def pluck_line(audio: Audio, notes: Sequence[str], step: float, voice: str = "pluck") -> Path:
    """A monophonic line of equally long notes; ``-`` is a rest."""
    segs = [
        ["synth", f"{step:g}", "sine", "0", "vol", "0"]
        if n == "-"
        else ["synth", f"{step:g}", voice, n, "fade", "q", "0.005", f"{step:g}", f"{step * 0.5:g}"]
        for n in notes
    ]
    return audio.chain(segs)


CHORDS: dict[str, tuple[str, str, str]] = {
    "C": ("C4", "E4", "G4"),
    "G": ("B3", "D4", "G4"),
    "Am": ("A3", "C4", "E4"),
    "F": ("A3", "C4", "F4"),
}
BASS: dict[str, str] = {"C": "C3", "G": "G2", "Am": "A2", "F": "F2"}


def backing(audio: Audio, progression: Sequence[str], bar: float, strums: int = 2) -> Stems:
    """Pluck chord voices (one stem per chord tone) + a triangle bass on every beat."""
    stems: Stems = []
    for voice in range(3):
        notes = [CHORDS[c][voice] for c in progression for _ in range(strums)]
        stems.append((pluck_line(audio, notes, bar / strums), 0.5))
    bass_notes = [BASS[c] for c in progression for _ in range(4)]
    stems.append((pluck_line(audio, bass_notes, bar / 4, voice="triangle"), 0.9))
    return stems


def drums(audio: Audio, bars: int, bar: float) -> Stems:
    """Kick on beats 1 and 3, noise snare on 2 and 4, closed hi-hat on every eighth."""
    beat = bar / 4
    kick = ["synth", "0.12", "sine", "160:45", "fade", "q", "0.002", "0.12", "0.1"]
    kick += ["pad", "0", f"{beat - 0.12:g}"]
    snare = ["synth", "0.15", "whitenoise", "highpass", "300", "fade", "q", "0.002", "0.15", "0.14"]
    snare += ["pad", "0", f"{beat - 0.15:g}"]
    hat = ["synth", "0.04", "whitenoise", "highpass", "5000", "fade", "q", "0.001", "0.04", "0.035"]
    hat += ["pad", "0", f"{beat / 2 - 0.04:g}"]
    kit = audio.chain([kick, snare] * (2 * bars))
    hats = audio.chain([hat] * (8 * bars))
    return [(kit, 0.9), (hats, 0.2)]


# ------------------------------------------------------------------------------------------ audio assets

MELODY_BARS = (  # eighth notes over C - G - Am - F
    "E5 G5 C6 G5 E5 D5 C5 D5",
    "D5 G5 B5 G5 D5 C5 B4 D5",
    "E5 A5 C6 A5 E5 D5 C5 B4",
    "A4 C5 F5 C5 A5 G5 F5 E5",
)
SPEECH_EN = "The quick brown fox jumps over the lazy dog. Qwen three omni can listen, see and speak."
SPEECH_ZH = "今天天气很好，我们一起去公园散步吧。"
FUNCTION_CALL = (
    "What will the weather be like in Hangzhou tomorrow? And please also find me a nearby Italian restaurant."
)


def make_music(audio: Audio, out: Path) -> None:
    progression, bar = ["C", "G", "Am", "F"], 2.0  # 120 bpm, 4 bars = 8 s
    melody = [note for notes in MELODY_BARS for note in notes.split()]
    stems = [(pluck_line(audio, melody, bar / 8), 1.0), *backing(audio, progression, bar)]
    stems += drums(audio, len(progression), bar)
    audio.mix(stems, out)


def make_speech(audio: Audio, out: Path, text: str, voice: str = "en-us", speed: int = 150) -> None:
    speech = audio.speak(text, voice=voice, speed=speed)
    audio.effect(speech, "pad", "0.3", "0.4", "norm", "-1", out=out)


def make_speech_en(audio: Audio, out: Path) -> None:
    make_speech(audio, out, SPEECH_EN)


def make_speech_zh(audio: Audio, out: Path) -> None:
    make_speech(audio, out, SPEECH_ZH, voice=MANDARIN_VOICE, speed=140)


def make_function_call(audio: Audio, out: Path) -> None:
    make_speech(audio, out, FUNCTION_CALL)


SONG_LINES = (
    ("Morning light is on the sea", 55),
    ("Little birds are singing free", 70),
    ("Walk with me along the shore", 60),
    ("La la la, for evermore", 45),
)


def make_song(audio: Audio, out: Path) -> None:
    """One lyric line per 3 s bar (80 bpm, C-G-Am-F), each line at its own pitch, over a plucked backing."""
    bar, slots = 3.0, []
    for text, pitch in SONG_LINES:
        line = audio.speak(text, voice="en+f2", speed=130, pitch=pitch)
        line = audio.effect(line, "chorus", "0.7", "0.9", "55", "0.4", "0.25", "2", "-t")
        slots.append(audio.place(line, 0.35, bar))  # a line that ran over its bar would be cut here
    total = bar * len(slots)
    vocals = audio.effect(audio.concat(slots), "reverb", "30", "trim", "0", f"{total:g}")
    audio.mix([(vocals, 1.6), *backing(audio, ["C", "G", "Am", "F"], bar, strums=4)], out)


def siren(audio: Audio, total: float) -> Path:
    sweep = 0.75
    segs = [["synth", f"{sweep}", "sine", "650:1350" if i % 2 == 0 else "1350:650"] for i in range(8)]
    wail = audio.chain(segs)
    return audio.effect(wail, "trim", "0", f"{total:g}", "fade", "t", "2", f"{total:g}", "0.3")


def horn(audio: Audio, dur: float) -> Path:
    low = audio.synth(dur, "square", "415", effects=("lowpass", "2500"))
    high = audio.synth(dur, "square", "523", effects=("lowpass", "2500"))
    return audio.effect(audio.mix([(low, 1.0), (high, 1.0)]), "fade", "q", "0.01", f"{dur:g}", "0.03")


def make_sound(audio: Audio, out: Path) -> None:
    total = 5.0
    rumble = audio.synth(total, "brownnoise", effects=("lowpass", "600"))
    whoosh = audio.synth(total, "pinknoise", effects=("bandpass", "800", "700", "fade", "q", "2", "5", "2.5"))
    horns = [audio.place(horn(audio, d), t, total) for t, d in ((1.2, 0.25), (1.6, 0.25), (3.3, 0.7))]
    stems = [(rumble, 1.0), (whoosh, 0.6), (siren(audio, total), 0.35)]
    audio.mix(stems + [(h, 0.45) for h in horns], out)


def doorbell(audio: Audio) -> Path:
    ding = audio.synth(0.7, "sine", "E5", effects=("fade", "q", "0.005", "0.7", "0.6"))
    dong = audio.synth(1.1, "sine", "C5", effects=("fade", "q", "0.005", "1.1", "1.0"))
    return audio.concat([ding, dong])


def make_mixed(audio: Audio, out: Path) -> None:
    total = 8.0
    music = audio.new("music_bed")
    make_music(audio, music)
    speech = audio.speak(
        "Good evening, and welcome to the show. Oh, someone is at the door.", voice="en-us", speed=155
    )
    bell = audio.place(doorbell(audio), 5.6, total)
    audio.mix([(music, 0.3), (audio.place(speech, 0.4, total), 1.0), (bell, 0.7)], out)


def make_caption(audio: Audio, out: Path) -> None:
    total = 6.0
    rain = audio.synth(total, "pinknoise", effects=("highpass", "900", "lowpass", "6000"))
    drops = audio.synth(total, "whitenoise", effects=("highpass", "3000", "tremolo", "13", "90"))
    thunder = audio.synth(3.8, "brownnoise", effects=("lowpass", "160", "tremolo", "3", "60"))
    thunder = audio.effect(thunder, "fade", "q", "0.15", "3.8", "3.0", "norm", "-1")
    speech = audio.speak("Oh no, it is raining again.", voice="en-us", speed=150)
    stems = [(rain, 0.35), (drops, 0.06), (audio.place(thunder, 0.8, total), 1.0)]
    audio.mix([*stems, (audio.place(speech, 4.2, total), 0.9)], out)


# -------------------------------------------------------------------------------------------- pictures


def draw_receipt(img: Image.Image) -> None:
    draw = ImageDraw.Draw(img)
    title, body, bold = load_font(30, bold=True), load_font(19), load_font(21, bold=True)
    width, y = img.width, 30
    header = (("GREEN LEAF CAFE", title), ("88 Harbour Road, Hangzhou", body), ("Tel: 0571-8888 1234", body))
    for text, font in header:
        draw.text((width // 2, y), text, font=font, fill=(25, 25, 25), anchor="mt")
        y += 44 if font is title else 30
    rows: list[tuple[str, str, Font] | None] = [
        None,
        ("Date: 2025-05-18", "12:42", body),
        ("Table 7", "Receipt #00421", body),
        None,
        ("Cappuccino x2", "$9.00", body),
        ("Blueberry Muffin", "$3.50", body),
        ("Caesar Salad", "$8.75", body),
        ("Sparkling Water", "$2.25", body),
        None,
        ("Subtotal", "$23.50", body),
        ("Tax (8%)", "$1.88", body),
        ("TOTAL", "$25.38", bold),
        None,
    ]
    for row in rows:
        if row is None:
            draw.line([(30, y + 12), (width - 30, y + 12)], fill=(90, 90, 90), width=2)
            y += 28
            continue
        left, right, font = row
        draw.text((34, y), left, font=font, fill=(20, 20, 20))
        draw.text((width - 34, y), right, font=font, fill=(20, 20, 20), anchor="ra")
        y += 34
    draw.text((width // 2, y + 8), "Thank you! Please come again.", font=body, fill=(25, 25, 25), anchor="mt")


def make_ocr(_: Audio, out: Path) -> None:
    img = Image.new("RGB", (480, 640), (250, 248, 240))
    draw_receipt(img)
    img.save(out, optimize=True)


def draw_sun(draw: ImageDraw.ImageDraw, cx: int, cy: int, r: int) -> None:
    for k in range(12):
        a = k * math.pi / 6
        p0 = (cx + (r + 8) * math.cos(a), cy + (r + 8) * math.sin(a))
        p1 = (cx + (r + 28) * math.cos(a), cy + (r + 28) * math.sin(a))
        draw.line([p0, p1], fill=(255, 200, 40), width=5)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, 215, 50), outline=(240, 170, 20), width=3)


def draw_tree(draw: ImageDraw.ImageDraw, x: int, ground: int) -> None:
    draw.rectangle((x - 30, ground - 240, x + 30, ground), fill=(110, 70, 35))
    for dx, dy, r in ((-60, -260, 70), (40, -280, 75), (-10, -330, 75), (70, -215, 55), (-80, -195, 50)):
        draw.ellipse((x + dx - r, ground + dy - r, x + dx + r, ground + dy + r), fill=(50, 140, 60))


def draw_bird(draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    """A side-view songbird facing right, standing with its feet at (x, y)."""
    dark, body, belly = (25, 70, 150), (50, 110, 200), (245, 160, 80)
    draw.line([(x - 12, y - 20), (x - 14, y)], fill=(60, 40, 20), width=4)  # legs
    draw.line([(x + 12, y - 20), (x + 10, y)], fill=(60, 40, 20), width=4)
    draw.polygon([(x - 45, y - 55), (x - 105, y - 78), (x - 98, y - 38), (x - 45, y - 35)], fill=dark)  # tail
    draw.ellipse((x - 58, y - 78, x + 58, y - 16), fill=body)
    draw.ellipse((x - 5, y - 52, x + 52, y - 18), fill=belly)
    draw.ellipse((x + 27, y - 110, x + 85, y - 52), fill=body)  # head
    draw.polygon([(x + 80, y - 92), (x + 118, y - 80), (x + 80, y - 68)], fill=(250, 170, 20))  # beak
    draw.ellipse((x + 56, y - 96, x + 72, y - 80), fill=(255, 255, 255))  # eye
    draw.ellipse((x + 62, y - 92, x + 70, y - 84), fill=(0, 0, 0))
    draw.polygon([(x - 40, y - 52), (x + 8, y - 75), (x + 35, y - 48), (x - 8, y - 28)], fill=dark)  # wing


def make_grounding(_: Audio, out: Path) -> None:
    img = Image.new("RGB", (640, 480))
    draw = ImageDraw.Draw(img)
    gradient(draw, (0, 0, 640, 400), (110, 180, 240), (200, 230, 250))
    draw.rectangle((0, 400, 640, 480), fill=(95, 170, 70))
    draw_sun(draw, 560, 80, 42)
    draw_tree(draw, 125, 420)
    draw.line([(140, 320), (540, 298)], fill=(105, 65, 30), width=16)  # branch
    draw.line([(470, 302), (520, 270)], fill=(105, 65, 30), width=7)
    draw.ellipse((505, 250, 545, 280), fill=(60, 150, 60))
    draw_bird(draw, 360, 301)
    img.save(out, optimize=True)


def draw_storm_sky(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    gradient(draw, (0, 0, 640, 330), (40, 45, 60), (150, 160, 175))
    for shade, count, (ylo, yhi) in (((75, 78, 90), 14, (10, 110)), ((45, 47, 58), 16, (-20, 80))):
        for _ in range(count):
            cx, cy = rng.randint(-40, 680), rng.randint(ylo, yhi)
            rx, ry = rng.randint(60, 130), rng.randint(25, 45)
            draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=shade)
    bolt = [(470, 70), (450, 135), (472, 135), (440, 215), (500, 120), (476, 120), (495, 70)]
    draw.polygon(bolt, fill=(255, 250, 200))
    for _ in range(70):  # rain under the clouds on the left
        x, y = rng.randint(0, 320), rng.randint(90, 330)
        draw.line([(x, y), (x - 6, y + 18)], fill=(170, 180, 200), width=1)


def draw_landscape(draw: ImageDraw.ImageDraw) -> None:
    back = [(0, 300), (90, 190), (170, 250), (260, 150), (360, 240), (450, 170), (560, 250), (640, 200)]
    draw.polygon([*back, (640, 340), (0, 340)], fill=(95, 105, 125))
    draw.polygon([(260, 150), (238, 175), (282, 172)], fill=(225, 230, 235))  # snow cap
    front = [(0, 330), (120, 260), (230, 310), (340, 250), (470, 320), (580, 270), (640, 300), (640, 360)]
    draw.polygon([*front, (0, 360)], fill=(60, 85, 80))
    gradient(draw, (0, 350, 640, 480), (80, 125, 65), (50, 95, 45))
    draw.polygon([(455, 480), (470, 392), (482, 392), (530, 480)], fill=(150, 130, 95))  # path to the house


def draw_house(draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    draw.rectangle((x, y, x + 90, y + 62), fill=(225, 205, 165))
    draw.polygon([(x - 12, y + 2), (x + 45, y - 40), (x + 102, y + 2)], fill=(150, 55, 40))
    draw.rectangle((x + 62, y - 34, x + 74, y - 12), fill=(120, 60, 40))  # chimney
    draw.rectangle((x + 36, y + 26, x + 56, y + 62), fill=(110, 70, 40))  # door
    draw.rectangle((x + 8, y + 16, x + 28, y + 36), fill=(255, 220, 110), outline=(90, 60, 40), width=2)
    draw.rectangle((x + 64, y + 16, x + 84, y + 36), fill=(255, 220, 110), outline=(90, 60, 40), width=2)


def make_scene(_: Audio, out: Path) -> None:
    rng = random.Random(SEED)
    img = Image.new("RGB", (640, 480))
    draw = ImageDraw.Draw(img)
    draw_storm_sky(draw, rng)
    draw_landscape(draw)
    draw_house(draw, 430, 330)
    img.save(out, optimize=True)


# The two problems of upstream's Image Math cookbook, drawn from their text (their own pictures are not
# redistributed): the 3-arm lawn sprinkler (Fig. P3.114) and the training set with m=3 examples.
INK = (20, 20, 20)


def arrow(draw: ImageDraw.ImageDraw, start: tuple[float, float], end: tuple[float, float], fill: RGB) -> None:
    draw.line([start, end], fill=fill, width=4)
    angle = math.atan2(end[1] - start[1], end[0] - start[0])
    wings = [(end[0] - 16 * math.cos(angle + s), end[1] - 16 * math.sin(angle + s)) for s in (0.45, -0.45)]
    draw.polygon([end, *wings], fill=fill)


def draw_sprinkler_arm(draw: ImageDraw.ImageDraw, centre: tuple[int, int], angle: float, radius: int) -> None:
    """One arm seen from above, its nozzle at `radius` and its jet at 40° to the tangent, backwards."""
    cx, cy = centre
    tip = (cx + radius * math.cos(angle), cy + radius * math.sin(angle))
    draw.line([centre, tip], fill=INK, width=10)
    tangent = angle - math.pi / 2  # the arms turn clockwise on the page; the jets point the other way
    jet = tangent + math.radians(40)
    end = (tip[0] + 95 * math.cos(jet), tip[1] + 95 * math.sin(jet))
    arrow(draw, tip, end, (30, 110, 220))
    ahead = (tip[0] + 90 * math.cos(tangent), tip[1] + 90 * math.sin(tangent))
    draw.line([tip, ahead], fill=(120, 120, 120), width=2)  # the tangent the angle is measured from
    box = (tip[0] - 48, tip[1] - 48, tip[0] + 48, tip[1] + 48)
    first, second = sorted((math.degrees(tangent), math.degrees(jet)))
    draw.arc(box, first, second, fill=(200, 0, 0), width=3)
    middle = tangent + math.radians(20)
    label = (tip[0] + 64 * math.cos(middle), tip[1] + 64 * math.sin(middle))
    draw.text(label, "θ", font=load_font(28), fill=(200, 0, 0), anchor="mm")


def make_math_sprinkler(_: Audio, out: Path) -> None:
    img = Image.new("RGB", (640, 480), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    centre, radius = (330, 250), 150
    for k in range(3):
        draw_sprinkler_arm(draw, centre, math.radians(-90 + 120 * k), radius)
    draw.ellipse((centre[0] - 26, centre[1] - 26, centre[0] + 26, centre[1] + 26), fill=(90, 90, 90))
    turn = (centre[0] - 70, centre[1] - 70, centre[0] + 70, centre[1] + 70)
    draw.arc(turn, 195, 250, fill=(90, 90, 90), width=3)  # the sense of rotation (clockwise)
    head = (centre[0] + 70 * math.cos(math.radians(252)), centre[1] + 70 * math.sin(math.radians(252)))
    arrow(draw, (head[0] - 12, head[1] + 4), (head[0] + 4, head[1]), (90, 90, 90))
    draw.text((centre[0] - 98, centre[1] - 66), "ω", font=load_font(28), fill=(90, 90, 90), anchor="mm")
    small = load_font(22)
    draw.text((24, 150), "water in at the centre:", font=small, fill=INK)
    draw.text((24, 178), "2.7 m³/hr, 20°C", font=small, fill=INK)
    draw.text((centre[0] + 30, centre[1] + 64), "R = 15 cm", font=small, fill=INK, anchor="rt")
    draw.text((24, 440), "nozzle diameter d = 7 mm", font=small, fill=INK)
    draw.text((24, 20), "Fig. P3.114", font=load_font(30, bold=True), fill=INK)
    img.save(out, optimize=True)


def make_math_cost(_: Audio, out: Path) -> None:
    """The three examples (1, 1), (2, 2), (3, 3) plotted as crosses on a 0-3 grid."""
    img = Image.new("RGB", (640, 480), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    origin, unit = (110, 400), 110
    label = load_font(26)
    for k in range(4):
        x, y = origin[0] + k * unit, origin[1] - k * unit
        draw.line([(x, origin[1]), (x, origin[1] - 3.3 * unit)], fill=(220, 220, 220), width=1)
        draw.line([(origin[0], y), (origin[0] + 3.3 * unit, y)], fill=(220, 220, 220), width=1)
        draw.text((x, origin[1] + 12), str(k), font=label, fill=INK, anchor="mt")
        draw.text((origin[0] - 14, y), str(k), font=label, fill=INK, anchor="rm")
    arrow(draw, origin, (origin[0] + 3.6 * unit, origin[1]), INK)
    arrow(draw, origin, (origin[0], origin[1] - 3.45 * unit), INK)
    draw.text((origin[0] + 3.6 * unit, origin[1] + 14), "x", font=label, fill=INK, anchor="mt")
    draw.text((origin[0] + 14, origin[1] - 3.4 * unit), "y", font=label, fill=INK, anchor="lm")
    for k in (1, 2, 3):
        x, y, r = origin[0] + k * unit, origin[1] - k * unit, 12
        draw.line([(x - r, y - r), (x + r, y + r)], fill=(200, 0, 0), width=5)
        draw.line([(x - r, y + r), (x + r, y - r)], fill=(200, 0, 0), width=5)
    img.save(out, optimize=True)


# ----------------------------------------------------------------------------------------------- video


def encode_video(frames: Iterable[Image.Image], out: Path, audio: Path | None = None) -> None:
    """Pipe RGB frames into ffmpeg: H.264 main profile, yuv420p, faststart; AAC if ``audio`` is given."""
    cmd = ["ffmpeg", "-y", "-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{VW}x{VH}"]
    cmd += ["-r", str(FPS), "-i", "-"]
    if audio is None:
        cmd += ["-map", "0:v:0", "-an"]
    else:
        cmd += ["-i", str(audio), "-map", "0:v:0", "-map", "1:a:0", "-c:a", "aac", "-b:a", "48k"]
        cmd += ["-ar", "24000", "-ac", "1", "-shortest"]
    cmd += ["-c:v", "libx264", "-preset", "slow", "-crf", "24", "-profile:v", "main", "-pix_fmt", "yuv420p"]
    cmd += ["-movflags", "+faststart", "-map_metadata", "-1", "-fflags", "+bitexact"]
    cmd += ["-flags:v", "+bitexact", "-flags:a", "+bitexact", str(out)]
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        if proc.stdin is None:
            raise RuntimeError("ffmpeg stdin pipe is not available")
        try:
            for frame in frames:
                proc.stdin.write(frame.convert("RGB").tobytes())
        except BrokenPipeError:
            pass  # ffmpeg died; its stderr is reported below
        _, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg failed for {out.name}: {err.decode(errors='replace')[-2000:]}")


def draw_room(width: int) -> Image.Image:
    """A wide room panorama: door on the left, table in the middle, window on the right."""
    img = Image.new("RGB", (width, VH))
    draw = ImageDraw.Draw(img)
    gradient(draw, (0, 0, width, 185), (235, 225, 200), (215, 200, 170))
    gradient(draw, (0, 185, width, VH), (170, 125, 80), (130, 90, 55))
    for x in range(-400, width + 400, 70):  # floor boards in perspective
        draw.line([(x + (x - width / 2) * 0.02, 185), (x + (x - width / 2) * 0.6, VH)], fill=(120, 85, 50))
    draw.rectangle((0, 178, width, 188), fill=(245, 240, 230))  # skirting board
    draw.rectangle((80, 30, 200, 182), fill=(240, 235, 225))  # door frame
    draw.rectangle((90, 40, 190, 182), fill=(125, 80, 45))
    draw.rectangle((102, 52, 178, 100), outline=(95, 60, 30), width=3)
    draw.rectangle((102, 112, 178, 170), outline=(95, 60, 30), width=3)
    draw.ellipse((170, 108, 182, 120), fill=(230, 190, 60))
    draw.rectangle((300, 55, 390, 115), fill=(90, 60, 40))  # picture
    draw.rectangle((308, 63, 382, 107), fill=(120, 180, 220))
    draw.polygon([(308, 107), (335, 78), (355, 95), (368, 84), (382, 107)], fill=(70, 130, 70))
    draw_table(draw, 520, 150)
    draw_window(draw, 760, 35)
    draw.rectangle((900, 150, 930, 185), fill=(170, 90, 60))  # plant pot
    for dx in (-22, -8, 6, 20):
        draw.ellipse((915 + dx - 12, 95, 915 + dx + 12, 155), fill=(60, 140, 70))
    return img


def draw_table(draw: ImageDraw.ImageDraw, cx: int, top: int) -> None:
    draw.rectangle((cx - 95, top, cx + 95, top + 14), fill=(120, 75, 40))
    for lx in (cx - 85, cx + 75):
        draw.rectangle((lx, top + 14, lx + 10, top + 80), fill=(100, 60, 30))
    draw.rectangle((cx - 20, top - 38, cx + 2, top), fill=(60, 120, 170))  # vase
    for dx in (-16, -9, -2):
        draw.ellipse((cx + dx - 8, top - 58, cx + dx + 8, top - 40), fill=(230, 80, 90))


def draw_window(draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    draw.rectangle((x - 30, y - 10, x + 170, y), fill=(140, 100, 60))  # curtain rail
    draw.rectangle((x, y, x + 140, y + 100), fill=(250, 250, 250))
    gradient(draw, (x + 8, y + 8, x + 132, y + 92), (120, 190, 245), (200, 235, 250))
    draw.ellipse((x + 90, y + 20, x + 114, y + 44), fill=(255, 220, 80))
    draw.line([(x + 70, y), (x + 70, y + 100)], fill=(250, 250, 250), width=6)
    draw.line([(x, y + 50), (x + 140, y + 50)], fill=(250, 250, 250), width=6)
    draw.polygon([(x - 28, y), (x + 5, y), (x - 5, y + 125), (x - 28, y + 125)], fill=(180, 60, 60))
    draw.polygon([(x + 135, y), (x + 168, y), (x + 168, y + 125), (x + 145, y + 125)], fill=(180, 60, 60))


def room_frames(seconds: float) -> Frames:
    world = draw_room(VW * 2)
    count = round(seconds * FPS)
    for i in range(count):
        x = round(smoothstep(i / (count - 1)) * (world.width - VW))
        yield world.crop((x, 0, x + VW, VH))


def draw_beach(draw: ImageDraw.ImageDraw, t: float) -> None:
    gradient(draw, (0, 0, VW, 140), (90, 170, 235), (200, 230, 250))
    draw.ellipse((370, 25, 420, 75), fill=(255, 225, 90))
    gradient(draw, (0, 140, VW, 200), (30, 120, 185), (60, 160, 200))
    for row, y in enumerate(range(148, 196, 12)):
        shift = (t * 40 + row * 23) % 60
        for x in range(-60, VW, 60):
            draw.arc((x + shift, y, x + shift + 30, y + 8), 200, 340, fill=(220, 240, 250), width=2)
    draw.polygon([(0, 200), (VW, 190), (VW, VH), (0, VH)], fill=(235, 210, 150))
    draw.line([(90, VH), (95, 200), (110, 120)], fill=(120, 80, 40), width=10)  # palm
    for ang in range(0, 360, 60):
        a = math.radians(ang + 10 * math.sin(t * 3))
        draw.line([(110, 120), (110 + 55 * math.cos(a), 128 + 30 * math.sin(a))], fill=(40, 140, 60), width=9)
    draw.pieslice((270, 150, 370, 210), 180, 360, fill=(220, 50, 50))  # umbrella
    draw.line([(320, 180), (320, 245)], fill=(80, 80, 80), width=3)


def draw_city(draw: ImageDraw.ImageDraw, t: float, rng: random.Random) -> None:
    gradient(draw, (0, 0, VW, VH), (10, 12, 40), (45, 40, 85))
    for _ in range(40):
        x, y = rng.randint(0, VW), rng.randint(0, 110)
        draw.point((x, y), fill=(230, 230, 255))
    draw.ellipse((390, 25, 430, 65), fill=(240, 240, 210))
    x = 0
    while x < VW:
        w, h = rng.randint(40, 75), rng.randint(90, 200)
        draw.rectangle((x, VH - 30 - h, x + w - 4, VH - 30), fill=(30, 32, 45))
        for wy in range(VH - 22 - h, VH - 40, 16):
            for wx in range(x + 6, x + w - 14, 13):
                lit = rng.random() < 0.45 + 0.05 * math.sin(t * 5 + wx)
                draw.rectangle((wx, wy, wx + 6, wy + 8), fill=(255, 210, 90) if lit else (50, 52, 65))
        x += w
    draw.rectangle((0, VH - 30, VW, VH), fill=(40, 40, 45))
    for lane, speed in ((VH - 22, 120), (VH - 10, -90)):
        cx = (t * speed) % (VW + 80) - 40
        draw.ellipse((cx, lane - 3, cx + 8, lane + 3), fill=(255, 250, 200) if speed > 0 else (255, 60, 60))


def draw_forest(draw: ImageDraw.ImageDraw, t: float, rng: random.Random) -> None:
    gradient(draw, (0, 0, VW, 150), (170, 215, 235), (225, 240, 225))
    gradient(draw, (0, 150, VW, VH), (70, 130, 55), (40, 95, 35))
    draw.polygon([(200, VH), (225, 150), (245, 150), (300, VH)], fill=(150, 120, 80))  # path
    for layer, (shade, scale) in enumerate((((40, 100, 60), 0.7), ((25, 80, 40), 1.0), ((15, 60, 30), 1.35))):
        for _ in range(7 + layer * 2):
            x, base = rng.randint(-20, VW + 20), 150 + layer * 40 + rng.randint(0, 25)
            if 180 < x < 290 and layer > 0:
                continue  # keep the path visible
            h, w = int(110 * scale), int(32 * scale)
            draw.rectangle((x - 4 * scale, base - 10, x + 4 * scale, base + 8), fill=(90, 60, 30))
            for k in range(3):
                top = base - h + k * h // 4
                half = w - k * 3
                draw.polygon([(x, top), (x - half, top + h // 2), (x + half, top + h // 2)], fill=shade)
    bx, wing = 40 + t * 90, 50 + 4 * math.sin(t * 12)  # a bird flapping across the sky
    draw.line([(bx - 10, wing), (bx, 56), (bx + 10, wing)], fill=(30, 30, 30), width=2)


def scenes_frames(per_scene: float) -> Frames:
    n = round(per_scene * FPS)
    for scene in range(3):
        for i in range(n):
            t = i / FPS
            img = Image.new("RGB", (VW, VH))
            draw = ImageDraw.Draw(img)
            rng = random.Random(SEED + scene)  # same layout every frame of a scene
            if scene == 0:
                draw_beach(draw, t)
            elif scene == 1:
                draw_city(draw, t, rng)
            else:
                draw_forest(draw, t, rng)
            yield img


@dataclass(frozen=True)
class Person:
    x: int
    facing: int  # +1 looks right, -1 looks left
    shirt: RGB
    girl: bool


def draw_person(draw: ImageDraw.ImageDraw, p: Person, ground: int, mouth_open: bool) -> None:
    x, f, skin, hair = p.x, p.facing, (250, 215, 180), (90, 55, 30) if p.girl else (40, 30, 25)
    draw.line([(x - 12, ground - 70), (x - 14, ground)], fill=(50, 50, 90), width=9)  # legs
    draw.line([(x + 12, ground - 70), (x + 14, ground)], fill=(50, 50, 90), width=9)
    if p.girl:
        draw.polygon([(x, ground - 150), (x - 42, ground - 55), (x + 42, ground - 55)], fill=p.shirt)
        draw.rectangle((x - 30, ground - 200, x + 30, ground - 140), fill=hair)  # long hair behind the head
    else:
        draw.rounded_rectangle((x - 28, ground - 150, x + 28, ground - 65), radius=10, fill=p.shirt)
    draw.line([(x, ground - 140), (x + f * 40, ground - 95)], fill=skin, width=8)  # arm toward the other
    draw.ellipse((x - 30, ground - 215, x + 30, ground - 150), fill=skin)
    draw.chord((x - 32, ground - 220, x + 32, ground - 165), 180, 360, fill=hair)
    if p.girl:
        bow = x - f * 38
        draw.ellipse((bow - 10, ground - 200, bow + 10, ground - 170), fill=(230, 80, 130))
    ex = x + f * 14
    draw.ellipse((ex - 4, ground - 190, ex + 4, ground - 182), fill=(20, 20, 20))
    mx = x + f * 16
    if mouth_open:
        draw.ellipse((mx - 7, ground - 172, mx + 7, ground - 160), fill=(150, 30, 40))
    else:
        draw.line([(mx - 7, ground - 166), (mx + 7, ground - 166)], fill=(150, 30, 40), width=3)


def park_background() -> Image.Image:
    img = Image.new("RGB", (VW, VH))
    draw = ImageDraw.Draw(img)
    gradient(draw, (0, 0, VW, 190), (130, 195, 240), (215, 235, 250))
    gradient(draw, (0, 190, VW, VH), (110, 180, 80), (80, 150, 60))
    for cx, cy in ((60, 40), (240, 30)):
        for dx, r in ((-25, 18), (0, 24), (25, 18)):
            draw.ellipse((cx + dx - r, cy - r, cx + dx + r, cy + r), fill=(250, 250, 250))
    draw.rectangle((430, 120, 444, 200), fill=(110, 70, 35))
    draw.ellipse((395, 60, 480, 145), fill=(60, 150, 70))
    return img


def dialogue_frames(seconds: float, tom: tuple[float, float], lily: tuple[float, float]) -> Frames:
    """Tom (left) and Lily (right) face each other; each mouth moves while that person talks."""
    bg = park_background()
    boy, girl = Person(150, 1, (40, 100, 200), girl=False), Person(330, -1, (225, 70, 110), girl=True)
    for i in range(round(seconds * FPS)):
        t = i / FPS
        frame = bg.copy()
        draw = ImageDraw.Draw(frame)
        flap = (i // 2) % 2 == 0
        draw_person(draw, boy, 255, flap and tom[0] <= t < tom[1])
        draw_person(draw, girl, 255, flap and lily[0] <= t < lily[1])
        yield frame


def table_scene() -> Image.Image:
    img = Image.new("RGB", (VW, VH))
    draw = ImageDraw.Draw(img)
    gradient(draw, (0, 0, VW, 170), (230, 225, 210), (205, 200, 185))
    gradient(draw, (0, 170, VW, VH), (150, 115, 80), (120, 90, 60))
    draw.polygon([(70, 150), (410, 150), (440, 175), (40, 175)], fill=(140, 90, 50))  # table top
    draw.rectangle((40, 175, 440, 188), fill=(110, 70, 35))
    for lx in (60, 410):
        draw.rectangle((lx, 188, lx + 14, 262), fill=(100, 62, 30))
    draw.ellipse((135, 100, 195, 160), fill=(215, 30, 35))  # red ball
    draw.ellipse((150, 112, 166, 124), fill=(245, 140, 140))
    draw.polygon([(275, 95), (335, 95), (327, 160), (283, 160)], fill=(40, 90, 210))  # blue cup
    draw.ellipse((275, 88, 335, 102), fill=(25, 60, 160))
    draw.arc((322, 108, 352, 140), 270, 90, fill=(40, 90, 210), width=7)
    return img


def still_frames(img: Image.Image, seconds: float) -> Frames:
    for _ in range(round(seconds * FPS)):
        yield img


# ------------------------------------------------------------------------------------------ video assets


def make_video_room(_: Audio, out: Path) -> None:
    encode_video(room_frames(6.0), out)


def make_video_scenes(_: Audio, out: Path) -> None:
    encode_video(scenes_frames(2.0), out)


def make_av_dialogue(audio: Audio, out: Path) -> None:
    total = 6.0
    tom = audio.speak("Hi, I'm Tom. Nice to meet you!", voice="en+m3", speed=150, pitch=40)
    lily = audio.speak("Hello Tom, I'm Lily.", voice="en+f3", speed=150, pitch=65)
    tom_start, gap = 0.4, 0.5
    lily_start = tom_start + wav_duration(tom) + gap
    lines = [audio.place(tom, tom_start, total), audio.place(lily, lily_start, total)]
    track = audio.mix([(line, 1.0) for line in lines])
    spans = ((tom_start, lily_start - gap), (lily_start, lily_start + wav_duration(lily)))
    encode_video(dialogue_frames(total, spans[0], spans[1]), out, audio=track)


def make_av_question(audio: Audio, out: Path) -> None:
    total = 5.0
    question = audio.speak("What is the colour of the ball on the table?", voice="en-us", speed=145)
    track = audio.mix([(audio.place(question, 0.5, total), 1.0)])
    encode_video(still_frames(table_scene(), total), out, audio=track)


# -------------------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Asset:
    name: str
    description: str
    build: Callable[[Audio, Path], None]


def build_assets() -> list[Asset]:
    return [
        Asset("speech_en.wav", f'English speech (espeak-ng): "{SPEECH_EN}"', make_speech_en),
        Asset("speech_zh.wav", f"Mandarin speech (espeak-ng): {SPEECH_ZH}", make_speech_zh),
        Asset(
            "song.wav",
            "12 s: four short sung lyric lines, one per bar, over a plucked C-G-Am-F backing.",
            make_song,
        ),
        Asset(
            "music.wav", "8 s instrumental: plucked melody and chords, bass and drums (120 bpm).", make_music
        ),
        Asset(
            "sound.wav", "5 s street scene: traffic rumble, a passing car, a siren and car horns.", make_sound
        ),
        Asset("mixed.wav", "8 s mix: a spoken radio-host line over music, then a doorbell.", make_mixed),
        Asset("caption.wav", "6 s ambience: rain, rolling thunder and a short spoken remark.", make_caption),
        Asset("function_call.wav", f'English spoken request: "{FUNCTION_CALL}"', make_function_call),
        Asset("ocr.png", "A cafe receipt with several lines of dark text (480x640).", make_ocr),
        Asset("grounding.png", "A bird on a branch next to a tree, with the sun (640x480).", make_grounding),
        Asset(
            "scene.png",
            "Flat landscape: storm clouds, lightning, rain, mountains, a small house.",
            make_scene,
        ),
        Asset(
            "math_sprinkler.png",
            "The project's own drawing of upstream's Image Math lawn-sprinkler problem: a 3-arm sprinkler "
            "seen from above (R = 15 cm, jets at θ to the tangent, Fig. P3.114).",
            make_math_sprinkler,
        ),
        Asset(
            "math_cost.png",
            "The project's own drawing of upstream's Image Math J(0) problem: the training set "
            "(1, 1), (2, 2), (3, 3) plotted as crosses on a 0-3 grid.",
            make_math_cost,
        ),
        Asset(
            "video_room.mp4",
            "6 s silent pan across a room: door (left), table, window (right).",
            make_video_room,
        ),
        Asset(
            "video_scenes.mp4",
            "6 s silent: beach, city at night, forest (2 s each, hard cuts).",
            make_video_scenes,
        ),
        Asset(
            "av_dialogue.mp4",
            "6 s with audio: Tom and Lily introduce themselves to each other.",
            make_av_dialogue,
        ),
        Asset(
            "av_question.mp4",
            "5 s with audio: red ball and blue cup on a table; asks the ball's colour.",
            make_av_question,
        ),
    ]


def write_docs(out: Path, assets: Sequence[Asset]) -> None:
    lines = [
        "# Demo assets",
        "",
        "Every file here is generated by `python scripts/make_assets.py` from open tools only "
        "(espeak-ng speech, sox synthesis, Pillow drawings, ffmpeg encoding). "
        "They are dedicated to the public domain (CC0 1.0, see LICENSE.md).",
        "",
        "`math_sprinkler.png` and `math_cost.png` are the project's own drawings of the two problems of "
        "upstream's Image Math cookbook, made from the problems' text; upstream's pictures are not bundled.",
        "",
        "| File | Content |",
        "| --- | --- |",
        *(f"| `{a.name}` | {a.description} |" for a in assets),
        "",
    ]
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")
    (out / "LICENSE.md").write_text(
        "# License\n\nAll files in this folder were generated by `scripts/make_assets.py` (synthetic speech, "
        "synthesised sound and drawn pictures; no third-party recordings or images).\n\n"
        "They are released under CC0 1.0 Universal (public domain dedication): "
        "https://creativecommons.org/publicdomain/zero/1.0/ - free to use, modify and redistribute "
        "for any purpose, without attribution.\n",
        encoding="utf-8",
    )


# ------------------------------------------------------------------------------------------ verification


def probe(path: Path) -> tuple[float, str, bool]:
    """Duration (s), a short stream summary and whether an audio stream is present (ffprobe)."""
    if path.suffix == ".png":
        with Image.open(path) as img:
            return 0.0, f"PNG {img.width}x{img.height} {img.mode}", False
    proc = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type,codec_name,pix_fmt,"
         "width,height,sample_rate,channels", "-of", "json", str(path)],
        capture_output=True, check=True, text=True,
    )  # fmt: skip
    info = json.loads(proc.stdout)
    parts, has_audio = [], False
    for s in info.get("streams", []):
        if s.get("codec_type") == "video":
            parts.append(f"{s['codec_name']} {s.get('pix_fmt')} {s.get('width')}x{s.get('height')}")
        elif s.get("codec_type") == "audio":
            has_audio = True
            parts.append(f"{s['codec_name']} {s.get('sample_rate')}Hz {s.get('channels')}ch")
    return float(info["format"].get("duration", 0.0)), " + ".join(parts), has_audio


def verify(out: Path, assets: Sequence[Asset]) -> list[str]:
    """Print a table of the generated files and return a list of problems (empty when all is well)."""
    problems: list[str] = []
    total = 0
    print(f"{'file':<20} {'size':>9} {'dur (s)':>8}  streams")
    for asset in assets:
        path = out / asset.name
        if not path.is_file():
            problems.append(f"{asset.name}: missing")
            continue
        size = path.stat().st_size
        total += size
        dur, summary, has_audio = probe(path)
        print(f"{asset.name:<20} {size / 1024:>7.1f}kB {dur:>8.2f}  {summary}")
        if asset.name.startswith("av_") and not has_audio:
            problems.append(f"{asset.name}: no audio stream")
        if asset.name.startswith("video_") and has_audio:
            problems.append(f"{asset.name}: unexpected audio stream")
    print(f"{'total':<20} {total / 1024:>7.1f}kB")
    if total > MAX_TOTAL_BYTES:
        problems.append(f"total size {total / 1e6:.2f} MB exceeds {MAX_TOTAL_BYTES / 1e6:.1f} MB")
    return problems


# ------------------------------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    repo = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=repo / "assets", help="output folder (default: repo assets/)"
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="rebuild only these files (e.g. music.wav)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        require_tools()
    except MissingToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    assets = build_assets()
    unknown = set(args.only or ()) - {a.name for a in assets}
    if unknown:
        print(f"error: unknown asset(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    selected = [a for a in assets if args.only is None or a.name in args.only]
    with tempfile.TemporaryDirectory(prefix="make_assets_") as tmp:
        audio = Audio(Path(tmp))
        for asset in selected:
            print(f"building {asset.name} ...", flush=True)
            asset.build(audio, out / asset.name)
    write_docs(out, assets)
    problems = verify(out, selected)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
