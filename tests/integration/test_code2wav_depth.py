"""Streamed speech joins on a decoder of the real checkpoint's depth: 8 sliding-window layers of 72 frames.

The preview's one-layer decoder hides how far back a frame's samples depend: on the real depth the
receptive field is ~8 × 72 frames. The streaming decoder carries the pre-transformer's cache from chunk
to chunk instead of re-decoding that context; here its chunks must still add up to the one-shot decode,
and each frame must go through the pre-transformer once.
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


def _streamed(model, codes, first: int = 10, chunk: int = 40) -> np.ndarray:
    from omni_demo.engine.speech import StreamingDecoder

    decoder = StreamingDecoder(model, first_chunk_frames=first, chunk_frames=chunk)
    pieces: list[np.ndarray] = []
    for index in range(codes.shape[-1]):
        pieces += decoder.push(codes[..., index])
    pieces += decoder.flush()
    return np.concatenate(pieces)


@pytest.mark.parametrize(("first", "chunk"), [(10, 40), (4, 13), (1, 7)])
def test_streamed_joins_equal_the_one_shot_decode_on_the_real_depth(deep_code2wav, first, chunk) -> None:
    model, codes, reference = deep_code2wav
    streamed = _streamed(model, codes, first, chunk)
    peak = float(np.abs(reference).max())
    assert peak > 0.01
    assert len(streamed) == len(reference)
    assert float(np.abs(streamed - reference).max()) <= 1e-3 * peak


def test_each_frame_goes_through_the_pre_transformer_once(deep_code2wav) -> None:
    """A chunk costs its own frames, not the ~600 frames of context a stateless decode would redo."""
    model, codes, _ = deep_code2wav
    seen: list[int] = []

    def count(module, args, kwargs) -> None:
        seen.append(kwargs["inputs_embeds"].shape[1])

    handle = model.pre_transformer.register_forward_pre_hook(count, with_kwargs=True)
    try:
        _streamed(model, codes, 4, 13)
    finally:
        handle.remove()
    assert len(seen) > FRAMES // 13
    assert sum(seen) == FRAMES


def test_a_fresh_cache_per_chunk_is_not_the_one_shot_decode(deep_code2wav, monkeypatch) -> None:
    """What forgetting the pre-transformer's state would do: the joins are audibly off, so the equality
    test above can fail."""
    from omni_demo.engine import speech

    model, codes, reference = deep_code2wav
    forgetful = speech.StreamingDecoder._transformer

    def fresh(self, chunk):
        self._cache = None
        return forgetful(self, chunk)

    monkeypatch.setattr(speech.StreamingDecoder, "_transformer", fresh)
    streamed = _streamed(model, codes)
    peak = float(np.abs(reference).max())
    assert float(np.abs(streamed - reference).max()) > 1e-2 * peak
