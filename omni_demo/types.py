"""Plain data shared by the engine and the UI: requests in, stream events out.

Nothing here imports torch, transformers or gradio, so a remote back-end (vLLM-Omni, an
OpenAI-compatible server) can speak the same language as the local engine.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

MediaKind = Literal["audio", "image", "video"]
SAMPLE_RATE = 24_000  # Qwen3-Omni speaks at 24 kHz


class ModelKind(str, enum.Enum):
    """The three checkpoints of the family; detected from the loaded files, never from the name."""

    INSTRUCT = "instruct"  # thinker + talker: text and speech out
    THINKING = "thinking"  # thinker only, reasons inside <think>...</think>
    CAPTIONER = "captioner"  # thinker only, one audio clip in, no text prompt


@dataclass(frozen=True)
class Capabilities:
    """What the loaded model can do; the UI shows only the controls that apply."""

    kind: ModelKind
    voices: tuple[str, ...] = ()  # from talker_config.speaker_id; empty without a talker
    text_input: bool = True  # the Captioner takes no text prompt (and one audio clip, single-turn)
    # The chat template itself opens <think> in the generation prompt, so a reply carries only </think>.
    # False for the Thinking checkpoint: its model writes <think> itself.
    think_in_prompt: bool = False

    @property
    def speech_output(self) -> bool:
        return bool(self.voices)

    @property
    def default_voice(self) -> str | None:
        """generate()'s own default speaker (Ethan) when the checkpoint has it, else its first voice."""
        for voice in self.voices:
            if voice.lower() == "ethan":
                return voice
        return self.voices[0] if self.voices else None

    @property
    def reasons(self) -> bool:
        return self.kind is ModelKind.THINKING


@dataclass(frozen=True)
class ModelInfo:
    """What was loaded, for the start-up line, the banner and the API."""

    name: str  # hub id or folder, or "preview"
    capabilities: Capabilities
    device: str  # "cuda:0", "cpu", ...
    dtype: str
    is_preview: bool
    load_seconds: float
    speech_freed_gib: float | None = None  # --no-speech: what disable_talker() freed; None when speech is on
    sampling: Sampling | None = None  # the checkpoint's own sampling (a Thinking generation_config)


@dataclass(frozen=True)
class Media:
    kind: MediaKind
    path: str  # a local file the server may read (an upload, a recording or a shipped asset)


@dataclass(frozen=True)
class Turn:
    role: Literal["user", "assistant"]
    text: str = ""  # written after the media
    media: tuple[Media, ...] = ()
    # Written before the media: a problem stated above its picture and answered below it (text, picture,
    # text), as upstream's Image Math cookbook asks; "" in an ordinary turn (media first, text last).
    text_before: str = ""


@dataclass(frozen=True)
class Sampling:
    """Decoding settings. temperature 0 means greedy decoding (the cookbooks' setting); the defaults
    are the official web demo's sliders, which the Captioner's card also recommends."""

    temperature: float = 0.6
    top_p: float = 0.95
    top_k: int = 20
    max_new_tokens: int = 512

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0


@dataclass(frozen=True)
class Request:
    """One generation: the whole conversation so far, ending with the user's new turn."""

    turns: tuple[Turn, ...]
    system_prompt: str = ""
    voice: str | None = None  # None: the model's default voice
    return_audio: bool = True
    use_audio_in_video: bool = False
    sampling: Sampling = field(default_factory=Sampling)
    # Functions the model may call, in the chat template's ``tools=`` form; the engine hands them to
    # the processor's own chat template, which writes them into the system turn.
    tools: tuple[dict, ...] = ()
    # The talker picks each speech code greedily (upstream's Audio-Visual Dialogue notebook passes
    # talker_do_sample=False); False leaves the engine's own talker setting (sampled).
    talker_greedy: bool = False


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Preparing:
    """Sent a few times a second while the media is decoded and the processor runs, before the GPU.

    It carries nothing to show; a consumer passes control back to its caller so that a Stop (which can
    only close a generator between two events) ends the request before the prefill.
    """


@dataclass(frozen=True)
class Queued:
    """Sent while the request waits for the GPU behind others: at once, whenever its place in the line
    changes, and a few times a second in between (so that a Stop ends a waiting request at once, as
    with `Preparing`). `ahead`: requests waiting before this one (0: it runs next).

    A consumer shows the place when it changes (`omni_demo.engine.admission.waiting_sentence`); the
    stream's first text or audio means the answer has started.
    """

    ahead: int


@dataclass(frozen=True)
class AudioChunk:
    samples: np.ndarray  # float32 mono in [-1, 1]
    sample_rate: int = SAMPLE_RATE


def underrun(chunks: list[tuple[float, int]], rate: int = SAMPLE_RATE) -> float | None:
    """Seconds a player waits for audio after starting at the first chunk and playing in real time
    (0 when every chunk came before the audio before it had finished playing).

    `chunks`: (arrival time in seconds, samples) in arrival order.
    """
    if not chunks:
        return None
    waited = 0.0
    ends = chunks[0][0]  # when the audio received so far has been played
    for arrival, samples in chunks:
        if arrival > ends:
            waited += arrival - ends
            ends = arrival
        ends += samples / rate
    return waited


@dataclass(frozen=True)
class Timings:
    """Measured in the engine for every reply; None where it does not apply."""

    first_token_s: float | None = None  # request start -> first text delta
    tokens_per_s: float | None = None  # thinker decode speed (after the first token)
    first_audio_s: float | None = None  # request start -> first audio chunk
    speech_s: float | None = None  # seconds of speech produced
    total_s: float = 0.0
    text_tokens: int = 0
    input_tokens: dict[str, int] = field(default_factory=dict)  # tokens per modality (+ "total")
    peak_gpu_gib: float | None = None  # CUDA only
    engine: str | None = None  # which local engine made the reply: "fast" or "plain"
    underrun_s: float | None = None  # speech only: see `underrun`

    @property
    def real_time_factor(self) -> float | None:
        """Generation time / seconds of speech (below 1 is faster than real time)."""
        if not self.speech_s:
            return None
        return self.total_s / self.speech_s

    def headline(self) -> str:
        """The two numbers a listener feels: when the first sound came, and how long it all took."""
        first = self.first_audio_s if self.first_audio_s is not None else self.first_token_s
        label = "first audio" if self.first_audio_s is not None else "first token"
        lead = f"{label} {first:.2f} s · " if first is not None else ""
        return f"{lead}total {self.total_s:.1f} s"

    def summary(self) -> str:
        """One line for the UI and the log."""
        parts: list[str] = []
        if self.first_token_s is not None:
            parts.append(f"first token {self.first_token_s:.2f} s")
        if self.tokens_per_s is not None:
            parts.append(f"{self.tokens_per_s:.1f} tok/s ({self.text_tokens} tokens)")
        if self.first_audio_s is not None:
            parts.append(f"first audio {self.first_audio_s:.2f} s")
        if self.speech_s:
            parts.append(f"speech {self.speech_s:.1f} s (RTF {self.real_time_factor:.2f})")
        if self.underrun_s is not None:
            parts.append(f"underrun {self.underrun_s:.2f} s")
        parts.append(f"total {self.total_s:.2f} s")
        if self.peak_gpu_gib is not None:
            parts.append(f"peak GPU {self.peak_gpu_gib:.1f} GiB")
        if self.input_tokens:
            sizes = ", ".join(f"{k} {v}" for k, v in self.input_tokens.items())
            parts.append(f"input tokens: {sizes}")
        if self.engine:
            parts.append(f"{self.engine} engine")
        return " · ".join(parts)

    def as_dict(self) -> dict[str, object]:
        return {
            "first_token_s": self.first_token_s,
            "tokens_per_s": self.tokens_per_s,
            "first_audio_s": self.first_audio_s,
            "speech_s": self.speech_s,
            "real_time_factor": self.real_time_factor,
            "total_s": self.total_s,
            "text_tokens": self.text_tokens,
            "engine": self.engine,
            "input_tokens": dict(self.input_tokens),
            "peak_gpu_gib": self.peak_gpu_gib,
        }


@dataclass(frozen=True)
class Result:
    """The last event of every stream: the whole reply."""

    text: str
    audio: np.ndarray | None  # float32 mono, the whole speech (the concatenated chunks)
    timings: Timings
    sample_rate: int = SAMPLE_RATE
    notices: tuple[
        str, ...
    ] = ()  # `omni_demo.i18n.Sentence`s, e.g. "The media of 2 older turns was left out…"


Event = TextDelta | AudioChunk | Preparing | Queued | Result
