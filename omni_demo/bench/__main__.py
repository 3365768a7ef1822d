"""`python -m omni_demo.bench`: the demo's engine against plain generate(), on the full model or the preview.

Usage::

    python -m omni_demo.bench --model full --out bench/results               # one GPU, every workload
    python -m omni_demo.bench --model full --workloads video --out DIR       # a part (10-minute limits)
    python -m omni_demo.bench --model preview --out /tmp/x                   # CPU: the harness end to end
    python -m omni_demo.bench --merge A.json B.json --out bench/results      # parts -> one result
    python -m omni_demo.bench --readme H100.json H200.json --out bench/results   # the README section
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from omni_demo.bench import report
from omni_demo.bench.models import (
    Loaded,
    drop_talker,
    load_full,
    load_preview,
    model_facts,
)
from omni_demo.bench.runner import run_workload
from omni_demo.bench.workloads import VIDEO_FPS, VIDEO_SIZE, Workload, make_input, select
from omni_demo.config import Settings

log = logging.getLogger("omni_demo.bench")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m omni_demo.bench", description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=("full", "preview"), help="default: full on a CUDA GPU, else preview")
    p.add_argument("--workloads", default="all", help="comma-separated names or prefixes (default: all)")
    p.add_argument("--runs", type=int, default=3, help="measured runs per path (median reported; default 3)")
    p.add_argument(
        "--reference-runs",
        type=int,
        help="measured runs of the two generate() paths (baseline, plain engine); default: --runs",
    )
    p.add_argument("--no-warmup", dest="warmup", action="store_false", help="skip the warm-up runs")
    p.add_argument("--out", type=Path, default=Path("bench/results"), help="folder for the JSON and markdown")
    p.add_argument(
        "--cache-dir", type=Path, default=Settings().cache_dir, help="where the preview model is built"
    )
    p.add_argument(
        "--debug-log", action="store_true", help="the engine's debug log: where a request's time goes"
    )
    p.add_argument("--merge", nargs="+", type=Path, metavar="JSON", help="merge result parts into one result")
    p.add_argument(
        "--readme", nargs="+", type=Path, metavar="JSON", help="write README.md's Performance section"
    )
    return p


def _part_name(selection: str) -> str:
    if selection.strip() == "all":
        return ""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", selection.strip()).strip("_")


def _describe_input(workload: Workload, path: Path | None, seconds: float) -> dict[str, Any]:
    if path is None:
        return {"description": "text only", "make_s": 0.0}
    if workload.media == "video":
        width, height = VIDEO_SIZE
        what = f"{width}×{height} {VIDEO_FPS} fps H.264 mp4 + mono 48 kHz AAC, {workload.media_seconds:g} s"
    else:
        what = f"mono 48 kHz 16-bit WAV of speech-like sound, {workload.media_seconds:g} s"
    return {"description": what, "file": path.name, "bytes": path.stat().st_size, "make_s": round(seconds, 2)}


def _load(model: str, cache_dir: Path) -> Loaded:
    return load_preview(cache_dir) if model == "preview" else load_full()


def run(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    import torch

    model = args.model or ("full" if torch.cuda.is_available() else "preview")
    if model == "full" and not torch.cuda.is_available():
        raise SystemExit("--model full needs a CUDA GPU; use --model preview on a CPU")
    workloads = select(args.workloads, preview=model == "preview")
    log.info("building the %s model", model)
    loaded = _load(model, args.cache_dir)
    # The app's start-up: the speech self-check, then (unless --no-warmup) the warm-up; the workloads then
    # run as a started server runs them.
    started = time.perf_counter()
    loaded.engine.start_up(warm=args.warmup)
    start_up_s = time.perf_counter() - started
    gc.freeze()  # the model, tokenizer and processor stay: later collections need not scan them again
    meta = report.environment(argv) | {
        "model": model_facts(loaded),
        "runs": args.runs,
        "reference_runs": args.reference_runs if args.reference_runs is not None else args.runs,
        "workload_order": [],
        "start_up": {
            "seconds": round(start_up_s, 1),
            "engine": loaded.engine.options.engine,
            "input_token_limit": loaded.engine.options.max_input_tokens,
        },
    }
    notes = [
        "Baseline inputs: media decoded with PyAV by the bench (the upstream demo's process_mm_info is "
        "not installed), a video frame at each multiple of 1/fps (fps 2, as the engine samples), the same "
        "processor and kwargs as the engine.",
        "Text is tokenized by the preview's byte-level tokenizer, so text prompts count more tokens than "
        "with the real tokenizer; media token counts are the real processor's.",
    ]
    result: dict[str, Any] = {"meta": meta, "workloads": {}, "notes": notes}
    stem = report.file_stem(result, _part_name(args.workloads))
    log.info("model ready: %s", meta["model"])
    with tempfile.TemporaryDirectory(prefix="omni-bench-inputs-") as folder:
        for workload in workloads:
            if workload.thinking and loaded.engine.model.has_talker:
                drop_talker(loaded)
                notes.append("The Thinking shape runs after disable_talker() (talker and code2wav freed).")
            started = time.perf_counter()
            media_path = make_input(workload, Path(folder))
            made = time.perf_counter() - started
            log.info("workload %s: input made in %.1f s", workload.name, made)
            entry = run_workload(
                loaded.engine, workload, media_path, args.runs, args.warmup, args.reference_runs
            )
            entry["input"] = _describe_input(workload, media_path, made)
            entry["command"] = meta["command"]
            result["workloads"][workload.name] = entry
            meta["workload_order"].append(workload.name)
            # Saved after every workload: a run killed at its time limit keeps what it finished.
            json_path, _ = report.save(result, args.out, stem)
            log.info("saved %s", json_path)
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    if args.debug_log:
        logging.getLogger("omni_demo.engine").setLevel(logging.DEBUG)
    if args.merge:
        merged = report.merge(args.merge)
        paths = report.save(merged, args.out, report.file_stem(merged))
        print("\n".join(map(str, paths)))
        return 0
    if args.readme:
        results = [json.loads(p.read_text()) for p in args.readme]
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "README.md").write_text(report.performance_section(results))
        print(args.out / "README.md")
        return 0
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    result = run(args, argv)
    print(report.markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
