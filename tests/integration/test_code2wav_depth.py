"""Streamed speech joins on a decoder of the real checkpoint's depth: 8 sliding-window layers of 72 frames.

The preview's one-layer decoder hides how far back a frame's samples depend: on the real depth the
receptive field is ~8 × 72 frames, and a streamed decode with less left context is not the one-shot one.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.integration

FRAMES = 320  # more than the 300-frame chunks of upstream's chunked_decode


@pytest.fixture(scope="module")
def deep_code2wav():
    """A preview-sized code2wav with the real depth, window and layer scale; random weights."""
    import torch
    from transformers.models.qwen3_omni_moe.configuration_qwen3_omni_moe import Qwen3OmniMoeCode2WavConfig
    from transformers.models.qwen3_omni_moe.modeling_qwen3_omni_moe import Qwen3OmniMoeCode2Wav

    torch.manual_seed(0)
    config = Qwen3OmniMoeCode2WavConfig(
        codebook_size=2048,
        num_quantizers=16,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=8,
        num_attention_heads=4,
        num_key_value_heads=4,
        decoder_dim=32,
        upsample_rates=[8, 5, 4, 3],
        upsampling_ratios=[2, 2],
        sliding_window=72,
        max_position_embeddings=8000,
        layer_scale_initial_scale=1.0,
    )
    model = Qwen3OmniMoeCode2Wav(config).eval()
    with torch.no_grad():  # keep the random waveform inside [-1, 1], where the output clamp is linear
        probe = model(torch.randint(0, 2048, (1, 16, 40)))
        last = model.decoder[-1].conv
        last.weight.mul_(0.2 / max(float(probe.abs().max()), 1e-12))
        if last.bias is not None:
            last.bias.mul_(0.0)
    codes = torch.randint(0, 2048, (1, 16, FRAMES))
    with torch.inference_mode():
        reference = model(codes).reshape(-1).float().numpy()
    return model, codes, reference


def _streamed(model, codes, context: int | None) -> np.ndarray:
    from omni_demo.engine.speech import StreamingDecoder

    decoder = StreamingDecoder(model, first_chunk_frames=10, chunk_frames=40, left_context_frames=context)
    pieces: list[np.ndarray] = []
    for index in range(codes.shape[-1]):
        pieces += decoder.push(codes[..., index])
    pieces += decoder.flush()
    return np.concatenate(pieces)


def test_default_left_context_is_the_receptive_field(deep_code2wav) -> None:
    from omni_demo.engine.local import EngineOptions
    from omni_demo.engine.speech import receptive_field

    model, _, _ = deep_code2wav
    assert receptive_field(model) >= 8 * 72
    assert EngineOptions().left_context_frames is None  # the engine takes the decoder's own


def test_streamed_joins_equal_the_one_shot_decode_on_the_real_depth(deep_code2wav) -> None:
    model, codes, reference = deep_code2wav
    streamed = _streamed(model, codes, None)
    peak = float(np.abs(reference).max())
    assert peak > 0.01
    assert len(streamed) == len(reference)
    assert float(np.abs(streamed - reference).max()) <= 1e-3 * peak


def test_one_window_of_context_is_not_enough_on_the_real_depth(deep_code2wav) -> None:
    """What the old default (72 frames) did: the joins are audibly off, so the test above can fail."""
    model, codes, reference = deep_code2wav
    streamed = _streamed(model, codes, 72)
    peak = float(np.abs(reference).max())
    assert float(np.abs(streamed - reference).max()) > 1e-2 * peak
