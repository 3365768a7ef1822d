"""What the Qwen3-Omni checkpoint's own files say about it, read in one place.

config.json gives the samples one speech frame makes, the tokens that end the thinker's text and the
talker's speech, and the talker's voices; generation_config.json gives how the talker samples. The
local engine reads both from the loaded model (`of_model`). A remote back-end reads the served
checkpoint's files when its folder is on this machine (`of_served`), and otherwise takes the published
values (`QWEN3_OMNI`), which a test checks against what is read from the preview model.

The speech's sample rate is not in these files (the model card's 24 kHz): it is `types.SAMPLE_RATE`.
Plain data and JSON only: nothing here imports torch or transformers, so the remote side can use it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TalkerDecoding:
    """How the talker samples its speech codes: generation_config.json's `talker_*` entries."""

    temperature: float
    top_k: int
    top_p: float
    repetition_penalty: float
    max_new_tokens: int  # speech frames at most (4096 frames of 80 ms: 5.5 min)

    def sampling(self) -> dict[str, float]:
        """The sampling settings alone, under the talker's own generate() names."""
        return {
            "temperature": self.temperature,
            "top_k": self.top_k,
            "top_p": self.top_p,
            "repetition_penalty": self.repetition_penalty,
        }


@dataclass(frozen=True)
class ModelFacts:
    samples_per_frame: int  # waveform samples per speech frame: code2wav's whole upsampling
    code_groups: int  # codes per speech frame (the talker's first and the code predictor's residuals)
    im_end_token_id: int  # <|im_end|>: where the thinker's text ends
    codec_eos_token_id: int  # the talker's end-of-speech code
    voices: tuple[str, ...]  # the talker's speakers, capitalised for the page; empty without a talker
    talker: TalkerDecoding


# The published Qwen3-Omni values, for where no checkpoint can be read (a remote server's model): the
# config.json and generation_config.json of Qwen/Qwen3-Omni-30B-A3B-Instruct on the Hugging Face Hub
# (the Thinking and Captioner checkpoints share its thinker's tokens). A test checks that the values
# read from the preview model, which is built with the real configs, equal these.
QWEN3_OMNI = ModelFacts(
    samples_per_frame=1920,  # code2wav_config: upsample_rates 8·5·4·3 × upsampling_ratios 2·2
    code_groups=16,  # talker_config.num_code_groups
    im_end_token_id=151645,  # im_end_token_id
    codec_eos_token_id=2150,  # talker_config.codec_eos_token_id
    voices=("Chelsie", "Ethan", "Aiden"),  # talker_config.speaker_id: chelsie, ethan, aiden
    talker=TalkerDecoding(
        temperature=0.9,  # talker_temperature
        top_k=50,  # talker_top_k
        top_p=1.0,  # talker_top_p
        repetition_penalty=1.05,  # talker_repetition_penalty
        max_new_tokens=4096,  # talker_max_new_tokens
    ),
)


def voices(speaker_ids: Iterable[str]) -> tuple[str, ...]:
    """talker_config.speaker_id's names ("ethan") as the page shows them ("Ethan")."""
    return tuple(name.capitalize() for name in speaker_ids)


def from_configs(config: Mapping[str, Any], generation: Mapping[str, Any]) -> ModelFacts:
    """The facts in config.json and generation_config.json (as dicts). A value a file leaves out is the
    published one, as transformers' generate() takes the same numbers when none are given."""
    talker = config.get("talker_config") or {}
    code2wav = config.get("code2wav_config") or {}
    rates = [*code2wav.get("upsample_rates", ()), *code2wav.get("upsampling_ratios", ())]
    published = QWEN3_OMNI.talker

    def decoding(name: str) -> Any:
        value = generation.get(f"talker_{name}")
        return getattr(published, name) if value is None else value

    return ModelFacts(
        samples_per_frame=math.prod(rates) if rates else QWEN3_OMNI.samples_per_frame,
        code_groups=int(talker.get("num_code_groups", QWEN3_OMNI.code_groups)),
        im_end_token_id=int(config.get("im_end_token_id", QWEN3_OMNI.im_end_token_id)),
        codec_eos_token_id=int(talker.get("codec_eos_token_id", QWEN3_OMNI.codec_eos_token_id)),
        voices=voices(talker.get("speaker_id") or {}),
        talker=TalkerDecoding(
            temperature=float(decoding("temperature")),
            top_k=int(decoding("top_k")),
            top_p=float(decoding("top_p")),
            repetition_penalty=float(decoding("repetition_penalty")),
            max_new_tokens=int(decoding("max_new_tokens")),
        ),
    )


def of_model(model: Any) -> ModelFacts:
    """The facts of a loaded transformers model: its config and its generation config."""
    generation = getattr(model, "generation_config", None)
    return from_configs(model.config.to_dict(), generation.to_dict() if generation is not None else {})


def of_folder(folder: Path) -> ModelFacts:
    """The facts in a checkpoint folder's config.json (and generation_config.json, where it has one)."""
    generation = folder / "generation_config.json"
    return from_configs(
        json.loads((folder / "config.json").read_text(encoding="utf-8")),
        json.loads(generation.read_text(encoding="utf-8")) if generation.is_file() else {},
    )


def of_served(model: str) -> ModelFacts:
    """The facts of a served model: its files when the served name is a checkpoint folder on this
    machine (vLLM serves a folder under its path), else the published values."""
    folder = Path(model).expanduser()
    return of_folder(folder) if (folder / "config.json").is_file() else QWEN3_OMNI
