"""Settings from command-line flags and environment variables (flags win)."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path

PREVIEW = "preview"
DEFAULT_GPU_MODEL = "Qwen/Qwen3-Omni-30B-A3B-Instruct"
KINDS = ("instruct", "thinking", "captioner")
BACKENDS = ("local", "vllm-omni", "vllm", "dashscope")


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qwen3-omni-demo"


@dataclass(frozen=True)
class Settings:
    """Everything `app.py` needs to start; documented in the README's flag table.

    Each field's default is the one place that default is written: the flags (`build_parser`), the
    local and remote engines and the page read it from here (`DEFAULTS`).
    """

    model: str | None = None  # hub id, local folder or "preview"; None: Instruct on CUDA, else preview
    server_name: str = "127.0.0.1"  # the address served; 0.0.0.0 serves other machines
    server_port: int = 7860
    share: bool = False  # a public gradio.live link
    auth: tuple[str, str] | None = None  # (user, password) for the page; None: open
    max_file_size: str = "200mb"  # per upload, enforced by Gradio before our code sees the file
    max_clip_seconds: float = 180.0  # longest audio or video clip accepted
    max_media_turns: int = 4  # user turns with media kept in the model's context
    allow_url_fetch: bool = False  # let API users pass http(s) URLs as media (never to private addresses)
    cache_dir: Path = field(default_factory=_default_cache)  # where the preview model is built once
    warmup: bool = True  # run one tiny generation at start-up so the first user does not pay for it
    engine: str = "fast"  # "fast": decode loops replayed as CUDA graphs; "plain": transformers' generate()
    kind: str | None = None  # "instruct" | "thinking" | "captioner": overrides the detected model kind
    no_speech: bool = False  # free the talker and code2wav at start-up (model.disable_talker())
    max_input_tokens: int | None = None  # prompt tokens per request; None: what fits the device
    feedback_dir: Path | None = None  # testers' feedback is appended here as JSON Lines; None: off
    feedback_keep_media: bool = False  # also copy the media each feedback refers to
    feedback_repo: str | None = None  # OWNER/NAME: also commit feedback to this Hugging Face dataset
    # Time between those commits: CommitScheduler's own default (a few commits an hour keep the repo small).
    feedback_every_minutes: float = 5.0
    hf_token: str | None = field(default=None, repr=False)  # HF_TOKEN, for --feedback-repo; never logged
    backend: str = "local"  # "local": the model in this process; else a remote service (engine/remote)
    api_base: str | None = None  # the remote service's OpenAI-compatible base URL; None: its default
    api_key: str | None = field(default=None, repr=False)  # never logged or shown
    remote_model: str | None = None  # the served model name; None: the only one served, or the default
    concurrency: int = 4  # remote back-ends: generations the page runs at once (local: `max_batch`)
    # The local fast engine: requests decoded together (beyond it they wait in order); None: what the
    # GPU's memory holds, at most 8 (4 on a CPU). The plain engine makes one answer at a time.
    max_batch: int | None = None
    read_timeout_s: float = 60.0  # remote back-ends: a stream silent this long counts as stalled
    # Uploads, replies and Gradio's cached files older than this go; a reply stays playable (and in the
    # take-away zip) this long.
    temp_max_age_s: float = 6 * 3600.0
    # Browser sessions whose conversation the server keeps (each also holds Gradio's copy of the page,
    # 0.4–1 MiB); past it the least recently used session is dropped (Gradio's default: 10,000).
    max_sessions: int = 1000
    live_max_minutes: float = 15.0  # a live voice session (/v1/realtime, the Live tab) ends after this


# The defaults, for code that runs without parsed flags (engines built directly, tests, the benchmark).
# Its `cache_dir` is read at import; `build_parser` reads the environment again when it runs.
DEFAULTS = Settings()


def _parse_auth(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise SystemExit("--auth must look like user:password")
    return user, password


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Qwen3-Omni web demo")
    p.add_argument(
        "--model",
        "-c",
        "--checkpoint-path",
        dest="model",
        default=os.environ.get("OMNI_MODEL"),
        help="hub id or local folder; 'preview' for the tiny random-weight model "
        f"(default: {DEFAULT_GPU_MODEL} on a CUDA GPU, else preview)",
    )
    p.add_argument("--server-name", default=os.environ.get("GRADIO_SERVER_NAME", DEFAULTS.server_name))
    p.add_argument(
        "--server-port", type=int, default=os.environ.get("GRADIO_SERVER_PORT", DEFAULTS.server_port)
    )
    p.add_argument("--share", action="store_true", help="create a public gradio.live link")
    p.add_argument("--auth", default=os.environ.get("OMNI_AUTH"), help="user:password for the page")
    p.add_argument("--max-file-size", default=os.environ.get("OMNI_MAX_FILE_SIZE", DEFAULTS.max_file_size))
    p.add_argument(
        "--max-clip-seconds",
        type=float,
        default=os.environ.get("OMNI_MAX_CLIP_SECONDS", DEFAULTS.max_clip_seconds),
    )
    p.add_argument(
        "--max-media-turns",
        type=int,
        default=os.environ.get("OMNI_MAX_MEDIA_TURNS", DEFAULTS.max_media_turns),
    )
    p.add_argument(
        "--allow-url-fetch",
        action="store_true",
        default=os.environ.get("OMNI_ALLOW_URL_FETCH") == "1",
        help="let API callers pass public http(s) media URLs (loopback/private addresses stay refused)",
    )
    p.add_argument("--cache-dir", type=Path, default=Path(os.environ.get("OMNI_CACHE_DIR", _default_cache())))
    p.add_argument("--no-warmup", dest="warmup", action="store_false")
    p.add_argument(
        "--engine",
        choices=("fast", "plain"),
        default=os.environ.get("OMNI_ENGINE", DEFAULTS.engine),
        help="fast: decode loops replayed as CUDA graphs; plain: transformers' generate() "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--kind",
        choices=KINDS,
        default=os.environ.get("OMNI_KIND") or None,
        help="override the model kind read from the checkpoint's files",
    )
    p.add_argument(
        "--no-speech",
        action="store_true",
        default=os.environ.get("OMNI_NO_SPEECH") == "1",
        help="never speak: free the talker and code2wav at start-up (about 10 GB on the real model)",
    )
    p.add_argument(
        "--max-input-tokens",
        type=int,
        default=os.environ.get("OMNI_MAX_INPUT_TOKENS") or None,
        help="refuse requests whose prompt is longer (default: what fits the GPU)",
    )
    p.add_argument(
        "--feedback-dir",
        type=Path,
        default=os.environ.get("OMNI_FEEDBACK_DIR") or None,
        help="append testers' thumbs up/down and comments to FEEDBACK_DIR/feedback.jsonl (off unless set)",
    )
    p.add_argument(
        "--feedback-keep-media",
        action="store_true",
        default=os.environ.get("OMNI_FEEDBACK_KEEP_MEDIA") == "1",
        help="also copy the media each feedback refers to into FEEDBACK_DIR/media",
    )
    p.add_argument(
        "--feedback-repo",
        default=os.environ.get("OMNI_FEEDBACK_REPO") or None,
        metavar="OWNER/NAME",
        help="also commit feedback (and kept media) to this Hugging Face dataset, created private if "
        "missing; the token comes from HF_TOKEN (feedback folder: FEEDBACK_DIR, else CACHE_DIR/feedback)",
    )
    p.add_argument(
        "--feedback-every",
        dest="feedback_every_minutes",
        metavar="MINUTES",
        type=float,
        default=os.environ.get("OMNI_FEEDBACK_EVERY", DEFAULTS.feedback_every_minutes),
        help="minutes between commits to --feedback-repo (default %(default)s)",
    )
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default=os.environ.get("OMNI_BACKEND", DEFAULTS.backend),
        help="local: load the model here; vllm-omni / vllm / dashscope: front a serving engine",
    )
    p.add_argument("--api-base", default=os.environ.get("OMNI_API_BASE") or None, help="the service's URL")
    p.add_argument(
        "--api-key",
        default=None,
        help="the service's key (better: OMNI_API_KEY or DASHSCOPE_API_KEY, which `ps` does not show)",
    )
    p.add_argument(
        "--remote-model",
        default=os.environ.get("OMNI_REMOTE_MODEL") or None,
        help="the model name the service serves (default: the one a vLLM server serves; qwen3-omni-flash)",
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=os.environ.get("OMNI_CONCURRENCY", DEFAULTS.concurrency),
        help="remote back-ends: answers generated at once (the local model: --max-batch)",
    )
    p.add_argument(
        "--max-batch",
        type=int,
        default=os.environ.get("OMNI_MAX_BATCH") or None,
        help="local fast engine: requests decoded together; more wait in order (default: what the GPU holds, "
        "at most 8)",
    )
    p.add_argument(
        "--read-timeout",
        dest="read_timeout_s",
        type=float,
        default=os.environ.get("OMNI_READ_TIMEOUT", DEFAULTS.read_timeout_s),
        help="remote back-ends: seconds a stream may stay silent before it counts as stalled",
    )
    p.add_argument(
        "--temp-max-age",
        dest="temp_max_age_s",
        type=float,
        default=os.environ.get("OMNI_TEMP_MAX_AGE", DEFAULTS.temp_max_age_s),
        help="seconds that uploads, reply WAVs and Gradio's cached files are kept (default %(default)s)",
    )
    p.add_argument(
        "--max-sessions",
        type=int,
        default=os.environ.get("OMNI_MAX_SESSIONS", DEFAULTS.max_sessions),
        help="browser sessions whose conversations are kept in memory; past it the one unused longest "
        "is dropped (each costs 0.4–1 MiB)",
    )
    p.add_argument(
        "--live-max-minutes",
        type=float,
        default=os.environ.get("OMNI_LIVE_MAX_MINUTES", DEFAULTS.live_max_minutes),
        help="longest live voice session (the Live tab and /v1/realtime)",
    )
    return p


def parse_settings(argv: list[str] | None = None) -> Settings:
    a = build_parser().parse_args(argv)
    return Settings(
        model=a.model,
        server_name=a.server_name,
        server_port=a.server_port,
        share=a.share,
        auth=_parse_auth(a.auth),
        max_file_size=a.max_file_size,
        max_clip_seconds=a.max_clip_seconds,
        max_media_turns=a.max_media_turns,
        allow_url_fetch=a.allow_url_fetch,
        cache_dir=a.cache_dir,
        warmup=a.warmup,
        engine=a.engine,
        kind=a.kind,
        no_speech=a.no_speech,
        max_input_tokens=_positive(a.max_input_tokens, "--max-input-tokens"),
        feedback_dir=a.feedback_dir,
        feedback_keep_media=a.feedback_keep_media,
        feedback_repo=_repo_id(a.feedback_repo),
        feedback_every_minutes=_above_zero(a.feedback_every_minutes, "--feedback-every"),
        hf_token=os.environ.get("HF_TOKEN") or None,
        backend=a.backend,
        api_base=a.api_base,
        api_key=a.api_key or None,
        remote_model=a.remote_model,
        concurrency=_at_least_one(a.concurrency, "--concurrency"),
        max_batch=None if a.max_batch is None else _at_least_one(int(a.max_batch), "--max-batch"),
        read_timeout_s=a.read_timeout_s,
        temp_max_age_s=_above_zero(a.temp_max_age_s, "--temp-max-age"),
        max_sessions=_at_least_one(a.max_sessions, "--max-sessions"),
        live_max_minutes=_above_zero(a.live_max_minutes, "--live-max-minutes"),
    )


def _repo_id(value: str | None) -> str | None:
    if value is None:
        return None
    owner, sep, name = value.partition("/")
    if not sep or not owner or not name or "/" in name:
        raise SystemExit("--feedback-repo must look like OWNER/NAME")
    return value


def _at_least_one(value: int, flag: str) -> int:
    if value < 1:
        raise SystemExit(f"{flag} must be 1 or more")
    return value


def _positive(value: int | None, flag: str) -> int | None:
    if value is not None and value <= 0:
        raise SystemExit(f"{flag} must be a positive number of tokens")
    return value


def _above_zero(value: float, flag: str) -> float:
    if value <= 0:
        raise SystemExit(f"{flag} must be a positive number")
    return value
