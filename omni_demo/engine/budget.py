"""How many input tokens a request will cost, known before the GPU is touched.

Text is tokenized through the chat template; each medium is counted by the processor's own size rules
(`get_number_of_image_patches`, `get_num_of_video_patches`, the audio encoder's output length) on the
sizes upstream's preprocessing produces (`omni_demo.vision`), from file headers and decoded audio only.
A request over the limit gets one sentence saying how long a clip of its resolution may be.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from omni_demo import media
from omni_demo.conversation import ModelInput
from omni_demo.errors import InputError

AUDIO_HOP = 160  # the feature extractor's hop: one mel frame per 10 ms at 16 kHz
# Peak GPU memory grows with the prompt by about this much per input token: measured with plain
# generate() on the full-size model (bf16, sdpa, one H100 and one H200), 640x360 and 1280x720 clips
# of 15-120 s: 0.42 MiB per token for a text answer, 0.60 MiB with a spoken one.
GIB_PER_TOKEN_TEXT = 0.42 / 1024
GIB_PER_TOKEN_SPEECH = 0.60 / 1024
HEADROOM_GIB = 2.0  # activations of the first decode steps, allocator fragmentation
# Requests decoded together by default: a share of the memory left after loading goes to their caches
# (one row each, `row_gib`), the rest to prompts (the input-token limit). 8 rows on an H200, 3 on an
# 80 GB card (full-size model, bf16).
BATCH_SHARE = 0.3
MOST_BATCH = 8
CPU_BATCH = 4  # the preview model on a CPU: small caches, and tests of the batched path
ROW_POSITIONS = 16384  # a page request's thinker cache: 8,192 new tokens after a prompt of up to 8,191


@dataclass(frozen=True)
class Estimate:
    total: int
    tokens: dict[str, int] = field(default_factory=dict)  # per modality, as Timings.input_tokens
    video_tokens_per_s: float = 0.0  # of the largest video, for the "how long may it be" sentence
    video_size: tuple[int, int] | None = None  # (width, height) of that video


def _audio_tokens(processor: Any, samples: int) -> int:
    import torch
    from transformers.models.qwen3_omni_moe.processing_qwen3_omni_moe import _get_feat_extract_output_lengths

    frames = torch.tensor([samples // AUDIO_HOP])
    return int(_get_feat_extract_output_lengths(frames, processor.n_window)[0])


def _image_tokens(processor: Any, path: str) -> int:
    image = media.load_model_image(path)
    ip = processor.image_processor
    return ip.get_number_of_image_patches(image.height, image.width, {}) // ip.merge_size**2


def _video(processor: Any, path: str, fps: float) -> tuple[int, float, tuple[int, int]]:
    """(tokens, seconds, (width, height)) of one video as the engine will sample it."""
    plan, (total, rate, height, width) = media.plan_video_file(path, fps)
    vp = processor.video_processor
    # The processor's call passes its own video size bounds (a class default), not the video processor's.
    size = getattr(processor, "videos_kwargs", {}).get("size")
    patches = vp.get_num_of_video_patches(
        plan.frames, plan.height, plan.width, {"size": size} if size else {}
    )
    return patches // vp.merge_size**2, total / rate, (width, height)


def chat_text(processor: Any, model_input: ModelInput) -> str:
    """The prompt text as the processor's own chat template writes it, tools included.

    A template without a tools section would drop them silently; then the request is refused.
    """
    text = processor.apply_chat_template(
        model_input.messages,
        tools=model_input.tools or None,
        add_generation_prompt=True,
        tokenize=False,
    )
    if any(tool["function"]["name"] not in text for tool in model_input.tools):
        raise InputError("tools.no_template")
    return text


_SYSTEM_OPEN = "<|im_start|>system\n"
_TURN_END = "<|im_end|>"


def system_turn(processor: Any, system: str, tools: Sequence[dict]) -> str:
    """The system turn the chat template writes for `system` and `tools` (tool block included), or ""."""
    messages: list[dict[str, object]] = []
    if system.strip():
        messages.append({"role": "system", "content": [{"type": "text", "text": system.strip()}]})
    messages.append({"role": "user", "content": [{"type": "text", "text": "?"}]})
    text = processor.apply_chat_template(
        messages, tools=list(tools) or None, add_generation_prompt=False, tokenize=False
    )
    start = text.find(_SYSTEM_OPEN)
    if start < 0:
        return ""
    start += len(_SYSTEM_OPEN)
    return text[start : text.index(_TURN_END, start)]


def estimate(
    processor: Any, model_input: ModelInput, audio_in_video: bool, fps: float, clip_limit: float
) -> Estimate:
    """Input tokens of the request: the chat template's text plus every medium's tokens."""
    text = chat_text(processor, model_input)
    ids = processor.tokenizer(text)["input_ids"]
    placeholders = {processor.audio_token_id, processor.image_token_id, processor.video_token_id}
    tokens = {"text": sum(1 for i in ids if i not in placeholders)}
    audio = [
        media.load_audio(s.path, clip_limit)
        if s.video_index is None
        else media.load_video_audio(s.path, clip_limit)
        for s in model_input.audio
    ]
    audio_total = sum(_audio_tokens(processor, len(a)) for a in audio)
    image_total = sum(_image_tokens(processor, p) for p in model_input.images)
    videos = [_video(processor, p, fps) for p in model_input.videos]
    video_total = sum(v[0] for v in videos)
    if audio_in_video and videos:
        tokens["text"] += 2 * len(
            videos
        )  # each video's sound is wrapped in <|audio_start|> ... <|audio_end|>
    tokens |= {k: v for k, v in (("audio", audio_total), ("image", image_total), ("video", video_total)) if v}
    per_s, size = 0.0, None
    if videos:
        biggest = max(videos, key=lambda v: v[0])
        per_s, size = biggest[0] / max(biggest[1], 1e-6), biggest[2]
        if audio_in_video:
            per_s += _audio_tokens(processor, media.AUDIO_RATE) or 0
    return Estimate(sum(tokens.values()), tokens | {"total": sum(tokens.values())}, per_s, size)


def check_limit(found: Estimate, limit: int) -> None:
    """One sentence when the request is longer than `limit` input tokens."""
    if found.total <= limit:
        return
    total, cap = f"{found.total:,}", f"{limit:,}"
    if found.video_size is None or found.video_tokens_per_s <= 0:
        raise InputError("budget.over", total=total, cap=cap)
    others = found.total - found.tokens.get("video", 0)
    seconds = max(0, math.floor((limit - others) / found.video_tokens_per_s))
    width, height = found.video_size
    raise InputError("budget.over_video", total=total, cap=cap, width=width, height=height, seconds=seconds)


def default_limit(model: Any, speaks: bool, batch: int = 1) -> int:
    """The thinker's context, and on a GPU what its memory holds after loading and after the caches of
    the other `batch - 1` requests the fast engine decodes together (so admitting one never starves
    another; the per-token figures already hold one request's own cache)."""
    context = int(model.config.thinker_config.text_config.max_position_embeddings)
    free = _free_gib()
    if free is None:
        return context
    per_token = GIB_PER_TOKEN_SPEECH if speaks else GIB_PER_TOKEN_TEXT
    fits = int((free - (batch - 1) * row_gib(model, speaks) - HEADROOM_GIB) / per_token)
    return max(1024, min(context, fits))


def default_batch(model: Any, speaks: bool, most: int = MOST_BATCH) -> int:
    """Requests the fast engine decodes together: on a CPU `CPU_BATCH`; on a GPU as many rows as
    `BATCH_SHARE` of the memory left after loading holds, between 1 and `most`."""
    free = _free_gib()
    if free is None:
        return min(CPU_BATCH, most)
    return max(1, min(most, int(BATCH_SHARE * free / row_gib(model, speaks))))


def row_gib(model: Any, speaks: bool) -> float:
    """GPU memory of one batch row at a page request's sizes: the thinker's cache for 16,384 positions
    and, when it speaks, the talker's for 8,192 (bf16 keys and values of every layer)."""
    total = _cache_bytes(model.config.thinker_config.text_config, ROW_POSITIONS)
    if speaks:
        total += _cache_bytes(model.config.talker_config.text_config, ROW_POSITIONS // 2)
    return total / 2**30


def _cache_bytes(config: Any, positions: int) -> int:
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    return 2 * 2 * config.num_hidden_layers * config.num_key_value_heads * head_dim * positions


def _free_gib() -> float | None:
    """GPU memory not allocated (all devices), or None without a GPU."""
    import torch

    if not torch.cuda.is_available():
        return None
    free = sum(
        torch.cuda.get_device_properties(d).total_memory - torch.cuda.memory_allocated(d)
        for d in range(torch.cuda.device_count())
    )
    return free / 2**30
