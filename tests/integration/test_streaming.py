"""Streaming speech: chunks that add up to the real waveform, arrive early, and stop on demand.

Everything is checked by event order and sample values, never by the clock. The times that the
long answer takes are printed for the record (run with -s) but not asserted.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from speech_codes import engine_codes

from omni_demo.conversation import build_model_input
from omni_demo.types import AudioChunk, Media, Request, Result, Sampling, TextDelta, Turn

pytestmark = pytest.mark.integration

ASSETS = Path(__file__).resolve().parents[2] / "assets"
SAMPLES_PER_FRAME = 1920  # one 12.5 Hz frame at 24 kHz
LONG_TOKENS = 200
LONG_FRAMES = 250  # the preview engine speaks 1.25 frames per text token
TOLERANCE = 1e-3  # streamed vs one-shot decode


@contextmanager
def talker_codes(model) -> Iterator[list]:
    """Collect each talker step's `residual_codes` (the previous frame's 16 codes), as the engine does."""
    frames: list = []

    def hook(module, args, kwargs) -> None:
        codes = kwargs.get("residual_codes")
        if codes is not None:  # None on the prefill step
            frames.append(codes.detach().clone())

    handle = model.talker.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield frames
    finally:
        handle.remove()


def one_shot_decode(model, frames: list) -> np.ndarray:
    """What generate() does at the end: decode all codes at once."""
    import torch

    codes = torch.stack(frames, dim=-1)  # [1, 16, frames]
    with torch.inference_mode():
        wav = model.code2wav.chunked_decode(codes, chunk_size=300, left_context_size=25)
    return wav.reshape(-1).float().numpy()


def no_worker_left() -> bool:
    """Neither the generation worker nor (interleaved speech) its thinker helper is still running a task."""
    from omni_demo.engine.workers import worker

    return not worker("omni-generate").busy and not worker("omni-thinker").busy


# ------------------------------------------------------------------------------------- a long answer


@pytest.fixture(scope="module")
def long_answer(preview_engine) -> dict:
    """One long greedy reply (200 text tokens, 250 speech frames), with the talker's codes captured."""
    engine = preview_engine.with_options(talker_do_sample=False)
    request = Request(
        turns=(Turn("user", "Tell me a long story about a lighthouse keeper."),),
        voice="Ethan",
        sampling=Sampling(temperature=0, max_new_tokens=LONG_TOKENS),
    )
    events: list = []
    first_audio_s = None
    started = time.perf_counter()
    with engine_codes() as frames:
        for event in engine.stream(request):
            if isinstance(event, AudioChunk) and first_audio_s is None:
                first_audio_s = time.perf_counter() - started
            events.append(event)
    total_s = time.perf_counter() - started
    result = events[-1]
    assert isinstance(result, Result)
    # For the record only, preview model, 200 tokens + 20 s of speech, 2 CPU cores shared with other jobs:
    # interleaved engine (default): first audio 1.2-1.5 s, total 16-24 s; the stock generate() path
    # (interleave=False) gave first audio 3.4 s (talker after the whole text), total 17 s.
    print(
        f"\nlong answer: first audio after {first_audio_s:.2f} s, total {total_s:.2f} s; "
        f"engine timings: {result.timings.summary()}"
    )
    return {"engine": engine, "events": events, "result": result, "frames": frames}


def test_long_answer_has_the_expected_length(long_answer: dict) -> None:
    result = long_answer["result"]
    assert result.timings.text_tokens == LONG_TOKENS
    assert len(long_answer["frames"]) == LONG_FRAMES
    assert result.audio is not None
    lost = LONG_FRAMES * SAMPLES_PER_FRAME - len(result.audio)
    assert 0 <= lost < SAMPLES_PER_FRAME  # only the causal tail of the last decode call is missing
    assert result.timings.speech_s == pytest.approx(len(result.audio) / 24_000)


def test_audio_streams_before_the_reply_ends(long_answer: dict) -> None:
    events = long_answer["events"]
    chunk_positions = [i for i, e in enumerate(events) if isinstance(e, AudioChunk)]
    result_position = len(events) - 1

    assert chunk_positions, "no audio was streamed"
    assert chunk_positions[0] < result_position
    # Many chunks, each delivered as its own event before the final Result.
    assert len(chunk_positions) >= 10
    assert chunk_positions[-1] < result_position
    text_positions = [i for i, e in enumerate(events) if isinstance(e, TextDelta)]
    assert text_positions[0] < chunk_positions[0]  # the talker follows the text, never leads it
    # Speech while the text is written (interleave, the default): the first chunk needs 10 talker steps,
    # i.e. ~11 of the 200 tokens, so it comes before the last text delta (event order; observed after
    # ~50 of ~190 text deltas, a wide margin).
    assert chunk_positions[0] < text_positions[-1]


def test_chunks_are_about_a_second_each(long_answer: dict) -> None:
    engine = long_answer["engine"]
    sizes = [len(e.samples) for e in long_answer["events"] if isinstance(e, AudioChunk)]
    first, middle, last = sizes[0], sizes[1:-1], sizes[-1]

    # The first chunk is short so that the first sound comes early ...
    assert first <= engine.options.first_chunk_frames * SAMPLES_PER_FRAME
    assert first > (engine.options.first_chunk_frames - 1) * SAMPLES_PER_FRAME
    # ... the next ones at most double (each is made while the one before plays) ...
    assert all(b <= 2 * a + SAMPLES_PER_FRAME for a, b in itertools.pairwise(sizes[:-1])), sizes
    # ... up to ~1 s, so browser players do not stutter; only the last may be shorter.
    assert middle
    full = engine.options.chunk_frames * SAMPLES_PER_FRAME
    assert all(size <= full for size in middle), sizes
    grown = [i for i, size in enumerate(middle) if size == full]
    assert grown, sizes
    assert all(size == full for size in middle[grown[0] :]), sizes
    assert middle[grown[0]] >= 13 * SAMPLES_PER_FRAME
    assert 0 < last <= engine.options.chunk_frames * SAMPLES_PER_FRAME + SAMPLES_PER_FRAME
    assert all(e.sample_rate == 24_000 for e in long_answer["events"] if isinstance(e, AudioChunk))


def test_result_audio_is_exactly_the_streamed_chunks(long_answer: dict) -> None:
    chunks = [e.samples for e in long_answer["events"] if isinstance(e, AudioChunk)]
    streamed = np.concatenate(chunks)
    audio = long_answer["result"].audio
    assert audio.dtype == np.float32
    assert np.array_equal(streamed, audio)


def test_streamed_speech_equals_the_one_shot_decode(long_answer: dict) -> None:
    """The chunks (decoded with 72 frames of left context, joined sample-accurately) equal decoding all
    250 frames at once, which is what generate() returns at the end."""
    model = long_answer["engine"].model
    reference = one_shot_decode(model, long_answer["frames"])
    streamed = long_answer["result"].audio

    assert len(streamed) == len(reference)
    assert float(np.abs(streamed - reference).max()) < TOLERANCE
    assert float(np.abs(reference).max()) > 10 * TOLERANCE  # the comparison is not between two silences


@pytest.mark.parametrize(
    ("frames_used", "first", "chunk"),
    [(40, 1, 1), (LONG_FRAMES, 4, 37)],
    ids=["one-frame-chunks", "odd-schedule"],
)
def test_streaming_decoder_joins_are_sample_accurate_for_any_schedule(
    long_answer: dict, frames_used: int, first: int, chunk: int
) -> None:
    """The engine's StreamingDecoder fed the captured codes frame by frame, with other chunk sizes than
    the engine's, still adds up to the one-shot decode (one-frame chunks only over the first 40 frames:
    every call decodes up to 72 frames of context, so 250 of them would be slow)."""
    from omni_demo.engine.speech import StreamingDecoder

    model = long_answer["engine"].model
    frames = long_answer["frames"][:frames_used]
    decoder = StreamingDecoder(model.code2wav, first_chunk_frames=first, chunk_frames=chunk)
    pieces: list[np.ndarray] = []
    for codes in frames:
        pieces += decoder.push(codes)
    ready_before_flush = len(pieces)
    pieces += decoder.flush()
    streamed = np.concatenate(pieces)
    reference = one_shot_decode(model, frames)

    # Chunks before the flush: the first, then each twice the one before, up to `chunk` frames.
    sizes, size, total = [], first, 0
    while total + size <= len(frames):
        sizes.append(size)
        total += size
        size = min(2 * size, chunk)
    assert ready_before_flush == len(sizes)
    assert len(streamed) == len(reference)
    assert float(np.abs(streamed - reference).max()) < TOLERANCE


# ------------------------------------------------------------------------- engine vs plain generate()


def _plain_generate(engine, request: Request, talker_steps: int) -> tuple[str, np.ndarray, list, list]:
    """The stock generate() on the engine's exact processor inputs: (text, wav, frames, talker inputs).

    The inputs come from the engine's private `_prepare` (media decoding + processor call), so both runs
    see identical tensors; everything after that is the stock, non-streaming generate().
    """
    import torch

    model_input = build_model_input(request, engine.info.capabilities, engine.options.max_media_turns)
    inputs = engine._prepare(model_input, request)  # private: the engine's exact processor inputs
    with (
        talker_codes(engine.model) as frames,
        talker_inputs(engine.model) as steps,
        talker_positions(engine.model) as positions,
        torch.inference_mode(),
    ):
        sequences, wav = engine.model.generate(
            **inputs,
            speaker=request.voice,
            use_audio_in_video=request.use_audio_in_video,
            return_audio=True,
            thinker_max_new_tokens=request.sampling.max_new_tokens,
            thinker_do_sample=False,
            talker_do_sample=False,
            talker_max_new_tokens=talker_steps,
        )
    text = engine.processor.tokenizer.decode(
        sequences[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True
    )
    steps.positions = positions  # type: ignore[attr-defined]
    return text, wav.reshape(-1).float().numpy(), frames, steps


class _Steps(list):
    """Talker inputs per step; `positions` holds the position ids the talker's text model got."""

    positions: list


@contextmanager
def talker_positions(model) -> Iterator[list]:
    """The position ids of every forward of the talker's text model (3 rows: time, height, width)."""
    seen: list = []

    def hook(module, args, kwargs) -> None:
        seen.append(kwargs["position_ids"].detach().clone())

    handle = model.talker.model.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield seen
    finally:
        handle.remove()


@contextmanager
def talker_inputs(model) -> Iterator[list]:
    """The `inputs_embeds` of every talker forward: the prefill, then one vector per step, which adds the
    reply text the talker is reading (`trailing_text_hidden[generation_step]`) to the last frame's codes."""
    steps = _Steps()

    def hook(module, args, kwargs) -> None:
        steps.append(kwargs["inputs_embeds"].detach().clone())

    handle = model.talker.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        yield steps
    finally:
        handle.remove()


def _speech_request(tokens: int) -> Request:
    # Audio input on purpose: it exercises the talker's audio_config work-around (transformers 5.16-5.24).
    return Request(
        turns=(Turn("user", "Repeat what I said.", media=(Media("audio", str(ASSETS / "speech_en.wav")),)),),
        voice="Ethan",
        sampling=Sampling(temperature=0, max_new_tokens=tokens),
    )


@pytest.mark.parametrize(
    ("engine_name", "interleave"),
    [("fast", True), ("plain", True), ("plain", False)],
    ids=["fast", "plain-interleaved", "stock-generate-path"],
)
def test_engine_speech_equals_plain_generate(preview_engine, engine_name: str, interleave: bool) -> None:
    """Same request, greedy thinker and talker: the engine's streamed speech equals generate()'s wav."""
    import torch

    engine = preview_engine.with_options(talker_do_sample=False, interleave=interleave, engine=engine_name)
    request = _speech_request(16)
    with engine_codes() as engine_frames:
        events = list(engine.stream(request))
    result = events[-1]
    assert isinstance(result, Result)
    assert result.audio is not None
    assert engine_frames

    # generate() makes one frame fewer than talker steps (the last step's codes are never fed back).
    text, reference, plain_frames, _ = _plain_generate(engine, request, len(engine_frames) + 1)

    assert text == result.text
    assert len(plain_frames) == len(engine_frames)
    assert all(torch.equal(a, b) for a, b in zip(plain_frames, engine_frames, strict=True))
    assert len(result.audio) == len(reference)
    assert float(np.abs(result.audio - reference).max()) < TOLERANCE
    if not interleave:  # the stock path speaks only once the whole text exists
        kinds = [type(e) for e in events]
        last_text = max(i for i, k in enumerate(kinds) if k is TextDelta)
        assert last_text < kinds.index(AudioChunk)


def _multi_turn_request(tokens: int) -> Request:
    return Request(
        turns=(
            Turn("user", "Read this.", media=(Media("image", str(ASSETS / "ocr.png")),)),
            Turn("assistant", "It is a receipt."),
            Turn("user", "And this?", media=(Media("audio", str(ASSETS / "speech_en.wav")),)),
        ),
        voice="Chelsie",
        sampling=Sampling(temperature=0, max_new_tokens=tokens),
    )


def _audio_in_video_request(tokens: int) -> Request:
    return Request(
        turns=(
            Turn("user", "Answer the question.", media=(Media("video", str(ASSETS / "av_question.mp4")),)),
        ),
        voice="Aiden",
        use_audio_in_video=True,
        sampling=Sampling(temperature=0, max_new_tokens=tokens),
    )


@pytest.mark.parametrize(
    "make_request",
    [_speech_request, _multi_turn_request, _audio_in_video_request],
    ids=["audio", "multi-turn", "audio-in-video"],
)
def test_interleaved_talker_reads_the_same_text_as_generate(preview_engine, make_request) -> None:
    """Step by step, the interleaved talker gets the inputs generate() gives it: the same prefill, then
    the same reply text, end marker and padding.

    The waveform test above cannot see a difference here: in the random-weight preview the text part of
    each step's input is ~1e-3 of the codec part, too small to change a greedy code. The real talker
    reads the text, so the inputs themselves are compared.
    """
    import torch

    tokens = 8
    # The plain path: its talker runs forward() once per step, which the hook below sees. The fast path
    # makes each step inside one graph; its codes are compared with generate()'s in test_fast_engine.py.
    engine = preview_engine.with_options(talker_do_sample=False, interleave=True, engine="plain")
    request = make_request(tokens)
    with talker_inputs(engine.model) as engine_steps, talker_positions(engine.model) as engine_positions:
        list(engine.stream(request))
    _, _, _, plain_steps = _plain_generate(engine, request, len(engine_steps))

    # Position ids (the talker's own rope index over the media it hears and sees), step by step.
    plain_positions = plain_steps.positions
    assert len(engine_positions) == len(plain_positions)
    for step, (ours, theirs) in enumerate(zip(engine_positions, plain_positions, strict=True)):
        assert torch.equal(ours, theirs), f"position ids differ from generate()'s at talker step {step}"

    assert len(engine_steps) == len(plain_steps) == 1 + math.ceil(1.25 * tokens)  # prefill + one per frame
    assert engine_steps[0].shape == plain_steps[0].shape
    assert float((engine_steps[0] - plain_steps[0]).abs().max()) < 1e-6, "the talker's prefill differs"
    differences = [float((a - b).abs().max()) for a, b in zip(engine_steps, plain_steps, strict=True)]
    wrong = [step for step, diff in enumerate(differences) if diff > 1e-6]
    # generate() feeds reply tokens 1 .. n-2 and then the end marker (the last token, usually
    # <|im_end|>, is never fed); with n = 8 that puts the marker at talker step 7.
    assert wrong == [], f"talker inputs differ from generate()'s at steps {wrong}: max |diff| {differences}"


# ------------------------------------------------------------------------------------------- cancel


def test_closing_the_stream_mid_speech_stops_at_once(preview_engine) -> None:
    tokens = 80  # 100 frames of budget: far more than are made before the close below
    request = Request(
        turns=(Turn("user", "Talk for a while."),),
        sampling=Sampling(temperature=0, max_new_tokens=tokens),
    )
    seen: list = []
    with engine_codes() as frames:
        stream = preview_engine.stream(request)
        for event in stream:
            seen.append(event)
            if isinstance(event, AudioChunk):
                break
        assert preview_engine.busy  # the generation is still running
        stream.close()
        # close() returns only once the worker has stopped: the lock is free and no worker is left.
        assert not preview_engine.busy
        assert no_worker_left()
        frames_at_close = len(frames)

    assert isinstance(seen[-1], AudioChunk)
    assert not any(isinstance(e, Result) for e in seen)
    # The talker stopped long before its budget (an event count, not a clock; the margin is ~90 frames).
    assert frames_at_close < 1.25 * tokens

    # The next request runs normally, with speech, on the same model.
    events = list(
        preview_engine.stream(Request(turns=(Turn("user", "Hello"),), sampling=Sampling(0, 1, 1, 8)))
    )
    result = events[-1]
    assert isinstance(result, Result)
    assert result.text
    assert result.audio is not None
    assert len(result.audio) > 0
    assert any(isinstance(e, AudioChunk) for e in events)
    assert not preview_engine.busy
    assert no_worker_left()


def test_closing_before_any_event_releases_the_engine(preview_engine) -> None:
    stream = preview_engine.stream(Request(turns=(Turn("user", "Hi"),), sampling=Sampling(0, 1, 1, 8)))
    first = next(stream)
    assert isinstance(first, TextDelta)
    stream.close()
    assert not preview_engine.busy
    assert no_worker_left()
