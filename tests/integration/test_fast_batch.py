"""Requests decoded together: each gets what it gets alone, text, every speech code and the waveform.

The fast engine's loops run one batched step for all the requests they serve (a row each). With greedy
decoding, a request's reply must not depend on who else is in the batch: these tests run four different
requests alone, then all four at once, and compare them exactly.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from omni_demo.types import Result

pytestmark = pytest.mark.integration


def _batched_engine(preview_engine: Any, rows: int) -> Any:
    from omni_demo.engine.admission import Admission
    from omni_demo.engine.fast.run import FastPath
    from omni_demo.engine.local import LocalEngine

    shared = preview_engine.with_options(engine="fast", talker_do_sample=False, max_batch=rows)
    fast = FastPath(shared.model, max_batch=rows)
    options = replace(shared.options, max_batch=rows)
    return LocalEngine(shared.model, shared.processor, shared.info, options, Admission(rows), fast)


class _Watch:
    """Rows per batched step, and the speech codes each request's decoder received (by decoder)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from omni_demo.engine.fast.talker import FrameStep
        from omni_demo.engine.fast.thinker import ThinkerDecoder
        from omni_demo.engine.speech import StreamingDecoder

        self.thinker_rows: list[int] = []
        self.talker_rows: list[int] = []
        self.codes: dict[int, list[Any]] = {}
        decode, frame, push = ThinkerDecoder.decode, FrameStep.frame, StreamingDecoder.push
        lock = threading.Lock()

        def counted_decode(decoder: Any, tokens: Any, active: Any = None) -> Any:
            self.thinker_rows.append(sum(active) if active is not None else int(tokens.shape[0]))
            return decode(decoder, tokens, active)

        def counted_frame(step: Any, tokens: Any, text: Any, active: Any = None) -> Any:
            self.talker_rows.append(sum(active) if active is not None else int(tokens.shape[0]))
            return frame(step, tokens, text, active)

        def kept_push(decoder: Any, codes: Any) -> Any:
            with lock:
                self.codes.setdefault(id(decoder), []).append(codes.detach().clone())
            return push(decoder, codes)

        monkeypatch.setattr(ThinkerDecoder, "decode", counted_decode)
        monkeypatch.setattr(FrameStep, "frame", counted_frame)
        monkeypatch.setattr(StreamingDecoder, "push", kept_push)

    def take_codes(self) -> list[tuple[tuple[int, ...], ...]]:
        """Every request's codes since the last call, as comparable tuples (order of requests lost)."""
        out = [tuple(tuple(frame.reshape(-1).tolist()) for frame in frames) for frames in self.codes.values()]
        self.codes.clear()
        return sorted(out)


def _reply(engine: Any, request: Any) -> Result:
    result = list(engine.stream(request))[-1]
    assert isinstance(result, Result)
    return result


def _all_at_once(engine: Any, requests: list[Any]) -> list[Result]:
    results = _outcomes(engine, requests)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def _outcomes(engine: Any, requests: list[Any]) -> list[Any]:
    """Send the requests at the same moment; each one's final Result or what it raised."""
    results: list[Any] = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = _reply(engine, requests[index])
        except BaseException as exc:  # reported by the assertion below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def test_requests_decoded_together_equal_each_alone(preview_engine: Any, monkeypatch: Any) -> None:
    from integration.test_fast_engine import CASES

    engine = _batched_engine(preview_engine, rows=4)
    requests = [CASES[name] for name in ("text-speech", "audio+image-speech", "text", "text-speech")]
    requests[3] = replace(requests[3], voice="Ethan")  # the same question in another voice: another row
    watch = _Watch(monkeypatch)

    alone = [_reply(engine, request) for request in requests]
    alone_codes = watch.take_codes()
    assert max(watch.thinker_rows) == 1
    watch.thinker_rows.clear()
    watch.talker_rows.clear()

    together = _all_at_once(engine, requests)
    together_codes = watch.take_codes()

    # They were decoded together (several rows in one step), in both loops.
    assert max(watch.thinker_rows) >= 3
    assert max(watch.talker_rows) >= 2
    for one, other in zip(alone, together, strict=True):
        assert other.text == one.text
        assert other.timings.text_tokens == one.timings.text_tokens
        if one.audio is None:
            assert other.audio is None
            continue
        assert other.audio is not None
        assert len(other.audio) == len(one.audio)
        assert float(np.abs(other.audio - one.audio).max()) == 0.0
    assert len(alone_codes) == 3  # three spoken requests
    assert together_codes == alone_codes


def test_a_failing_speech_decoder_ends_its_request_only(preview_engine: Any, monkeypatch: Any) -> None:
    """One request's speech decoder fails mid-answer while three are decoded together: that request ends
    with an error, the other two end as they do alone."""
    from integration.test_fast_engine import CASES
    from omni_demo.engine.speech import StreamingDecoder

    engine = _batched_engine(preview_engine, rows=3)
    requests = [
        CASES["text-speech"],
        replace(CASES["text-speech"], voice="Ethan"),
        replace(CASES["text-speech"], voice="Chelsie"),
    ]
    alone = [_reply(engine, request) for request in requests]
    push, lock, first = StreamingDecoder.push, threading.Lock(), []

    def failing_push(decoder: Any, codes: Any) -> Any:
        with lock:
            if not first:
                first.append(decoder)  # the first decoder to get a frame breaks at its third
        if decoder is first[0] and decoder.frames >= 2:
            raise RuntimeError("the speech decoder broke")
        return push(decoder, codes)

    monkeypatch.setattr(StreamingDecoder, "push", failing_push)
    outcomes = _outcomes(engine, requests)

    failed = [index for index, outcome in enumerate(outcomes) if isinstance(outcome, BaseException)]
    assert len(failed) == 1, outcomes
    for index, one in enumerate(alone):
        if index in failed:
            continue
        other = outcomes[index]
        assert other.text == one.text
        assert other.audio is not None
        assert one.audio is not None
        assert float(np.abs(other.audio - one.audio).max()) == 0.0
    assert engine.fast_path is not None  # one request's fault did not take the fast engine down


def test_the_thinking_shape_decodes_requests_together(thinking_engine: Any, monkeypatch: Any) -> None:
    """No talker (Thinking, Captioner): the batched thinker alone, each reply as when it runs alone."""
    from integration.test_fast_engine import _request

    engine = _batched_engine(thinking_engine, rows=3)
    requests = [
        _request(question, (), 24, speak=False)
        for question in ("Why is the sky blue?", "Count to five.", "Name a prime number.")
    ]
    watch = _Watch(monkeypatch)
    alone = [_reply(engine, request) for request in requests]
    watch.thinker_rows.clear()

    together = _all_at_once(engine, requests)

    assert max(watch.thinker_rows) >= 2
    assert [r.text for r in together] == [r.text for r in alone]
    assert all(r.audio is None for r in together)


def test_stopping_one_request_leaves_the_others_as_they_were(preview_engine: Any, monkeypatch: Any) -> None:
    """Three spoken requests decoded together; one tester presses Stop after its first words. That
    request ends; the other two go on and end as they do alone (text, codes, waveform)."""
    from integration.test_fast_engine import CASES
    from omni_demo.types import TextDelta

    engine = _batched_engine(preview_engine, rows=3)
    kept = [CASES["text-speech"], replace(CASES["text-speech"], voice="Ethan")]
    stopped = replace(
        CASES["text-speech"],
        voice="Chelsie",
        sampling=replace(CASES["text-speech"].sampling, max_new_tokens=200),
    )
    watch = _Watch(monkeypatch)
    alone = [_reply(engine, request) for request in kept]
    alone_codes = watch.take_codes()
    watch.thinker_rows.clear()

    start = threading.Barrier(3)
    outcome: dict[str, Any] = {}

    def stop_early() -> None:
        start.wait()
        stream = engine.stream(stopped)
        words = 0
        for event in stream:
            words += isinstance(event, TextDelta)
            if words == 4:
                break
        stream.close()  # what Stop does
        outcome["stopped"] = time.perf_counter()

    def run(index: int) -> None:
        start.wait()
        outcome[index] = _reply(engine, kept[index])
        outcome[f"ended {index}"] = time.perf_counter()

    threads = [threading.Thread(target=stop_early)] + [
        threading.Thread(target=run, args=(i,)) for i in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert outcome.get("stopped")
    assert max(watch.thinker_rows) >= 2  # decoded together ...
    assert outcome["stopped"] < min(outcome["ended 0"], outcome["ended 1"])  # ... and stopped amid them
    assert engine.served.as_dict()["cancelled"] >= 1
    stopped_codes = [c for c in watch.take_codes() if c not in alone_codes]
    assert len(stopped_codes) <= 1  # the stopped request's few frames, if it spoke at all
    for index, one in enumerate(alone):
        other = outcome[index]
        assert other.text == one.text
        assert other.audio is not None
        assert one.audio is not None
        assert float(np.abs(other.audio - one.audio).max()) == 0.0


def test_a_large_loop_is_freed_when_no_request_holds_it(preview_engine: Any) -> None:
    """A loop above the kept size stays while any request holds it (even one still prefilling), and goes
    when the last lets it go."""
    from omni_demo.engine.fast.run import FastPath

    fast = FastPath(preview_engine.model, keep_up_to=1024, max_batch=2)
    first = fast.thinker_for(100, 3000)  # 4096 positions: above what is kept
    second = fast.thinker_for(100, 3000)
    assert first is second
    fast.release(first)
    assert fast.thinker_for(100, 3000) is second  # still held: the same loop
    fast.release(second)
    fast.release(second)
    assert 4096 not in fast._thinkers
    kept = fast.thinker_for(10, 100)
    fast.release(kept)
    assert fast._thinkers[kept.length] is kept  # a kept size stays


def test_thinkers_sit_out_while_a_talker_prefills(preview_engine: Any, monkeypatch: Any) -> None:
    """A talker prefill stands between a request and its first audio, and on a GPU it is three times
    slower beside the thinker's steps: while one runs, the thinker lanes of the requests already
    answering take no step, and their speech goes on."""
    from integration.test_fast_engine import CASES
    from omni_demo.engine.fast.talker import FrameStep
    from omni_demo.engine.fast.thinker import ThinkerDecoder
    from omni_demo.types import AudioChunk

    engine = _batched_engine(preview_engine, rows=2)
    first = replace(CASES["text-speech"], sampling=replace(CASES["text-speech"].sampling, max_new_tokens=400))
    second = replace(CASES["text-speech"], voice="Ethan")
    talker = type(engine.model.talker)
    forward, decode, frame = talker.forward, ThinkerDecoder.decode, FrameStep.frame
    prefills: list[tuple[float, float]] = []
    steps: list[float] = []
    frames: list[float] = []

    def slow_prefill(module: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        out = forward(module, *args, **kwargs)
        time.sleep(0.3)  # a prefill as slow as the other requests' steps are many
        prefills.append((started, time.perf_counter()))
        return out

    def timed_decode(decoder: Any, tokens: Any, active: Any = None) -> Any:
        steps.append(time.perf_counter())
        return decode(decoder, tokens, active)

    def timed_frame(step: Any, tokens: Any, text: Any, active: Any = None) -> Any:
        frames.append(time.perf_counter())
        return frame(step, tokens, text, active)

    monkeypatch.setattr(talker, "forward", slow_prefill)
    monkeypatch.setattr(ThinkerDecoder, "decode", timed_decode)
    monkeypatch.setattr(FrameStep, "frame", timed_frame)
    outcome: dict[str, Any] = {}
    speaking = threading.Event()

    def answer_first() -> None:
        for event in engine.stream(first):
            if isinstance(event, AudioChunk):
                speaking.set()
            if isinstance(event, Result):
                outcome["first"] = event

    thread = threading.Thread(target=answer_first)
    thread.start()
    assert speaking.wait(60)
    outcome["second"] = _reply(engine, second)
    thread.join(120)

    assert len(prefills) == 2
    start, end = prefills[1]  # the second request's, while the first one's thinker was still writing
    assert any(t > end for t in steps), "the first request's text had ended: nothing was held"
    assert len([t for t in steps if start < t < end]) <= 1  # a step already under way, at most
    assert [t for t in frames if start < t < end]  # the first request's speech went on
    assert outcome["first"].audio is not None
    assert outcome["second"].audio is not None


def test_a_request_needing_loops_of_its_own_size_runs_alone(preview_engine: Any) -> None:
    """A request whose caches do not fit the kept loops gets loops of its own size, whose graphs are
    captured when it joins; captures and sampling take turns, so it waits in line (told so) until the
    running request is done, rather than stop that one's speech."""
    from integration.test_fast_engine import CASES
    from omni_demo.types import Queued, TextDelta

    engine = _batched_engine(preview_engine, rows=2)
    spoken = CASES["text-speech"]
    running = replace(spoken, sampling=replace(spoken.sampling, max_new_tokens=200))
    large = replace(CASES["text"], sampling=replace(CASES["text"].sampling, max_new_tokens=20000))
    assert engine.fast_path is not None
    assert not engine.fast_path.fits_kept(100, 20000, None)
    assert engine.fast_path.fits_kept(4000, 8192, 4096)
    assert not engine.fast_path.fits_kept(4090, 8192, 4096)  # its talker would need 16,384 positions
    assert engine.fast_path.fits_kept(4090, 8192, None)  # a written answer: the thinker's loop holds it
    times: dict[str, float] = {}
    events: list[Any] = []
    started = threading.Event()

    def run_first() -> None:
        for event in engine.stream(running):
            started.set()
            if isinstance(event, Result):
                times["first ended"] = time.perf_counter()

    thread = threading.Thread(target=run_first)
    thread.start()
    assert started.wait(60)
    stream = engine.stream(large)
    for event in stream:
        events.append(event)
        if isinstance(event, TextDelta):
            times["large began"] = time.perf_counter()
            break
    stream.close()  # Stop: its first words are enough
    thread.join(120)

    assert any(isinstance(event, Queued) for event in events)  # told it waits ...
    assert times["large began"] > times["first ended"]  # ... and it waited for the other to end
