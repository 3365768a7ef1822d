"""A fixed-size key/value cache that transformers' attention modules write into.

The attention modules of Qwen3-Omni call `cache.update(key, value, layer_idx)` and attend over
what it returns; that is the only method they use. `StaticKV` answers it with preallocated
buffers and a position counter that lives on the device, so a decode step has the same shapes
and addresses every time and can be captured once as a CUDA graph and replayed.

A step attends over the cache's first `window` slots only (a host-side number, so a graph captured
with one window reads that many slots whatever the cache's capacity): the decoders keep one graph
per window (`windows()`) and replay the smallest one that holds every filled position, so a step
costs what the filled part costs, not what the capacity does.

The cache has `rows`, one per request decoded together, each with its own position. A step covers the
first `batch` rows (another host-side number: one graph per batch size); rows whose `active` flag is 0
compute but do not advance, so what they wrote at their position is overwritten by their next real
step (a request that waits for its input sits a step out without leaving the batch).
"""

from __future__ import annotations

from typing import Any


class StaticKV:
    """Keys and values of every layer for up to `length` positions, in `rows` independent rows."""

    def __init__(
        self,
        layers: int,
        kv_heads: int,
        head_dim: int,
        length: int,
        dtype: Any,
        device: Any,
        rows: int = 1,
    ) -> None:
        import torch

        shape = (layers, rows, kv_heads, length, head_dim)
        self.keys = torch.zeros(shape, dtype=dtype, device=device)
        self.values = torch.zeros(shape, dtype=dtype, device=device)
        self.length = length
        self.rows = rows
        self.window = length  # update() and decode_mask() cover slots [0, window)
        self.batch = rows  # ... and rows [0, batch)
        self.position = torch.zeros(rows, dtype=torch.long, device=device)  # where each row's next goes
        self.active = torch.ones(rows, dtype=torch.long, device=device)  # 1: the row advances this step
        self.active_host = [1] * rows  # the same flags on the host
        self.filled = [0] * rows  # each row's count on the host (no device sync): guard and windows
        self._slots = torch.arange(length, device=device)
        self._rows = torch.arange(rows, device=device)

    @classmethod
    def for_config(cls, config: Any, length: int, dtype: Any, device: Any, rows: int = 1) -> StaticKV:
        head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        return cls(
            config.num_hidden_layers, config.num_key_value_heads, head_dim, length, dtype, device, rows
        )

    def update(self, key: Any, value: Any, layer_idx: int, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        """Write `key`/`value` [batch, heads, n, dim], each row at its own `position`..; return the
        first `window` slots of the first `batch` rows."""
        batch, count = key.shape[0], key.shape[2]
        slots = self.position[:batch, None] + self._slots[None, :count]  # [batch, n]
        rows = self._rows[:batch, None]
        self.keys[layer_idx][rows, :, slots] = key.transpose(1, 2)  # indexed as [batch, n, heads, dim]
        self.values[layer_idx][rows, :, slots] = value.transpose(1, 2)
        return (
            self.keys[layer_idx, :batch, :, : self.window],
            self.values[layer_idx, :batch, :, : self.window],
        )

    def decode_mask(self) -> Any:
        """[batch, 1, 1, window] boolean: each row's new query sees its filled slots and itself."""
        batch = self.batch
        return (self._slots[None, : self.window] <= self.position[:batch, None]).view(batch, 1, 1, -1)

    def load(self, cache: Any, length: int, row: int = 0) -> None:
        """Copy a prefill's transformers DynamicCache (its first `length` positions) into `row`."""
        for index, layer in enumerate(cache.layers):
            self.keys[index, row, :, :length].copy_(layer.keys[0, :, :length])
            self.values[index, row, :, :length].copy_(layer.values[0, :, :length])
            if layer.keys.is_cuda:  # made on the prefill's stream, read on this one: not freed before
                current = _current_stream(layer.keys.device)
                layer.keys.record_stream(current)
                layer.values.record_stream(current)
        self.position[row] = length
        self.filled[row] = length

    def free(self, row: int) -> None:
        """`row` is out of use: back to position 0 (a step over it writes only there)."""
        self.position[row] = 0
        self.filled[row] = 0

    def move(self, source: int, target: int) -> None:
        """Row `source`'s filled slots and position into row `target` (a batch closing a gap)."""
        filled = self.filled[source]
        self.keys[:, target, :, :filled].copy_(self.keys[:, source, :, :filled])
        self.values[:, target, :, :filled].copy_(self.values[:, source, :, :filled])
        self.position[target] = self.position[source]
        self.filled[target] = filled

    def claim(self, what: str, row: int = 0) -> int:
        """Count one more position of `row` for the next step (raising when its cache is full);
        returns the positions the step's query sees, itself included."""
        if self.filled[row] >= self.length:
            raise ValueError(f"{what} outgrew its cache of {self.length} positions")
        self.filled[row] += 1
        return self.filled[row]

    def check_prompt(self, length: int, what: str) -> None:
        if length >= self.length:
            raise ValueError(f"{what} of {length} positions does not fit a cache of {self.length}")


def decode_layers(model: Any, hidden: Any, kv: StaticKV, delta: Any) -> Any:
    """One new position per row [batch, 1, H] through a decoder stack (`model.layers`, its rotary
    embedding and final norm, transformers' own modules) over `kv`, each row at its cache length + its
    rope `delta` on all three rotary axes, as the model computes positions while decoding; advances
    the positions of the active rows."""
    batch = hidden.shape[0]
    positions = (kv.position[:batch] + delta[:batch]).view(1, batch, 1).expand(3, batch, 1)
    rotary = model.rotary_emb(hidden, positions)
    mask = kv.decode_mask()
    for layer in model.layers:
        hidden = layer(hidden, attention_mask=mask, cache=kv, position_embeddings=rotary)
    kv.position[:batch].add_(kv.active[:batch])
    return model.norm(hidden)


def _current_stream(device: Any) -> Any:
    import torch

    return torch.cuda.current_stream(device)


def set_active(kv: StaticKV, active: list[bool]) -> None:
    """Which of the first rows advance on the next step (the device copy is written only on a change)."""
    flags = [int(a) for a in active] + [0] * (kv.rows - len(active))
    if flags != kv.active_host:
        kv.active_host = flags
        kv.active.copy_(kv.active.new_tensor(flags))


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
