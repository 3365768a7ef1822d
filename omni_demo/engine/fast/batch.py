"""Several requests decoded together: one batched step for all the replies a loop serves.

A decode step here is bound by kernel launches and weight reads, not arithmetic, so one step over four
rows costs little more than one over a single row. Each loop owns a decoder whose cache has one row
per request (`StaticKV` rows) and a thread that runs its steps on its own CUDA stream:

- a request prefills its prompt in its own thread (and stream), beside the running steps, then hands
  the result to the loop as a `Lane`; the loop loads it into the next free row between two steps;
- every step, each lane says whether it takes part (a thinker lane waits for its talker's prefill, a
  talker lane for the text it reads); the others sit the step out without leaving the batch;
- after the step each lane picks its token with its own `Picker` (its own sampling, as `generate()`
  would) and hands it on; one device-to-host copy serves all lanes;
- a lane that ends (its end token, Stop, an error) leaves between two steps: the last row moves into
  its place, so the rows in use are always the first ones and a step runs the graph of the smallest
  batch size holding them. Ending one lane never stops the others.

The thinker's loop (`ThinkerLoop`) hands tokens to the request's text tap; the talker's
(`TalkerLoop`) reads the text through the request's `TextFeed` and hands each frame's codes to its
speech tap.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from omni_demo.engine.fast.sampling import Picker
from omni_demo.errors import GenerationCancelled

log = logging.getLogger(__name__)
_IDLE_POLL_S = 0.002  # how often a loop whose lanes all sit out looks again


@dataclass(eq=False)
class Lane:
    """One request's place in a loop: what it feeds the loop and how the loop reports back."""

    picker: Picker
    token: Any  # the next input token [1, 1] on the device
    prompt: int  # positions already in the row (the loop captures the windows they need)
    load: Callable[[int], None]  # puts the prefilled prompt into the given row
    cancel: threading.Event
    ready: Callable[[], bool] | None = None  # None: always; else True once the lane takes part in steps
    done: bool = False  # set by the loop's thread when the lane ends ...
    error: BaseException | None = None  # ... and why, when not by its own end
    ended: threading.Event = field(default_factory=threading.Event)  # ... then, out of its row, this
    prefilled: Any = None  # the CUDA event after the lane's prefill (None on a CPU)

    finished: Any = None  # the CUDA event after the lane's last step (None on a CPU)

    def wait(self) -> None:
        """Block the request's thread until the loop is done with this lane; raise what ended it. The
        caller's CUDA stream then waits for the lane's last step (its codes and text are read there)."""
        self.ended.wait()
        if self.finished is not None:
            import torch

            torch.cuda.current_stream().wait_event(self.finished)
        if self.error is not None:
            raise self.error


class Loop:
    """The thread and the row bookkeeping shared by the thinker's and the talker's loops.

    Subclasses implement `_admit` (load a lane into a row) and `_step` (one batched step over the lanes
    in rows 0..n-1, marking the lanes that end); rows move and are freed through `owner`.
    """

    def __init__(self, name: str, rows: int, device: Any, rng: threading.Lock) -> None:
        self.name = name
        self.rows = rows
        self.device = device
        self._rng = rng  # see FastPath: CUDA graph capture that samples and host sampling take turns
        self._cond = threading.Condition()
        self._joining: list[Lane] = []
        self._lanes: list[Lane] = []  # the lane in row i is _lanes[i]
        self._thread: threading.Thread | None = None
        self._stream: Any = None
        self._closed = False
        self.owner: Any = None  # the decoder or frame step whose rows this loop fills (`move`, `kv`)
        self.users = 0  # requests holding this loop (FastPath frees an unused loop of a large size)
        self.kept = True  # kept between requests (FastPath: the page's sizes); else freed when unused

    def run(self, lane: Lane) -> None:
        """Decode `lane` together with the others until it ends (called from the request's thread)."""
        if self.device.type == "cuda":
            import torch

            lane.prefilled = torch.cuda.current_stream(self.device).record_event()
        with self._cond:
            self._joining.append(lane)
            self._closed = False  # a request that took the loop just before it was freed still runs
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
                self._thread.start()
            self._cond.notify_all()
        lane.wait()

    def close(self) -> None:
        """End the loop's thread once it has no lanes (a freed cache length)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # -- the loop's thread ----------------------------------------------------------------------------

    def _serve(self) -> None:
        try:
            self._steps()
        except BaseException as exc:  # a fault outside any step: no lane may wait for ever
            log.exception("%s: the loop failed", self.name)
            with self._cond:
                lanes, self._lanes, self._joining = self._lanes + self._joining, [], []
                self._thread = None
            for lane in lanes:
                _end(lane, exc)
                self._wake(lane)

    def _steps(self) -> None:
        with self._context():
            while self._take_joining():
                lanes = list(self._lanes)
                taking_part = [self._takes_part(lane) for lane in lanes]
                if any(lane.done for lane in lanes):  # cancelled while waiting: out, then look again
                    self._drop()
                    continue
                if not any(taking_part):
                    time.sleep(_IDLE_POLL_S)
                    continue
                try:
                    self._step(lanes, taking_part)
                except BaseException as exc:  # a fault of the step itself: every lane in it ends with it
                    log.exception("%s: a batched step failed", self.name)
                    for lane in lanes:
                        _end(lane, exc)
                self._drop()

    def _take_joining(self) -> bool:
        """Wait for work; load the lanes that joined into free rows (in the order they came). False:
        the loop was closed and has nothing left to do."""
        with self._cond:
            while not self._lanes and not self._joining:
                if self._closed:
                    self._thread = None  # the next `run` starts another
                    return False
                self._cond.wait()
            stopped = [lane for lane in self._joining if lane.cancel.is_set()]
            waiting = [lane for lane in self._joining if not lane.cancel.is_set()]
            free = self.rows - len(self._lanes)
            joining, self._joining = waiting[:free], waiting[free:]
        for lane in stopped:  # Stop while waiting for a free row: ends at once
            _end(lane, GenerationCancelled())
            self._wake(lane)
        for lane in joining:
            try:
                if lane.cancel.is_set():
                    raise GenerationCancelled
                if lane.prefilled is not None:
                    self._stream.wait_event(lane.prefilled)
                self._admit(lane, len(self._lanes))
            except BaseException as exc:
                if not isinstance(exc, GenerationCancelled):
                    log.exception("%s: a request could not join", self.name)
                _end(lane, exc)
                self._wake(lane)
                continue
            self._lanes.append(lane)
        return True

    def _drop(self) -> None:
        """Take the lanes that ended out of their rows (the last row moves into each gap), then wake
        their requests. From the last row up, so a row that moves is never one that ended too."""
        for row in reversed(range(len(self._lanes))):
            lane = self._lanes[row]
            if not lane.done:
                continue
            last = len(self._lanes) - 1
            if row != last:
                self._move(last, row)
                self._lanes[row] = self._lanes[last]
            self._lanes.pop()
            self._free(last)
            self._wake(lane)

    def _wake(self, lane: Lane) -> None:
        """The lane's request goes on; its CUDA stream first waits for what this loop queued for it."""
        if self._stream is not None:
            lane.finished = self._stream.record_event()
        lane.ended.set()

    def _takes_part(self, lane: Lane) -> bool:
        """Whether the lane takes part in the next step. A lane that sits the step out ends here on
        Stop; one that takes part is stopped by its taps (they raise), as the stock loops are."""
        if self._ready(lane):
            return True
        if lane.cancel.is_set():
            _end(lane, GenerationCancelled())
        return False

    def _ready(self, lane: Lane) -> bool:
        return lane.ready is None or lane.ready()

    @contextlib.contextmanager
    def _context(self) -> Iterator[None]:
        """Inference mode and the loop's own CUDA stream, for the whole life of the thread."""
        import torch

        with contextlib.ExitStack() as stack:
            stack.enter_context(torch.inference_mode())
            if self.device.type == "cuda":
                self._stream = torch.cuda.Stream(self.device)
                stack.enter_context(torch.cuda.stream(self._stream))
            yield

    def capture_all(self) -> None:
        """Capture every batch size and window now (the start-up warm-up, while nothing runs), so that
        requests decoded together never wait for a capture."""
        import torch

        with torch.inference_mode(), self._rng, self._timed("every batch size"):
            self.step.prepare(0)  # the buffers are inference tensors: captured in inference mode

    def _ensure_graphs(self, lanes: list[Lane]) -> None:
        """Capture what the next step replays if a join did not (a shape first needed now, e.g. a
        smaller window once a long prompt's lane sits out): never an eager step that samples on the
        device while another loop captures."""
        with self._rng:
            self.step.prepare(min(self.owner.kv.filled[: len(lanes)]), len(lanes))

    @contextlib.contextmanager
    def _timed(self, what: str) -> Iterator[None]:
        """Log how long capturing took, when it took noticeable time (graphs were missing)."""
        started = time.perf_counter()
        yield
        elapsed = time.perf_counter() - started
        if elapsed > 0.05:
            log.info("%s: graphs for %s captured in %.2f s", self.name, what, elapsed)

    def _admit(self, lane: Lane, row: int) -> None:
        raise NotImplementedError

    def _step(self, lanes: list[Lane], taking_part: list[bool]) -> None:
        raise NotImplementedError

    def _move(self, source: int, target: int) -> None:
        self.owner.move(source, target)

    def _free(self, row: int) -> None:
        self.owner.kv.free(row)


class Hold:
    """On while some work that should have the GPU to itself runs (`held()`), but for at most `most_s`
    seconds from when each began, so a long one never stalls a loop for long."""

    def __init__(self, most_s: float) -> None:
        self.most_s = most_s
        self._since: dict[object, float] = {}  # each piece of work now held: when it began
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        key = object()
        with self._lock:
            self._since[key] = time.perf_counter()
        try:
            yield
        finally:
            with self._lock:
                del self._since[key]

    def on(self) -> bool:
        now = time.perf_counter()
        with self._lock:
            return any(now - since < self.most_s for since in self._since.values())


def _end(lane: Lane, error: BaseException | None = None) -> None:
    """Mark the lane ended (the loop takes it out of its row before waking its request)."""
    if not lane.done:
        lane.done, lane.error = True, error


def _loaded(row: int) -> None:
    """A lane's `load` once it has run (its prefilled cache released)."""


# -- the thinker --------------------------------------------------------------------------------------


@dataclass(eq=False)
class ThinkerLane(Lane):
    text_tap: Any = None  # TextTap: streams each token (and raises GenerationCancelled on Stop)


class ThinkerLoop(Loop):
    """Batched thinker decode steps over one `ThinkerDecoder` (one row per request); while `hold` is on,
    every lane sits out."""

    def __init__(self, decoder: Any, rng: threading.Lock, hold: Hold | None = None) -> None:
        super().__init__(f"omni-thinker-{decoder.length}", decoder.rows, decoder.device, rng)
        self.decoder = self.owner = decoder
        self.length = decoder.length
        self.step = decoder.step  # its graphs, one per batch size and window
        self.hold = hold or Hold(0.0)

    def _ready(self, lane: Lane) -> bool:
        return not self.hold.on() and super()._ready(lane)

    def _admit(self, lane: Lane, row: int) -> None:
        with self._rng, self._timed(f"{row + 1} rows"):
            self.step.prepare(lane.prompt, row + 1)  # no-op once the graphs are captured
        lane.load(row)
        lane.load = _loaded  # the prefill's cache can go

    def _step(self, lanes: list[Lane], taking_part: list[bool]) -> None:
        import torch

        self._ensure_graphs(lanes)
        tokens = torch.cat([lane.token for lane in lanes])
        logits = self.decoder.decode(tokens, taking_part)
        picked = _picks(lanes, taking_part, logits, self._rng)
        if not picked:
            return
        chosen = torch.cat([token for _, token in picked]).reshape(-1).cpu()  # one wait for the GPU
        for (lane, token), token_id in zip(picked, chosen.tolist(), strict=True):
            lane.token = token
            try:
                lane.text_tap.put(chosen.new_tensor([token_id]))  # raises on Stop
                if lane.picker.finished(token_id):
                    lane.text_tap.end()
                    _end(lane)
            except BaseException as exc:
                _end(lane, exc)


# -- the talker ---------------------------------------------------------------------------------------


@dataclass(eq=False)
class TalkerLane(Lane):
    feed: Any = None  # TextFeed: the reply's text, as the talker reads it
    pad: Any = None  # the <tts_pad> embedding the talker reads once the text is done
    speech_tap: Any = None  # SpeechTap: each frame's codes in, audio chunks out
    generation_step: int = 0


class TalkerLoop(Loop):
    """Batched speech frames over one `FrameStep` (one row per request)."""

    def __init__(self, step: Any, rng: threading.Lock) -> None:
        super().__init__(f"omni-talker-{step.length}", step.rows, step.device, rng)
        self.frames = self.owner = step
        self.length = step.length
        self.step = step.step

    def _admit(self, lane: Lane, row: int) -> None:
        with self._rng, self._timed(f"{row + 1} rows"):
            self.step.prepare(lane.prompt, row + 1)
        lane.load(row)
        lane.load = _loaded

    def _ready(self, lane: Lane) -> bool:
        assert isinstance(lane, TalkerLane)
        return super()._ready(lane) and lane.feed.known(lane.generation_step)  # else: text still coming

    def _step(self, lanes: list[Lane], taking_part: list[bool]) -> None:
        import torch

        texts = [self._text(lane) if part else None for lane, part in zip(lanes, taking_part, strict=True)]
        taking_part = [text is not None for text in texts]  # a lane whose text failed has ended
        if not any(taking_part):
            return
        pad = next(text for text in texts if text is not None)
        self._ensure_graphs(lanes)
        tokens = torch.cat([lane.token for lane in lanes])
        codes, logits = self.frames.frame(
            tokens, torch.stack([pad if text is None else text for text in texts]), taking_part
        )
        picked = _picks(lanes, taking_part, logits, self._rng)
        if not picked:
            return
        chosen = torch.cat([token for _, token in picked]).reshape(-1).cpu()
        for (lane, token), token_id in zip(picked, chosen.tolist(), strict=True):
            assert isinstance(lane, TalkerLane)
            row = self._lanes.index(lane)
            frame = torch.cat([lane.token, codes[row : row + 1]], dim=-1)
            try:
                lane.speech_tap.push(frame)  # raises on Stop
                lane.token = token
                lane.generation_step += 1
                over = lane.speech_tap.over_budget() or self.frames.room(row) <= 0
                if lane.picker.finished(token_id) or over:
                    _end(lane)
            except BaseException as exc:
                _end(lane, exc)

    def _text(self, lane: Lane) -> Any:
        """The lane's text input for this frame [1, H] (None: it failed, and the lane has ended)."""
        assert isinstance(lane, TalkerLane)
        try:
            return lane.feed.talker_input(lane.generation_step, lane.pad).reshape(1, -1)
        except BaseException as exc:
            _end(lane, exc)
            return None


def _picks(
    lanes: list[Lane], taking_part: list[bool], logits: Any, rng: threading.Lock
) -> list[tuple[Lane, Any]]:
    """Each taking lane's next token [1, 1] from its row of `logits`, by its own `Picker`; a lane whose
    pick fails ends alone."""
    picked = []
    with rng:
        for row, lane in enumerate(lanes):
            if not taking_part[row]:
                continue
            try:
                picked.append((lane, lane.picker.pick(logits[row : row + 1])))
            except BaseException as exc:
                _end(lane, exc)
    return picked
