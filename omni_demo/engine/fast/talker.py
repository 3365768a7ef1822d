"""The talker's fast path: one CUDA graph per speech frame (80 ms of audio).

`generate()` makes each frame in two nested loops: the talker proposes the frame's first code,
then `code_predictor.generate()` adds the 15 residual codes one step at a time, and the sum of
the 16 codes' embeddings plus the next text embedding is the talker's next input
(`Qwen3OmniMoeTalkerForConditionalGeneration.prepare_inputs_for_generation`, transformers 5.24).
Through `generate()` that costs ~130 ms of Python and kernel launches per 80 ms frame.

Here the whole frame is one fixed-shape body: the predictor's prefill of 2 positions and 14
single-token steps over a 16-slot `StaticKV` (positions are constants), the residual codes chosen
on the device, then one talker step over the talker's own `StaticKV`. Captured once, a frame is
one graph replay. The talker's own token is then chosen outside the graph by `Picker`, with
`generate()`'s processors, so greedy runs pick exactly `generate()`'s codes.
"""

from __future__ import annotations

from typing import Any

from omni_demo.engine.fast.attention import decode_attention
from omni_demo.engine.fast.graphs import WindowedStep
from omni_demo.engine.fast.kv import StaticKV, decode_layers, set_active
from omni_demo.engine.fast.sampling import device_sample

# The code predictor's sampling when the talker samples (generate() passes top_k=50, top_p=0.8).
PREDICTOR_TOP_K = 50
PREDICTOR_TOP_P = 0.8


class FrameStep:
    """One speech frame. In: `token` (its first code), `past_hidden`, `text`; out: `codes`, `logits`."""

    def __init__(
        self,
        talker: Any,
        length: int,
        do_sample: bool,
        compile: bool = False,
        smallest_window: int = 2048,
        rows: int = 1,
    ) -> None:
        import torch

        self.talker = talker
        self.rows = rows
        self.do_sample = do_sample
        self.length = length
        predictor = talker.code_predictor
        weight = talker.codec_head.weight
        self.device, dtype = weight.device, weight.dtype
        hidden = talker.config.text_config.hidden_size
        self.groups = predictor.config.num_code_groups - 1  # 15 residual codes
        self.kv = StaticKV.for_config(talker.config.text_config, length, dtype, self.device, rows)
        self.predictor_kv = StaticKV.for_config(predictor.config, self.groups + 1, dtype, self.device, rows)
        self._predictor_rotary = self._predictor_positions(predictor, dtype)
        self._predictor_masks = self._predictor_causal_masks()
        self.token = torch.zeros(rows, 1, dtype=torch.long, device=self.device)
        self.past_hidden = torch.zeros(rows, 1, hidden, dtype=dtype, device=self.device)
        self.text = torch.zeros(rows, 1, hidden, dtype=dtype, device=self.device)
        self.delta = torch.zeros(rows, dtype=torch.long, device=self.device)
        self.codes = torch.zeros(rows, self.groups, dtype=torch.long, device=self.device)
        vocab = talker.codec_head.out_features
        self.logits = torch.zeros(rows, vocab, dtype=torch.float32, device=self.device)
        self.hidden = torch.zeros(rows, 1, hidden, dtype=dtype, device=self.device)
        # The predictor's scores per residual code (row 0's), kept for the benchmark's fidelity check.
        vocab = predictor.config.vocab_size
        self.predictor_logits = torch.zeros(self.groups, vocab, dtype=torch.float32, device=self.device)
        self.step = WindowedStep(
            self._body,
            self.kv,
            self.device,
            compile,
            around=lambda: decode_attention(self.talker.model.layers),  # its 16-slot predictor: sdpa
            smallest=smallest_window,
        )

    # -- the graph's body ------------------------------------------------------------------------

    def _body(self) -> None:
        batch = self.kv.batch
        first = self.talker.get_input_embeddings()(self.token[:batch])  # [batch, 1, H]
        residual_sum = self._predict(self.past_hidden[:batch], first)
        embeds = first + residual_sum + self.text[:batch]
        hidden = decode_layers(self.talker.model, embeds, self.kv, self.delta)
        self.logits[:batch].copy_(self.talker.codec_head(hidden[:, -1]).float())
        self.hidden[:batch].copy_(hidden)

    def _predict(self, past_hidden: Any, first: Any) -> Any:
        """The 15 residual codes into `self.codes`; returns the sum of their embeddings [batch, 1, H]."""
        import torch

        predictor = self.talker.code_predictor
        tables = predictor.model.codec_embedding
        hidden = self._predictor_forward(torch.cat([past_hidden, first], dim=1), start=0)
        total = None
        batch = first.shape[0]
        for group in range(self.groups):
            logits = predictor.lm_head[group](hidden[:, -1:])
            self.predictor_logits[group].copy_(logits[0, -1].float())
            code = self._choose(logits)  # [batch, 1]
            self.codes[:batch, group : group + 1].copy_(code)
            embed = tables[group](code)
            total = embed if total is None else total + embed
            if group + 1 < self.groups:
                hidden = self._predictor_forward(embed, start=group + 2)
        return total

    def _choose(self, logits: Any) -> Any:
        if self.do_sample:
            return device_sample(logits, PREDICTOR_TOP_K, PREDICTOR_TOP_P)
        return logits[:, -1].float().argmax(dim=-1, keepdim=True)

    def _predictor_forward(self, hidden: Any, start: int) -> Any:
        model = self.talker.code_predictor.model
        count = hidden.shape[1]
        cos, sin = self._predictor_rotary
        rotary = (cos[:, start : start + count], sin[:, start : start + count])
        mask = self._predictor_masks[(start, count)]
        self.predictor_kv.position.fill_(start)
        for layer in model.layers:
            hidden = layer(hidden, attention_mask=mask, cache=self.predictor_kv, position_embeddings=rotary)
        return model.norm(hidden)

    # -- fixed tables for the predictor's 16 positions -------------------------------------------

    def _predictor_positions(self, predictor: Any, dtype: Any) -> tuple[Any, Any]:
        import torch

        positions = torch.arange(self.groups + 1, device=self.device)[None]
        probe = torch.zeros(1, 1, predictor.config.hidden_size, dtype=dtype, device=self.device)
        return predictor.model.rotary_emb(probe, positions)

    def _predictor_causal_masks(self) -> dict[tuple[int, int], Any]:
        """Boolean masks over the 16 slots: the prefill of 2 positions, then one position at a time."""
        import torch

        slots = torch.arange(self.groups + 1, device=self.device)
        masks = {}
        for start, count in [(0, 2)] + [(s, 1) for s in range(2, self.groups + 1)]:
            rows = torch.arange(start, start + count, device=self.device)[:, None]
            masks[(start, count)] = (slots[None, :] <= rows).view(1, 1, count, -1)
        return masks

    # -- driving it ------------------------------------------------------------------------------

    def capture(self, prompt: int = 0) -> None:
        """Capture the graphs frames after a talker prompt of `prompt` positions use (CUDA only)."""
        self.step.prepare(prompt)

    def start(self, cache: Any, length: int, rope_delta: Any, past_hidden: Any, row: int = 0) -> None:
        """Take over after the talker's prefill (its DynamicCache of `length` positions), in `row`."""
        self.kv.check_prompt(length, "a talker prompt")
        self.kv.load(cache, length, row)
        self.delta[row : row + 1].copy_(rope_delta.reshape(-1)[:1])
        self.past_hidden[row].copy_(past_hidden.reshape(self.past_hidden[row].shape))

    def move(self, source: int, target: int) -> None:
        self.kv.move(source, target)
        for buffer in (self.delta, self.past_hidden, self.token):
            buffer[target] = buffer[source]

    def room(self, row: int = 0) -> int:
        """Frames that still fit `row`'s cache."""
        return self.length - self.kv.filled[row]

    def frame(self, tokens: Any, text: Any, active: list[bool] | None = None) -> tuple[Any, Any]:
        """One frame per row: tokens [rows, 1] and text embeddings [rows, 1, H] in; (residual codes
        [rows, 15], logits [rows, vocab]) out. Rows whose `active` is False sit the frame out.

        The returned tensors are views of buffers that the next call overwrites.
        """
        import torch

        rows = int(tokens.shape[0])
        active = [True] * rows if active is None else active
        seen = max(self.kv.claim("the speech", r) for r in range(rows) if active[r])
        set_active(self.kv, active)
        self.token[:rows].copy_(tokens)
        self.text[:rows].copy_(text.reshape(rows, *self.text.shape[1:]))
        self.step(seen, rows)
        if all(active):
            self.past_hidden[:rows].copy_(self.hidden[:rows])
        else:
            moved = self.kv.active[:rows].bool().view(rows, 1, 1)
            self.past_hidden[:rows].copy_(torch.where(moved, self.hidden[:rows], self.past_hidden[:rows]))
        return self.codes[:rows], self.logits[:rows]
