"""The thinker's fast decode: the model's own prefill, then one-token steps replayed as a CUDA graph.

Prefill runs `thinker.model` exactly as `generate()`'s first step does (media encoders, 3-D
positions, a transformers DynamicCache), asking the language model head for the last position
only. Its keys and values are copied into a `StaticKV` sized to the request, and every later
token runs the same decoder layers (transformers' own modules) over that fixed cache: positions
are `cache length + rope delta` on all three rotary axes, as the model computes them while
decoding. One decoder per cache length is kept, so a graph is captured once per length.
"""

from __future__ import annotations

from typing import Any

from omni_demo.engine.fast.attention import decode_attention
from omni_demo.engine.fast.graphs import WindowedStep
from omni_demo.engine.fast.kv import StaticKV, decode_layers


class ThinkerDecoder:
    """Decode steps of `model.thinker` over a cache of `length` positions."""

    def __init__(self, thinker: Any, length: int, compile: bool = False, smallest_window: int = 2048) -> None:
        import torch

        self.thinker = thinker
        self.lm = thinker.model.language_model
        weight = self.lm.embed_tokens.weight
        self.device = weight.device
        self.length = length
        self.kv = StaticKV.for_config(self.lm.config, length, weight.dtype, self.device)
        self.token = torch.zeros(1, 1, dtype=torch.long, device=self.device)
        self.delta = torch.zeros(1, dtype=torch.long, device=self.device)  # this request's rope delta
        self.logits = torch.zeros(1, thinker.lm_head.out_features, dtype=torch.float32, device=self.device)
        self.step = WindowedStep(
            self._body,
            self.kv,
            self.device,
            compile,
            around=lambda: decode_attention(self.lm.layers),
            smallest=smallest_window,
        )

    def _body(self) -> None:
        hidden = decode_layers(self.lm, self.lm.embed_tokens(self.token), self.kv, self.delta)
        self.logits.copy_(self.thinker.lm_head(hidden[:, -1]).float())

    def capture(self, prompt: int = 0) -> None:
        """Capture the graphs a request with a prompt of `prompt` positions decodes with (CUDA only)."""
        self.step.prepare(prompt)

    def prefill(self, inputs: Any, use_audio_in_video: bool, hidden_states: bool) -> tuple[Any, Any]:
        """Run the prompt; returns the last position's float32 logits [1, vocab] and, if asked, every
        layer's hidden states (the talker reads two of them)."""
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
        self.kv.load(cache, length)
        self.delta.copy_(self.thinker.model.rope_deltas.reshape(-1)[:1])
        logits = self.thinker.lm_head(out.last_hidden_state[:, -1]).float()
        return logits, out.hidden_states

    def decode(self, token: Any) -> Any:
        """Feed one token [1, 1]; returns the next position's logits (a buffer reused by the next call)."""
        seen = self.kv.claim("the reply")  # never raises when sized by `cache_length`
        self.token.copy_(token)
        self.step(seen)
        return self.logits


def cache_length(needed: int, smallest: int = 1024, largest: int = 65536) -> int:
    """The bucket for a request: the next power of two ≥ `needed`, so few graphs serve all requests."""
    size = smallest
    while size < needed and size < largest:
        size *= 2
    return max(size, needed)
