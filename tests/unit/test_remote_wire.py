"""The chunk parsers of the remote back-ends, on recorded chunk sequences of each service.

The sequences are written out as the services send them (the shapes the parsers' docstring cites),
including the awkward ones: role-only and usage-only chunks, audio in either vLLM-Omni field, DashScope's
transcript and closing deltas, reasoning deltas, and malformed chunks of every kind.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
import soundfile as sf

from omni_demo.engine.remote.wire import ChunkParser, DashScopeParser, VllmOmniParser
from omni_demo.errors import OmniError
from omni_demo.types import AudioChunk, TextDelta

RATE = 24_000


def _wav(samples: np.ndarray, rate: int = RATE) -> str:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return base64.b64encode(buffer.getvalue()).decode()


def _pcm(samples: np.ndarray) -> str:
    return base64.b64encode((samples * 32767).astype("<i2").tobytes()).decode()


RAMP = np.linspace(-0.5, 0.5, 2400, dtype=np.float32)


def _chunk(delta: dict | None, finish: str | None = None, **top) -> dict:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        **top,
        "choices": [choice],
    }


USAGE = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [], "usage": {"prompt_tokens": 9}}


def _run(parser: ChunkParser, chunks: list) -> list:
    events = [e for c in chunks for e in parser.feed(c)]
    return events + parser.finish()


def _text(events: list) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def _audio(events: list) -> np.ndarray:
    return np.concatenate([e.samples for e in events if isinstance(e, AudioChunk)])


# ------------------------------------------------------------------------------------------- vLLM


def test_vllm_text_stream() -> None:
    chunks = [
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"content": "Hello"}),
        _chunk({"content": ", world"}),
        _chunk({"content": ""}, "stop"),
        USAGE,
    ]
    events = _run(ChunkParser(), chunks)
    assert [e.text for e in events] == ["Hello", ", world"]


def test_vllm_reasoning_deltas_become_a_think_block() -> None:
    chunks = [
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"reasoning_content": "Let me think."}),
        _chunk({"reasoning": " Two plus two."}),  # newer vLLM's field name
        _chunk({"content": "Four."}),
        _chunk({}, "stop"),
    ]
    assert _text(_run(ChunkParser(), chunks)) == "<think>Let me think. Two plus two.</think>Four."


def test_a_think_block_left_open_is_closed_at_the_end() -> None:
    events = _run(ChunkParser(), [_chunk({"reasoning_content": "hmm"})])
    assert _text(events) == "<think>hmm</think>"


# -------------------------------------------------------------------------------------- vLLM-Omni


@pytest.mark.parametrize("field", ["content", "audio"])
def test_vllm_omni_text_then_audio_in_either_field(field: str) -> None:
    def audio(samples: np.ndarray) -> dict:
        data = _wav(samples)
        delta = {"role": "assistant", "content": data} if field == "content" else {"audio": {"data": data}}
        return _chunk(delta, modality="audio")

    chunks = [
        _chunk({"role": "assistant", "content": ""}, modality="text"),
        _chunk({"content": "Hi"}, modality="text"),
        _chunk({"content": " there"}, modality="text"),
        _chunk({"content": ""}, "stop", modality="text"),
        _chunk({"role": "assistant", "content": ""}, modality="audio"),
        audio(RAMP[:1200]),
        audio(RAMP[1200:]),
        _chunk({"content": ""}, "stop", modality="audio"),
        {**USAGE, "modality": "text"},
    ]
    events = _run(VllmOmniParser(), chunks)
    assert _text(events) == "Hi there"  # the base64 WAV never leaks into the text
    audio_events = [e for e in events if isinstance(e, AudioChunk)]
    assert [e.sample_rate for e in audio_events] == [RATE, RATE]
    np.testing.assert_allclose(_audio(events), RAMP, atol=1e-4)


def test_vllm_omni_without_modality_is_text() -> None:
    events = _run(VllmOmniParser(), [_chunk({"content": "plain"})])
    assert _text(events) == "plain"


def test_vllm_omni_keeps_the_wav_rate() -> None:
    events = _run(VllmOmniParser(), [_chunk({"content": _wav(RAMP, 16_000)}, modality="audio")])
    assert events[0].sample_rate == 16_000
    assert len(events[0].samples) == len(RAMP)


# -------------------------------------------------------------------------------------- DashScope


def test_dashscope_text_and_pcm_speech() -> None:
    chunks = [
        _chunk({"content": "", "role": "assistant"}),
        _chunk({"content": "Good"}),
        _chunk({"audio": {"transcript": "Good"}}),
        _chunk({"audio": {"data": _pcm(RAMP[:1000])}}),
        _chunk({"content": " day"}),
        _chunk({"audio": {"data": _pcm(RAMP[1000:])}}),
        _chunk({"audio": {"id": "audio_1", "expires_at": 1760000000}}),
        _chunk({}, "stop"),
        {**USAGE, "usage": {"prompt_tokens": 9, "completion_tokens_details": {"text_tokens": 2}}},
    ]
    events = _run(DashScopeParser(), chunks)
    assert _text(events) == "Good day"
    assert all(e.sample_rate == RATE for e in events if isinstance(e, AudioChunk))
    np.testing.assert_allclose(_audio(events), RAMP, atol=1e-4)


# -------------------------------------------------------------------------------------- malformed

MALFORMED = [
    (ChunkParser, "a list", ["not", "a", "chunk"]),
    (ChunkParser, "choices not a list", {"id": "x", "choices": "oops"}),
    (ChunkParser, "a choice not an object", {"id": "x", "choices": [3]}),
    (ChunkParser, "delta not an object", _chunk("text")),  # type: ignore[arg-type]
    (ChunkParser, "content not a string", _chunk({"content": 42})),
    (VllmOmniParser, "unknown modality", _chunk({"content": "x"}, modality="video")),
    (VllmOmniParser, "audio not base64", _chunk({"content": "%%% not base64 %%%"}, modality="audio")),
    (VllmOmniParser, "audio not a WAV", _chunk({"content": _pcm(RAMP)}, modality="audio")),
    (VllmOmniParser, "a truncated WAV", _chunk({"content": _wav(RAMP)[:40]}, modality="audio")),
    (VllmOmniParser, "audio data not a string", _chunk({"audio": {"data": 7}}, modality="audio")),
    (DashScopeParser, "audio not an object", _chunk({"audio": "abc"})),
    (DashScopeParser, "PCM of odd length", _chunk({"audio": {"data": base64.b64encode(b"abc").decode()}})),
    (DashScopeParser, "PCM not base64", _chunk({"audio": {"data": "@@@@"}})),
]


@pytest.mark.parametrize(("parser", "what", "chunk"), MALFORMED, ids=[m[1] for m in MALFORMED])
def test_malformed_chunks_say_so_in_one_sentence(parser: type[ChunkParser], what: str, chunk: object) -> None:
    good = _chunk({"content": "fine"})
    p = parser()
    assert _text(p.feed(good)) == "fine"
    with pytest.raises(OmniError) as caught:
        p.feed(chunk)
    sentence = str(caught.value)
    assert sentence.startswith(f"The {parser.service} server sent a reply this demo cannot read")
    assert sentence.count(".") == 1
    assert sentence.endswith(".")
