"""Start `python app.py` as a subprocess on a free port, once per test session."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"  # screenshots and logs a tester can look at (git-ignored)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"app.py did not come up in {timeout_s} s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def feedback_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the app under test appends testers' feedback (--feedback-dir, with --feedback-keep-media)."""
    return tmp_path_factory.mktemp("feedback")


@pytest.fixture(scope="session")
def app_temp_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app's own temporary folder (its TMPDIR): its reply WAVs and Gradio's cache go there, so
    tests that look at them see this server's files only, whatever other processes put in /tmp."""
    return tmp_path_factory.mktemp("app-tmp")


@contextlib.contextmanager
def running_app(cache_dir: Path, temp_dir: Path, log_name: str, *flags: str) -> Iterator[str]:
    """`python app.py --model preview` with `flags` on a free port; yields its URL, stops it after."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    log = ARTIFACTS / log_name
    env = {
        **os.environ,
        "OMNI_CACHE_DIR": str(cache_dir),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "TMPDIR": str(temp_dir),
    }
    command = [sys.executable, "app.py", "--model", "preview", "--server-port", str(port), *flags]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def app_url(cache_dir: Path, feedback_dir: Path, app_temp_dir: Path) -> Iterator[str]:
    """The app most end-to-end tests share. `--max-batch 1`: one answer at a time, so a second request
    waits in line (several testers served together have their own app: `batch_app_url`)."""
    flags = ("--feedback-dir", str(feedback_dir), "--feedback-keep-media", "--max-batch", "1")
    with running_app(cache_dir, app_temp_dir, "app.log", *flags) as url:
        yield url
