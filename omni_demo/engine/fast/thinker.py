"""The thinker's fast decode: the model's own prefill, then one-token steps replayed as a CUDA graph.

Prefill runs `thinker.model` exactly as `generate()`'s first step does (media encoders, 3-D
positions, a transformers DynamicCache), asking the language model head for the last position
only. Its keys and values are copied into a `StaticKV` sized to the request, and every later
token runs the same decoder layers (transformers' own modules) over that fixed cache: positions
are `cache length + rope delta` on all three rotary axes, as the model computes them while
decoding. One decoder per cache length is kept, so a graph is captured once per length. Its cache has
`rows`: requests decoded together, one row each (`ThinkerLoop` in `batch.py` runs them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omni_demo.engine.fast.attention import decode_attention
from omni_demo.engine.fast.graphs import WindowedStep
from omni_demo.engine.fast.kv import StaticKV, decode_layers, set_active


class ThinkerDecoder:
    """Decode steps of `model.thinker` over a cache of `length` positions."""

    def __init__(
        self,
        thinker: Any,
        length: int,
        compile: bool = False,
        smallest_window: int = 2048,
        rows: int = 1,
    ) -> None:
        import torch

        self.thinker = thinker
        self.lm = thinker.model.language_model
        weight = self.lm.embed_tokens.weight
        self.device = weight.device
        self.length = length
        self.rows = rows
        self.kv = StaticKV.for_config(self.lm.config, length, weight.dtype, self.device, rows)
        self.token = torch.zeros(rows, 1, dtype=torch.long, device=self.device)
        self.delta = torch.zeros(rows, dtype=torch.long, device=self.device)  # each request's rope delta
        vocab = thinker.lm_head.out_features
        self.logits = torch.zeros(rows, vocab, dtype=torch.float32, device=self.device)
        self.step = WindowedStep(
            self._body,
            self.kv,
            self.device,
            compile,
            around=lambda: decode_attention(self.lm.layers),
            smallest=smallest_window,
        )

    def _body(self) -> None:
        batch = self.kv.batch
        hidden = decode_layers(self.lm, self.lm.embed_tokens(self.token[:batch]), self.kv, self.delta)
        self.logits[:batch].copy_(self.thinker.lm_head(hidden[:, -1]).float())

    def capture(self, prompt: int = 0) -> None:
        """Capture the graphs a request with a prompt of `prompt` positions decodes with (CUDA only)."""
        self.step.prepare(prompt)

    def prefill(self, inputs: Any, use_audio_in_video: bool, hidden_states: bool) -> Prefilled:
        """Run the prompt (in the caller's thread and CUDA stream, beside other requests' steps); the
        result goes into a row with `load`."""
        from transformers import DynamicCache

        length = int(inputs["input_ids"].shape[1])
        self.kv.check_prompt(length, "a prompt")
        cache = DynamicCache(config=self.lm.config)
        out = self.thinker.model(
            **inputs,
            cache=cache,
            use_cache=True,
            use_audio_in_video=use_audio_in_video,
            output_hidden_states=hidden_states,
        )
        delta = self.thinker.model.rope_deltas.reshape(-1)[:1].clone()
        logits = self.thinker.lm_head(out.last_hidden_state[:, -1]).float()
        return Prefilled(cache, length, delta, logits, out.hidden_states)

    def load(self, prefilled: Prefilled, row: int) -> None:
        """A prefilled prompt into `row` (in the thread and stream that runs the steps)."""
        self.kv.load(prefilled.cache, prefilled.length, row)
        self.delta[row : row + 1].copy_(prefilled.delta)

    def move(self, source: int, target: int) -> None:
        self.kv.move(source, target)
        self.delta[target] = self.delta[source]
        self.token[target] = self.token[source]

    def decode(self, tokens: Any, active: list[bool] | None = None) -> Any:
        """Feed one token per row [rows, 1] (rows whose `active` is False sit the step out); returns
        the next positions' logits [rows, vocab] (a view of a buffer the next call overwrites)."""
        rows = int(tokens.shape[0])
        active = [True] * rows if active is None else active
        seen = max(self.kv.claim("the reply", r) for r in range(rows) if active[r])  # sized by cache_length
        set_active(self.kv, active)
        self.token[:rows].copy_(tokens)
        self.step(seen, rows)
        return self.logits[:rows]


@dataclass
class Prefilled:
    """A prompt run through the thinker, waiting to be loaded into a row of the decoder's cache."""

    cache: Any  # transformers DynamicCache
    length: int
    delta: Any  # the rope delta [1]
    logits: Any  # the last position's float32 logits [1, vocab]
    hidden_states: Any  # every layer's, when asked (the talker reads two of them)


def cache_length(needed: int, smallest: int = 1024, largest: int = 65536) -> int:
    """The bucket for a request: the next power of two ≥ `needed`, so few graphs serve all requests."""
    size = smallest
    while size < needed and size < largest:
        size *= 2
    return max(size, needed)
