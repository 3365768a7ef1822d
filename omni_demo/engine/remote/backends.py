"""What each remote service can do, and how one `Request` is written for it.

Requests follow each service's documented form:

- vLLM-Omni: `/v1/chat/completions` with `modalities` (["text"] or ["text", "audio"]), the voice as
  `speaker` and the per-stage sampling as `sampling_params_list` (thinker, talker, code2wav) in the
  body, and `mm_processor_kwargs.use_audio_in_video`; media as `image_url` / `audio_url` /
  `video_url` parts (vllm-omni `examples/online_serving/qwen3_omni/
  openai_chat_completion_client_for_multimodal_generation.py`, whose talker and code2wav stage
  settings are followed below: the talker samples as the checkpoint's generation_config.json says).
- vLLM: the same parts and `mm_processor_kwargs`, text out only; `top_k` in the body (vLLM's
  OpenAI-compatible server docs, "Extra parameters").
- DashScope (`compatible-mode/v1`): `stream=True` is mandatory, `modalities`, `audio={"voice": ...,
  "format": "wav"}`; audio as an `input_audio` part whose `data` is a data URL, images as
  `image_url`, videos as `video_url`; text plus at most one other modality per message (Alibaba
  Cloud Model Studio, Qwen-Omni guide).

Media is sent inline as base64 data URLs (the server never reads this machine's files). Audio is
decoded here and sent as 16 kHz mono WAV, the rate the model hears, so any recording the page takes
(webm, m4a, ...) reaches the server in a form every service reads; images and videos go as they are.
"""

from __future__ import annotations

import base64
import io
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import soundfile as sf

from omni_demo import media
from omni_demo.conversation import ModelInput
from omni_demo.engine.facts import QWEN3_OMNI, ModelFacts
from omni_demo.errors import InputError
from omni_demo.types import Capabilities, ModelKind, Request

MB = 1024 * 1024
# Voices of DashScope's qwen3-omni-flash (Model Studio, Qwen-Omni guide, "Supported voices").
DASHSCOPE_VOICES = (
    "Cherry",
    "Ethan",
    "Nofish",
    "Jennifer",
    "Ryan",
    "Katerina",
    "Elias",
    "Jada",
    "Dylan",
    "Sunny",
    "Li",
    "Marcus",
    "Roy",
    "Peter",
    "Rocky",
    "Kiki",
    "Eric",
)


def model_voices(facts: ModelFacts) -> tuple[str, ...]:
    """The talker's speakers as a vLLM-Omni page offers them: the default speaker (Ethan) first, then
    the others in the checkpoint's order."""
    default = Capabilities(ModelKind.INSTRUCT, facts.voices).default_voice
    return tuple(sorted(facts.voices, key=lambda voice: voice != default))


def _stage_sampling(facts: ModelFacts, talker_greedy: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """vLLM-Omni's talker and code2wav stages, as its example client sets them for Qwen3-Omni; the
    talker samples as the checkpoint says (its top_p, 1.0, is vLLM's default and is not sent)."""
    talker = facts.talker
    talker_stage = {
        "temperature": 0.0 if talker_greedy else talker.temperature,  # 0: greedy
        "top_k": talker.top_k,
        "max_tokens": talker.max_new_tokens,
        "detokenize": False,
        "repetition_penalty": talker.repetition_penalty,
        "stop_token_ids": [facts.codec_eos_token_id],
    }
    code2wav_stage = {
        "temperature": 0.0,
        "top_p": 1.0,
        "top_k": -1,
        "max_tokens": talker.max_new_tokens * facts.code_groups,  # every code of the longest speech
        "detokenize": True,
        "repetition_penalty": 1.1,
    }
    return talker_stage, code2wav_stage


@dataclass(frozen=True)
class Backend:
    """One remote service: its name on the page, defaults, and what it accepts."""

    name: str  # the --backend value
    title: str  # how the page names it
    default_base: str
    default_model: str
    speaks: bool  # can return speech at all
    voices: tuple[str, ...] | None  # the service's own voices; None: the served model's talker's
    max_inline_mb: float  # per attached file, before base64 (about 4/3 bigger on the wire)
    one_modality_per_message: bool = False
    key_env: str = "OMNI_API_KEY"  # where the key is read when --api-key is not given


BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend(
            "vllm-omni",
            "vLLM-Omni",
            "http://127.0.0.1:8091/v1",
            "Qwen/Qwen3-Omni-30B-A3B-Instruct",
            speaks=True,
            voices=None,
            max_inline_mb=100,
        ),
        Backend(
            "vllm",
            "vLLM",
            "http://127.0.0.1:8000/v1",
            "Qwen/Qwen3-Omni-30B-A3B-Instruct",
            speaks=False,
            voices=(),
            max_inline_mb=100,
        ),
        Backend(
            "dashscope",
            "DashScope",
            "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
            "qwen3-omni-flash",
            speaks=True,
            voices=DASHSCOPE_VOICES,
            max_inline_mb=10,  # Model Studio refuses larger base64 inputs
            one_modality_per_message=True,
            key_env="DASHSCOPE_API_KEY",
        ),
    )
}


def kind_from_name(name: str) -> ModelKind:
    """A remote model's kind: the server shows no files, so its served name is the only evidence."""
    lowered = name.lower()
    if "captioner" in lowered:
        return ModelKind.CAPTIONER
    if "thinking" in lowered:
        return ModelKind.THINKING
    return ModelKind.INSTRUCT


def check_request(backend: Backend, model_input: ModelInput, request: Request) -> None:
    """What the service refuses, said before anything is sent."""
    if backend.one_modality_per_message:
        for message in model_input.messages:
            kinds = {part["type"] for part in message["content"] if part["type"] != "text"}  # type: ignore[index, union-attr]
            if len(kinds) > 1:
                raise InputError("remote.one_media_kind", service=backend.title)
    limit = backend.max_inline_mb * MB
    for item in model_input.media:
        size = os.path.getsize(item.path)
        if size > limit:
            name = Path(item.path).name
            raise InputError(
                "remote.file_too_big",
                name=name,
                size=f"{size / MB:.0f}",
                service=backend.title,
                limit=f"{backend.max_inline_mb:.0f}",
            )


def data_url(path: str, kind: str, max_seconds: float) -> str:
    """The file as a base64 data URL; audio becomes 16 kHz mono WAV first."""
    if kind == "audio":
        buffer = io.BytesIO()
        samples = media.load_audio(path, max_seconds)
        sf.write(buffer, samples, media.AUDIO_RATE, format="WAV", subtype="PCM_16")
        raw, mime = buffer.getvalue(), "audio/wav"
    else:
        raw = Path(path).read_bytes()
        mime = mimetypes.guess_type(path)[0] or ("image/png" if kind == "image" else "video/mp4")
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"


def _part(backend: Backend, part: dict[str, Any], max_seconds: float) -> dict[str, Any]:
    kind = part["type"]
    if kind == "text":
        return {"type": "text", "text": part["text"]}
    url = data_url(part[kind], kind, max_seconds)
    if kind == "audio":
        if backend.name == "dashscope":
            return {"type": "input_audio", "input_audio": {"data": url, "format": "wav"}}
        return {"type": "audio_url", "audio_url": {"url": url}}
    field = "image_url" if kind == "image" else "video_url"
    return {"type": field, field: {"url": url}}


def messages(backend: Backend, model_input: ModelInput, max_seconds: float) -> list[dict[str, Any]]:
    """The chat messages of the request, media inline."""
    written: list[dict[str, Any]] = []
    for message in model_input.messages:
        parts: list[dict[str, Any]] = message["content"]  # type: ignore[assignment]
        if message["role"] in ("system", "assistant"):
            written.append({"role": message["role"], "content": "".join(p["text"] for p in parts)})
        else:
            written.append({"role": "user", "content": [_part(backend, p, max_seconds) for p in parts]})
    return written


def body(
    backend: Backend, request: Request, speak: bool, voice: str | None, facts: ModelFacts = QWEN3_OMNI
) -> dict[str, Any]:
    """The create() arguments besides model, messages and stream; `facts`: the served model's."""
    s = request.sampling
    temperature = 0.0 if s.greedy else s.temperature
    args: dict[str, Any] = {
        "temperature": temperature,
        "max_tokens": s.max_new_tokens,
        "stream_options": {"include_usage": True},
    }
    extra: dict[str, Any] = {}
    if request.tools:
        # OpenAI's form; the server's own chat template writes them into the system turn. "none": the
        # demo reads the <tool_call> blocks from the text itself, so no server-side tool parser is needed.
        args["tools"] = [_as_openai_tool(tool) for tool in request.tools]
        args["tool_choice"] = "none"
    if not s.greedy:
        args["top_p"] = s.top_p
        extra["top_k"] = s.top_k
    if backend.name in ("vllm", "vllm-omni"):
        extra["mm_processor_kwargs"] = {"use_audio_in_video": request.use_audio_in_video}
    if backend.name == "vllm-omni":
        args["modalities"] = ["text", "audio"] if speak else ["text"]
        thinker = {
            "temperature": temperature,
            "top_p": 1.0 if s.greedy else s.top_p,
            "top_k": -1 if s.greedy else s.top_k,
            "max_tokens": s.max_new_tokens,
            "stop_token_ids": [facts.im_end_token_id],
        }
        extra["sampling_params_list"] = [thinker, *_stage_sampling(facts, request.talker_greedy)]
        if speak and voice:
            extra["speaker"] = voice.lower()
    if backend.name == "dashscope":
        args["modalities"] = ["text", "audio"] if speak else ["text"]
        if speak:
            args["audio"] = {
                "voice": voice or (backend.voices[0] if backend.voices else None),
                "format": "wav",
            }
    args["extra_body"] = extra
    return args


def _as_openai_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A tool as the chat template takes it (a function's JSON schema) -> OpenAI's `tools` entry."""
    if tool.get("type") == "function" and "function" in tool:
        return tool
    return {"type": "function", "function": tool}
