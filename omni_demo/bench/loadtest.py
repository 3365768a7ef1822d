"""A load test: N concurrent `gradio_client` users sending mixed requests to the demo's API.

    python -m omni_demo.bench.loadtest --users 8 --minutes 10          # starts app.py on the preview model
    python -m omni_demo.bench.loadtest --url http://host:7860/ --users 4 --requests 20

Each user sends, one after another, requests drawn from a fixed mix (text; audio; an image; a video;
a video heard with its sound; speech on or off; an empty message that must be refused; some
cancelled after their first update), until `--minutes` are over (or it has sent `--requests`, if
given). Every request must end answered, refused in one sentence, or cancelled; anything else counts
as an error. Each answer is checked against its own request (its input tokens hold exactly the
request's media kinds), so a reply made for another user's request would show.

"Cancelled" is what the server says, not what the client asked: a client's cancel only ends its own
wait. /info counts how the server's requests ended (`served`): a cancelled one is a request whose
model the server stopped (or never started). The run reads those counts before and after; of the
requests the users tried to cancel, as many as the server stopped count as cancelled, the rest were
completed by the server anyway and count as answered. (Against `--url` of a server with other
traffic, the others' cancellations are counted too; more than were asked is reported as an error.)

When it starts the server itself, it also reports the server's memory (RSS) and its temporary files
(Gradio's cache and the reply WAVs) from after a warm-up request to the end. RSS is sampled every
second and saw-tooths by a few hundred MiB (buffers freed and handed back as requests come and go),
so besides each minute's first sample it reports each minute's minimum and median, and the slope of
the minima fitted from the end of the warm-up (`--warmup-minutes`) to the end, in MiB per minute.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"

# name, text, media (kind -> asset), use_audio_in_video, return_audio, cancel midway, must be refused
MIX: tuple[tuple[str, str, dict[str, str], bool, bool, bool, bool], ...] = (
    ("text+speech", "Hello, who are you?", {}, False, True, False, False),
    ("text", "Name three colours.", {}, False, False, False, False),
    ("audio", "What is said here?", {"audio": "speech_en.wav"}, False, False, False, False),
    ("image+speech", "What is in this picture?", {"image": "scene.png"}, False, True, False, False),
    ("video", "Describe the video.", {"video": "video_room.mp4"}, False, False, False, False),
    ("video+sound", "What do you hear?", {"video": "av_question.mp4"}, True, False, False, False),
    ("cancelled", "Tell me a long story.", {}, False, True, True, False),
    ("empty", "", {}, False, False, False, True),
)


@dataclass
class Outcome:
    user: int
    case: str
    status: str  # answered | refused | cancel asked (settled by the server's counts) | error
    latency_s: float
    queue_wait_s: float | None  # until Gradio starts it; a wait in the local engine's line comes after
    detail: str = ""


OUTCOMES = ("answered", "cancelled", "refused", "failed")  # the server's `served` counts in /info


@dataclass
class Report:
    users: int
    requests: int
    seconds: float
    outcomes: dict[str, int]
    latency_p50_s: float | None
    latency_p95_s: float | None
    queue_wait_p50_s: float | None
    queue_wait_p95_s: float | None
    errors: list[str] = field(default_factory=list)
    cancel_asked: int = 0  # requests the users tried to cancel; `outcomes` says how many the server stopped
    served: dict[str, int] | None = None  # the server's counts over the run (None: it has none)
    rss_mib_before: float | None = None
    rss_mib_after: float | None = None
    rss_mib_max: float | None = None
    rss_mib_by_minute: list[float] = field(default_factory=list)  # the first sample of each minute
    rss_mib_min_by_minute: list[float] = field(default_factory=list)  # each minute's lowest sample
    rss_mib_median_by_minute: list[float] = field(default_factory=list)
    rss_mib_max_by_minute: list[float] = field(default_factory=list)
    warmup_minutes: int = 0
    rss_slope_mib_per_min: float | None = None  # fitted to the minima after the warm-up
    rss_growth_mib: float | None = None  # that slope over those minutes
    rss_samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MiB), every second
    temp_mib_before: float | None = None
    temp_mib_after: float | None = None
    temp_mib_max: float | None = None

    def lines(self) -> str:
        def f(value: float | None, unit: str = "s") -> str:
            return "–" if value is None else f"{value:.2f} {unit}"

        def row(values: list[float]) -> str:
            return ", ".join(f"{v:.0f}" for v in values)

        rss = [
            f"server RSS {f(self.rss_mib_before, 'MiB')} -> {f(self.rss_mib_after, 'MiB')} "
            f"(max {f(self.rss_mib_max, 'MiB')})"
        ]
        if self.rss_mib_by_minute:
            rss += [
                f"RSS by minute, first sample: {row(self.rss_mib_by_minute)}",
                f"RSS by minute, minimum:      {row(self.rss_mib_min_by_minute)}",
                f"RSS by minute, median:       {row(self.rss_mib_median_by_minute)}",
                f"RSS by minute, maximum:      {row(self.rss_mib_max_by_minute)}",
            ]
        if self.rss_slope_mib_per_min is not None:
            span = len(self.rss_mib_min_by_minute) - 1 - self.warmup_minutes
            rss.append(
                f"RSS slope of the minima from minute {self.warmup_minutes} on: "
                f"{self.rss_slope_mib_per_min:+.2f} MiB/min ({self.rss_growth_mib:+.0f} MiB over {span} min)"
            )
        served = "" if self.served is None else ", ".join(f"{k} {v}" for k, v in self.served.items())
        return "\n".join(
            [
                f"{self.requests} requests by {self.users} users in {self.seconds:.0f} s: "
                + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())),
                f"cancel asked {self.cancel_asked}; the server's counts: {served or 'none'}",
                f"latency (answered) p50 {f(self.latency_p50_s)}, p95 {f(self.latency_p95_s)}",
                f"queue wait p50 {f(self.queue_wait_p50_s)}, p95 {f(self.queue_wait_p95_s)}",
                *rss,
                f"temp files {f(self.temp_mib_before, 'MiB')} -> {f(self.temp_mib_after, 'MiB')} "
                f"(max {f(self.temp_mib_max, 'MiB')})",
                *(f"error: {e}" for e in self.errors[:10]),
            ]
        )


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _one_request(client: Any, user: int, case: tuple, max_new_tokens: int) -> Outcome:
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError
    from gradio_client.utils import Status

    name, text, items, aiv, speak, cancel, refuse = case
    files = {kind: handle_file(str(ASSETS / asset)) for kind, asset in items.items()}
    started = time.perf_counter()
    running_at: float | None = None
    job = client.submit(
        text=text,
        use_audio_in_video=aiv,
        return_audio=speak,
        max_new_tokens=max_new_tokens,
        api_name="/generate_stream",
        **files,
    )
    try:
        while not job.done():
            code = job.status().code
            if running_at is None and code in (Status.PROCESSING, Status.ITERATING):
                running_at = time.perf_counter()
            if cancel and job.outputs():
                # Whether the server stopped it shows only in its counts (see the module's doc).
                job.cancel()
                return Outcome(
                    user, name, "cancel asked", time.perf_counter() - started, _wait(started, running_at)
                )
            time.sleep(0.02)
        result = job.result()
    except AppError as exc:
        message = str(exc)
        one_sentence = message.strip() and "\n" not in message and "Traceback" not in message
        status = "refused" if refuse and one_sentence else "error"
        return Outcome(user, name, status, time.perf_counter() - started, _wait(started, running_at), message)
    except Exception as exc:
        return Outcome(
            user, name, "error", time.perf_counter() - started, None, f"{type(exc).__name__}: {exc}"
        )
    latency = time.perf_counter() - started
    if refuse:
        return Outcome(
            user, name, "error", latency, _wait(started, running_at), "an empty message was answered"
        )
    problem = _check_answer(result, items, aiv, speak)
    if problem:
        return Outcome(user, name, "error", latency, _wait(started, running_at), problem)
    return Outcome(user, name, "answered", latency, _wait(started, running_at))


def _await_stream_close(client: Any, timeout_s: float = 5.0) -> None:
    """Wait until the server has closed the client's event stream after its request ended.

    gradio_client reads all of a client's events from one stream, which the server closes once the
    session has no request left: just after the last message of a request, or, after a cancel, once
    the server has handled it. A request submitted before the client has read that close is
    registered with the closing stream, and the client ends it with CancelledError when that stream
    ends (a request nobody cancelled ended so once in 4,629, 8 users on 2 busy cores). Waiting for the
    close (a few milliseconds) lets the next request open a stream of its own.
    """
    deadline = time.monotonic() + timeout_s
    while getattr(client, "stream_open", False) and time.monotonic() < deadline:
        time.sleep(0.01)


def _wait(started: float, running_at: float | None) -> float | None:
    return None if running_at is None else running_at - started


def _check_answer(result: Any, items: dict[str, str], aiv: bool, speak: bool) -> str:
    _, wav, timings = result
    if not isinstance(timings, dict) or "input_tokens" not in timings:
        return f"the last update has no timings: {result!r}"[:300]
    kinds = {k for k in ("audio", "image", "video") if timings["input_tokens"].get(k)}
    wanted = set(items) | ({"audio"} if aiv else set())  # a video heard with its sound track
    if kinds != wanted:
        return f"the reply's input tokens {sorted(kinds)} are not its request's {sorted(wanted)}"
    if speak and not wav:
        return "speech was asked for but no WAV came"
    if not speak and wav:
        return "no speech was asked for but a WAV came"
    return ""


def _rss_mib(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _tree_mib(folders: list[Path]) -> float | None:
    if not folders:
        return None
    total = 0
    for folder in folders:
        for path in folder.rglob("*") if folder.is_dir() else ():
            try:
                total += path.stat().st_size if path.is_file() else 0
            except OSError:
                continue
    return total / 2**20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    """app.py on the preview model, with its own temporary folder (so its disk use can be measured)."""

    def __init__(self, temp_max_age_s: float, extra: list[str]) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="omni-loadtest-"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = self.tmp / "app.log"
        env = {
            **os.environ,
            "GRADIO_TEMP_DIR": str(self.tmp / "gradio"),
            "TMPDIR": str(self.tmp / "tmp"),
            "GRADIO_ANALYTICS_ENABLED": "False",
        }
        (self.tmp / "tmp").mkdir()
        command = [
            sys.executable,
            str(ROOT / "app.py"),
            "--model",
            "preview",
            "--server-port",
            str(self.port),
        ]
        command += ["--temp-max-age", str(temp_max_age_s), *extra]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    @property
    def temp_folders(self) -> list[Path]:
        return [self.tmp / "gradio", self.tmp / "tmp"]

    def wait_until_up(self, timeout_s: float = 300) -> None:
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"app.py exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"app.py did not come up:\n{self.log.read_text()[-3000:]}")

    def stop(self, keep_log: Path | None = None) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if keep_log is not None:
            shutil.copyfile(self.log, keep_log)
        shutil.rmtree(self.tmp, ignore_errors=True)


# Under load the server trims its heap whenever `HeapTrimmer`'s longest wait is over
# (omni_demo/housekeeping/heap.py); RSS then climbs back by 80-200 MiB within 1-2 s as requests
# allocate again. A minute's lowest RSS is a leak's measure only if the sampling catches that dip:
# sampled every second, it missed it by up to ~100 MiB, by chance.
RSS_EVERY_S = 0.1  # reading /proc/PID/status: microseconds
TEMP_EVERY_S = 1.0  # walking the temporary folders: milliseconds


class _Gauges:
    """The server's RSS and temporary files (when this process started it), sampled while users run."""

    def __init__(self, pid: int | None, folders: list[Path]) -> None:
        self.pid, self.folders = pid, folders
        self.rss_before, self.temp_before = _rss_mib(pid), _tree_mib(folders)
        self.rss: list[tuple[float, float]] = []  # (seconds since the users started, MiB)
        self.temp: list[float] = []
        self._temp_at = -math.inf

    def sample(self, elapsed_s: float) -> None:
        rss = _rss_mib(self.pid)
        if rss is not None:
            self.rss.append((elapsed_s, rss))
        if elapsed_s - self._temp_at < TEMP_EVERY_S:
            return
        self._temp_at = elapsed_s
        temp = _tree_mib(self.folders)
        if temp is not None:
            self.temp.append(temp)

    def fields(self, minutes: float, warmup_minutes: int) -> dict[str, Any]:
        by_minute: dict[int, list[float]] = {}
        for elapsed, rss in self.rss:
            # Whole minutes only: the last one, while the requests in flight finish, is left out.
            if elapsed < math.floor(minutes) * 60:
                by_minute.setdefault(int(elapsed // 60), []).append(rss)
        ordered = [by_minute[m] for m in sorted(by_minute)]
        minima = [min(v) for v in ordered]
        slope = growth = None
        fitted = list(enumerate(minima))[warmup_minutes:]
        if len(fitted) >= 2:
            slope = statistics.linear_regression([m for m, _ in fitted], [v for _, v in fitted]).slope
            growth = slope * (fitted[-1][0] - fitted[0][0])
        return {
            "rss_mib_before": self.rss_before,
            "rss_mib_after": _rss_mib(self.pid),
            "rss_mib_max": max([r for _, r in self.rss] + [self.rss_before or 0.0]) if self.pid else None,
            "rss_mib_by_minute": [v[0] for v in ordered],
            "rss_mib_min_by_minute": minima,
            "rss_mib_median_by_minute": [statistics.median(v) for v in ordered],
            "rss_mib_max_by_minute": [max(v) for v in ordered],
            "warmup_minutes": warmup_minutes,
            "rss_slope_mib_per_min": slope,
            "rss_growth_mib": growth,
            "rss_samples": [(round(t, 1), round(r, 1)) for t, r in self.rss[:: round(1 / RSS_EVERY_S)]],
            "temp_mib_before": self.temp_before,
            "temp_mib_after": _tree_mib(self.folders),
            "temp_mib_max": max([*self.temp, self.temp_before or 0.0]) if self.folders else None,
        }


def _served(client: Any) -> dict[str, int] | None:
    """How the server's requests have ended so far (its /info `served`); None if it does not say."""
    served = client.predict(api_name="/info").get("served")
    return None if served is None else {k: int(served.get(k, 0)) for k in OUTCOMES}


def _settled(client: Any, before: dict[str, int], sent: int, timeout_s: float = 60.0) -> dict[str, int]:
    """The server's counts since `before`, once it has accounted for `sent` requests (a cancelled
    request ends on the server a moment after its client stopped waiting)."""
    deadline = time.monotonic() + timeout_s
    while True:
        now = _served(client) or {}
        delta = {k: now.get(k, 0) - before[k] for k in OUTCOMES}
        if sum(delta.values()) >= sent or time.monotonic() > deadline:
            return delta
        time.sleep(0.5)


def _report(
    users: int,
    outcomes: list[Outcome],
    seconds: float,
    gauges: _Gauges,
    served: dict[str, int] | None,
    minutes: float,
    warmup_minutes: int,
) -> Report:
    answered = [o.latency_s for o in outcomes if o.status == "answered"]
    waits = [o.queue_wait_s for o in outcomes if o.queue_wait_s is not None]
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    errors = [f"{o.case}: {o.detail}" for o in outcomes if o.status == "error"]
    asked = counts.pop("cancel asked", 0)
    if served is not None:
        # The server's word decides: stopped ones are cancelled, the rest it completed anyway.
        stopped = served["cancelled"]
        if stopped > asked:
            errors.append(f"the server stopped {stopped} requests, but only {asked} were cancelled")
        counts["cancelled"] = min(stopped, asked)
        counts["answered"] = counts.get("answered", 0) + asked - counts["cancelled"]
        reached = sum(1 for o in outcomes if o.case != "connect")
        if sum(served.values()) != reached:
            errors.append(f"the server accounted for {sum(served.values())} of {reached} requests: {served}")
    elif asked:
        counts["cancel unconfirmed"] = asked  # a server without counts: nobody can say
    return Report(
        users=users,
        requests=len(outcomes),
        seconds=seconds,
        outcomes={k: v for k, v in counts.items() if v},
        latency_p50_s=_percentile(answered, 50),
        latency_p95_s=_percentile(answered, 95),
        queue_wait_p50_s=_percentile(waits, 50),
        queue_wait_p95_s=_percentile(waits, 95),
        errors=errors,
        cancel_asked=asked,
        served=served,
        **gauges.fields(minutes, warmup_minutes),
    )


def run(
    users: int,
    requests: int | None,
    minutes: float,
    url: str | None = None,
    max_new_tokens: int = 16,
    temp_max_age_s: float = 60.0,
    seed: int = 0,
    extra_args: list[str] | None = None,
    warmup_minutes: int = 5,
    server_log: Path | None = None,
) -> Report:
    """`requests` per user at most (None: as many as fit in `minutes`)."""
    from gradio_client import Client

    server = None if url else _Server(temp_max_age_s, extra_args or [])
    try:
        if server is not None:
            server.wait_until_up()
            url = server.url
        warm = Client(url, verbose=False)
        warm.predict(text="warm up", max_new_tokens=4, api_name="/generate")
        served_before = _served(warm)
        gauges = _Gauges(server.process.pid, server.temp_folders) if server else _Gauges(None, [])
        outcomes: list[Outcome] = []
        lock = threading.Lock()
        deadline = time.monotonic() + minutes * 60
        started = time.perf_counter()

        def user(index: int) -> None:
            rng = random.Random(seed * 1000 + index)
            try:
                client = Client(url, verbose=False)
            except Exception as exc:  # a user who cannot even connect is an error, not a silent thread
                failed = Outcome(index, "connect", "error", 0.0, None, f"{type(exc).__name__}: {exc}")
                with lock:
                    outcomes.append(failed)
                return
            sent = 0
            while (requests is None or sent < requests) and time.monotonic() <= deadline:
                outcome = _one_request(client, index, rng.choice(MIX), max_new_tokens)
                _await_stream_close(client)
                sent += 1
                with lock:
                    outcomes.append(outcome)

        threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            gauges.sample(time.perf_counter() - started)
            time.sleep(RSS_EVERY_S)
        seconds = time.perf_counter() - started
        served = None
        if served_before is not None:
            sent = sum(1 for o in outcomes if o.case != "connect")
            served = _settled(warm, served_before, sent)
        return _report(users, outcomes, seconds, gauges, served, minutes, warmup_minutes)
    finally:
        if server is not None:
            server.stop(keep_log=server_log)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, default=4)
    p.add_argument("--requests", type=int, help="per user (at most); default: until --minutes are over")
    p.add_argument("--minutes", type=float, default=10.0, help="stop sending new requests after this")
    p.add_argument("--url", help="a running demo; default: start app.py on the preview model")
    p.add_argument("--max-new-tokens", type=int, default=16)
    p.add_argument("--temp-max-age", type=float, default=60.0, help="passed to the server it starts")
    p.add_argument("--warmup-minutes", type=int, default=5, help="RSS slope fitted from this minute on")
    p.add_argument("--json", type=Path, help="also write the report here as JSON")
    p.add_argument("--server-log", type=Path, help="keep the log of the server it started here")
    a = p.parse_args(argv)
    report = run(
        a.users,
        a.requests,
        a.minutes,
        a.url,
        a.max_new_tokens,
        a.temp_max_age,
        warmup_minutes=a.warmup_minutes,
        server_log=a.server_log,
    )
    print(report.lines(), flush=True)
    if a.json:
        a.json.write_text(json.dumps(asdict(report), indent=1))
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
