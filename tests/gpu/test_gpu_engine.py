"""The fast engine on a CUDA GPU, on the full-size Qwen3-Omni with random weights.

What only a GPU shows: the thinker's decode step and the speech frame are captured as CUDA graphs and
replayed, the talker runs on its own CUDA stream in another thread, the code predictor samples on the
device inside its graph, and capturing a graph that samples must not clash with the thinker sampling
meanwhile. Requests are spoken (a WAV recording, no text) with the chat tab's initial settings unless a
test says otherwise. Skipped without CUDA; `bench/results/README.md` lists the runs.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from speech_codes import engine_codes

from gpu.gpu_support import NO_CUDA, Watch, cuda_available
from omni_demo.presets import default_system_prompt, reply_sampling
from omni_demo.types import AudioChunk, Media, Request, Result, TextDelta, Turn

pytestmark = pytest.mark.skipif(not cuda_available(), reason=NO_CUDA)

log = logging.getLogger("tests.gpu")
ASSETS = Path(__file__).resolve().parents[2] / "assets"
SPOKEN = ASSETS / "speech_en.wav"
SAMPLE_RATE = 24_000
SAMPLES_PER_FRAME = 1920  # one 80 ms codec frame at 24 kHz
FRAMES_PER_TOKEN = 1.25  # the talker's length once the text is done (as on the preview model)
# Before a reply may end, the thinker samples among these ids only (ordinary text tokens); after it,
# any other id (97 % of the vocabulary) ends the reply.
KEPT_IDS = range(1000, 5096)


def page_request(engine: Any, **sampling: Any) -> Request:
    """A spoken message sent with the chat tab's initial settings: the model's
    default voice, speech on, audio-in-video off (there is no video), `reply_sampling` (Instruct:
    temperature 0.6, top-p 0.95, top-k 20, 8192 new tokens). The same values as
    `omni_demo.ui.chat.chat_defaults`, which this suite cannot import (it imports gradio), with the
    system prompt the page starts a spoken chat with (`default_system_prompt`: upstream's
    voice-assistant prompt); `sampling` changes some of them."""
    caps = engine.info.capabilities
    defaults = reply_sampling(engine.info)
    return Request(
        turns=(Turn("user", "", media=(Media("audio", str(SPOKEN)),)),),
        system_prompt=default_system_prompt(caps.speech_output),
        voice=caps.default_voice,
        return_audio=caps.speech_output,
        use_audio_in_video=False,
        sampling=replace(defaults, **sampling),
    )


def ending_after(engine: Any, tokens: int, **options: Any) -> Any:
    """The engine, with a reply that ends soon after `tokens` text tokens, its caches unchanged.

    Random weights never emit the end token, and a smaller max_new_tokens would pick smaller caches
    (other graphs) than the page's 8192. So every id outside KEPT_IDS counts as an end token, and
    transformers' min-new-tokens processor forbids those until `tokens` (the benchmark passes its fixed
    lengths the same way, through `generate_overrides`): the thinker samples among KEPT_IDS, then stops at
    its first other token. The talker stops FRAMES_PER_TOKEN frames per text token after the text ends.
    """
    vocab = int(engine.model.config.thinker_config.text_config.vocab_size)
    ends = tuple(i for i in range(vocab) if i not in KEPT_IDS)
    overrides = (("thinker_eos_token_id", ends), ("thinker_min_new_tokens", tokens))
    return engine.with_options(
        speech_frames_per_token=FRAMES_PER_TOKEN, generate_overrides=overrides, **options
    )


@dataclass
class Reply:
    events: list[Any] = field(default_factory=list)
    result: Result | None = None
    finished_at: float | None = None

    @property
    def deltas(self) -> list[TextDelta]:
        return [e for e in self.events if isinstance(e, TextDelta)]

    @property
    def chunks(self) -> list[AudioChunk]:
        return [e for e in self.events if isinstance(e, AudioChunk)]


def consume(stream: Iterator[Any], on_event: Callable[[Any], None] | None = None) -> Reply:
    reply = Reply()
    for event in stream:
        if isinstance(event, Result):
            reply.result = event
        elif isinstance(event, (TextDelta, AudioChunk)):
            reply.events.append(event)
        if on_event is not None:
            on_event(event)
    reply.finished_at = time.perf_counter()
    return reply


def check_speech(reply: Reply, most_frames: int | None = None) -> np.ndarray:
    """Streamed audio: 24 kHz float32 chunks, finite, within [-1, 1], and the result holds them all."""
    assert reply.result is not None, "the stream ended without a result"
    chunks = reply.chunks
    assert chunks, "no audio was streamed"
    for chunk in chunks:
        assert chunk.sample_rate == SAMPLE_RATE
        assert chunk.samples.dtype == np.float32
        assert chunk.samples.ndim == 1
        assert chunk.samples.size > 0
    audio = reply.result.audio
    assert audio is not None
    assert np.array_equal(audio, np.concatenate([c.samples for c in chunks]))
    assert np.isfinite(audio).all()
    assert float(np.abs(audio).max()) <= 1.0
    assert float(np.abs(audio).max()) > 0.0, "silence"
    assert reply.result.timings.speech_s == pytest.approx(len(audio) / SAMPLE_RATE)
    if most_frames is not None:
        assert len(audio) <= most_frames * SAMPLES_PER_FRAME
    return audio


def check_kept_then_ended(ids: list[int], tokens: int) -> None:
    """The thinker sampled among KEPT_IDS until `tokens`, then ended at its first other token."""
    assert len(ids) >= tokens + 1, f"only {len(ids)} tokens"
    assert all(i in KEPT_IDS for i in ids[:tokens]), "a token the min-new-tokens processor forbids"
    assert all(i in KEPT_IDS for i in ids[tokens:-1])
    assert ids[-1] not in KEPT_IDS, "the reply did not end at an end token"
    assert len(set(ids[:tokens])) > 1, f"sampling always picked {ids[0]}"


def _replayed(watch: Watch) -> list[bool]:
    """For each loop used: whether its latest step was a graph replay (its batch size and window captured)."""
    return [d.step.by_shape[d.step.last_shape].captured for _, _, d, _, _ in watch.used]


def _captured_steps(watch: Watch, decoder: Any) -> list[tuple[float, float]]:
    """(started, finished) of each capture of one of a loop's graphs during the test."""
    own = {id(step) for step in decoder.step.by_shape.values()}
    return [(started, finished) for step, started, finished in watch.captures if id(step) in own]


def test_spoken_request_at_the_page_defaults(full_engine: Any, watch: Watch) -> None:
    """(a) The page's default request: text and 24 kHz speech stream, through the fast engine's graphs
    at the cache sizes 8192 new tokens and 4096 speech frames imply."""
    from omni_demo.engine.fast.thinker import cache_length

    request = page_request(full_engine)
    assert request.sampling.max_new_tokens == 8192
    assert request.sampling.temperature > 0  # the page samples
    assert request.voice == "Ethan"
    engine = ending_after(full_engine, 24)
    assert engine.options.max_speech_frames == 4096

    reply = consume(engine.stream(request))

    result = reply.result
    assert result is not None
    log.info("page-default spoken request: %s", result.timings.summary())
    assert result.timings.engine == "fast"
    assert reply.deltas, "no text was streamed"
    assert result.text == "".join(d.text for d in reply.deltas)
    assert len(reply.chunks) >= 2, "the speech came as one piece, not streamed"
    audio = check_speech(reply, math.ceil(FRAMES_PER_TOKEN * result.timings.text_tokens))
    assert len(audio) > 4 * SAMPLES_PER_FRAME
    ids = watch.token_ids(0)
    assert result.timings.text_tokens == len(ids)
    check_kept_then_ended(ids, 24)
    assert result.timings.input_tokens.get("audio", 0) > 0  # the recording reached the model

    prompt = result.timings.input_tokens["total"]
    assert watch.lengths("thinker") == [cache_length(prompt + 8192 + 1)] == [16384]
    assert watch.lengths("frames") == [8192]  # a talker prompt under 4095 positions + 4096 frames
    assert all(_replayed(watch)), "a step ran without its CUDA graph"
    assert watch.captures == [], "a page request captured a graph: the start-up warm-up should have"


def _absent(lengths: list[int], present: set[int]) -> list[int]:
    return [n for n in lengths if n not in present]


def _b_while_a_speaks(engine_a: Any, request_a: Request, engine_b: Any, request_b: Request) -> tuple:
    """Stream A in one thread; once A's first audio chunk is out, stream B in another. Returns both
    replies and when B was sent."""
    a_speaking = threading.Event()
    replies: dict[str, Reply] = {}
    errors: dict[str, BaseException] = {}

    def run(name: str, engine: Any, request: Request, on_event: Callable[[Any], None] | None) -> None:
        try:
            replies[name] = consume(engine.stream(request), on_event)
        except BaseException as exc:  # reported below
            errors[name] = exc

    def a_event(event: Any) -> None:
        if isinstance(event, AudioChunk):
            a_speaking.set()

    thread_a = threading.Thread(target=run, args=("A", engine_a, request_a, a_event))
    thread_a.start()
    assert a_speaking.wait(180), f"request A never spoke: {errors}"
    b_sent = time.perf_counter()
    thread_b = threading.Thread(target=run, args=("B", engine_b, request_b, None))
    thread_b.start()
    thread_a.join(300)
    thread_b.join(300)
    assert not thread_a.is_alive()
    assert not thread_b.is_alive()
    assert not errors, f"failed: {errors}"
    return replies["A"], replies["B"], b_sent


def test_new_capture_while_another_request_streams(full_engine: Any, watch: Watch) -> None:
    """(b) Request A streams; request B, which needs cache sizes never captured, is sent meanwhile.

    B runs beside A (the engine serves several requests at once), in loops of its own sizes: their
    captures happen while A's loops replay. Within A, its talker's loop captures a frame step of a new
    size, which samples on the device, while A's thinker is sampling its next tokens. Both requests end
    with a result, and each one's tokens obey its sampling settings.
    """
    fast = full_engine.fast_path
    new_frames = _absent([16384, 32768, 65536], {length for length, sample in fast._frames if sample})
    frames_a, frames_b = new_frames[:2]
    # B asks for half its cache size in new tokens: with its ~1,300-token prompt that lands in the size
    # itself (not the next one up). Every size up to the kept 16,384 is served by the kept loop, so B's
    # is one above it: a one-row loop of its own, captured while A's loops replay.
    thinker_b = _absent([32768, 65536], set(fast._thinkers))[0]
    tokens_a, tokens_b = 160, 48
    engine_a = ending_after(full_engine, tokens_a, max_speech_frames=frames_a // 2)
    engine_b = ending_after(full_engine, tokens_b, max_speech_frames=frames_b // 2)
    request_a = page_request(full_engine)
    request_b = page_request(full_engine, max_new_tokens=thinker_b // 2)

    a, b, b_sent = _b_while_a_speaks(engine_a, request_a, engine_b, request_b)

    assert a.result is not None
    assert b.result is not None
    log.info("request A: %s", a.result.timings.summary())
    log.info("request B (sent while A spoke): %s", b.result.timings.summary())
    assert a.finished_at is not None
    assert b_sent < a.finished_at, "A had already ended when B was sent"
    for reply in (a, b):
        assert reply.result is not None
        assert reply.result.timings.engine == "fast"
        check_speech(reply, math.ceil(FRAMES_PER_TOKEN * reply.result.timings.text_tokens))
    ids_a, ids_b = watch.token_ids(0), watch.token_ids(1)
    check_kept_then_ended(ids_a, tokens_a)
    check_kept_then_ended(ids_b, tokens_b)
    assert a.result.timings.text_tokens == len(ids_a)
    assert b.result.timings.text_tokens == len(ids_b)

    # Which decoders each request used, and that the new ones were captured during this test.
    used = [(kind, length) for kind, length, *_ in watch.used]
    assert used == [("thinker", 16384), ("frames", frames_a), ("thinker", thinker_b), ("frames", frames_b)]
    for kind, length, decoder, _, _ in watch.used[1:]:  # A's thinker (16384) came from the warm-up
        assert _captured_steps(watch, decoder), f"no new capture of the {kind} step for {length} positions"
    # A's frame step was captured while A's thinker was mid-reply: tokens before and after the capture.
    spans = _captured_steps(watch, watch.used[1][2])
    started, finished = min(s for s, _ in spans), max(f for _, f in spans)
    times_a = watch.token_times(0)
    assert min(times_a) < started
    assert max(times_a) > finished, "A's thinker had finished before the talker's capture"
    log.info(
        "A's frame step (%d positions) captured in %.2f s while its thinker sampled (%d of %d tokens after)",
        frames_a,
        finished - started,
        sum(t > finished for t in times_a),
        len(times_a),
    )


def test_stop_during_graph_replay(full_engine: Any, watch: Watch) -> None:
    """(c) Stop while both loops replay their graphs (page defaults, no early end): the request ends at
    once, nothing keeps running, and the next request works."""
    from omni_demo.engine.workers import worker

    fast = full_engine.fast_path
    stream = full_engine.stream(page_request(full_engine))
    chunks, ended, busy, graphs = 0, False, False, []
    try:
        for event in stream:
            ended = isinstance(event, Result)
            if isinstance(event, AudioChunk):
                chunks += 1
                if chunks == 2:
                    break
        busy = full_engine.busy
        graphs = _replayed(watch)
        tokens_at_stop = len(watch.token_ids(0))
    finally:
        started = time.perf_counter()
        stream.close()  # what Stop does (also when a check above failed: the engine stays usable)
        stop_s = time.perf_counter() - started
    log.info("Stop after %d tokens and %d audio chunks took %.3f s", tokens_at_stop, chunks, stop_s)
    assert not ended, "the reply ended before Stop"
    assert chunks == 2
    assert busy
    assert tokens_at_stop >= 8
    assert len(graphs) == 2
    assert all(graphs), "the loops were not replaying graphs at Stop"
    assert stop_s < 2.0

    assert not full_engine.busy
    assert not worker("omni-generate").busy
    assert not worker("omni-thinker").busy
    assert all(length <= fast.keep_up_to for length in fast._thinkers)  # larger caches were freed
    count = len(watch.token_ids(0))
    time.sleep(0.5)
    assert len(watch.token_ids(0)) == count, "the thinker went on after Stop"

    after = consume(ending_after(full_engine, 16).stream(page_request(full_engine)))
    assert after.result is not None
    log.info("request after Stop: %s", after.result.timings.summary())
    assert after.result.timings.engine == "fast"
    check_speech(after, math.ceil(FRAMES_PER_TOKEN * after.result.timings.text_tokens))
    check_kept_then_ended(watch.token_ids(1), 16)


def test_back_to_back_requests_reuse_graphs(full_engine: Any, watch: Watch) -> None:
    """(d) The same greedy request twice: the second captures nothing, replays the first's graphs, and
    says the same text and the same speech codes."""
    import torch

    engine = full_engine.with_options(talker_do_sample=False, speech_frames_per_token=FRAMES_PER_TOKEN)
    request = page_request(full_engine, temperature=0, max_new_tokens=64)

    with engine_codes() as codes_first:
        first = consume(engine.stream(request))
    captures_first = len(watch.captures)
    decoders_first = [d for _, _, d, _, _ in watch.used]
    with engine_codes() as codes_second:
        second = consume(engine.stream(request))

    assert first.result is not None
    assert second.result is not None
    log.info(
        "greedy request: first %s (%d captures); second %s",
        first.result.timings.summary(),
        captures_first,
        second.result.timings.summary(),
    )
    assert len(watch.captures) == captures_first, "the second request captured a graph again"
    decoders_second = [d for _, _, d, _, _ in watch.used][len(decoders_first) :]
    assert len(decoders_second) == len(decoders_first) == 2
    assert all(a is b for a, b in zip(decoders_first, decoders_second, strict=True))
    assert all(_replayed(watch))
    assert second.result.timings.engine == "fast"

    ids_first, ids_second = watch.token_ids(0), watch.token_ids(1)
    assert len(ids_first) == first.result.timings.text_tokens > 0
    assert ids_second == ids_first
    assert second.result.text == first.result.text
    assert len(codes_first) > 0
    assert len(codes_second) == len(codes_first)
    pairs = zip(codes_first, codes_second, strict=True)
    differ = [i for i, (x, y) in enumerate(pairs) if not torch.equal(x, y)]
    assert differ == [], f"speech codes differ at frames {differ[:10]}"
    audio_first, audio_second = check_speech(first), check_speech(second)
    assert len(audio_second) == len(audio_first)
    assert float(np.abs(audio_second - audio_first).max()) < 1e-3


def test_four_requests_decoded_together(full_engine: Any, watch: Watch) -> None:
    """(e) Four page requests sent at once (or as many as the GPU's memory lets the engine decode
    together, at least two): they are decoded together (batched steps of that many rows, replayed from
    the warm-up's graphs), each speaks before any has finished, and each one's tokens obey its own
    sampling settings."""
    from omni_demo.engine.fast.thinker import ThinkerDecoder

    count = min(4, full_engine.concurrency)
    log.info("%d requests at once (the engine decodes up to %d together)", count, full_engine.concurrency)
    assert count >= 2, "the GPU's memory holds one row only (see budget.default_batch)"
    engine = ending_after(full_engine, 48)
    rows: list[int] = []
    decode = ThinkerDecoder.decode

    def counted(decoder: Any, tokens: Any, active: Any = None) -> Any:
        rows.append(int(tokens.shape[0]))
        return decode(decoder, tokens, active)

    replies: list[Any] = [None] * count
    first_audio: list[float | None] = [None] * count
    start = threading.Barrier(count)

    def run(index: int) -> None:
        def on_event(event: Any) -> None:
            if isinstance(event, AudioChunk) and first_audio[index] is None:
                first_audio[index] = time.perf_counter()

        start.wait()
        try:
            replies[index] = consume(engine.stream(page_request(full_engine)), on_event)
        except BaseException as exc:  # reported below
            replies[index] = exc

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ThinkerDecoder, "decode", counted)
        threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
    errors = [r for r in replies if isinstance(r, BaseException)]
    assert not errors, f"failed: {errors}"
    for index, reply in enumerate(replies):
        assert reply.result is not None
        log.info("request %d of %d at once: %s", index + 1, count, reply.result.timings.summary())
        assert reply.result.timings.engine == "fast"
        check_speech(reply, math.ceil(FRAMES_PER_TOKEN * reply.result.timings.text_tokens))
        check_kept_then_ended(watch.token_ids(index), 48)
    assert max(rows) == count, f"never decoded {count} together: {sorted(set(rows))}"
    assert all(a is not None for a in first_audio)
    assert max(a for a in first_audio if a is not None) < min(r.finished_at for r in replies)
    assert all(_replayed(watch)), "a step ran without its CUDA graph"
    assert watch.captures == [], "the warm-up should have captured every batch size"
