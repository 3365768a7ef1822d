"""`python -m omni_demo.bench.probe`: where one decode step and one speech frame spend their time.

Times, on the loaded model, the plain eager steps against the fast engine's graph replays: one
thinker decode step, one speech frame (talker step + the code predictor's 15 codes), one code2wav
chunk; then one engine reply per path on the benchmark's text-speech workload. Prints a small
table and writes it as JSON; used to choose what to speed up next (bench/results/README.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any


def _timed(fn: Any, reps: int) -> float:
    import torch

    samples = []
    for _ in range(reps):
        torch.cuda.synchronize()
        started = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def step_times(model: Any) -> dict[str, float]:
    """Milliseconds per thinker step, per speech frame and per code2wav chunk (graph replay)."""
    import torch

    from omni_demo.engine.fast import FastPath

    fast = FastPath(model)
    out: dict[str, float] = {}
    thinker = fast.thinker_for(1000)
    token = torch.tensor([[1000]], device=fast.device)
    thinker.kv.position.fill_(100)
    out["thinker_step_graph_ms"] = _timed(lambda: (thinker.step(), thinker.kv.position.fill_(100)), 50)
    frames = fast.frames_for(1000, do_sample=True)
    frames.kv.position.fill_(100)
    text = torch.zeros_like(frames.text)
    out["frame_graph_ms"] = _timed(lambda: (frames.step(), frames.kv.position.fill_(100)), 50)
    codes = torch.randint(0, 2048, (1, 16, 85), device=fast.device)
    out["code2wav_85_frames_ms"] = _timed(lambda: model.code2wav(codes), 10)
    codes = torch.randint(0, 2048, (1, 16, 600), device=fast.device)
    out["code2wav_600_frames_ms"] = _timed(lambda: model.code2wav(codes), 5)
    del token, text
    return out


def main(argv: list[str] | None = None) -> int:
    import torch

    from omni_demo.bench.models import load_full
    from omni_demo.bench.runner import run_engine
    from omni_demo.bench.workloads import select

    p = argparse.ArgumentParser(prog="python -m omni_demo.bench.probe")
    p.add_argument("--out", type=Path, default=Path("."))
    p.add_argument("--workloads", default="text-speech")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    loaded = load_full()
    report: dict[str, Any] = {"gpu": torch.cuda.get_device_name()}
    with torch.inference_mode():
        try:
            report["steps"] = step_times(loaded.engine.model)
        except Exception as exc:
            logging.exception("step timing failed")
            report["steps_error"] = repr(exc)
    print(json.dumps(report, indent=1), flush=True)
    for workload in select(args.workloads, preview=False):
        for path in ("fast", "fast", "plain"):
            engine = loaded.engine.with_options(engine=path)
            try:
                run = run_engine(engine, workload, None, "Ethan")
                report[f"{workload.name}/{path}"] = run.as_dict()
                print(workload.name, path, json.dumps(run.as_dict()), flush=True)
            except Exception as exc:
                logging.exception("%s %s failed", workload.name, path)
                report[f"{workload.name}/{path}"] = repr(exc)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "probe.json").write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
