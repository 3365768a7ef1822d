"""`python -m omni_demo.bench.live`: live-voice latency, measured in the server's own session.

A `LiveSession` (the object behind `/v1/realtime`) is fed a recorded question at real-time pace, in
40 ms chunks, with server VAD at its defaults (threshold 0.5, 300 ms prefix, 500 ms silence):

- **end of speech → first audio**: from appending the chunk that holds the last voiced sample to
  the first `response.output_audio.delta` (the 500 ms silence window included);
- **barge-in**: a second question spoken over a long answer; how late, after `speech_started`, the
  last audio delta of the interrupted answer was still queued for the client (what the endpoint's
  writer would send), and how long until the engine was idle again (the GPU stopped).

The WebSocket itself adds only loopback time and is not in these figures.

    python -m omni_demo.bench.live --model preview --runs 3
    python -m omni_demo.bench.live --model full --runs 3 --out DIR     # a CUDA GPU
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import logging
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from omni_demo.config import Settings
from omni_demo.realtime.protocol import ProtocolError
from omni_demo.realtime.session import LiveSession

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
CHUNK_S = 0.04
SETTINGS = "server VAD 0.5 / 300 ms / 500 ms; 40 ms chunks at real-time pace; the page's reply sampling"
RATE = 16_000


def _question() -> np.ndarray:
    speech, rate = sf.read(ROOT / "assets" / "speech_en.wav", dtype="int16")
    assert rate == RATE
    voiced = np.nonzero(np.abs(speech) > 500)[0]
    return speech[voiced[0] : voiced[-1] + 1]


class Probe:
    """A session and a record of the events its client would receive, with their times."""

    def __init__(self, engine: Any) -> None:
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.session = LiveSession(engine, self._send)
        self.session.handle(
            {
                "type": "session.update",
                "session": {"audio": {"input": {"format": {"type": "audio/pcm", "rate": RATE}}}},
            }
        )

    def _send(self, event: dict[str, Any]) -> None:
        if not self.session.stale(event):
            self.events.append((time.monotonic(), event))

    async def speak(self, audio: np.ndarray) -> float:
        """Append `audio` at real-time pace; returns when its last voiced sample was sent."""
        chunk = int(RATE * CHUNK_S)
        voiced = np.nonzero(np.abs(audio) > 500)[0]
        last_voiced_at = time.monotonic()
        started = time.monotonic()
        for index, start in enumerate(range(0, len(audio), chunk)):
            await asyncio.sleep(max(0.0, started + index * CHUNK_S - time.monotonic()))
            piece = audio[start : start + chunk]
            self.session.handle({"type": "input_audio_buffer.append", "audio": _b64(piece)})
            if len(voiced) and start <= voiced[-1] < start + chunk:
                last_voiced_at = time.monotonic()
        return last_voiced_at

    async def wait_for(
        self, kind: str, after: float, timeout: float = 120, **match: Any
    ) -> tuple[float, dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, event in self.events:
                if at >= after and event["type"] == kind and all(event.get(k) == v for k, v in match.items()):
                    return at, event
            await asyncio.sleep(0.005)
        raise TimeoutError(f"no {kind} within {timeout} s")


def _b64(samples: np.ndarray) -> str:
    return base64.b64encode(samples.astype("<i2").tobytes()).decode("ascii")


async def _one_turn(engine: Any, question: np.ndarray) -> float:
    probe = Probe(engine)
    silence = np.zeros(RATE, dtype=np.int16)
    last_voiced = await probe.speak(np.concatenate([silence[: RATE // 2], question, silence]))
    first_audio, _ = await probe.wait_for("response.output_audio.delta", after=0)
    # Only the first audio is measured: the rest is cancelled (random weights never end on their own),
    # unless the answer has already ended by itself (nothing is then in progress to cancel).
    with contextlib.suppress(ProtocolError):
        probe.session.handle({"type": "response.cancel"})
    await probe.wait_for("response.done", after=0)
    probe.session.close()
    return first_audio - last_voiced


async def _barge_in(engine: Any, question: np.ndarray) -> dict[str, float]:
    probe = Probe(engine)
    probe.session.handle({"type": "session.update", "session": {"max_output_tokens": 2048}})
    silence = np.zeros(RATE, dtype=np.int16)
    await probe.speak(np.concatenate([question, silence]))
    _, created = await probe.wait_for("response.created", after=0)
    first = created["response"]["id"]
    first_audio, _ = await probe.wait_for("response.output_audio.delta", after=0, response_id=first)
    await asyncio.sleep(max(0.0, first_audio + 0.5 - time.monotonic()))  # half a second of its answer plays
    speaking = asyncio.create_task(probe.speak(question))
    started_at, _ = await probe.wait_for("input_audio_buffer.speech_started", after=first_audio)
    deadline = time.monotonic() + 30
    while getattr(engine, "busy", False) and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    idle_at = time.monotonic()
    await speaking
    late = [at for at, e in probe.events if e.get("response_id") == first and e["type"].endswith(".delta")]
    probe.session.close()
    await asyncio.sleep(0.5)
    return {
        "last_delta_after_speech_started_ms": max(0.0, (max(late) - started_at) * 1000),
        "engine_idle_after_speech_started_ms": (idle_at - started_at) * 1000,
    }


async def measure(engine: Any, runs: int) -> dict[str, Any]:
    question = _question()
    await _one_turn(engine, question)  # warm-up: first-use costs are not what a tester meets twice
    latencies, barges = [], []
    for run in range(runs):
        latencies.append(await _one_turn(engine, question))
        log.info("run %d: end of speech to first audio %.3f s", run + 1, latencies[-1])
    for run in range(runs):
        barges.append(await _barge_in(engine, question))
        log.info("barge-in %d: %s", run + 1, barges[-1])
    return {
        "end_of_speech_to_first_audio_s": [round(x, 3) for x in latencies],
        "median_end_of_speech_to_first_audio_s": round(statistics.median(latencies), 3),
        "barge_in": barges,
        "worst_last_delta_after_speech_started_ms": round(
            max(b["last_delta_after_speech_started_ms"] for b in barges), 1
        ),
        "settings": SETTINGS,
    }


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    log.setLevel(logging.INFO)  # one line per run: a slow run shows how far it got
    p = argparse.ArgumentParser(prog="python -m omni_demo.bench.live", description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=("full", "preview"), default="preview")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--out", type=Path, help="also write the figures here as JSON")
    args = p.parse_args(argv)
    from omni_demo.bench.models import load_full, load_preview

    loaded = load_full() if args.model == "full" else load_preview(Settings().cache_dir)
    loaded.engine.start_up(warm=True)
    figures = {
        "model": args.model,
        "device": loaded.engine.info.device,
        **asyncio.run(measure(loaded.engine, args.runs)),
    }
    text = json.dumps(figures, indent=2)
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"live-{args.model}.json").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
