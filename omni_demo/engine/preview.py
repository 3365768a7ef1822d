"""The preview model: a tiny random-weight Qwen3-Omni built offline with the real classes.

No weights can be downloaded where the demo is developed and tested, so the demo serves this model
when there is no GPU (or with `--model preview`). It keeps every real special-token id, the real
vocab sizes and speaker ids, a real byte-level Qwen2 tokenizer and a real Qwen3OmniMoeProcessor, so
the code path is the one the real checkpoints take; only the answers are random.

Variants: "instruct" (thinker + talker + code2wav), "thinking" (no talker, a chat template that
handles thinking the way the Thinking checkpoint's does) and "captioner" (no talker). Built once
(~2 s) and cached on disk.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any, Literal

from omni_demo.engine.facts import QWEN3_OMNI

Variant = Literal["instruct", "thinking", "captioner"]
VARIANTS: tuple[Variant, ...] = ("instruct", "thinking", "captioner")
_FORMAT_VERSION = "3"  # bump when the built files change, so stale caches are rebuilt

SPECIAL_TOKENS = {
    "<|endoftext|>": 151643,
    "<|im_start|>": 151644,
    "<|im_end|>": 151645,
    "<|object_ref_start|>": 151646,
    "<|object_ref_end|>": 151647,
    "<|box_start|>": 151648,
    "<|box_end|>": 151649,
    "<|quad_start|>": 151650,
    "<|quad_end|>": 151651,
    "<|vision_start|>": 151652,
    "<|vision_end|>": 151653,
    "<|vision_pad|>": 151654,
    "<|image_pad|>": 151655,
    "<|video_pad|>": 151656,
    "<tool_call>": 151657,
    "</tool_call>": 151658,
    "<|fim_prefix|>": 151659,
    "<|fim_middle|>": 151660,
    "<|fim_suffix|>": 151661,
    "<|fim_pad|>": 151662,
    "<|repo_name|>": 151663,
    "<|file_sep|>": 151664,
    "<tool_response>": 151665,
    "</tool_response>": 151666,
    "<think>": 151667,
    "</think>": 151668,
    "<|audio_start|>": 151669,
    "<|audio_end|>": 151670,
    "<tts_pad>": 151671,
    "<tts_text_bos>": 151672,
    "<tts_text_eod>": 151673,
    "<tts_text_bos_single>": 151674,
    "<|audio_pad|>": 151675,
}
# Added to the vocab but not "special": they survive skip_special_tokens, as in the real tokenizer.
_NOT_SPECIAL = {"<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<think>", "</think>"}
_ROLE_TOKENS = {"user": 872, "system": 8948, "assistant": 77091}
_THINKER_VOCAB = 152064
SPEAKERS = {"chelsie": 2301, "ethan": 2302, "aiden": 2303}


# The Qwen3 chat template's tool block (the official Qwen3-Omni templates carry it): the tools go
# between the two halves as one JSON object per line, inside the system turn.
_TOOLS_HEAD = (
    "# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n"
    "You are provided with function signatures within <tools></tools> XML tags:\\n<tools>"
)
_TOOLS_TAIL = (
    "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments "
    "within <tool_call></tool_call> XML tags:\\n<tool_call>\\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\\n</tool_call>'
)


def _chat_template(thinking: bool) -> str:
    """Renders like the official templates for system/user/assistant turns, media placeholders and tools.

    The generation prompt is exactly "<|im_start|>assistant\\n" (3 tokens), as in the official templates:
    generate() relies on it. The Thinking variant behaves like the Thinking checkpoint's template: the
    model writes <think> itself; only `enable_thinking=False` writes an empty "<think>\\n\\n</think>\\n\\n"
    after the prompt; earlier answers are split on </think> and only their final part is kept.
    """
    answer = "{%- set content = content.split('</think>')[-1].lstrip('\\n') -%}" if thinking else ""
    no_think = (
        "{%- if enable_thinking is defined and enable_thinking is false -%}"
        "{{- '<think>\\n\\n</think>\\n\\n' -}}{%- endif -%}"
        if thinking
        else ""
    )
    return (
        "{%- macro text_of(message) -%}"
        "{%- if message['content'] is string -%}{{- message['content'] -}}"
        "{%- else -%}{%- for content in message['content'] -%}"
        "{%- if content['type'] == 'image' -%}{{- '<|vision_start|><|image_pad|><|vision_end|>' -}}"
        "{%- elif content['type'] == 'audio' -%}{{- '<|audio_start|><|audio_pad|><|audio_end|>' -}}"
        "{%- elif content['type'] == 'video' -%}{{- '<|vision_start|><|video_pad|><|vision_end|>' -}}"
        "{%- elif content['type'] == 'text' -%}{{- content['text'] -}}"
        "{%- endif -%}{%- endfor -%}{%- endif -%}"
        "{%- endmacro -%}"
        "{%- if tools -%}"
        "{{- '<|im_start|>system\\n' -}}"
        "{%- if messages[0]['role'] == 'system' -%}{{- text_of(messages[0]) + '\\n\\n' -}}{%- endif -%}"
        "{{- '" + _TOOLS_HEAD + "' -}}"
        "{%- for tool in tools -%}{{- '\\n' -}}{{- tool | tojson -}}{%- endfor -%}"
        "{{- '" + _TOOLS_TAIL + "<|im_end|>\\n' -}}"
        "{%- endif -%}"
        "{%- for message in messages -%}"
        "{%- if not (tools and loop.first and message['role'] == 'system') -%}"
        "{{- '<|im_start|>' + message['role'] + '\\n' -}}"
        "{%- if message['role'] == 'assistant' -%}"
        "{%- set content = text_of(message) -%}" + answer + "{{- content -}}"
        "{%- else -%}{{- text_of(message) -}}{%- endif -%}"
        "{{- '<|im_end|>\\n' -}}"
        "{%- endif -%}"
        "{%- endfor -%}"
        "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}" + no_think + "{%- endif -%}"
    )


def _byte_alphabet() -> list[str]:
    """GPT-2 / Qwen byte-level symbols in the order of ids 0..255 ("\\n" -> "Ċ" -> 198)."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    codes = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return [chr(c) for c in codes]


def _vocab_and_merges() -> tuple[dict[str, int], list[tuple[str, str]]]:
    vocab = {ch: i for i, ch in enumerate(_byte_alphabet())}
    merges: list[tuple[str, str]] = []
    used = set(vocab.values()) | set(_ROLE_TOKENS.values()) | set(SPECIAL_TOKENS.values())
    next_id = 256

    def allocate() -> int:
        nonlocal next_id
        while next_id in used:
            next_id += 1
        used.add(next_id)
        return next_id

    # Role words must be single tokens at their real ids: generate() finds turns by them.
    for word, word_id in _ROLE_TOKENS.items():
        current = word[0]
        for ch in word[1:]:
            merges.append((current, ch))
            current += ch
            if current not in vocab:
                vocab[current] = word_id if current == word else allocate()
    for ch in "abcdefghijklmnopqrstuvwxyz":
        merges.append(("Ġ", ch))
        vocab.setdefault("Ġ" + ch, allocate())
    # Every other id decodes to a pseudo-word, so random answers read as (nonsense) text.
    rng = random.Random(0)
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    for token_id in range(SPECIAL_TOKENS["<|endoftext|>"]):
        if token_id in used:
            continue
        while True:
            word = "Ġ" + "".join(
                rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(1, 3))
            )
            if rng.random() < 0.05:
                word = rng.choice([".", ",", "!", "?"]) + str(token_id)
            if word not in vocab:
                break
        vocab[word] = token_id
    vocab.update(SPECIAL_TOKENS)
    return vocab, merges


def _tokenizer(thinking: bool) -> Any:
    from tokenizers import AddedToken
    from transformers import Qwen2Tokenizer

    vocab, merges = _vocab_and_merges()
    tok = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        errors="replace",
        model_max_length=131072,
        image_token="<|image_pad|>",
        video_token="<|video_pad|>",
        audio_token="<|audio_pad|>",
        vision_bos_token="<|vision_start|>",
        vision_eos_token="<|vision_end|>",
        audio_bos_token="<|audio_start|>",
        audio_eos_token="<|audio_end|>",
    )
    tok.add_tokens([AddedToken(t, special=t not in _NOT_SPECIAL, normalized=False) for t in SPECIAL_TOKENS])
    tok.chat_template = _chat_template(thinking)
    return tok


def _processor(tokenizer: Any) -> Any:
    from transformers import (
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
        Qwen3OmniMoeProcessor,
        WhisperFeatureExtractor,
    )

    features = WhisperFeatureExtractor(
        feature_size=128,
        sampling_rate=16000,
        hop_length=160,
        n_fft=400,
        chunk_length=300,
        padding_value=0.0,
        return_attention_mask=True,
        dither=0.0,
    )
    vision = {
        "patch_size": 16,
        "temporal_patch_size": 2,
        "merge_size": 2,
        "image_mean": [0.5] * 3,
        "image_std": [0.5] * 3,
    }
    # Small pixel budgets keep the preview's vision token counts (and CPU time) tiny.
    images = Qwen2VLImageProcessor(min_pixels=32 * 32 * 4, max_pixels=32 * 32 * 64, **vision)
    videos = Qwen2VLVideoProcessor(
        min_pixels=32 * 32 * 4, max_pixels=32 * 32 * 16, fps=2.0, min_frames=4, max_frames=16, **vision
    )
    return Qwen3OmniMoeProcessor(
        image_processor=images,
        video_processor=videos,
        feature_extractor=features,
        tokenizer=tokenizer,
        chat_template=tokenizer.chat_template,
    )


def _config(with_talker: bool, hidden: int = 32, layers: int = 2) -> Any:
    from transformers import Qwen3OmniMoeConfig

    head_dim = 8
    heads = hidden // head_dim
    mrope = {
        "rope_type": "default",
        "rope_theta": 1000000.0,
        "mrope_section": [2, 1, 1],
        "interleaved": True,
        "mrope_interleaved": True,
    }
    moe = {
        "hidden_size": hidden,
        "intermediate_size": 2 * hidden,
        "num_attention_heads": heads,
        "num_key_value_heads": 2,
        "head_dim": head_dim,
        "moe_intermediate_size": hidden,
        "num_experts": 4,
        "num_experts_per_tok": 2,
        "norm_topk_prob": True,
        "decoder_sparse_step": 1,
        "mlp_only_layers": [],
        "max_position_embeddings": 65536,
        "rms_norm_eps": 1e-6,
    }
    ids = {
        "audio_token_id": 151675,
        "image_token_id": 151655,
        "video_token_id": 151656,
        "audio_start_token_id": 151669,
        "audio_end_token_id": 151670,
        "vision_start_token_id": 151652,
        "position_id_per_seconds": 13,
        "seconds_per_chunk": 2,
    }
    thinker = {
        "audio_config": {
            "num_mel_bins": 128,
            "d_model": hidden,
            "encoder_layers": 1,
            "encoder_attention_heads": heads,
            "encoder_ffn_dim": 2 * hidden,
            "downsample_hidden_size": 8,
            "output_dim": hidden,
            "n_window": 50,
            "n_window_infer": 800,
            "conv_chunksize": 500,
            "max_source_positions": 1500,
        },
        "vision_config": {
            "depth": 2,
            "hidden_size": hidden,
            "intermediate_size": 2 * hidden,
            "num_heads": heads,
            "in_channels": 3,
            "patch_size": 16,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "out_hidden_size": hidden,
            "num_position_embeddings": 2304,
            "deepstack_visual_indexes": [0],
            "hidden_act": "gelu_pytorch_tanh",
        },
        "text_config": {
            **moe,
            "vocab_size": _THINKER_VOCAB,
            "num_hidden_layers": layers,
            "rope_parameters": mrope,
            "tie_word_embeddings": False,
        },
        "vision_end_token_id": 151653,
        "user_token_id": 872,
        **ids,
    }
    talker = {
        "text_config": {
            **moe,
            "vocab_size": 3072,  # generate() suppresses ids [vocab - 1024, vocab): keep the real size
            "num_hidden_layers": 1,
            "shared_expert_intermediate_size": 2 * hidden,
            "rope_parameters": dict(mrope),
        },
        "code_predictor_config": {
            "vocab_size": 2048,
            "hidden_size": hidden,
            "intermediate_size": 2 * hidden,
            "num_hidden_layers": 1,
            "num_attention_heads": heads,
            "num_key_value_heads": 2,
            "head_dim": head_dim,
            "num_code_groups": 16,
            "max_position_embeddings": 32768,
            "rms_norm_eps": 1e-6,
            "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0},
        },
        "num_code_groups": 16,
        "thinker_hidden_size": hidden,
        "accept_hidden_layer": layers,
        "spatial_merge_size": 2,
        "speaker_id": dict(SPEAKERS),
        "codec_bos_id": 2149,
        "codec_eos_token_id": 2150,
        "codec_pad_id": 2148,
        "codec_nothink_id": 2155,
        "codec_think_bos_id": 2156,
        "codec_think_eos_id": 2157,
        **ids,
    }
    code2wav = {
        "codebook_size": 2048,
        "num_quantizers": 16,
        "hidden_size": hidden,
        "intermediate_size": 2 * hidden,
        "num_hidden_layers": 1,
        "num_attention_heads": heads,
        "num_key_value_heads": heads,
        "decoder_dim": 32,
        "upsample_rates": [8, 5, 4, 3],
        "upsampling_ratios": [2, 2],  # 1920 samples per 12.5 Hz frame -> 24 kHz
        "sliding_window": 72,
        "max_position_embeddings": 8000,
        "rms_norm_eps": 1e-5,
        "layer_scale_initial_scale": 0.01,
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0},
    }
    return Qwen3OmniMoeConfig(
        thinker_config=thinker,
        talker_config=talker,
        code2wav_config=code2wav,
        enable_audio_output=with_talker,
        im_start_token_id=151644,
        im_end_token_id=151645,
        tts_pad_token_id=151671,
        tts_bos_token_id=151672,
        tts_eos_token_id=151673,
        system_token_id=8948,
        user_token_id=872,
        assistant_token_id=77091,
    )


def _make_audible(model: Any) -> None:
    """Random code2wav weights give ~1e-7 amplitude; scale the last conv so the preview is audible."""
    import torch

    with torch.no_grad():
        wav = model.code2wav(torch.randint(0, 2048, (1, 16, 25)))
        scale = 0.1 / max(wav.std().item(), 1e-12)
        last = model.code2wav.decoder[-1].conv
        last.weight.mul_(scale)
        if last.bias is not None:
            last.bias.mul_(scale)


def build_preview(out_dir: Path, variant: Variant = "instruct") -> Path:
    """Build the preview model into `out_dir` (a folder `from_pretrained` loads)."""
    import torch
    from transformers import GenerationConfig, Qwen3OmniMoeForConditionalGeneration

    torch.manual_seed(0)
    tokenizer = _tokenizer(thinking=variant == "thinking")
    processor = _processor(tokenizer)
    with_talker = variant == "instruct"
    model = Qwen3OmniMoeForConditionalGeneration(_config(with_talker)).eval()
    if with_talker:
        _make_audible(model)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    # The real Instruct checkpoint's generation settings for the talker (the published values); a Thinking
    # checkpoint carries its thinker's sampling (these values are the preview's own, so a test can tell
    # them from defaults).
    thinker = (
        {"do_sample": True, "temperature": 0.7, "top_p": 0.8, "top_k": 40} if variant == "thinking" else {}
    )
    talker = QWEN3_OMNI.talker
    settings = talker.sampling() | {"max_new_tokens": talker.max_new_tokens}
    GenerationConfig(**{f"talker_{k}": v for k, v in settings.items()}, **thinker).save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    (out_dir / "PREVIEW").write_text(f"{variant} {_FORMAT_VERSION}\n")
    return out_dir


def ensure_preview(cache_dir: Path, variant: Variant = "instruct") -> Path:
    """The cached preview folder, built first if needed (atomically: two processes are safe)."""
    target = cache_dir / f"preview-{variant}"
    marker = target / "PREVIEW"
    if marker.is_file() and marker.read_text().split() == [variant, _FORMAT_VERSION]:
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".preview-{variant}-", dir=cache_dir))
    try:
        build_preview(staging, variant)
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
