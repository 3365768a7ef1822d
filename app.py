"""Qwen3-Omni web demo: settings -> model singleton -> page -> launch."""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING

from omni_demo.config import Settings, parse_settings
from omni_demo.errors import ModelLoadError

if TYPE_CHECKING:
    from omni_demo.engine.local import LocalEngine
    from omni_demo.engine.remote.engine import RemoteEngine
    from omni_demo.feedback import FeedbackStore

log = logging.getLogger("omni_demo")
GRADIO_THREADS = 40  # Gradio's own default for the threads that run sync handlers


def main(argv: list[str] | None = None) -> int:
    # Memory: glibc's malloc arenas are capped before any thread starts (see omni_demo/housekeeping/heap.py).
    from omni_demo.housekeeping.heap import limit_arenas  # noqa: PLC0415

    limit_arenas()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = parse_settings(argv)
    started = time.perf_counter()
    # Imported here, not at module level: `python app.py --help` must not load torch.
    from starlette.middleware import Middleware  # noqa: PLC0415

    from omni_demo.realtime.endpoint import RealtimeRoute  # noqa: PLC0415
    from omni_demo.realtime.session import LiveLimits  # noqa: PLC0415
    from omni_demo.ui.app import build_demo, start_cache_sweeper  # noqa: PLC0415
    from omni_demo.ui.i18n import translations  # noqa: PLC0415
    from omni_demo.ui.url_guard import UrlGuard  # noqa: PLC0415

    try:
        engine = _remote(settings) if settings.backend != "local" else _local(settings)
    except ModelLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    info = engine.info
    if settings.backend != "local":
        # The key is never printed: only the service, the model and how many answers run at once.
        print(
            f"Serving {info.name} ({info.capabilities.kind.value}) from {info.device}; "
            f"{engine.concurrency} answers at once",
            flush=True,
        )
    else:
        freed = info.speech_freed_gib
        speech = "" if freed is None else f"; speech off, {freed:.2f} GiB freed"
        print(
            f"Loaded {info.name} ({info.capabilities.kind.value}, {info.dtype}) on {info.device} "
            f"in {info.load_seconds:.1f} s{speech}; {engine.options.engine} engine",
            flush=True,
        )
        # The streamed speech path is checked against the stock generate() before anything else runs
        # on it; a mismatch or an exception falls back to the plain engine (one log line).
        engine.start_up(warm=settings.warmup)
        from omni_demo.housekeeping.heap import HeapTrimmer  # noqa: PLC0415

        # Freed CPU buffers of each request go back to the system instead of piling up in the heap.
        HeapTrimmer(busy=lambda: engine.busy).start()
    store = _feedback(settings)
    from omni_demo.housekeeping import tempfiles  # noqa: PLC0415

    tempfiles.configure(max_age_s=settings.temp_max_age_s)
    limits = {"max_file_size": settings.max_file_size, "allow_url_fetch": settings.allow_url_fetch}
    live_limits = LiveLimits(
        max_turn_s=settings.max_clip_seconds, max_session_s=settings.live_max_minutes * 60
    )
    demo = build_demo(engine, feedback=store, temp_max_age_s=settings.temp_max_age_s, limits=limits)
    demo.launch(
        # Gradio would download file inputs given as URLs; our policy decides first.
        app_kwargs={
            "middleware": [
                Middleware(UrlGuard, allow=settings.allow_url_fetch),
                # Live voice (/v1/realtime) on the same server and port as the page.
                Middleware(RealtimeRoute, engine=engine, limits=live_limits),
            ]
        },
        server_name=settings.server_name,
        server_port=settings.server_port,
        share=settings.share,
        auth=settings.auth,
        max_file_size=settings.max_file_size,
        state_session_capacity=settings.max_sessions,  # bounds the memory that sessions hold
        i18n=translations(),  # English and Simplified Chinese, after the page made its keys
        max_threads=GRADIO_THREADS + _in_line(engine),
        prevent_thread_lock=True,
    )
    start_cache_sweeper(demo, settings.temp_max_age_s)
    print(f"Ready in {time.perf_counter() - started:.1f} s at {demo.local_url}", flush=True)
    demo.block_thread()
    return 0


def _in_line(engine: LocalEngine | RemoteEngine) -> int:
    """Requests the local engine holds at once, running or waiting in its line. Each spends most of
    its wait in one of Gradio's worker threads (it waits a tick at a time, so that Stop can end it),
    so the page gets that many threads beside Gradio's own."""
    admission = getattr(engine, "admission", None)
    return 0 if admission is None else admission.slots + admission.max_waiting


def _feedback(settings: Settings) -> FeedbackStore | None:
    """The feedback writer, with the Hugging Face dataset as a second home when asked (None: off)."""
    from omni_demo.feedback import FeedbackStore  # noqa: PLC0415
    from omni_demo.feedback_hub import STAGING, HubOptions, HubSink  # noqa: PLC0415

    # A dataset needs a local folder to stage in; on a Space without persistent storage any will do.
    folder = settings.feedback_dir or (settings.cache_dir / "feedback" if settings.feedback_repo else None)
    if folder is None:
        return None
    hub = None
    if settings.feedback_repo is not None:
        options = HubOptions(settings.feedback_repo, settings.hf_token, settings.feedback_every_minutes)
        hub = HubSink(folder / STAGING, options)
        hub.start()
    print(f"Feedback goes to {folder / 'feedback.jsonl'}", flush=True)
    if hub is not None:
        print(
            f"Feedback is committed to the dataset {hub.options.repo_id} every {hub.options.every_minutes:g} "
            f"minutes as data/{hub.run}.jsonl",
            flush=True,
        )
    return FeedbackStore(folder, keep_media=settings.feedback_keep_media, hub=hub)


def _local(settings: Settings) -> LocalEngine:
    from omni_demo.engine.loading import shared_engine  # noqa: PLC0415 (torch and transformers)

    return shared_engine(settings)


def _remote(settings: Settings) -> RemoteEngine:
    # Imported here: a remote back-end needs neither torch nor gradio to start.
    from omni_demo.engine.remote.engine import load_remote  # noqa: PLC0415

    return load_remote(settings)


if __name__ == "__main__":
    sys.exit(main())
