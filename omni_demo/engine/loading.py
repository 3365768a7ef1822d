"""Load a checkpoint (or the preview model) once per process and detect what kind it is."""

from __future__ import annotations

import ast
import functools
import logging
import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

from omni_demo.config import DEFAULT_GPU_MODEL, PREVIEW, Settings
from omni_demo.engine import facts
from omni_demo.engine.budget import default_batch, default_limit
from omni_demo.engine.local import EngineOptions, LocalEngine
from omni_demo.engine.preview import VARIANTS, ensure_preview
from omni_demo.errors import ModelLoadError
from omni_demo.presets import DEFAULT_SAMPLING
from omni_demo.types import Capabilities, ModelInfo, ModelKind, Sampling

log = logging.getLogger(__name__)


def detect_capabilities(
    config: Any,
    processor: Any,
    name: str = "",
    has_talker: bool | None = None,
    kind: ModelKind | None = None,
) -> Capabilities:
    """Kind from the loaded files; `kind` (the --kind flag) overrides it.

    A talker means Instruct. Without one, a chat template that handles thinking means Thinking: the
    Thinking checkpoint's generation prompt is a plain "<|im_start|>assistant\\n" (the model writes
    <think> itself) and `enable_thinking=False` makes it write an empty <think></think> block; other
    templates open <think> in the prompt. The Captioner's files carry no mark of their own, so it is
    chosen only on positive evidence: --kind captioner, or "captioner" in the checkpoint's name.
    Anything else without a talker is served as a text-only Instruct model.
    """
    talker = getattr(config, "talker_config", None)
    speaks = has_talker if has_talker is not None else bool(config.enable_audio_output and talker is not None)
    opens, handles = _thinking_template(processor)
    detected = (
        ModelKind.INSTRUCT
        if speaks
        else ModelKind.THINKING
        if opens or handles
        else ModelKind.CAPTIONER
        if "captioner" in name.lower()
        else ModelKind.INSTRUCT
    )
    chosen = kind or detected
    voices = facts.voices(talker.speaker_id) if speaks and talker is not None else ()
    if chosen is not ModelKind.INSTRUCT:
        voices = ()  # only the Instruct checkpoint has a talker
    return Capabilities(
        kind=chosen,
        voices=voices,
        text_input=chosen is not ModelKind.CAPTIONER,
        think_in_prompt=chosen is ModelKind.THINKING and opens,
    )


def _thinking_template(processor: Any) -> tuple[bool, bool]:
    """(the generation prompt opens <think>, the template writes an empty think block when told not to)."""
    probe = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]

    def render(**extra: Any) -> str:
        try:
            return processor.apply_chat_template(probe, add_generation_prompt=True, tokenize=False, **extra)
        except Exception:  # a template that can't render the probe handles nothing
            log.debug("chat template probe failed", exc_info=True)
            return ""

    plain = render()
    # Only a template that reads the flag gets it: transformers logs a note about any other keyword.
    off = render(enable_thinking=False) if "enable_thinking" in str(processor.chat_template) else plain
    opens = plain.rstrip().endswith("<think>")
    handles = off != plain and "</think>" in off.removeprefix(plain)
    return opens, handles


def resolve_model(settings: Settings, cuda: bool) -> tuple[str, Path | str]:
    """(display name, what from_pretrained loads). `preview`, `preview-thinking`, `preview-captioner`."""
    name = settings.model or (DEFAULT_GPU_MODEL if cuda else PREVIEW)
    if name == PREVIEW or name.startswith(PREVIEW + "-"):
        variant = name.removeprefix(PREVIEW).lstrip("-") or "instruct"
        if variant not in VARIANTS:
            raise ModelLoadError("load.unknown_preview", name=name)
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
        raise ModelLoadError("load.failed", source=source, example=DEFAULT_GPU_MODEL) from exc
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


def checkpoint_sampling(model: Any) -> Sampling | None:
    """The thinker's sampling from the checkpoint's generation_config.json (temperature, top_p, top_k),
    or None when it sets none of them (then the official web demo's 0.6 / 0.95 / 20 apply)."""
    config = getattr(model, "generation_config", None)
    values = {k: getattr(config, k, None) for k in ("temperature", "top_p", "top_k")}
    if config is None or not getattr(config, "do_sample", False) or values["temperature"] is None:
        return None
    base = DEFAULT_SAMPLING[ModelKind.THINKING]
    return Sampling(
        temperature=float(values["temperature"]),
        top_p=float(values["top_p"] if values["top_p"] is not None else base.top_p),
        top_k=int(values["top_k"] if values["top_k"] is not None else base.top_k),
        max_new_tokens=base.max_new_tokens,
    )


def _disable_talker(model: Any) -> float | None:
    """`model.disable_talker()` (upstream's memory saver); returns the GiB of weights it freed."""
    if not model.has_talker:
        return None
    parts = (model.talker, model.code2wav)
    import gc

    import torch

    freed = sum(p.numel() * p.element_size() for part in parts for p in part.parameters())
    del parts
    model.disable_talker()
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return freed / 2**30


def _options(settings: Settings, is_preview: bool, model: Any, read: facts.ModelFacts) -> EngineOptions:
    options = EngineOptions(
        max_clip_seconds=settings.max_clip_seconds,
        max_media_turns=settings.max_media_turns,
        max_input_tokens=settings.max_input_tokens,
        max_speech_frames=read.talker.max_new_tokens,
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


# Notes transformers 5.24 prints that no user of the demo can act on:
# - about its own stock generate() on the plain path, once per process: the talker's generation config
#   carries a flag its generate() ignores, and a repetition penalty is applied to the talker's new codes
#   only (its inputs are embeddings);
# - at load time, that the sub-configs' rope parameters hold unknown keys: the M-RoPE keys, which the
#   model reads (`mrope_section`) and which the top-level config itself lists as keys to ignore.
_IGNORED_FLAGS = "The following generation flags are not valid and may be ignored"
_PENALTY_ON_EMBEDDINGS = r"Passing `repetition_penalty` with `inputs_embeds` and without `input_ids`"
_ROPE_KEYS = "Unrecognized keys in `rope_parameters`"
_MROPE_KEYS = frozenset({"mrope_section", "interleaved", "mrope_interleaved"})


class _DropNote(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(_ROPE_KEYS):
            return not _only_mrope_keys(message)
        return not message.startswith(_IGNORED_FLAGS)


def _only_mrope_keys(message: str) -> bool:
    """The note ends with the set of keys, e.g. `...: {'mrope_section', 'interleaved'}`."""
    _, _, keys = message.rpartition(": ")
    try:
        found = ast.literal_eval(keys)
    except (ValueError, SyntaxError):
        return False
    return isinstance(found, set) and found <= _MROPE_KEYS


_DROP_NOTE = _DropNote()


def quiet_library_notes() -> None:
    """Called at start-up (never at import), idempotent: the two notes above stay out of the logs."""
    logging.getLogger("transformers.generation.configuration_utils").addFilter(_DROP_NOTE)
    logging.getLogger("transformers.modeling_rope_utils").addFilter(_DROP_NOTE)
    warnings.filterwarnings("ignore", message=_PENALTY_ON_EMBEDDINGS, category=UserWarning)


def load_engine(settings: Settings) -> LocalEngine:
    """Load the model named by the settings. Raises ModelLoadError with one sentence on failure."""
    import torch

    cuda = torch.cuda.is_available()
    started = time.perf_counter()
    name, source = resolve_model(settings, cuda)
    quiet_library_notes()
    model, processor = _load_pretrained(source, cuda)
    _patch_known_bugs(model)
    if not cuda:
        torch.set_num_threads(max(1, torch.get_num_threads()))
    is_preview = name.startswith(PREVIEW)
    kind = ModelKind(settings.kind) if settings.kind else None
    caps = detect_capabilities(model.config, processor, name, model.has_talker, kind)
    freed = None
    if settings.no_speech or not caps.speech_output:
        freed = _disable_talker(model)  # a talker nobody can use only holds memory
        if caps.voices:
            caps = replace(caps, voices=())
    read = facts.of_model(model)
    options = _options(settings, is_preview, model, read)
    batch = 1 if options.engine != "fast" else settings.max_batch or default_batch(model, caps.speech_output)
    options = replace(options, max_batch=batch)
    if options.max_input_tokens is None:
        options = replace(options, max_input_tokens=default_limit(model, caps.speech_output, batch))
    info = ModelInfo(
        name=name,
        capabilities=caps,
        device=str(model.device),
        dtype=str(model.dtype).removeprefix("torch."),
        is_preview=is_preview,
        load_seconds=time.perf_counter() - started,
        speech_freed_gib=freed,
        sampling=checkpoint_sampling(model) if caps.kind is ModelKind.THINKING else None,
    )
    log.info(
        "input tokens per request: at most %d; requests decoded together: %d",
        options.max_input_tokens,
        options.max_batch,
    )
    return LocalEngine(model, processor, info, options, facts=read)


@functools.lru_cache(maxsize=1)
def shared_engine(settings: Settings) -> LocalEngine:
    """The process-wide model singleton: loaded on first use, shared by every browser session."""
    return load_engine(settings)
