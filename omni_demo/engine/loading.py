"""Load a checkpoint (or the preview model) once per process and detect what kind it is."""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from omni_demo.config import DEFAULT_GPU_MODEL, PREVIEW, Settings
from omni_demo.engine.local import EngineOptions, LocalEngine
from omni_demo.engine.preview import VARIANTS, ensure_preview
from omni_demo.errors import ModelLoadError
from omni_demo.types import Capabilities, ModelInfo, ModelKind

log = logging.getLogger(__name__)


def detect_capabilities(config: Any, processor: Any) -> Capabilities:
    """Kind from the loaded files, never from the name.

    A talker means Instruct. Without one, the Thinking checkpoint's chat template opens a <think>
    block in its generation prompt; the Captioner's does not.
    """
    talker = getattr(config, "talker_config", None)
    if config.enable_audio_output and talker is not None:
        voices = tuple(name.capitalize() for name in talker.speaker_id)
        return Capabilities(kind=ModelKind.INSTRUCT, voices=voices)
    if _opens_thinking(processor):
        return Capabilities(kind=ModelKind.THINKING)
    return Capabilities(kind=ModelKind.CAPTIONER, text_input=False)


def _opens_thinking(processor: Any) -> bool:
    probe = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    prompt = processor.apply_chat_template(probe, add_generation_prompt=True, tokenize=False)
    return prompt.rstrip().endswith("<think>")


def resolve_model(settings: Settings, cuda: bool) -> tuple[str, Path | str]:
    """(display name, what from_pretrained loads). `preview`, `preview-thinking`, `preview-captioner`."""
    name = settings.model or (DEFAULT_GPU_MODEL if cuda else PREVIEW)
    if name == PREVIEW or name.startswith(PREVIEW + "-"):
        variant = name.removeprefix(PREVIEW).lstrip("-") or "instruct"
        if variant not in VARIANTS:
            raise ModelLoadError(
                f"Unknown preview model “{name}”; use preview, preview-thinking or preview-captioner."
            )
        return name, ensure_preview(settings.cache_dir, variant)  # type: ignore[arg-type]
    return name, name


def _load_pretrained(source: Path | str, cuda: bool) -> tuple[Any, Any]:
    import torch
    from transformers import Qwen3OmniMoeForConditionalGeneration, Qwen3OmniMoeProcessor

    kwargs: dict[str, Any] = {"dtype": torch.float32}
    if cuda:
        kwargs = {"dtype": torch.bfloat16, "device_map": "auto", "attn_implementation": _attention()}
    try:
        model = Qwen3OmniMoeForConditionalGeneration.from_pretrained(source, **kwargs).eval()
        processor = Qwen3OmniMoeProcessor.from_pretrained(source)
    except (OSError, ValueError) as exc:
        log.debug("load failed", exc_info=True)
        raise ModelLoadError(
            f"Could not load the checkpoint “{source}”: give a Hugging Face id such as {DEFAULT_GPU_MODEL}, "
            "a local folder with its config.json and weights, or --model preview."
        ) from exc
    return model, processor


def _attention() -> str:
    """flash-attention 2 only where it imports (it has no PyPI wheels); sdpa otherwise."""
    try:
        import flash_attn  # noqa: F401
    except ImportError:
        return "sdpa"
    return "flash_attention_2"


def _patch_known_bugs(model: Any) -> None:
    # transformers 5.16-5.24: with audio input and speech output, the talker's get_rope_index reads
    # config.audio_config, which only the thinker config has (AttributeError otherwise).
    if model.has_talker and not hasattr(model.talker.config, "audio_config"):
        model.talker.config.audio_config = model.config.thinker_config.audio_config


def _options(settings: Settings, is_preview: bool, model: Any) -> EngineOptions:
    options = EngineOptions(
        max_clip_seconds=settings.max_clip_seconds,
        max_media_turns=settings.max_media_turns,
        engine=_engine_kind(settings, model),
    )
    # Random weights never emit the end code: speak ~1.25 frames (0.1 s) per text token.
    return replace(options, speech_frames_per_token=1.25) if is_preview else options


def _engine_kind(settings: Settings, model: Any) -> str:
    """The fast engine keeps each loop's caches and graphs on one device; a model split over several
    GPUs (device_map="auto" on smaller cards) runs the plain generate() instead."""
    devices = {p.device for p in model.parameters()}
    if settings.engine == "fast" and len(devices) > 1:
        log.warning(
            "the model spans %d devices; the fast engine needs one: using --engine plain", len(devices)
        )
        return "plain"
    return settings.engine


def load_engine(settings: Settings) -> LocalEngine:
    """Load the model named by the settings. Raises ModelLoadError with one sentence on failure."""
    import torch

    cuda = torch.cuda.is_available()
    started = time.perf_counter()
    name, source = resolve_model(settings, cuda)
    model, processor = _load_pretrained(source, cuda)
    _patch_known_bugs(model)
    if not cuda:
        torch.set_num_threads(max(1, torch.get_num_threads()))
    is_preview = name.startswith(PREVIEW)
    info = ModelInfo(
        name=name,
        capabilities=detect_capabilities(model.config, processor),
        device=str(model.device),
        dtype=str(model.dtype).removeprefix("torch."),
        is_preview=is_preview,
        load_seconds=time.perf_counter() - started,
    )
    return LocalEngine(model, processor, info, _options(settings, is_preview, model))


@functools.lru_cache(maxsize=1)
def shared_engine(settings: Settings) -> LocalEngine:
    """The process-wide model singleton: loaded on first use, shared by every browser session."""
    return load_engine(settings)
