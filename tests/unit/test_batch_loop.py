"""The batched loop's bookkeeping (engine/fast/batch.py `Loop`), with a step that only counts.

The real steps are tested on the preview model (tests/integration/test_fast_batch.py); here a small
`Loop` whose step hands each lane a number shows how lanes take rows, leave them (the last row moving
into the gap), sit steps out, and how a failing step or a freed loop never leaves a request waiting.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from omni_demo.engine.fast.batch import Lane, Loop, _end
from omni_demo.errors import GenerationCancelled


class Counting(Loop):
    """Each step gives every lane taking part one more count; a lane ends at its `goal`."""

    def __init__(self, rows: int, fail_at: int | None = None) -> None:
        import torch

        super().__init__("test-loop", rows, torch.device("cpu"), threading.Lock())
        self.counts: dict[int, int] = {}
        self.rows_seen: list[list[int]] = []  # the lanes' ids in row order, per step
        self.moves: list[tuple[int, int]] = []
        self.loaded: list[tuple[int, int]] = []  # (lane id, row)
        self.fail_at = fail_at
        self.steps = 0

    def lane(self, ident: int, goal: int, ready: Any = None) -> Lane:
        lane = Lane(
            picker=None,  # type: ignore[arg-type]
            token=None,
            prompt=0,
            load=lambda row: self.loaded.append((ident, row)),
            cancel=threading.Event(),
            ready=ready,
        )
        lane.ident, lane.goal = ident, goal  # type: ignore[attr-defined]
        return lane

    def _admit(self, lane: Lane, row: int) -> None:
        lane.load(row)

    def _step(self, lanes: list[Lane], taking_part: list[bool]) -> None:
        self.steps += 1
        if self.fail_at is not None and self.steps == self.fail_at:
            raise RuntimeError("the step failed")
        self.rows_seen.append([lane.ident for lane in lanes])  # type: ignore[attr-defined]
        for lane, part in zip(lanes, taking_part, strict=True):
            if part:
                ident = lane.ident  # type: ignore[attr-defined]
                self.counts[ident] = self.counts.get(ident, 0) + 1
                if self.counts[ident] >= lane.goal:  # type: ignore[attr-defined]
                    _end(lane)

    def _move(self, source: int, target: int) -> None:
        self.moves.append((source, target))

    def _free(self, row: int) -> None:
        pass


def _joined(loop: Counting, lane: Lane, timeout_s: float = 5.0) -> None:
    """Wait until `lane` is in the loop's line or in a row (or already ended)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with loop._cond:
            if lane in loop._joining or lane in loop._lanes or lane.ended.is_set():
                return
        time.sleep(0.001)
    raise AssertionError("the lane never joined")


def _run_all(loop: Counting, lanes: list[Lane]) -> list[BaseException | None]:
    errors: list[BaseException | None] = [None] * len(lanes)

    def run(index: int) -> None:
        try:
            loop.run(lanes[index])
        except BaseException as exc:  # checked by the caller
            errors[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(lanes))]
    for thread, lane in zip(threads, lanes, strict=True):
        thread.start()
        _joined(loop, lane)  # one after the other: the order they join is the order of the list
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive(), "a request still waits for its lane"
    return errors


def test_lanes_share_steps_and_the_last_row_fills_a_gap() -> None:
    loop = Counting(rows=3)
    gate = threading.Event()
    lanes = [loop.lane(i, goal, ready=gate.is_set) for i, goal in enumerate((2, 5, 9))]
    threading.Timer(0.2, gate.set).start()  # all three have joined before anyone steps

    assert _run_all(loop, lanes) == [None, None, None]

    assert loop.counts == {0: 2, 1: 5, 2: 9}
    assert [ident for ident, _ in loop.loaded] == [0, 1, 2]
    assert loop.rows_seen[0] == [0, 1, 2]  # one step for all three
    assert loop.rows_seen[2] == [2, 1]  # lane 0 left row 0: the last row (lane 2) moved into it
    assert (2, 0) in loop.moves
    assert loop.rows_seen[-1] == [2]


def test_more_lanes_than_rows_wait_for_a_free_row_in_order() -> None:
    loop = Counting(rows=2)
    gate = threading.Event()
    lanes = [loop.lane(i, 3, ready=gate.is_set) for i in range(4)]
    threading.Timer(0.2, gate.set).start()

    assert _run_all(loop, lanes) == [None] * 4
    assert max(len(rows) for rows in loop.rows_seen) == 2
    assert all(count == 3 for count in loop.counts.values())


def test_a_failing_step_ends_its_lanes_with_the_error_and_the_loop_goes_on() -> None:
    loop = Counting(rows=2, fail_at=2)
    gate = threading.Event()
    lanes = [loop.lane(i, 5, ready=gate.is_set) for i in range(2)]
    threading.Timer(0.2, gate.set).start()

    errors = _run_all(loop, lanes)

    assert [str(e) for e in errors] == ["the step failed", "the step failed"]
    assert _run_all(loop, [loop.lane(7, 2)]) == [None]
    assert loop.counts[7] == 2


def test_a_cancelled_lane_that_sits_out_still_ends() -> None:
    loop = Counting(rows=2)
    lane = loop.lane(0, 3, ready=lambda: False)  # never takes part (a talker waiting for text)
    threading.Timer(0.1, lane.cancel.set).start()

    errors = _run_all(loop, [lane])

    assert isinstance(errors[0], GenerationCancelled)


@pytest.mark.parametrize("idle_first", [True, False])
def test_a_freed_loop_serves_a_request_that_took_it_before(idle_first: bool) -> None:
    loop = Counting(rows=1)
    assert _run_all(loop, [loop.lane(0, 1)]) == [None]
    loop.close()
    if idle_first:
        threading.Event().wait(0.05)  # its thread has ended
    assert _run_all(loop, [loop.lane(1, 2)]) == [None]
    assert loop.counts[1] == 2


def test_stop_while_waiting_for_a_free_row_ends_at_once() -> None:
    loop = Counting(rows=1)
    running = loop.lane(0, 10**9)  # holds the one row until the end of the test
    waiting = loop.lane(1, 3)
    ended: list[BaseException | None] = []
    thread = threading.Thread(target=lambda: ended.extend(_run_all(loop, [waiting])))
    threading.Thread(target=loop.run, args=(running,), daemon=True).start()
    _joined(loop, running)
    thread.start()
    _joined(loop, waiting)
    waiting.cancel.set()
    thread.join(timeout=5)
    assert not thread.is_alive(), "a stopped request waited for the row"
    assert isinstance(ended[0], GenerationCancelled)
    assert 1 not in loop.counts
    _end(running)  # let the loop's thread go


def test_a_hold_is_on_while_held_and_never_longer_than_its_bound() -> None:
    from omni_demo.engine.fast.batch import Hold

    hold = Hold(0.2)
    assert not hold.on()
    with hold.held():
        assert hold.on()
        with hold.held():
            time.sleep(0.12)
            with hold.held():  # begun later: it keeps the hold on past the first two's bound
                time.sleep(0.12)
                assert hold.on()  # the first two began 0.24 s ago, this one 0.12 s ago
            time.sleep(0.1)
            assert not hold.on()  # two still held, both begun more than 0.2 s ago
    assert not hold.on()
    with hold.held():
        pass
    assert not hold.on()
