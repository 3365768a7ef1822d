"""Requests that come while the preview model generates wait in the engine's line, told their place.

One thread drives every stream here, a step at a time, so the order of events is exact: a stream
paused between two events keeps its place in line (or its place on the GPU) until it is pulled again.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from sentences import assert_one_sentence

from omni_demo.engine.admission import Admission
from omni_demo.engine.local import LocalEngine
from omni_demo.errors import QueueFullError
from omni_demo.types import Event, Preparing, Queued, Request, Result, Sampling, TextDelta, Turn

pytestmark = pytest.mark.integration
STEP_S = 60.0  # the longest one event may take (a prefill on a busy machine takes well under 1 s)


def _ask(text: str, tokens: int = 4) -> Request:
    return Request(
        turns=(Turn("user", text),),
        return_audio=False,
        sampling=Sampling(temperature=0, max_new_tokens=tokens),
    )


def _next(stream: Iterator[Event]) -> Event | None:
    """The stream's next event (None at its end), pulled in a helper thread: a request that blocks
    where it should wait in line (yielding as it waits) fails the test instead of hanging it."""
    box: dict[str, Any] = {}

    def pull() -> None:
        try:
            box["event"] = next(stream, None)
        except BaseException as exc:  # raised here, in the test's thread
            box["error"] = exc

    thread = threading.Thread(target=pull, daemon=True)
    thread.start()
    thread.join(STEP_S)
    assert not thread.is_alive(), f"the stream gave no event in {STEP_S} s"
    if "error" in box:
        raise box["error"]
    return box["event"]


def _until(stream: Iterator[Event], kind: type) -> list[Event]:
    """Pull `stream` up to and including its first event of `kind`."""
    pulled: list[Event] = []
    while (event := _next(stream)) is not None:
        pulled.append(event)
        if isinstance(event, kind):
            return pulled
    raise AssertionError(f"the stream ended without a {kind.__name__}: {pulled}")


def _rest(stream: Iterator[Event]) -> list[Event]:
    """Pull `stream` to its end."""
    pulled: list[Event] = []
    while (event := _next(stream)) is not None:
        pulled.append(event)
    return pulled


@pytest.fixture
def ask() -> Iterator[Callable[..., Iterator[Event]]]:
    """`ask(engine, text, tokens)`: a stream of `engine`'s answer. Every stream a test opened is
    closed after it, so a failing test leaves no place held in the engine's line for the next ones."""
    opened: list[Iterator[Event]] = []

    def open_stream(engine: LocalEngine, text: str, tokens: int = 4) -> Iterator[Event]:
        stream = engine.stream(_ask(text, tokens))
        opened.append(stream)
        return stream

    yield open_stream
    for stream in opened:
        with contextlib.suppress(ValueError):  # still pulled by a helper thread that gave up
            stream.close()


def _places(events: list[Event]) -> list[int]:
    """The places a stream reported, each once (its ticks repeat a place until it moves)."""
    places = [e.ahead for e in events if isinstance(e, Queued)]
    return [p for i, p in enumerate(places) if i == 0 or places[i - 1] != p]


def _one_at_a_time(preview_engine: Any) -> LocalEngine:
    """The preview engine with one place on the GPU (`--max-batch 1`), its own line."""
    options = replace(preview_engine.options, max_batch=1)
    return LocalEngine(
        preview_engine.model, preview_engine.processor, preview_engine.info, options, Admission(1),
        facts=preview_engine.facts,
    )  # fmt: skip


def test_requests_wait_in_line_told_their_place_then_are_answered(preview_engine, ask) -> None:
    engine = _one_at_a_time(preview_engine)
    running = ask(engine, "Tell me a long story.", tokens=32)
    assert isinstance(_until(running, TextDelta)[-1], TextDelta)  # it holds the GPU now
    second = ask(engine, "Hi")
    third = ask(engine, "Hello")
    second_events = _until(second, Queued)
    third_events = _until(third, Queued)
    assert [e for e in second_events if not isinstance(e, Preparing)] == [Queued(0)]
    assert third_events[-1] == Queued(1)
    assert (engine.admission.running, engine.admission.waiting) == (1, 2)
    # While the first generates, the waiting ones only tick: same place, nothing of an answer.
    for _ in range(3):
        assert _next(second) == Queued(0)
    assert _next(third) == Queued(1)

    first_result = _rest(running)[-1]  # the first answer ends and gives its place to the second
    assert isinstance(first_result, Result)
    rest_of_third = _until(third, Queued)
    assert rest_of_third[-1] == Queued(0)  # moved up while the second takes the GPU
    second_events += _rest(second)
    third_events += rest_of_third + _rest(third)

    for events in (second_events, third_events):
        answer = [e for e in events if not isinstance(e, Preparing | Queued)]
        assert isinstance(answer[0], TextDelta)  # the answer comes only after the wait
        assert isinstance(answer[-1], Result)
        assert answer[-1].text
        last_wait = max(i for i, e in enumerate(events) if isinstance(e, Queued))
        assert last_wait < events.index(answer[0])
    assert _places(second_events) == [0]
    assert _places(third_events) == [1, 0]
    assert not engine.busy
    assert engine.admission.waiting == 0
    assert engine.served.as_dict()["answered"] == 3


def test_a_stop_while_waiting_leaves_the_line_at_once(preview_engine, ask) -> None:
    engine = _one_at_a_time(preview_engine)
    running = ask(engine, "Tell me a long story.", tokens=2000)  # still going when stopped
    _until(running, TextDelta)
    waiting = ask(engine, "Hi")
    _until(waiting, Queued)
    behind = ask(engine, "Hello")
    assert _until(behind, Queued)[-1] == Queued(1)
    started = time.perf_counter()
    waiting.close()  # Stop: Gradio closes the generator between two events
    assert time.perf_counter() - started < 0.5
    assert engine.admission.waiting == 1
    assert _until(behind, Queued)[-1] == Queued(0)  # the one behind moved up
    running.close()
    assert isinstance(_rest(behind)[-1], Result)
    served = engine.served.as_dict()
    assert (served["cancelled"], served["answered"]) == (2, 1)
    assert not engine.busy


def test_a_full_line_refuses_in_one_sentence(preview_engine, ask) -> None:
    short_line = Admission(1, max_waiting=1)
    engine = LocalEngine(
        preview_engine.model, preview_engine.processor, preview_engine.info,
        replace(preview_engine.options, max_batch=1), short_line, facts=preview_engine.facts,
    )  # fmt: skip
    running = ask(engine, "Tell me a long story.", tokens=32)
    _until(running, TextDelta)
    waiting = ask(engine, "Hi")
    _until(waiting, Queued)
    processed = engine._processed
    prepared: list[Request] = []

    def counted(model_input, request: Request):
        prepared.append(request)
        return processed(model_input, request)

    engine._processed = counted
    with pytest.raises(QueueFullError) as refused:
        _next(ask(engine, "Hello"))
    message = str(refused.value)
    assert_one_sentence(message)
    assert message == "Too many people are waiting for the GPU; try again in a minute."
    assert prepared == []  # refused before its media was decoded for nothing
    assert engine.served.as_dict()["refused"] == 1
    running.close()
    assert isinstance(_rest(waiting)[-1], Result)  # the one in line is still served


def test_copies_of_an_engine_share_its_line(preview_engine) -> None:
    plain = preview_engine.with_options(engine="plain")
    assert plain.admission is preview_engine.admission
    # The fast engine decodes --max-batch requests together (4 on a CPU): that many places.
    assert preview_engine.concurrency == preview_engine.admission.slots == preview_engine.options.max_batch


def test_the_self_check_holds_the_gpu_for_its_generate(preview_engine, monkeypatch) -> None:
    """Its stock generate() runs outside any stream: it takes the GPU's places itself."""
    engine = preview_engine.with_options(engine="fast")
    generate = engine.model.generate
    held: list[tuple[bool, int]] = []

    def watched(*args, **kwargs):
        held.append((engine.busy, engine.admission.running))
        return generate(*args, **kwargs)

    monkeypatch.setattr(engine.model, "generate", watched)
    assert engine.self_check()
    assert held == [(True, 1)]
    assert not engine.busy
