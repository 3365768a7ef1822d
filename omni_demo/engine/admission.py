"""The line in front of the GPU: `slots` requests run at once, the others wait in the order they came.

A request waits inside its own stream, a generator: `ticket = yield from admission.enter()`. Meanwhile it
yields `Queued(ahead)`: at once, whenever the line moves, and every `tick_s` in between, because a Stop
can only close a generator between two events, so a waiting request must reach one often. Closing the
generator while it waits takes the request out of the line, and those behind it move up.

The ticket gives its place back when its `with` ends (an exception included), and the first in line
takes it: strictly first come, first served, so a newcomer never passes anyone already waiting, even
when it would fit a place the head of the line cannot use yet. At most `max_waiting` requests wait; one
more is refused with one sentence (`QueueFullError`) rather than kept waiting without end.

Pure Python (no torch), so that its tests run real threads in milliseconds.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Generator
from types import TracebackType

from omni_demo.errors import QueueFullError
from omni_demo.i18n import Sentence
from omni_demo.types import Queued

TICK_S = 0.1  # how often a waiting request yields, as `Preparing` does while the media is decoded
MAX_WAITING = 32  # longest line; past it a request is refused in one sentence


def waiting_sentence(ahead: int) -> Sentence:
    """What a waiting user is told: how many requests wait before theirs."""
    if ahead <= 0:
        return Sentence("queue.next")
    if ahead == 1:
        return Sentence("queue.one_ahead")
    return Sentence("queue.ahead", ahead=ahead)


class _Waiter:
    """One request in the line; `admitted` is set (under the admission's lock) when it gets its places."""

    __slots__ = ("admitted", "places")

    def __init__(self, places: int) -> None:
        self.places = places
        self.admitted = False


class Ticket:
    """Places among the running requests, held until `release()` or the end of its `with`."""

    def __init__(self, admission: Admission, places: int) -> None:
        self._admission = admission
        self._places = places
        self._held = True

    def release(self) -> None:
        """Give the places back (once: a second call does nothing); the first in line takes them."""
        if self._held:
            self._held = False
            self._admission._give_back(self._places)

    def __enter__(self) -> Ticket:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()


class Admission:
    """A first-come, first-served gate with `slots` places; thread-safe."""

    def __init__(self, slots: int, max_waiting: int = MAX_WAITING, tick_s: float = TICK_S) -> None:
        if slots < 1:
            raise ValueError(f"an admission needs at least one place, not {slots}")
        self._slots = slots
        self.max_waiting = max_waiting
        self._tick_s = tick_s
        self._moved = threading.Condition()  # notified whenever a place is taken or given back
        self._line: deque[_Waiter] = deque()  # the waiting requests, first come first
        self._used = 0  # places held by tickets (an exclusive ticket holds them all)
        self._tickets = 0

    @property
    def slots(self) -> int:
        return self._slots

    @property
    def running(self) -> int:
        """Requests holding a ticket."""
        with self._moved:
            return self._tickets

    @property
    def waiting(self) -> int:
        with self._moved:
            return len(self._line)

    @property
    def busy(self) -> bool:
        """Anything running."""
        return self.running > 0

    @property
    def full(self) -> bool:
        """No room left in the line: a request that cannot run at once would be refused."""
        with self._moved:
            return len(self._line) >= self.max_waiting

    def enter(self, places: int = 1) -> Generator[Queued, None, Ticket]:
        """Wait for `places` places (at most `slots`: all of them, to run alone) in arrival order,
        yielding `Queued` meanwhile (nothing when they are free and nobody waits); returns the ticket.
        Raises `QueueFullError` when the line is full."""
        return (yield from self._wait_for(min(places, self._slots), bounded=True))

    def exclusive(self) -> Ticket:
        """Every place, for work that needs the GPU alone (the start-up self-check, tests): blocks while
        it waits in line like any request, then until the running ones are done. Never refused."""
        waiting = self._wait_for(self._slots, bounded=False)
        while True:
            try:
                next(waiting)
            except StopIteration as admitted:
                return admitted.value

    def _wait_for(self, places: int, bounded: bool) -> Generator[Queued, None, Ticket]:
        waiter = self._join(places, bounded)
        first = True
        try:
            while (ahead := self._place(waiter, wait=not first)) is not None:
                first = False
                yield Queued(ahead)
        except BaseException:  # closed (Stop) or failed while waiting: leave the line
            self._leave(waiter)
            raise
        return Ticket(self, places)

    def _join(self, places: int, bounded: bool) -> _Waiter:
        waiter = _Waiter(places)
        with self._moved:
            if bounded and len(self._line) >= self.max_waiting:
                raise QueueFullError("queue.full")
            self._line.append(waiter)
            self._admit()
        return waiter

    def _place(self, waiter: _Waiter, wait: bool) -> int | None:
        """None once `waiter` is admitted, else how many wait before it; `wait`: for a move or a tick."""
        with self._moved:
            if wait and not waiter.admitted:
                self._moved.wait(self._tick_s)
            return None if waiter.admitted else self._line.index(waiter)

    def _leave(self, waiter: _Waiter) -> None:
        with self._moved:
            if waiter.admitted:  # its places came while it was being closed: hand them on
                self._used -= waiter.places
                self._tickets -= 1
            else:
                self._line.remove(waiter)
            self._admit()
            self._moved.notify_all()  # the line moved up

    def _give_back(self, places: int) -> None:
        with self._moved:
            self._used -= places
            self._tickets -= 1
            self._admit()
            self._moved.notify_all()

    def _admit(self) -> None:
        """Give free places to the head of the line, in order, while they fit (the lock is held)."""
        while self._line and self._used + self._line[0].places <= self._slots:
            waiter = self._line.popleft()
            waiter.admitted = True
            self._used += waiter.places
            self._tickets += 1
