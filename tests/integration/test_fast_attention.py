"""The fast decoders' attention: one-query steps over the cache as grouped matrix products.

transformers' sdpa attention, given a mask, packs the grouped query heads into one call, which on
CUDA picks a kernel ~15x slower over a long cache; PyTorch's `enable_gqa` path is fast but not the same
from run to run. The fast loops compute their decode steps as transformers' eager attention does,
with each key/value head's query heads packed (`grouped_decode`); prefill and the stock `generate()`
keep transformers' sdpa. Checked here on the preview model (4 query heads share each key/value
head): the function against PyTorch's attention on the same tensors, and which calls a fast request
and `generate()` make. That the replies stay exactly those of `generate()` is `test_fast_engine.py`'s
part.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from integration.test_fast_engine import CASES
from omni_demo.types import Result

pytestmark = pytest.mark.integration


@contextmanager
def attention_calls() -> Iterator[list[tuple[int, int, bool, bool]]]:
    """(query length, key length, mask given, enable_gqa) of every sdpa call meanwhile."""
    import torch

    calls: list[tuple[int, int, bool, bool]] = []
    original = torch.nn.functional.scaled_dot_product_attention

    def recorded(query: Any, key: Any, value: Any, attn_mask: Any = None, *args: Any, **kwargs: Any) -> Any:
        calls.append((query.shape[-2], key.shape[-2], attn_mask is not None, bool(kwargs.get("enable_gqa"))))
        return original(query, key, value, attn_mask, *args, **kwargs)

    torch.nn.functional.scaled_dot_product_attention = recorded
    try:
        yield calls
    finally:
        torch.nn.functional.scaled_dot_product_attention = original


@contextmanager
def grouped_calls() -> Iterator[list[tuple[int, int]]]:
    """(key length, slots the mask lets the query see) of every `grouped_decode` call meanwhile (the
    real function runs)."""
    from omni_demo.engine.fast import attention

    calls: list[tuple[int, int]] = []
    original = attention.grouped_decode

    def recorded(query: Any, key: Any, value: Any, mask: Any, scaling: Any) -> Any:
        calls.append((key.shape[-2], int(mask.sum())))
        return original(query, key, value, mask, scaling)

    attention.grouped_decode = recorded
    try:
        yield calls
    finally:
        attention.grouped_decode = original


@pytest.mark.parametrize("filled", [1, 37, 64])
def test_grouped_decode_equals_pytorch_attention(filled: int) -> None:
    """Against sdpa with the keys and values repeated per head (what `repeat_kv` does), float64 inputs
    (the softmax runs in float32, as in transformers' eager attention); what lies in the masked slots
    does not matter."""
    import torch

    from omni_demo.engine.fast.attention import grouped_decode

    generator = torch.Generator().manual_seed(filled)
    query = torch.randn(1, 8, 1, 16, generator=generator, dtype=torch.float64)
    key = torch.randn(1, 2, 64, 16, generator=generator, dtype=torch.float64)
    value = torch.randn(1, 2, 64, 16, generator=generator, dtype=torch.float64)
    mask = (torch.arange(64) < filled).view(1, 1, 1, 64)
    expected = torch.nn.functional.scaled_dot_product_attention(
        query, key.repeat_interleave(4, dim=1), value.repeat_interleave(4, dim=1), attn_mask=mask, scale=0.3
    ).transpose(1, 2)

    got = grouped_decode(query, key, value, mask, 0.3)

    assert got.shape == (1, 1, 8, 16)
    assert torch.allclose(got, expected, rtol=0, atol=1e-6)
    key[:, :, filled:] = 1e6  # garbage in the unfilled slots
    value[:, :, filled:] = -1e6
    assert torch.equal(grouped_decode(query, key, value, mask, 0.3), got)


def _layers(model: Any) -> tuple[int, int]:
    thinker = model.config.thinker_config.text_config.num_hidden_layers
    talker = model.config.talker_config.text_config.num_hidden_layers
    return thinker, talker


def test_fast_decode_steps_use_grouped_attention(preview_engine: Any) -> None:
    engine = preview_engine.with_options(engine="fast", talker_do_sample=False)
    request = CASES["text-speech"]
    thinker_layers, talker_layers = _layers(engine.model)
    fast = engine.fast_path
    assert fast is not None

    with attention_calls() as sdpa, grouped_calls() as grouped:
        result = list(engine.stream(request))[-1]

    assert isinstance(result, Result)
    tokens = result.timings.text_tokens
    assert tokens > 1
    assert_smallest_windows(grouped, fast)
    # One grouped call per layer for every thinker step and every talker frame (its first frame comes
    # from its prefill, outside the loop), none through sdpa.
    talker_calls = len(grouped) - thinker_layers * (tokens - 1)
    assert talker_calls > 0
    assert talker_calls % talker_layers == 0
    predictor_slots = engine.model.config.talker_config.code_predictor_config.num_code_groups
    # (code2wav's streamed pre-transformer may also run one query, without a mask: not a decode step)
    assert not [c for c in sdpa if c[0] == 1 and c[2] and c[1] != predictor_slots]
    # Prefill (many queries) keeps transformers' sdpa.
    assert [c for c in sdpa if c[0] > 1]


def assert_smallest_windows(grouped: list[tuple[int, int]], fast: Any) -> None:
    """Every decode step attended over the smallest window holding its filled slots, never more."""
    from omni_demo.engine.fast.kv import window_for, windows

    caches = fast.cache_sizes()
    sizes = [windows(caches[k], fast.smallest_window) for k in ("thinker_positions", "talker_positions")]
    assert grouped
    for keys, seen in grouped:
        assert keys in {window_for(seen, s) for s in sizes}, (keys, seen)


@pytest.mark.parametrize(("case", "windows_used"), [("text-speech", 2), ("video-audio-in-video-speech", 1)])
def test_small_windows_equal_generate(preview_engine: Any, case: str, windows_used: int) -> None:
    """With windows of 16, 32, 64, ... slots a request's steps move from window to window as the cache
    fills (each graph reading only its window), and the reply stays generate()'s, codes included.
    A window one slot too small (the new position left out) fails here."""
    from integration.test_fast_engine import assert_equals_generate
    from omni_demo.engine.fast.run import FastPath
    from omni_demo.engine.local import LocalEngine

    shared = preview_engine.with_options(engine="fast", talker_do_sample=False)
    fast = FastPath(shared.model, smallest_window=16)
    engine = LocalEngine(shared.model, shared.processor, shared.info, shared.options, shared.admission, fast)

    with grouped_calls() as grouped:
        assert_equals_generate(engine, CASES[case])

    assert_smallest_windows(grouped, fast)
    # The short prompt's steps cross a window boundary; the video's (over 512 positions) stay in one.
    assert len({keys for keys, _ in grouped}) == windows_used
    assert max(keys for keys, _ in grouped) < max(fast.cache_sizes().values())


def test_generate_keeps_transformers_attention(preview_engine: Any) -> None:
    """After fast requests, the stock generate() still runs transformers' own sdpa path unchanged."""
    fast = preview_engine.with_options(engine="fast", talker_do_sample=False)
    list(fast.stream(CASES["text"]))
    plain = preview_engine.with_options(engine="plain")
    config = plain.model.thinker.model.language_model.layers[0].self_attn.config

    with attention_calls() as calls:
        result = list(plain.stream(CASES["text"]))[-1]

    assert isinstance(result, Result)
    assert config._attn_implementation == "sdpa"
    assert calls
    assert not [c for c in calls if c[2] and c[3]], "generate() called sdpa with a mask and enable_gqa"


def test_a_prefill_beside_a_decode_step_keeps_sdpa(preview_engine: Any) -> None:
    """Requests are decoded together: one request's prefill may run while another's decode step has
    switched the shared config to the grouped decode attention. The prefill's result stays exactly
    what sdpa gives, its mask included (a padded prompt: without sdpa's mask it would attend to the
    padding)."""
    import torch

    from omni_demo.engine.fast.attention import decode_attention

    thinker = preview_engine.model.thinker
    ids = torch.randint(0, 1000, (1, 37), generator=torch.Generator().manual_seed(3))
    mask = torch.ones_like(ids)
    mask[:, :5] = 0  # left padding
    inputs = {"input_ids": ids, "attention_mask": mask}
    with torch.inference_mode():
        alone = thinker.model(**inputs).last_hidden_state
        with decode_attention(thinker.model.language_model.layers):
            beside = thinker.model(**inputs).last_hidden_state
    assert torch.equal(alone[:, 5:], beside[:, 5:])


def test_overlapping_decode_steps_keep_the_switch_until_the_last_ends(preview_engine: Any) -> None:
    """Two loops over one config (two cache lengths) step at once: when the first one's step ends, the
    other's is still inside the grouped decode attention; the config returns to sdpa after the last."""
    from omni_demo.engine.fast.attention import NAME, decode_attention

    layers = preview_engine.model.thinker.model.language_model.layers
    config = layers[0].self_attn.config
    first, second = decode_attention(layers), decode_attention(layers)
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert config._attn_implementation == NAME
    second.__exit__(None, None, None)
    assert config._attn_implementation == "sdpa"
