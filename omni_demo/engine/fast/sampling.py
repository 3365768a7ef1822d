"""Choosing the next token the way transformers' `generate()` does, outside `generate()`.

`Picker` applies the same logits processors, built from transformers' own public classes, in the
same order as `GenerationMixin._get_logits_processor` (transformers 5.24): repetition penalty,
minimum new tokens, suppressed tokens, then (when sampling) temperature, top-k and top-p; then
`multinomial` or `argmax` on float32 scores. With greedy decoding the fast loops therefore pick
exactly the tokens `generate()` picks.

`device_sample` is the same choice for code that must run inside a CUDA graph (the code
predictor's 15 steps per speech frame): every shape is fixed and nothing leaves the device.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Decoding:
    """How one stage picks its tokens; the fields mirror `generate()`'s keyword arguments. None leaves a
    setting to the checkpoint's generation config (see `with_defaults`), as `generate()` does."""

    do_sample: bool = False
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    repetition_penalty: float | None = None
    min_new_tokens: int = 0
    max_new_tokens: int = 1024
    eos_token_ids: tuple[int, ...] = ()
    suppress_tokens: tuple[int, ...] = ()
    # End after this many new tokens whatever `max_new_tokens` says (the benchmark's fixed lengths, as
    # a stopping criterion does in `generate()`); None: no such end.
    stop_after: int | None = None

    def with_defaults(self, config: Any) -> Decoding:
        """The settings left to the checkpoint, taken from its generation config as generate() merges it."""
        return replace(
            self,
            temperature=self.temperature if self.temperature is not None else (config.temperature or 1.0),
            top_k=self.top_k if self.top_k is not None else config.top_k,
            top_p=self.top_p if self.top_p is not None else config.top_p,
            repetition_penalty=(
                self.repetition_penalty if self.repetition_penalty is not None else config.repetition_penalty
            ),
        )


class Picker:
    """Picks each next token of one reply; `ids` holds what `generate()` would call input_ids."""

    def __init__(self, decoding: Decoding, prompt_ids: Any) -> None:
        self.decoding = decoding
        self.ids = prompt_ids  # [1, n] on the model's device
        self._prompt_length = int(prompt_ids.shape[-1])
        self._processors = _processors(decoding, self._prompt_length, prompt_ids.device)

    @property
    def new_tokens(self) -> int:
        return int(self.ids.shape[-1]) - self._prompt_length

    def pick(self, logits: Any) -> Any:
        """logits [1, vocab] of the last position -> the next token [1, 1], appended to `ids`."""
        import torch

        scores = self._processors(self.ids, logits.float())
        if self.decoding.do_sample:
            token = torch.multinomial(torch.softmax(scores, dim=-1), num_samples=1)
        else:
            token = scores.argmax(dim=-1, keepdim=True)
        self.ids = torch.cat([self.ids, token], dim=-1)
        return token

    def finished(self, token_id: int) -> bool:
        if token_id in self.decoding.eos_token_ids and self.new_tokens >= self.decoding.min_new_tokens:
            return True
        stop = self.decoding.stop_after
        if stop is not None and self.new_tokens >= stop:
            return True
        return self.new_tokens >= self.decoding.max_new_tokens


def _processors(decoding: Decoding, prompt_length: int, device: Any) -> Any:
    from transformers.generation import (
        LogitsProcessorList,
        MinNewTokensLengthLogitsProcessor,
        RepetitionPenaltyLogitsProcessor,
        SuppressTokensLogitsProcessor,
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )

    out = LogitsProcessorList()
    if decoding.repetition_penalty not in (None, 1.0):
        out.append(RepetitionPenaltyLogitsProcessor(penalty=decoding.repetition_penalty))
    if decoding.min_new_tokens > 0 and decoding.eos_token_ids:
        out.append(
            MinNewTokensLengthLogitsProcessor(
                prompt_length, decoding.min_new_tokens, list(decoding.eos_token_ids), device=device
            )
        )
    if decoding.suppress_tokens:
        out.append(SuppressTokensLogitsProcessor(list(decoding.suppress_tokens), device=device))
    if decoding.do_sample:
        if decoding.temperature not in (None, 1.0):
            out.append(TemperatureLogitsWarper(decoding.temperature))
        if decoding.top_k:
            out.append(TopKLogitsWarper(top_k=decoding.top_k))
        if decoding.top_p is not None and decoding.top_p < 1.0:
            out.append(TopPLogitsWarper(top_p=decoding.top_p))
    return out


def device_sample(logits: Any, top_k: int, top_p: float, temperature: float = 1.0) -> Any:
    """Sample [1, 1] from logits [1, 1, vocab] with fixed shapes only (CUDA-graph safe).

    The same distribution as temperature -> top-k -> top-p -> `multinomial(num_samples=1)`: the
    exponential race below (argmax of p / E, E ~ Exp(1)) is how torch draws one sample itself.
    """
    import torch

    scores = logits[:, -1].float() / temperature
    values, indices = torch.topk(scores, top_k, dim=-1)  # descending
    ascending = values.flip(-1)
    cumulative = ascending.softmax(dim=-1).cumsum(dim=-1)
    remove = cumulative <= (1 - top_p)
    remove[..., -1] = False  # keep at least the best one, as TopPLogitsWarper does
    ascending = ascending.masked_fill(remove, float("-inf"))
    probs = ascending.softmax(dim=-1)
    noise = torch.empty_like(probs).exponential_(1)
    choice = (probs / noise).argmax(dim=-1, keepdim=True)
    return indices.flip(-1).gather(-1, choice)
