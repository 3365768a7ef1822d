"""The line in front of the GPU: first come, first served, places told as they change, Stop leaves it.

Real threads wait in the line; the tick is made short so that the tests take milliseconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator

import pytest
from sentences import assert_one_sentence

from omni_demo.engine.admission import Admission, Ticket, waiting_sentence
from omni_demo.errors import QueueFullError
from omni_demo.i18n import ZH
from omni_demo.types import Queued

TICK_S = 0.01
WAIT_S = 5.0  # the longest any test waits for a thread to get somewhere


def _admission(slots: int = 1, max_waiting: int = 32) -> Admission:
    return Admission(slots, max_waiting=max_waiting, tick_s=TICK_S)


def _drive(waiting: Generator[Queued, None, Ticket], seen: list[int]) -> Ticket:
    """Run `enter()` to its ticket, recording each place it reports (a test fails rather than waits
    for ever when the place never comes)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            seen.append(next(waiting).ahead)
        except StopIteration as admitted:
            return admitted.value
    waiting.close()
    raise AssertionError(f"no place came in {WAIT_S} s; places told: {_moves(seen)}")


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def _moves(seen: list[int]) -> list[int]:
    """The places reported, each once (the ticks repeat the place until it moves)."""
    return [ahead for i, ahead in enumerate(seen) if i == 0 or seen[i - 1] != ahead]


class _Waiter(threading.Thread):
    """A request in its own thread: waits in line, then holds its place for `hold_s`."""

    def __init__(self, admission: Admission, hold_s: float, order: list[int], number: int) -> None:
        super().__init__(daemon=True)
        self.admission, self.hold_s, self.order, self.number = admission, hold_s, order, number
        self.seen: list[int] = []
        self.admitted = threading.Event()

    def run(self) -> None:
        with _drive(self.admission.enter(), self.seen):
            self.order.append(self.number)
            self.admitted.set()
            time.sleep(self.hold_s)


def _queue_up(admission: Admission, count: int, hold_s: float, order: list[int]) -> list[_Waiter]:
    """`count` requests that join the line one after another (each is in line before the next starts)."""
    waiters = []
    for number in range(count):
        waiter = _Waiter(admission, hold_s, order, number)
        already = admission.waiting
        waiter.start()
        _until(lambda w=waiter, n=already: admission.waiting == n + 1 or w.admitted.is_set())
        waiters.append(waiter)
    return waiters


def _join(threads: list[_Waiter]) -> None:
    for thread in threads:
        thread.join(WAIT_S)
        assert not thread.is_alive()


def test_a_free_place_is_taken_at_once_without_events() -> None:
    admission = _admission()
    assert (admission.slots, admission.running, admission.waiting, admission.busy) == (1, 0, 0, False)
    seen: list[int] = []
    ticket = _drive(admission.enter(), seen)
    assert seen == []
    assert (admission.running, admission.busy) == (1, True)
    ticket.release()
    ticket.release()  # a second release gives back nothing more
    assert (admission.running, admission.busy) == (0, False)


def test_requests_run_in_the_order_they_came() -> None:
    admission = _admission()
    order: list[int] = []
    holder = _drive(admission.enter(), [])
    waiters = _queue_up(admission, 6, hold_s=0.005, order=order)
    assert admission.waiting == 6
    assert order == []  # nobody runs while the place is held
    holder.release()
    _join(waiters)
    assert order == list(range(6))
    assert (admission.running, admission.waiting) == (0, 0)


def test_each_waiter_is_told_its_place_as_the_line_moves_up() -> None:
    admission = _admission()
    holder = _drive(admission.enter(), [])
    waiters = _queue_up(admission, 4, hold_s=0.15, order=[])
    for number, waiter in enumerate(waiters):
        _until(lambda w=waiter: bool(w.seen))
        assert waiter.seen[0] == number  # told at once how many are ahead
    holder.release()
    _join(waiters)
    for number, waiter in enumerate(waiters):
        assert _moves(waiter.seen) == list(range(number, -1, -1)), waiter.seen


def test_a_waiting_request_hears_from_the_line_every_tick() -> None:
    """Nothing moves, yet the waiting generator yields again and again: a Stop can close it at once."""
    admission = _admission()
    holder = _drive(admission.enter(), [])
    waiting = admission.enter()
    started = time.monotonic()
    events = [next(waiting) for _ in range(5)]
    assert events == [Queued(0)] * 5
    assert time.monotonic() - started < 1.0  # five ticks of 10 ms, not a wait for the place
    waiting.close()
    holder.release()


def test_closing_a_waiting_request_takes_it_out_and_the_next_moves_up() -> None:
    admission = _admission()
    order: list[int] = []
    holder = _drive(admission.enter(), [])
    first = admission.enter()
    assert next(first) == Queued(0)
    behind = _queue_up(admission, 1, hold_s=0.0, order=order)[0]
    _until(lambda: bool(behind.seen))
    assert behind.seen[0] == 1
    first.close()  # Stop while waiting
    assert admission.waiting == 1
    _until(lambda: behind.seen[-1] == 0)  # told it moved up, while the place is still held
    assert not behind.admitted.is_set()
    holder.release()
    _join([behind])
    assert order == [0]
    assert (admission.running, admission.waiting) == (0, 0)


def test_a_request_closed_as_its_place_came_hands_the_place_on() -> None:
    admission = _admission()
    holder = _drive(admission.enter(), [])
    first = admission.enter()
    assert next(first) == Queued(0)
    second = admission.enter()
    assert next(second) == Queued(1)
    holder.release()  # the place goes to `first` while its generator is paused at a Queued
    first.close()
    assert isinstance(_drive(second, []), Ticket)
    assert admission.running == 1


def test_a_newcomer_never_takes_a_place_given_to_the_line() -> None:
    admission = _admission()
    holder = _drive(admission.enter(), [])
    first = admission.enter()
    assert next(first) == Queued(0)
    holder.release()  # the place is first's, though its generator has not run since
    newcomer = admission.enter()
    assert next(newcomer) == Queued(0)
    ticket = _drive(first, [])
    ticket.release()
    assert isinstance(_drive(newcomer, []), Ticket)


def test_a_newcomer_never_passes_a_head_that_needs_more_places() -> None:
    """Two places, one free: the exclusive request at the head waits for both, and a request that would
    fit the free place waits behind it."""
    admission = _admission(slots=2)
    holder = _drive(admission.enter(), [])
    exclusive: list[Ticket] = []
    thread = threading.Thread(target=lambda: exclusive.append(admission.exclusive()), daemon=True)
    thread.start()
    _until(lambda: admission.waiting == 1)
    newcomer = admission.enter()
    assert next(newcomer) == Queued(1)
    assert admission.running == 1
    holder.release()
    thread.join(WAIT_S)
    assert exclusive
    assert admission.running == 1  # the exclusive ticket, alone
    assert next(newcomer) == Queued(0)
    exclusive[0].release()
    assert isinstance(_drive(newcomer, []), Ticket)


def test_exclusive_waits_for_every_running_request() -> None:
    admission = _admission(slots=2)
    tickets = [_drive(admission.enter(), []) for _ in range(2)]
    exclusive: list[Ticket] = []
    thread = threading.Thread(target=lambda: exclusive.append(admission.exclusive()), daemon=True)
    thread.start()
    tickets[0].release()
    time.sleep(10 * TICK_S)
    assert not exclusive  # one request still runs
    tickets[1].release()
    thread.join(WAIT_S)
    assert exclusive
    assert admission.running == 1


def test_slots_let_that_many_run_at_once_and_no_more() -> None:
    admission = _admission(slots=3)
    running = 0
    most = 0
    count = threading.Lock()

    class Counting(_Waiter):
        def run(self) -> None:
            nonlocal running, most
            with _drive(self.admission.enter(), self.seen):
                with count:
                    running += 1
                    most = max(most, running)
                self.admitted.set()
                time.sleep(self.hold_s)
                with count:
                    running -= 1

    waiters = [Counting(admission, 0.2, [], n) for n in range(5)]
    for waiter in waiters:
        waiter.start()
    _until(lambda: admission.running == 3 and admission.waiting == 2)
    _join(waiters)
    assert most == 3
    assert sorted(bool(w.seen) for w in waiters) == [False, False, False, True, True]  # two waited


def test_an_exception_gives_the_place_back() -> None:
    admission = _admission()
    with pytest.raises(RuntimeError), _drive(admission.enter(), []):
        raise RuntimeError("the generation failed")
    assert (admission.running, admission.busy) == (0, False)
    assert _drive(admission.enter(), []) is not None  # the next request gets the place


def test_a_full_line_refuses_in_one_sentence() -> None:
    admission = _admission(max_waiting=2)
    holder = _drive(admission.enter(), [])
    waiting = [admission.enter() for _ in range(2)]
    for generator in waiting:
        next(generator)
    assert admission.full
    with pytest.raises(QueueFullError) as refused:
        next(admission.enter())
    assert_one_sentence(str(refused.value))
    assert "try again in a minute" in str(refused.value)
    assert admission.waiting == 2  # the refused request never joined
    waiting[0].close()
    assert not admission.full
    assert next(admission.enter()) == Queued(1)
    holder.release()


def test_the_waiting_sentence_counts_the_people_ahead() -> None:
    assert str(waiting_sentence(0)) == "Waiting for the GPU: you're next."
    assert str(waiting_sentence(1)) == "Waiting for the GPU: 1 person ahead of you."
    assert str(waiting_sentence(2)) == "Waiting for the GPU: 2 people ahead of you."
    assert waiting_sentence(2).render(ZH) == "正在等待 GPU：你前面还有 2 人。"
    for ahead in (0, 1, 5):
        assert_one_sentence(str(waiting_sentence(ahead)))


def test_an_admission_needs_a_place() -> None:
    with pytest.raises(ValueError, match="at least one place"):
        Admission(0)


def test_a_request_taking_every_place_runs_alone() -> None:
    """`enter(slots)` (a request that must have the GPU to itself) waits for the running requests, and
    the ones that come after it wait until it is done, however many places are free."""
    admission = _admission(slots=3)
    running = _drive(admission.enter(), [])
    alone: list[Ticket] = []
    seen: list[int] = []
    thread = threading.Thread(target=lambda: alone.append(_drive(admission.enter(3), seen)), daemon=True)
    thread.start()
    time.sleep(5 * TICK_S)
    assert not alone  # one request still runs
    assert seen  # ... and it was told it waits
    later: list[Ticket] = []
    behind = threading.Thread(target=lambda: later.append(_drive(admission.enter(), [])), daemon=True)
    behind.start()
    running.release()
    thread.join(WAIT_S)
    assert alone
    time.sleep(5 * TICK_S)
    assert not later  # two places are free, but the one before it runs alone
    alone[0].release()
    behind.join(WAIT_S)
    assert later
