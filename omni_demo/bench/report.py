"""Results on disk: one JSON file (every run) and one markdown table (medians), named by date and GPU."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from omni_demo.bench.workloads import WORKLOADS

# The upstream README's minimum GPU memory (transformers, BF16, FlashAttention 2), GB, per video length.
SEED_MEMORY_GB = {
    "Instruct": {"15 s": 78.85, "30 s": 88.52, "60 s": 107.74, "120 s": 144.81},
    "Thinking": {"15 s": 68.74, "30 s": 77.79, "60 s": 95.76, "120 s": 131.65},
}


def environment(argv: list[str]) -> dict[str, Any]:
    import torch
    import transformers

    cuda = torch.cuda.is_available()
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python -m omni_demo.bench " + shlex.join(argv),
        "gpu": torch.cuda.get_device_name() if cuda else None,
        "gpu_memory_gib": round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
        if cuda
        else None,
        "driver": _driver() if cuda else None,
        "cuda": torch.version.cuda,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "cpu_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "git_commit": _git_commit(),
    }


def _driver() -> str | None:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def gpu_tag(gpu: str | None) -> str:
    """The GPU's short name ("NVIDIA H100 80GB HBM3" -> "H100"); "cpu" without one."""
    if not gpu:
        return "cpu"
    words = [w for w in gpu.replace("NVIDIA", "").split() if any(c.isdigit() for c in w)]
    return (words[0] if words else gpu.split()[-1]).replace("/", "-")


def file_stem(result: dict[str, Any], part: str = "") -> str:
    meta = result["meta"]
    stem = f"{meta['date'][:10]}-{gpu_tag(meta['gpu'])}"
    if meta["model"]["name"].startswith("preview"):
        stem += "-preview"
    return f"{stem}-{part}" if part else stem


def save(result: dict[str, Any], out_dir: Path, stem: str) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{stem}.json"
    md_path = out_dir / f"{stem}.md"
    tmp = json_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, json_path)
    md_path.write_text(markdown(result))
    return json_path, md_path


def merge(paths: list[Path]) -> dict[str, Any]:
    """Parts of one benchmark (workloads split over several commands, same GPU kind) as one result."""
    parts = [json.loads(p.read_text()) for p in paths]
    gpus = {p["meta"]["gpu"] for p in parts}
    if len(gpus) != 1:
        raise SystemExit(f"cannot merge results from different GPUs: {sorted(map(str, gpus))}")
    merged = json.loads(json.dumps(parts[0]))
    for entry in merged["workloads"].values():
        entry.setdefault("command", parts[0]["meta"]["command"])
    merged["meta"]["commands"] = [p["meta"]["command"] for p in parts]
    merged["meta"]["parts"] = [
        {k: p["meta"][k] for k in ("date", "command", "driver", "model")} for p in parts
    ]
    for part in parts:  # a later part's run of a workload replaces an earlier one
        for entry in part["workloads"].values():
            entry.setdefault("command", part["meta"]["command"])
    for part in parts[1:]:
        for name, entry in part["workloads"].items():
            if name in merged["workloads"]:
                merged.setdefault("notes", []).append(
                    f"{name}: the run of `{entry['command']}` replaces that of "
                    f"`{merged['workloads'][name]['command']}`."
                )
            merged["workloads"][name] = entry
        merged["notes"] = list(dict.fromkeys([*merged.get("notes", []), *part.get("notes", [])]))
    canonical = [w.name for w in WORKLOADS]
    order = dict.fromkeys(name for part in parts for name in part["meta"]["workload_order"])
    rank = {name: i for i, name in enumerate(canonical)}
    merged["meta"]["workload_order"] = sorted(order, key=lambda n: rank.get(n, len(rank)))
    return merged


# ---------------------------------------------------------------------------------------- markdown


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _ratio(value: Any) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _memory(summary: dict[str, Any]) -> str:
    if summary.get("peak_allocated_gib") is None:
        return "–"
    return f"{summary['peak_allocated_gib']:.1f} / {summary['peak_reserved_gib']:.1f}"


def _tokens(summary: dict[str, Any]) -> str:
    sizes = summary.get("input_tokens") or {}
    out = f"{sizes.get('total', '–')} → {_num(summary.get('text_tokens'))}"
    if summary.get("speech_s"):
        out += f" + {summary['speech_s']:.2f} s"
    return out


def _row(label: str, summary: dict[str, Any], path: str) -> str:
    if summary.get("error") and not summary.get("runs_ok"):
        return f"| {label} | {path} | {summary['error'][:120]} ||||||||"
    first_audio = _num(summary.get("first_audio_s"))
    if path == "baseline" and summary.get("first_audio_s") is not None:
        first_audio += "¹"
    cells = [
        label,
        path,
        _num(summary.get("first_token_s")),
        _num(summary.get("tokens_per_s"), 1),
        first_audio,
        _num(summary.get("underrun_s")),
        _num(summary.get("real_time_factor")),
        _num(summary.get("total_s")),
        _memory(summary),
        _tokens(summary),
    ]
    return "| " + " | ".join(cells) + " |"


def _ratio_row(ratio: dict[str, Any], label: str) -> str:
    memory = "–"
    if ratio.get("peak_allocated_gib") is not None:
        memory = f"{_ratio(ratio['peak_allocated_gib'])} / {_ratio(ratio.get('peak_reserved_gib'))}"
    cells = ["", label] + [
        _ratio(ratio.get(k)) if k else "–"
        for k in ("first_token_s", "tokens_per_s", "first_audio_s", "", "real_time_factor", "total_s")
    ]
    return "| " + " | ".join([*cells, memory, ""]) + " |"


PATH_NAMES = {"plain": "plain engine", "fast": "fast engine"}

TABLE_HEAD = (
    "| workload | path | first text token (s) | thinker decode (tok/s) | first audio (s) | underrun (s) "
    "| real-time factor | total (s) | peak GPU alloc / reserved (GiB) | tokens in → out |\n"
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
)


def table(result: dict[str, Any]) -> str:
    rows = [TABLE_HEAD]
    for name in result["meta"]["workload_order"]:
        w = result["workloads"][name]
        label = f"**{name}**: {w['spec']['title']}"
        rows.append(_row(label, w["baseline"]["median"], "baseline"))
        engines = [p for p in ("engine", "plain", "fast") if p in w]  # "engine": results before the fast one
        for path in engines:
            shown = PATH_NAMES.get(path, path)
            if "median_request" not in w[path]:
                rows.append(_row("", w[path]["median"], shown))
                continue
            count = len(w[path]["requests"])
            rows.append(_row("", w[path]["median"], f"{shown}, worst of {count} requests"))
            rows.append(_row("", w[path]["median_request"], f"{shown}, median request"))
        rows.append(_ratio_row(w["ratio"], f"{PATH_NAMES.get(engines[-1], engines[-1])} ÷ baseline"))
        if "ratio_plain" in w:
            rows.append(_ratio_row(w["ratio_plain"], "fast ÷ plain"))
    return "\n".join(rows)


def _header(result: dict[str, Any]) -> str:
    meta = result["meta"]
    model = meta["model"]
    commands = meta.get("commands") or [meta["command"]]
    lines = [
        f"- GPU: **{meta['gpu'] or 'none (CPU)'}**"
        + (
            f", {meta['gpu_memory_gib']} GiB, driver {meta['driver']}, CUDA {meta['cuda']}"
            if meta["gpu"]
            else ""
        ),
        f"- torch {meta['torch']}, transformers {meta['transformers']}, Python {meta['python']}",
        f"- model: {model['name']}, {model['params_b']} B parameters, {model['dtype']}, attention "
        f"{model['attention']}, MoE experts {model['experts'].get('', model['experts'])}",
        f"- date: {meta['date']}; runs: median of {meta['runs']} (fast engine) and "
        f"{meta.get('reference_runs', meta['runs'])} (baseline, plain engine) after one warm-up per path, "
        "paths interleaved",
        "- command(s): " + "; ".join(f"`{c}`" for c in commands),
    ]
    return "\n".join(lines)


FOOTNOTES = (
    "Times count from the moment the request is made (media decoding and the processor included). "
    "All paths run the same inputs, the page's decoding settings and limits (max_new_tokens 8192, 4096 "
    "speech frames), and fixed output lengths: end tokens suppressed until the target, thinker and talker "
    "alike, and a stop there (never a smaller max_new_tokens). Underrun: a player that starts at the first "
    "audio chunk and plays in real time waits this long in total for later chunks. "
    "Baseline: stock `generate()`; plain engine: the demo's "
    "engine on `generate()` (`--engine plain`); fast engine: the default. "
    "Ratios below 1 are better for times, above 1 for tok/s.\n\n"
    "¹ The stock `generate()` returns the speech only when everything is done, so the baseline's time to "
    "first audio is its total time."
)


def markdown(result: dict[str, Any]) -> str:
    notes = "".join(f"\n- {n}" for n in result.get("notes", []))
    exact = [n for n, w in result["workloads"].items() if not w["all_exact"]]
    warning = f"\n\n**Output lengths not exact in:** {', '.join(exact)}" if exact else ""
    return (
        f"# Qwen3-Omni demo benchmark: {result['meta']['gpu'] or 'CPU'}\n\n{_header(result)}\n\n"
        f"{table(result)}\n\n{FOOTNOTES}{warning}\n{notes}\n"
    )


def seed_memory_table(results: tuple[dict[str, Any], ...] | list[dict[str, Any]] = ()) -> str:
    """The seed's minimum memory per video length, with this benchmark's measured peaks beneath it."""
    lengths = list(next(iter(SEED_MEMORY_GB.values())))
    head = "| | " + " | ".join(f"{n} video" for n in lengths) + " |\n|---|" + "---:|" * len(lengths)
    rows = [
        f"| seed, {m} (GB) | " + " | ".join(f"{v:.2f}" for v in gbs.values()) + " |"
        for m, gbs in SEED_MEMORY_GB.items()
    ]
    for result in results:
        cells = []
        for length in lengths:
            entry = result["workloads"].get(f"video-{length.split()[0]}s")
            median = entry["baseline"]["median"] if entry else {}
            cells.append(_memory(median) if median.get("runs_ok") else "–")
        gpu = gpu_tag(result["meta"]["gpu"])
        rows.append(
            f"| measured here, {gpu}: Instruct, text answer (GiB alloc / reserved) | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join([head, *rows])


def performance_section(results: list[dict[str, Any]]) -> str:
    """The README's Performance section: the latest table per GPU, and the seed's memory table beside it."""
    parts = ["## Performance\n"]
    parts.append(
        "`python -m omni_demo.bench` runs the full-size Qwen3-Omni-30B-A3B-Instruct with random weights "
        "(built from its config on the GPU) on fixed workloads, through plain `generate()` (baseline) and "
        "through the demo's engine, in the same process on the same inputs. "
        "`--model preview` runs the same harness on a CPU.\n"
    )
    for result in results:
        notes = "".join(f"\n- {n}" for n in result.get("notes", []))
        parts.append(f"### {result['meta']['gpu']}\n\n{_header(result)}\n\n{table(result)}\n{notes}\n")
    parts.append(FOOTNOTES + "\n")
    parts.append(
        "### GPU memory: the model card's minimum (seed) and what this benchmark measured\n\n"
        "Seed: transformers, BF16, FlashAttention 2, video input, in GB. Measured here: sdpa, BF16, "
        "a 640×360 clip with its sound track at fps 2, plain `generate()`, peak "
        "`torch.cuda.max_memory_allocated` / `max_memory_reserved` in GiB.\n\n"
        + seed_memory_table(results)
        + "\n"
    )
    return "\n".join(parts)


def argv() -> list[str]:
    return sys.argv[1:]
