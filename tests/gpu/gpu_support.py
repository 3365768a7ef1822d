"""Helpers of the GPU suite (its conftest and its tests import them; no gradio, no torch at import)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NO_CUDA = "needs a CUDA GPU (the fast engine's CUDA graphs, streams and on-device sampling)"


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@dataclass
class Watch:
    """What the fast path did during one test, recorded around its real functions (nothing replaced).

    `captures`: (Step, started, finished) for each graph recorded. `used`: (kind, length, decoder, thread
    name, when) for every decoder a request asked for ("thinker" or "frames"). `tokens`: per text tap,
    in the order the taps were made (one per request), the reply's token ids and when each was handed over.
    """

    captures: list[tuple[Any, float, float]] = field(default_factory=list)
    used: list[tuple[str, int, Any, str, float]] = field(default_factory=list)
    tokens: dict[Any, list[tuple[int, float]]] = field(default_factory=dict)

    def token_ids(self, index: int) -> list[int]:
        return [token for token, _ in list(self.tokens.values())[index]]

    def token_times(self, index: int) -> list[float]:
        return [when for _, when in list(self.tokens.values())[index]]

    def lengths(self, kind: str) -> list[int]:
        return [length for k, length, *_ in self.used if k == kind]
