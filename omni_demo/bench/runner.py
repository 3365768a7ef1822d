"""One workload, two paths, same process, same inputs: plain generate() (baseline) and the demo's engine.

Baseline: what the upstream web demo does: run the processor, call `model.generate(**inputs, ...)`
once, take the text and the whole waveform at the end. A streamer that only timestamps tokens is
attached so that its first-token time and decode speed can be measured; its audio arrives only with
the end of generate(), so its time to first audio is its total time.

Engine: `LocalEngine.stream(Request(...))` as the UI drives it; figures come from the final
`Result.timings`, shifted so that both paths count from the moment the request is made, and from the
moments the audio chunks reach the caller (`underrun_s`).

Every path runs the page's defaults: decoding (temperature 0.6, top-p 0.95, top-k 20; the talker's own
defaults) and limits (max_new_tokens 8192, 4096 speech frames), so the engine's caches and loops are
those a page request gets. The fixed output lengths are reached by suppressing the end tokens until
the target and stopping there (a stopping criterion in `generate()`, `EngineOptions.stop_after_*` in
the engine), never by shrinking max_new_tokens.
"""

from __future__ import annotations

import gc
import logging
import math
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from transformers import TextStreamer

from omni_demo.bench.workloads import Workload, decode_audio, sample_video_frames
from omni_demo.engine.hooks import StopAfter
from omni_demo.engine.local import EngineOptions, LocalEngine
from omni_demo.presets import DEFAULT_SAMPLING
from omni_demo.types import SAMPLE_RATE, AudioChunk, Media, ModelKind, Request, Result, Turn, underrun

log = logging.getLogger(__name__)

PAGE_SAMPLING = DEFAULT_SAMPLING[ModelKind.INSTRUCT]  # the settings panel's defaults (8192 new tokens)
PAGE_SPEECH_FRAMES = EngineOptions.max_speech_frames  # the engine's default: what a page request gets
# baseline: stock generate(); plain: the demo's engine on generate() (--engine plain); fast: the fast engine.
PATHS = ("baseline", "plain", "fast")
FIGURES = (
    "first_token_s",
    "tokens_per_s",
    "first_audio_s",
    "underrun_s",
    "real_time_factor",
    "total_s",
    "peak_allocated_gib",
    "peak_reserved_gib",
    "text_tokens",
    "speech_s",
)


@dataclass
class Run:
    """One measured reply. Times in seconds from the moment the request is made."""

    first_token_s: float | None = None
    tokens_per_s: float | None = None  # thinker decode speed after the first token
    first_audio_s: float | None = None
    underrun_s: float | None = None  # a player starting at the first chunk, in real time: seconds it waited
    speech_s: float | None = None
    total_s: float | None = None
    text_tokens: int = 0
    speech_frames: int = 0
    input_tokens: dict[str, int] = field(default_factory=dict)
    peak_allocated_gib: float | None = None
    peak_reserved_gib: float | None = None
    prep_s: float | None = None  # baseline only: media decoding + processor
    caches: dict[str, Any] = field(default_factory=dict)  # cache sizes the run decoded over
    exact: bool = False  # the output lengths came out exactly as asked
    error: str | None = None
    # Concurrent workloads: each request's own run; the figures above are then the worst request's
    # (the slowest first token, first audio and total, the lowest tok/s, the most underrun).
    requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def real_time_factor(self) -> float | None:
        if self.requests:
            return max((r["real_time_factor"] for r in self.requests if r["real_time_factor"]), default=None)
        if not self.speech_s or self.total_s is None:
            return None
        return self.total_s / self.speech_s

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "real_time_factor": self.real_time_factor}


# ------------------------------------------------------------------------------------- baseline


class _TokenClock(TextStreamer):
    """Timestamps the thinker's new tokens; decodes nothing, prints nothing."""

    def __init__(self, tokenizer: Any) -> None:
        super().__init__(tokenizer, skip_prompt=True)
        self.first: float | None = None
        self.last: float | None = None
        self.count = 0

    def put(self, value: Any) -> None:
        if self.next_tokens_are_prompt:  # generate() first hands over the prompt
            self.next_tokens_are_prompt = False
            return
        now = time.perf_counter()
        self.first = self.first or now
        self.last = now
        self.count += int(value.numel())

    def end(self) -> None:
        self.next_tokens_are_prompt = True


def _messages(workload: Workload, media_path: Path | None) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    if media_path is not None:
        content.append({"type": workload.media, workload.media: str(media_path)})
    content.append({"type": "text", "text": workload.prompt})
    return [{"role": "user", "content": content}]


def baseline_inputs(processor: Any, workload: Workload, media_path: Path | None, fps: float) -> Any:
    """The processor call of the upstream demo, with media decoded by the bench's own PyAV loaders."""
    text = processor.apply_chat_template(
        _messages(workload, media_path), add_generation_prompt=True, tokenize=False
    )
    audio = videos = None
    kwargs: dict[str, Any] = {}
    if workload.media == "audio" and media_path is not None:
        audio = [decode_audio(media_path)]
    elif workload.media == "video" and media_path is not None:
        videos = [sample_video_frames(media_path, fps)]
        kwargs["videos_kwargs"] = {"fps": fps, "do_sample_frames": False}
        if workload.audio_in_video:
            audio = [decode_audio(media_path)]
            kwargs |= {"load_audio_from_video": True, "audio_from_video_indices": [0]}
    return processor(text=text, audio=audio, videos=videos, return_tensors="pt", padding=True, **kwargs)


def baseline_generate_kwargs(workload: Workload, voice: str) -> dict[str, Any]:
    """generate() as the upstream demo calls it with the page's limits, plus the fixed lengths."""
    sampling = PAGE_SAMPLING  # the app's defaults, so both paths decode alike
    kwargs: dict[str, Any] = {
        "use_audio_in_video": workload.audio_in_video,
        "return_audio": workload.speaks,
        "thinker_return_dict_in_generate": True,
        "thinker_do_sample": True,
        "thinker_temperature": sampling.temperature,
        "thinker_top_p": sampling.top_p,
        "thinker_top_k": sampling.top_k,
        "thinker_max_new_tokens": sampling.max_new_tokens,
        "thinker_stopping_criteria": StopAfter(workload.text_tokens).as_list(),
        **fixed_lengths(workload),
    }
    if workload.speaks:
        kwargs |= {
            "speaker": voice,
            "talker_max_new_tokens": PAGE_SPEECH_FRAMES,
            "talker_stopping_criteria": StopAfter(workload.speech_frames + 1).as_list(),
        }
    return kwargs


def fixed_lengths(workload: Workload) -> dict[str, int]:
    """Suppress the end tokens until the target: N text tokens and F speech frames, where each path
    then stops (see `stops`).

    The talker makes one frame fewer than its new tokens (its last code never gets its 15 residual
    codes), so F frames need F + 1 talker tokens.
    """
    lengths = {"thinker_min_new_tokens": workload.text_tokens}
    if workload.speaks:
        lengths["talker_min_new_tokens"] = workload.speech_frames + 1
    return lengths


def stops(workload: Workload) -> dict[str, int]:
    """Where every path stops, whatever max_new_tokens and the speech frame limit allow."""
    return {"text_tokens": workload.text_tokens, "speech_frames": workload.speech_frames}


def run_baseline(engine: LocalEngine, workload: Workload, media_path: Path | None, voice: str) -> Run:

    model, processor = engine.model, engine.processor
    started = time.perf_counter()
    batch = baseline_inputs(processor, workload, media_path, engine.options.video_fps)
    batch = batch.to(model.device).to(model.dtype)
    prepared = time.perf_counter()
    clock = _TokenClock(processor.tokenizer)
    kwargs = baseline_generate_kwargs(workload, voice)
    output = _in_worker_thread(lambda: model.generate(**batch, thinker_streamer=clock, **kwargs))
    total = time.perf_counter() - started
    wav = output[1] if isinstance(output, tuple) else None
    samples = 0 if wav is None else int(wav.shape[-1])
    return Run(
        first_token_s=None if clock.first is None else clock.first - started,
        tokens_per_s=_rate(clock.count, clock.first, clock.last),
        first_audio_s=total if samples else None,  # the stock generate() returns audio only at the end
        underrun_s=0.0 if samples else None,  # ...all of it at once: its player never waits after that
        speech_s=samples / SAMPLE_RATE if samples else None,
        total_s=total,
        text_tokens=clock.count,
        speech_frames=math.ceil(samples / engine.facts.samples_per_frame),
        input_tokens=input_sizes(processor, batch["input_ids"][0]),
        prep_s=prepared - started,
        caches={"kind": "DynamicCache (grows with the reply)"},
    )


def _in_worker_thread(generate: Callable[[], Any]) -> Any:
    """Run generate() in its own thread, as a Gradio handler (and the engine) does.

    On a busy CPU, the main thread's intra-op thread pool ran the same generate() several times
    slower than a fresh thread's; a thread of its own keeps the two paths on equal terms.
    """
    import torch

    box: dict[str, Any] = {}

    def work() -> None:
        try:
            with torch.inference_mode():
                box["output"] = generate()
            _sync()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=work, name="bench-baseline", daemon=True)
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["output"]


def input_sizes(processor: Any, ids: Any) -> dict[str, int]:
    sizes = {
        name: int((ids == getattr(processor, f"{name}_token_id")).sum())
        for name in ("audio", "image", "video")
    }
    sizes = {k: v for k, v in sizes.items() if v}
    total = int(ids.numel())
    return {"text": total - sum(sizes.values()), **sizes, "total": total}


def _rate(count: int, first: float | None, last: float | None) -> float | None:
    if first is None or last is None or count < 2 or last <= first:
        return None
    return (count - 1) / (last - first)


# --------------------------------------------------------------------------------------- engine


def engine_request(workload: Workload, media_path: Path | None, voice: str) -> Request:
    media = () if media_path is None else (Media(workload.media, str(media_path)),)  # type: ignore[arg-type]
    return Request(
        turns=(Turn("user", workload.prompt, media),),
        voice=voice if workload.speaks else None,
        return_audio=workload.speaks,
        use_audio_in_video=workload.audio_in_video,
        sampling=PAGE_SAMPLING,
    )


def engine_for(engine: LocalEngine, workload: Workload) -> LocalEngine:
    """The engine with the page's limits, stopping at the workload's lengths."""
    return engine.with_options(
        generate_overrides=tuple(fixed_lengths(workload).items()),
        speech_frames_per_token=None,
        max_speech_frames=PAGE_SPEECH_FRAMES,
        stop_after_tokens=workload.text_tokens,
        stop_after_frames=workload.speech_frames or None,
    )


def run_engine(engine: LocalEngine, workload: Workload, media_path: Path | None, voice: str) -> Run:
    if workload.concurrent > 1:
        return run_together(engine, workload, media_path, voice)
    return _one_request(engine_for(engine, workload), engine_request(workload, media_path, voice))


def _one_request(fixed: LocalEngine, request: Request, speaking: threading.Event | None = None) -> Run:
    """One request streamed to its end; `speaking` is set at its first audio chunk."""
    started = time.perf_counter()
    result: Result | None = None
    chunks: list[tuple[float, int]] = []
    for event in fixed.stream(request):
        if isinstance(event, AudioChunk):
            chunks.append((time.perf_counter(), int(event.samples.size)))
            if speaking is not None:
                speaking.set()
        elif isinstance(event, Result):
            result = event
    wall = time.perf_counter() - started
    if result is None:
        raise RuntimeError("the engine's stream ended without a Result")
    t = result.timings
    offset = wall - t.total_s  # the engine's checks before its own clock starts
    samples = 0 if result.audio is None else int(result.audio.size)
    return Run(
        first_token_s=None if t.first_token_s is None else t.first_token_s + offset,
        tokens_per_s=t.tokens_per_s,
        first_audio_s=None if t.first_audio_s is None else t.first_audio_s + offset,
        underrun_s=underrun(chunks),
        speech_s=samples / SAMPLE_RATE if samples else None,
        total_s=wall,
        text_tokens=t.text_tokens,
        speech_frames=math.ceil(samples / fixed.facts.samples_per_frame),
        input_tokens=dict(t.input_tokens),
        caches=_caches(fixed),
    )


def run_together(engine: LocalEngine, workload: Workload, media_path: Path | None, voice: str) -> Run:
    """`workload.concurrent` testers asking at once (with `join`, the last one once the others speak);
    each request timed from its own sending. Returns the worst request's figures, and every request."""
    fixed = engine_for(engine, workload)
    request = engine_request(workload, media_path, voice)
    count = workload.concurrent
    runs: list[Run | None] = [None] * count
    failures: list[BaseException] = []
    speaking = [threading.Event() for _ in range(count)]

    def one(index: int) -> None:
        try:
            runs[index] = _one_request(fixed, request, speaking[index])
        except BaseException as exc:  # reported below, once every thread is done
            failures.append(exc)
            speaking[index].set()

    threads = [threading.Thread(target=one, args=(i,), name=f"bench-request-{i}") for i in range(count)]
    first_wave = count - 1 if workload.join else count
    for thread in threads[:first_wave]:
        thread.start()
    if workload.join:
        for event in speaking[:first_wave]:
            event.wait(600)
        threads[-1].start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return _worst([r for r in runs if r is not None])


def _worst(runs: list[Run]) -> Run:
    def most(name: str) -> float | None:
        values = [getattr(r, name) for r in runs if getattr(r, name) is not None]
        return max(values) if values else None

    speeds = [r.tokens_per_s for r in runs if r.tokens_per_s is not None]
    return Run(
        first_token_s=most("first_token_s"),
        tokens_per_s=min(speeds) if speeds else None,
        first_audio_s=most("first_audio_s"),
        underrun_s=most("underrun_s"),
        speech_s=min(r.speech_s or 0.0 for r in runs) or None,
        total_s=most("total_s"),
        text_tokens=min(r.text_tokens for r in runs),
        speech_frames=min(r.speech_frames for r in runs),
        input_tokens=runs[0].input_tokens,
        caches=runs[-1].caches,
        requests=[r.as_dict() for r in runs],
    )


def _caches(engine: LocalEngine) -> dict[str, Any]:
    fast = engine.fast_path
    if fast is None:
        return {"kind": "DynamicCache (grows with the reply)"}
    return {"kind": "static, sized per request", **fast.cache_sizes()}


# ------------------------------------------------------------------------------------- measuring


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _fresh_memory() -> None:
    """Empty the allocator's cache and reset its peaks, so each run's peaks are its own."""
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def _peaks(run: Run) -> None:
    import torch

    if torch.cuda.is_available():
        run.peak_allocated_gib = torch.cuda.max_memory_allocated() / 2**30
        run.peak_reserved_gib = torch.cuda.max_memory_reserved() / 2**30


def measure(
    path: str, engine: LocalEngine, workload: Workload, media_path: Path | None, voice: str, seed: int
) -> Run:
    """One run of one path; an error (out of memory included) is recorded, not raised."""
    import torch

    _fresh_memory()
    torch.manual_seed(seed)
    try:
        if path == "baseline":
            run = run_baseline(engine, workload, media_path, voice)
        else:
            run = run_engine(engine.with_options(engine=path), workload, media_path, voice)
    except Exception as exc:  # one failed run (out of memory, above all) must not end the whole benchmark
        log.exception("%s run of %s failed", path, workload.name)
        oom = isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()
        run = Run(error=f"{'out of GPU memory' if oom else type(exc).__name__}: {str(exc)[:300]}")
    _peaks(run)
    run.exact = run.error is None and run.text_tokens == workload.text_tokens
    run.exact = run.exact and run.speech_frames == workload.speech_frames
    return run


def _warmup_shape(workload: Workload) -> Workload:
    """Same inputs, short outputs: the prefill and every kernel and chunk size get exercised once."""
    return replace(
        workload, text_tokens=min(workload.text_tokens, 8), speech_seconds=min(workload.speech_seconds, 2.4)
    )


def run_workload(
    engine: LocalEngine,
    workload: Workload,
    media_path: Path | None,
    runs: int,
    warmup: bool,
    reference_runs: int | None = None,
) -> dict[str, Any]:
    """Warm-up (every path), then rounds of baseline, plain and fast, interleaved against drift.

    The fast path runs `runs` times; the two generate() paths `reference_runs` times (default: as many),
    since they take most of the GPU time.
    """
    reference_runs = runs if reference_runs is None else reference_runs
    if not workload.reference:
        reference_runs = 0
    voice = engine.info.capabilities.default_voice or ""
    results: dict[str, list[Run]] = {path: [] for path in PATHS}
    warmups: dict[str, Run] = {}
    if warmup:
        for path in PATHS if reference_runs else ("fast",):
            warmups[path] = measure(path, engine, _warmup_shape(workload), media_path, voice, seed=0)
            log.info("%s %s warm-up: %s", workload.name, path, _line(warmups[path]))
    for index in range(max(runs, reference_runs)):
        for path in PATHS:
            if index >= (runs if path == "fast" else reference_runs):
                continue
            if warmup and warmups[path].error and "memory" in warmups[path].error:
                results[path].append(replace(warmups[path], exact=False))  # it cannot fit: don't retry
                continue
            run = measure(path, engine, workload, media_path, voice, seed=1 + index)
            log.info("%s %s run %d: %s", workload.name, path, index + 1, _line(run))
            results[path].append(run)
    return summarize(workload, results, warmups)


def _line(run: Run) -> str:
    if run.error:
        return f"ERROR {run.error}"
    figures = {k: v for k, v in run.as_dict().items() if k in FIGURES and v is not None}
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())


def median_of(runs: list[Run]) -> dict[str, Any]:
    good = [r.as_dict() for r in runs if r.error is None]
    if not good:
        return {"error": runs[0].error if runs else "no runs"}
    summary: dict[str, Any] = {}
    for name in FIGURES:
        values = [g[name] for g in good if g[name] is not None]
        summary[name] = statistics.median(values) if values else None
    summary["speech_frames"] = statistics.median(g["speech_frames"] for g in good)
    summary["input_tokens"] = good[0]["input_tokens"]
    summary["caches"] = good[-1]["caches"]
    summary["runs_ok"] = len(good)
    summary["error"] = None if len(good) == len(runs) else next(r.error for r in runs if r.error)
    return summary


def ratios(baseline: dict[str, Any], engine: dict[str, Any]) -> dict[str, float | None]:
    """engine / baseline for every figure both paths have."""
    out: dict[str, float | None] = {}
    for name in FIGURES:
        b, e = baseline.get(name), engine.get(name)
        out[name] = e / b if isinstance(b, (int, float)) and isinstance(e, (int, float)) and b else None
    return out


def summarize(workload: Workload, results: dict[str, list[Run]], warmups: dict[str, Run]) -> dict[str, Any]:
    medians = {path: median_of(runs) for path, runs in results.items()}
    return {
        "spec": workload.as_dict(),
        "fixed_lengths": fixed_lengths(workload),
        "stops": stops(workload),
        "limits": {"max_new_tokens": PAGE_SAMPLING.max_new_tokens, "max_speech_frames": PAGE_SPEECH_FRAMES},
        "all_exact": all(r.exact for runs in results.values() for r in runs),
        **{
            path: {
                "median": medians[path],
                "runs": [r.as_dict() for r in runs],
                "warmup": _warm(warmups, path),
                **_requests(runs),
            }
            for path, runs in results.items()
        },
        "ratio": ratios(medians["baseline"], medians["fast"]),  # fast ÷ baseline
        "ratio_plain": ratios(medians["plain"], medians["fast"]),  # fast ÷ the plain engine
    }


REQUEST_FIGURES = ("first_token_s", "tokens_per_s", "first_audio_s", "real_time_factor", "underrun_s")


def _requests(runs: list[Run]) -> dict[str, Any]:
    """Concurrent workloads: every request of the last good run, and the median request's figures."""
    last = next((r for r in reversed(runs) if r.error is None and r.requests), None)
    if last is None:
        return {}
    requests = [{k: r[k] for k in REQUEST_FIGURES} for r in last.requests]
    median = {}
    for name in REQUEST_FIGURES:
        values = [r[name] for r in requests if r[name] is not None]
        median[name] = statistics.median(values) if values else None
    return {"requests": requests, "median_request": median}


def _warm(warmups: dict[str, Run], path: str) -> dict[str, Any] | None:
    return warmups[path].as_dict() if path in warmups else None
