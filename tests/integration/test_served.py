"""How the engine counts the ends of its streams: /info reports them as `served`, and the load test
counts a request as cancelled only when these say the server stopped it."""

from __future__ import annotations

import threading
import time

import pytest

from omni_demo.engine import local
from omni_demo.errors import InputError
from omni_demo.types import AudioChunk, Preparing, Request, Result, Sampling, TextDelta, Turn

pytestmark = pytest.mark.integration
ENGINES = ("fast", "plain")


def _ask(text: str, speak: bool = False, tokens: int = 4) -> Request:
    return Request(
        turns=(Turn("user", text),),
        return_audio=speak,
        sampling=Sampling(temperature=0, max_new_tokens=tokens),
    )


def _zero(**counts: int) -> dict[str, int]:
    return {"answered": 0, "cancelled": 0, "refused": 0, "failed": 0, **counts}


@pytest.mark.parametrize("engine_name", ENGINES)
def test_answered_refused_and_stopped_requests_are_counted(preview_engine, engine_name: str) -> None:
    engine = preview_engine.with_options(engine=engine_name)  # a copy: its own counts
    assert isinstance(list(engine.stream(_ask("Hi")))[-1], Result)
    with pytest.raises(InputError):
        list(engine.stream(_ask("")))
    stream = engine.stream(_ask("Talk for a while.", speak=True, tokens=80))
    for event in stream:
        if isinstance(event, AudioChunk):
            break
    stream.close()  # Stop, mid-speech: the model is stopped at its next step
    assert engine.served.as_dict() == _zero(answered=1, refused=1, cancelled=1)


def test_a_stop_before_the_gpu_counts_as_cancelled(preview_engine) -> None:
    engine = preview_engine.with_options()
    processed = engine._processed

    def slow(*args):  # media that takes a while to decode
        time.sleep(0.5)
        return processed(*args)

    engine._processed = slow
    stream = engine.stream(_ask("Hi"))
    assert isinstance(next(stream), Preparing)
    stream.close()
    assert engine.served.as_dict() == _zero(cancelled=1)


class _DeafTap(local.TextTap):
    """A text tap that never sees the stop flag: the model runs to its end whatever the client does."""

    def __init__(self, tokenizer, progress, events, cancel, feed=None) -> None:
        super().__init__(tokenizer, progress, events, threading.Event(), feed)


@pytest.mark.parametrize("engine_name", ENGINES)
def test_a_stream_closed_while_the_model_runs_to_its_end_anyway_counts_as_answered(
    preview_engine, monkeypatch: pytest.MonkeyPatch, engine_name: str
) -> None:
    monkeypatch.setattr(local, "TextTap", _DeafTap)
    engine = preview_engine.with_options(engine=engine_name)
    stream = engine.stream(_ask("Name three colours.", tokens=16))
    deltas = 0
    for event in stream:
        deltas += isinstance(event, TextDelta)
        if deltas == 3:  # decoding (the fast engine's loop also ends a reply stopped before it joins)
            break
    stream.close()  # asked to stop, but nothing stops the model
    assert engine.served.as_dict() == _zero(answered=1)
