"""Decode attention for the fast loops: one query over a fixed-size cache.

The thinker (32 query heads over 4 key/value heads) and the talker attend over caches sized for the
whole reply, so one decode step reads every slot with a boolean mask over the unfilled ones.
transformers' sdpa attention (5.x), given a mask on CUDA, packs each group's query heads into one
8-query call, and PyTorch then runs a kernel that is slow over long caches: measured on an H200
(torch 2.11, bf16, head dim 128, in a CUDA graph), 0.32 ms per layer over 16,384 slots (x48 thinker
layers: 15 ms of every token). PyTorch's `enable_gqa` path takes 0.022 ms there, but its kernel
splits the keys and adds the parts up in no fixed order: measured on an H100, the same greedy request
gave different speech codes from run to run (the first difference 28-65 frames in), where the sdpa
path gave the same codes every time.

So the decode steps compute attention as transformers' own eager attention does (scores, mask,
float32 softmax, weighted values), with each key/value head's query heads packed together instead of
repeating the keys and values per head: two batched matrix products over the cache, the same every
run. `decode_attention(layers)` switches the given layers to it for one-query steps with a boolean
mask while the `with` lasts (the fast decoders wrap their step body in it, so a CUDA graph records
these kernels); every other call, and every layer outside it (prefill, stock `generate()`), keeps
transformers' sdpa. The layers must belong to one model (they share its config). Under
flash-attention the layers are left as they are.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator, Sequence
from typing import Any

NAME = "omni_grouped_decode"  # the name this function is registered under in transformers


def _decode_attention(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    **kwargs: Any,
) -> tuple[Any, None]:
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    one_query = query.shape[2] == 1 and getattr(module, "num_key_value_groups", 1) > 1
    boolean_mask = attention_mask is not None and attention_mask.dtype == torch.bool
    if not (one_query and boolean_mask) or dropout or kwargs.get("position_bias") is not None:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout, scaling, is_causal, **kwargs
        )
    return grouped_decode(query, key, value, attention_mask, scaling), None


def grouped_decode(query: Any, key: Any, value: Any, mask: Any, scaling: float | None) -> Any:
    """Attention of one query per head [b, heads, 1, d] over keys/values [b, kv_heads, n, d] that
    groups of heads share (head h reads key/value head h // group, as `repeat_kv` lays them out),
    under a boolean `mask` [.., n] (True: attend). Returns [b, 1, heads, d], as sdpa_attention_forward."""
    import torch

    batch, heads, _, dim = query.shape
    kv_heads = key.shape[1]
    packed = query.reshape(batch, kv_heads, heads // kv_heads, dim)  # [b, kv_heads, group, d]
    scale = scaling if scaling is not None else dim**-0.5
    scores = torch.matmul(packed, key.transpose(2, 3)) * scale
    scores = scores.masked_fill(~mask.reshape(batch, 1, 1, -1), float("-inf"))
    weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(query.dtype)
    out = torch.matmul(weights, value)  # [b, kv_heads, group, d]
    return out.reshape(batch, 1, heads, dim)


@functools.lru_cache(maxsize=1)
def _register() -> str:
    """Register the attention function, and sdpa's own mask function under the same name: a prefill that
    runs in another thread while a decode step has switched the config (requests are decoded together)
    then gets sdpa's mask and, through `_decode_attention`, sdpa's attention, exactly as under "sdpa"."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(NAME, _decode_attention)
    AttentionMaskInterface.register(NAME, sdpa_mask)
    return NAME


_switched: dict[int, list[Any]] = {}  # id(config) -> [steps inside, the implementation before]
_switching = threading.Lock()


@contextlib.contextmanager
def decode_attention(layers: Sequence[Any]) -> Iterator[None]:
    """Within the `with`, `layers` (decoder layers of one model) use `grouped_decode` for decode steps.
    Loops of several cache lengths share a config and may step at once: the first one in switches it,
    the last one out switches it back."""
    config = layers[0].self_attn.config
    with _switching:
        entry = _switched.get(id(config))
        if entry is None:
            if config._attn_implementation != "sdpa":
                entry = None
            else:
                entry = _switched[id(config)] = [0, config._attn_implementation]
                config._attn_implementation = _register()
        if entry is not None:
            entry[0] += 1
    try:
        yield
    finally:
        if entry is not None:
            with _switching:
                entry[0] -= 1
                if entry[0] == 0:
                    config._attn_implementation = entry[1]
                    del _switched[id(config)]
