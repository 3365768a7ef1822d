"""`python -m omni_demo.bench.probe`: where one decode step, one speech frame and the first token spend time.

On the full-size random-weight model: one thinker decode step and one speech frame (talker step + the
code predictor's 15 codes) as graph replays, eager-captured and, with `--compile`, compiled first;
code2wav per chunk; the pieces of the time to first token for the benchmark's 30 s speech input
(processor, prefill through `generate()`, prefill through the fast engine on the caller's stream and on a
side stream); then engine replies on the text-speech and audio-text workloads. Prints JSON, writes probe.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
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
    return round(statistics.median(samples) * 1000, 2)


def step_times(model: Any, compile: bool) -> dict[str, float]:
    """Milliseconds per thinker step, per speech frame and per code2wav chunk (graph replay)."""
    import torch

    from omni_demo.engine.fast import FastPath

    fast = FastPath(model, compile=compile, max_batch=8)
    out: dict[str, float] = {}
    started = time.perf_counter()
    thinker = fast.thinker_for(0, 999).decoder
    thinker.capture()
    out["thinker_ready_s"] = round(time.perf_counter() - started, 1)
    started = time.perf_counter()
    frames = fast.frames_for(0, 999, do_sample=True).frames
    frames.capture()
    out["frame_ready_s"] = round(time.perf_counter() - started, 1)
    for rows in (1, 4, 8):  # one step for that many requests decoded together
        suffix = "" if rows == 1 else f"_batch_{rows}"
        out[f"thinker_step_ms{suffix}"] = _timed(
            lambda rows=rows: (thinker.step(101, rows), thinker.kv.position.fill_(100)), 50
        )
        out[f"frame_ms{suffix}"] = _timed(
            lambda rows=rows: (frames.step(101, rows), frames.kv.position.fill_(100)), 50
        )
    if not compile:
        codes = torch.randint(0, 2048, (1, 16, 85), device=fast.device)
        out["code2wav_85_frames_ms"] = _timed(lambda: model.code2wav(codes), 10)
    return out


def first_token_parts(engine: Any, media: Path) -> dict[str, float]:
    """The 30 s speech-input prefill, piece by piece (milliseconds, medians of 5)."""
    import torch

    from omni_demo.conversation import build_model_input
    from omni_demo.engine.fast.run import FastPath
    from omni_demo.types import Media, Request, Sampling, Turn

    request = Request(
        turns=(Turn("user", "Transcribe.", (Media("audio", str(media)),)),),
        return_audio=False,
        sampling=Sampling(max_new_tokens=128),
    )
    model_input = build_model_input(request, engine.info.capabilities, engine.options.max_media_turns)
    out = {"processor_ms": _timed(lambda: engine._prepare(model_input, request), 5)}
    inputs = engine._prepare(model_input, request)
    model = engine.model
    out["generate_1_token_ms"] = _timed(
        lambda: model.thinker.generate(**inputs, max_new_tokens=1, min_new_tokens=1, do_sample=False), 5
    )
    fast = engine.fast_path or FastPath(model)
    decoder = fast.thinker_for(int(inputs["input_ids"].shape[1]), 128)
    out["fast_prefill_ms"] = _timed(lambda: decoder.prefill(inputs, False, False)[0].argmax().item(), 5)
    side = torch.cuda.Stream()

    def on_side() -> None:
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            decoder.prefill(inputs, False, False)[0].argmax().item()

    out["fast_prefill_side_stream_ms"] = _timed(on_side, 5)
    return out


def experts_steps(model: Any, names: str, report: dict[str, Any]) -> None:
    """Decode steps captured with other MoE implementations (the prefill keeps the loaded one)."""
    import torch

    for experts in filter(None, names.split(",")):
        previous = model.get_experts_implementation()
        try:
            model.set_experts_implementation(experts)
            with torch.inference_mode():
                report[f"steps_{experts}"] = step_times(model, False)
        except Exception as exc:
            logging.exception("%s steps failed", experts)
            report[f"steps_{experts}"] = repr(exc)
        finally:
            model.set_experts_implementation(previous)
        print(f"steps_{experts}", json.dumps(report[f"steps_{experts}"]), flush=True)


def main(argv: list[str] | None = None) -> int:
    import torch

    from omni_demo.bench.models import load_full
    from omni_demo.bench.runner import run_engine
    from omni_demo.bench.workloads import make_input, select

    p = argparse.ArgumentParser(prog="python -m omni_demo.bench.probe")
    p.add_argument("--out", type=Path, default=Path("."))
    p.add_argument("--compile", action="store_true", help="also time compiled step bodies")
    p.add_argument("--replies-only", action="store_true", help="skip the step and prefill timings")
    p.add_argument(
        "--experts", default="", help="comma-separated MoE implementations to time decode steps with too"
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    logging.getLogger("omni_demo.engine").setLevel(logging.DEBUG)
    loaded = load_full()
    engine = loaded.engine
    report: dict[str, Any] = {"gpu": torch.cuda.get_device_name()}
    folder = Path(tempfile.mkdtemp())
    speech = make_input(select("audio-text", preview=False)[0], folder)
    sections = [("steps", lambda: step_times(engine.model, False))]
    sections.append(("first_token", lambda: first_token_parts(engine, speech)))
    for name, run in [] if args.replies_only else sections:
        try:
            with torch.inference_mode():
                report[name] = run()
        except Exception as exc:
            logging.exception("%s failed", name)
            report[name] = repr(exc)
        print(name, json.dumps(report[name]), flush=True)
    for workload in select("text-speech,audio-text", preview=False):
        media = speech if workload.media == "audio" else None
        for path in ("fast", "fast", "plain"):
            try:
                run = run_engine(engine.with_options(engine=path), workload, media, "Ethan").as_dict()
            except Exception as exc:
                logging.exception("%s %s failed", workload.name, path)
                run = {"error": repr(exc)}
            report.setdefault(workload.name, {}).setdefault(path, []).append(run)
            keys = ("first_token_s", "tokens_per_s", "first_audio_s", "real_time_factor", "total_s")
            print(workload.name, path, {k: run.get(k) for k in keys}, flush=True)
    experts_steps(engine.model, args.experts, report)
    if args.compile:  # last: compiling takes minutes
        try:
            with torch.inference_mode():
                report["steps_compiled"] = step_times(engine.model, True)
        except Exception as exc:
            logging.exception("compiled steps failed")
            report["steps_compiled"] = repr(exc)
        print("steps_compiled", json.dumps(report["steps_compiled"]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "probe.json").write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
