"""omni_demo.config.parse_settings: flags and environment variables (flags win), and `app.py --help`."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

from omni_demo.config import DEFAULTS, Settings, parse_settings

ROOT = Path(__file__).resolve().parents[2]
ENV_VARS = (
    "GRADIO_SERVER_NAME",
    "GRADIO_SERVER_PORT",
    "OMNI_MODEL",
    "OMNI_AUTH",
    "OMNI_MAX_FILE_SIZE",
    "OMNI_MAX_CLIP_SECONDS",
    "OMNI_MAX_MEDIA_TURNS",
    "OMNI_ALLOW_URL_FETCH",
    "OMNI_CACHE_DIR",
    "XDG_CACHE_HOME",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = parse_settings([])
    assert settings.model is None
    assert settings.server_name == "127.0.0.1"  # not exposed to the network unless asked
    assert settings.server_port == 7860
    assert settings.share is False
    assert settings.auth is None
    assert settings.max_file_size == "200mb"
    assert settings.max_clip_seconds == 180.0
    assert settings.max_media_turns == 4
    assert settings.allow_url_fetch is False
    assert settings.warmup is True
    assert settings.cache_dir.name == "qwen3-omni-demo"
    assert settings.max_sessions == 1000  # ~0.4–1 GiB of sessions at most, not Gradio's 10,000


def test_no_sessions_at_all_is_refused() -> None:
    with pytest.raises(SystemExit, match="--max-sessions must be 1 or more"):
        parse_settings(["--max-sessions", "0"])


@pytest.mark.parametrize(
    "argv",
    [
        ["--model", "Qwen/Qwen3-Omni-30B-A3B-Thinking"],
        ["-c", "Qwen/Qwen3-Omni-30B-A3B-Thinking"],
        ["--checkpoint-path", "Qwen/Qwen3-Omni-30B-A3B-Thinking"],  # the official demos' flag
    ],
    ids=["--model", "-c", "--checkpoint-path"],
)
def test_model_flag_and_aliases(argv: list[str]) -> None:
    assert parse_settings(argv).model == "Qwen/Qwen3-Omni-30B-A3B-Thinking"


def test_every_flag(tmp_path: Path) -> None:
    settings = parse_settings(
        [
            "--model",
            "preview-thinking",
            "--server-name",
            "0.0.0.0",
            "--server-port",
            "8080",
            "--share",
            "--auth",
            "alice:s3cret",
            "--max-file-size",
            "50mb",
            "--max-clip-seconds",
            "60.5",
            "--max-media-turns",
            "2",
            "--allow-url-fetch",
            "--cache-dir",
            str(tmp_path),
            "--no-warmup",
            "--engine",
            "plain",
            "--max-sessions",
            "50",
        ]
    )
    assert settings == Settings(
        model="preview-thinking",
        server_name="0.0.0.0",
        server_port=8080,
        share=True,
        auth=("alice", "s3cret"),
        max_file_size="50mb",
        max_clip_seconds=60.5,
        max_media_turns=2,
        allow_url_fetch=True,
        cache_dir=tmp_path,
        warmup=False,
        engine="plain",
        max_sessions=50,
    )


def test_environment_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "9000")
    monkeypatch.setenv("OMNI_MODEL", "/models/omni")
    monkeypatch.setenv("OMNI_AUTH", "bob:pw")
    monkeypatch.setenv("OMNI_MAX_FILE_SIZE", "1gb")
    monkeypatch.setenv("OMNI_MAX_CLIP_SECONDS", "30")
    monkeypatch.setenv("OMNI_MAX_MEDIA_TURNS", "6")
    monkeypatch.setenv("OMNI_ALLOW_URL_FETCH", "1")
    monkeypatch.setenv("OMNI_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("OMNI_MAX_SESSIONS", "200")

    settings = parse_settings([])
    assert settings.server_name == "0.0.0.0"
    assert settings.server_port == 9000
    assert isinstance(settings.server_port, int)
    assert settings.model == "/models/omni"
    assert settings.auth == ("bob", "pw")
    assert settings.max_file_size == "1gb"
    assert settings.max_clip_seconds == 30.0
    assert settings.max_media_turns == 6
    assert settings.allow_url_fetch is True
    assert settings.cache_dir == tmp_path
    assert settings.max_sessions == 200


def test_flags_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "9000")
    monkeypatch.setenv("OMNI_MODEL", "/models/omni")
    monkeypatch.setenv("OMNI_AUTH", "bob:pw")
    settings = parse_settings(
        ["--server-name", "127.0.0.1", "--server-port", "7000", "-c", "preview", "--auth", "carol:x"]
    )
    assert settings.server_name == "127.0.0.1"
    assert settings.server_port == 7000
    assert settings.model == "preview"
    assert settings.auth == ("carol", "x")


def test_xdg_cache_home_moves_the_default_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert parse_settings([]).cache_dir == tmp_path / "qwen3-omni-demo"


@pytest.mark.parametrize("value", ["0", "", "yes"])
def test_url_fetch_env_needs_exactly_one(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("OMNI_ALLOW_URL_FETCH", value)
    assert parse_settings([]).allow_url_fetch is False


def test_auth_password_may_contain_colons() -> None:
    assert parse_settings(["--auth", "admin:pa:ss:word"]).auth == ("admin", "pa:ss:word")


@pytest.mark.parametrize("value", ["alice", "alice:", ":secret", ":"])
def test_bad_auth_stops_with_a_message(value: str) -> None:
    with pytest.raises(SystemExit) as info:
        parse_settings(["--auth", value])
    assert "user:password" in str(info.value.code)


def test_bad_auth_from_the_environment_stops_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNI_AUTH", "nopassword")
    with pytest.raises(SystemExit) as info:
        parse_settings([])
    assert "user:password" in str(info.value.code)


@pytest.mark.parametrize(
    "argv",
    [["--server-port", "http"], ["--max-clip-seconds", "long"], ["--max-media-turns", "1.5"], ["--bogus"]],
)
def test_bad_flags_stop_with_usage(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        parse_settings(argv)
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_app_help_exits_cleanly_without_loading_a_model() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    result = subprocess.run(
        [sys.executable, "app.py", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,  # a hang guard, not a speed assertion
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for flag in ("--model", "--checkpoint-path", "--server-name", "--server-port", "--auth", "--share"):
        assert flag in result.stdout
    assert "Traceback" not in result.stderr


def test_engine_defaults_to_fast_and_refuses_unknown_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMNI_ENGINE", raising=False)
    assert parse_settings([]).engine == "fast"
    monkeypatch.setenv("OMNI_ENGINE", "plain")
    assert parse_settings([]).engine == "plain"
    with pytest.raises(SystemExit):
        parse_settings(["--engine", "turbo"])


def test_max_batch_from_the_flag_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_settings([]).max_batch is None  # the loader sizes it to the GPU's memory
    assert parse_settings(["--max-batch", "2"]).max_batch == 2
    monkeypatch.setenv("OMNI_MAX_BATCH", "6")
    assert parse_settings([]).max_batch == 6
    with pytest.raises(SystemExit, match="--max-batch"):
        parse_settings(["--max-batch", "0"])


def test_live_sessions_are_bounded_in_minutes() -> None:
    assert parse_settings([]).live_max_minutes == 15
    assert parse_settings(["--live-max-minutes", "2.5"]).live_max_minutes == 2.5
    with pytest.raises(SystemExit, match="--live-max-minutes must be a positive number"):
        parse_settings(["--live-max-minutes", "0"])


def test_the_flags_defaults_are_the_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each default is written once, in `Settings`: without flags or environment, the parsed settings
    are the dataclass's own defaults."""
    for name in list(os.environ):
        if name.startswith(("OMNI_", "GRADIO_")) or name in ("HF_TOKEN", "DASHSCOPE_API_KEY"):
            monkeypatch.delenv(name)
    assert parse_settings([]) == Settings()


def test_the_engines_and_the_live_session_take_the_settings_defaults() -> None:
    from omni_demo.engine.local import EngineOptions
    from omni_demo.engine.remote.engine import RemoteEngine, RemoteOptions
    from omni_demo.feedback_hub import HubOptions
    from omni_demo.realtime.session import LiveLimits

    local, remote, live = EngineOptions(), RemoteOptions(), LiveLimits()
    d = DEFAULTS
    assert (local.max_clip_seconds, local.max_media_turns, local.engine) == (
        d.max_clip_seconds,
        d.max_media_turns,
        d.engine,
    )
    assert (remote.max_clip_seconds, remote.max_media_turns, remote.read_timeout_s) == (
        d.max_clip_seconds,
        d.max_media_turns,
        d.read_timeout_s,
    )
    assert (live.max_turn_s, live.max_session_s) == (d.max_clip_seconds, d.live_max_minutes * 60)
    assert HubOptions("owner/name").every_minutes == d.feedback_every_minutes
    assert inspect.signature(RemoteEngine).parameters["concurrency"].default == d.concurrency
