"""Where a request waiting for the GPU is told its place: the cookbook's status line, the live endpoint's
`omni.waiting`, and the page, which lets every request reach the local engine's line.

(The chat's pending answer is tested in test_handlers.py; the whole path, in Chromium, in
tests/e2e/test_browser.py.)
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest

from omni_demo.cookbook.cases import case_by_id
from omni_demo.engine.admission import Admission
from omni_demo.engine.local import EngineOptions, LocalEngine
from omni_demo.realtime.answer import Answer
from omni_demo.types import (
    Capabilities,
    ModelInfo,
    ModelKind,
    Preparing,
    Queued,
    Request,
    Result,
    TextDelta,
    Timings,
    Turn,
)
from omni_demo.ui import app, cookbook
from omni_demo.ui.app import generations_let_through
from omni_demo.ui.chat import GPU

CAPS = Capabilities(ModelKind.INSTRUCT, voices=("Ethan",))
INFO = ModelInfo("preview", CAPS, "cpu", "float32", is_preview=True, load_seconds=0.0)
REQUEST = Request(turns=(Turn("user", "Read the text."),), return_audio=False)


class _Scripted:
    """An engine whose stream is a fixed list of events."""

    info = INFO

    def __init__(self, *events: object) -> None:
        self.events = events

    def stream(self, request: Request):
        yield from self.events


def _status_lines(*events: object, lang: str = "en") -> list[str]:
    """What the cookbook panel's status line (under the answer) is set to, update by update."""
    with gr.Blocks():
        outputs = cookbook.Outputs(gr.Markdown(), gr.Markdown(), gr.Markdown(), gr.State())
    updates = cookbook._stream(_Scripted(*events), case_by_id("ocr"), REQUEST, {"image": None}, outputs, lang)
    return [update[outputs.timings] for update in updates if outputs.timings in update]


def test_the_cookbook_status_line_shows_the_place_then_running_again() -> None:
    result = Result("TEXT", None, Timings(total_s=1.0))
    lines = _status_lines(
        Preparing(), Queued(1), Queued(1), Queued(0), TextDelta("TE"), TextDelta("XT"), result
    )
    assert lines[:3] == [
        "Waiting for the GPU: 1 person ahead of you.",
        "Waiting for the GPU: you're next.",
        "Running…",  # with the answer's first text
    ]
    assert len(lines) == 4
    assert lines[3].startswith("**Timings:**")


def test_the_cookbook_status_line_speaks_the_page_language() -> None:
    lines = _status_lines(Queued(4), TextDelta("文"), Result("文", None, Timings()), lang="zh-CN")
    assert lines[:2] == ["正在等待 GPU：你前面还有 4 人。", "运行中…"]


def test_a_request_that_never_waited_leaves_the_status_line_to_the_timings() -> None:
    lines = _status_lines(Preparing(), TextDelta("TE"), Result("TE", None, Timings()))
    assert len(lines) == 1
    assert lines[0].startswith("**Timings:**")


def _live_events(*events: object) -> list[dict[str, Any]]:
    """The server events a live answer sends for the engine's `events`."""

    async def run() -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []
        answer = Answer(speak=False, emit=sent.append)
        answer.start(_Scripted(*events), REQUEST, None)
        for _ in range(500):
            if answer.done:
                return sent
            await asyncio.sleep(0.01)
        raise AssertionError(f"the answer did not end: {sent}")

    return asyncio.run(run())


def test_a_live_answer_says_it_waits_and_its_place_each_time_it_moves() -> None:
    sent = _live_events(Queued(1), Queued(1), Queued(1), Queued(0), Queued(0), TextDelta("Hi"), Result(
        "Hi", None, Timings()
    ))  # fmt: skip
    waiting = [e for e in sent if e["type"] == "omni.waiting"]
    assert [e["ahead"] for e in waiting] == [1, 0]
    assert waiting[0]["message"] == "Waiting for the GPU: 1 person ahead of you."
    assert waiting[1]["sentence"] == {"key": "queue.next", "fields": {}}  # live.js renders it
    kinds = [e["type"] for e in sent]
    assert kinds.index("omni.waiting") < kinds.index("response.output_text.delta")
    assert kinds[-1] == "response.done"


def test_a_live_answer_with_a_free_gpu_never_says_it_waits() -> None:
    sent = _live_events(Preparing(), TextDelta("Hi"), Result("Hi", None, Timings()))
    assert "omni.waiting" not in [e["type"] for e in sent]


def test_the_local_engine_takes_every_request_and_a_remote_one_its_concurrency() -> None:
    local = LocalEngine(None, None, INFO, EngineOptions())
    assert generations_let_through(local) is None
    assert generations_let_through(SimpleNamespace(concurrency=4)) == 4
    assert generations_let_through(SimpleNamespace()) == 1


@pytest.mark.parametrize(("limit", "expected"), [(None, None), (4, 4), (1, 1)])
def test_every_generating_event_gets_the_limit(limit: int | None, expected: int | None) -> None:
    with gr.Blocks() as demo:
        button = gr.Button()
        for _ in range(3):  # the chat, a cookbook panel, the API: each with the GPU's one place
            button.click(lambda: None, None, None, concurrency_id=GPU, concurrency_limit=1)
        button.click(lambda: None, None, None, concurrency_limit=1)  # not a generation
    app._share_generations(demo, limit)
    limits = [fn.concurrency_limit for fn in demo.fns.values()]
    assert limits == [expected, expected, expected, 1]


def test_the_local_engine_s_line_has_its_concurrency_in_places() -> None:
    engine = LocalEngine(None, None, INFO, EngineOptions())
    assert isinstance(engine.admission, Admission)
    assert engine.admission.slots == engine.concurrency == 1
    assert engine.with_options(engine="plain").admission is engine.admission
