"""A fixed-size key/value cache that transformers' attention modules write into.

The attention modules of Qwen3-Omni call `cache.update(key, value, layer_idx)` and attend over
what it returns; that is the only method they use. `StaticKV` answers it with preallocated
buffers and a position counter that lives on the device, so a decode step has the same shapes
and addresses every time and can be captured once as a CUDA graph and replayed.

A step attends over the cache's first `window` slots only (a host-side number, so a graph captured
with one window reads that many slots whatever the cache's capacity): the decoders keep one graph
per window (`windows()`) and replay the smallest one that holds every filled position, so a step
costs what the filled part costs, not what the capacity does.
"""

from __future__ import annotations

from typing import Any


class StaticKV:
    """Keys and values of every layer for up to `length` positions, batch 1."""

    def __init__(
        self, layers: int, kv_heads: int, head_dim: int, length: int, dtype: Any, device: Any
    ) -> None:
        import torch

        shape = (layers, 1, kv_heads, length, head_dim)
        self.keys = torch.zeros(shape, dtype=dtype, device=device)
        self.values = torch.zeros(shape, dtype=dtype, device=device)
        self.length = length
        self.window = length  # update() and decode_mask() cover slots [0, window)
        self.position = torch.zeros(1, dtype=torch.long, device=device)  # where the next token goes
        self.filled = 0  # the same count on the host (no device sync), for the guard and the windows
        self._slots = torch.arange(length, device=device)

    @classmethod
    def for_config(cls, config: Any, length: int, dtype: Any, device: Any) -> StaticKV:
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        return cls(config.num_hidden_layers, config.num_key_value_heads, head_dim, length, dtype, device)

    def update(self, key: Any, value: Any, layer_idx: int, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        """Write `key`/`value` [1, heads, n, dim] at `position`..; return the first `window` slots."""
        slots = self.position + self._slots[: key.shape[2]]
        self.keys[layer_idx].index_copy_(2, slots, key)
        self.values[layer_idx].index_copy_(2, slots, value)
        return self.keys[layer_idx, :, :, : self.window], self.values[layer_idx, :, :, : self.window]

    def decode_mask(self) -> Any:
        """[1, 1, 1, window] boolean: the one new query sees every filled slot and itself."""
        return (self._slots[: self.window] <= self.position).view(1, 1, 1, -1)

    def load(self, cache: Any, length: int) -> None:
        """Copy a prefill's transformers DynamicCache (its first `length` positions) into the buffers."""
        for index, layer in enumerate(cache.layers):
            self.keys[index, :, :, :length].copy_(layer.keys[:, :, :length])
            self.values[index, :, :, :length].copy_(layer.values[:, :, :length])
        self.position.fill_(length)
        self.filled = length

    def claim(self, what: str) -> int:
        """Count one more position for the next step (raising when the cache is full); returns the
        positions the step's query sees, itself included."""
        if self.filled >= self.length:
            raise ValueError(f"{what} outgrew its cache of {self.length} positions")
        self.filled += 1
        return self.filled

    def check_prompt(self, length: int, what: str) -> None:
        if length >= self.length:
            raise ValueError(f"{what} of {length} positions does not fit a cache of {self.length}")


def decode_layers(model: Any, hidden: Any, kv: StaticKV, delta: Any) -> Any:
    """One new position [1, 1, H] through a decoder stack (`model.layers`, its rotary embedding and
    final norm, transformers' own modules) over `kv`, at position cache length + rope `delta` on all
    three rotary axes, as the model computes positions while decoding; advances the cache position."""
    positions = (kv.position + delta).view(1, 1, 1).expand(3, 1, 1)
    rotary = model.rotary_emb(hidden, positions)
    mask = kv.decode_mask()
    for layer in model.layers:
        hidden = layer(hidden, attention_mask=mask, cache=kv, position_embeddings=rotary)
    kv.position.add_(1)
    return model.norm(hidden)


def windows(length: int, smallest: int = 2048) -> list[int]:
    """The attended lengths a decoder over `length` slots keeps a graph for: powers of two from
    `smallest` below `length`, and `length` itself (ascending)."""
    sizes = []
    size = smallest
    while size < length:
        sizes.append(size)
        size *= 2
    return [*sizes, length]


def window_for(filled: int, sizes: list[int]) -> int:
    """The smallest window holding `filled` slots (`sizes` ascending, the last one the capacity)."""
    return next((size for size in sizes if size >= filled), sizes[-1])
