"""A tester's feedback in the browser reaches a Hugging Face dataset: `python app.py --feedback-repo` with
HF_ENDPOINT pointing at the stand-in Hub on loopback (tests/fake_hub.py), committing every 3 seconds."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_hub import FakeHub
from playwright.sync_api import Browser, expect

from e2e.conftest import ARTIFACTS, ROOT, _free_port, _wait_until_up
from e2e.test_browser import _send, browser, playwright  # noqa: F401 (the module's Chromium fixtures)

pytestmark = pytest.mark.e2e

REPO = "testers/omni-feedback"
TOKEN = "hf_stand_in_token"  # the stand-in checks that commits carry it
LOG = ARTIFACTS / "app-feedback-hub.log"
UNREACHABLE_LOG = ARTIFACTS / "app-feedback-hub-unreachable.log"


@pytest.fixture(scope="module")
def hub() -> Iterator[FakeHub]:
    server = FakeHub()
    yield server
    server.close()


def _start(cache_dir: Path, endpoint: str, log: Path, *flags: str) -> tuple[subprocess.Popen[bytes], str]:
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    env = {
        **os.environ,
        "OMNI_CACHE_DIR": str(cache_dir),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_ENDPOINT": endpoint,
        "HF_TOKEN": TOKEN,
    }
    argv = [sys.executable, "app.py", "--model", "preview", "--no-warmup", "--server-port", str(port)]
    argv += ["--feedback-repo", REPO, *flags]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, process, log)
    except RuntimeError:
        process.kill()
        raise
    return process, url


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def hub_app(cache_dir: Path, hub: FakeHub) -> Iterator[str]:
    # No --feedback-dir: the local folder is CACHE_DIR/feedback. A commit every 3 seconds.
    process, url = _start(cache_dir, hub.url, LOG, "--feedback-every", "0.05")
    yield url
    _stop(process)


@pytest.fixture
def unreachable_app(cache_dir: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The Hub's address refuses connections; the app tries again every 0.6 seconds."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    folder = tmp_path / "feedback"
    flags = ("--feedback-every", "0.01", "--feedback-dir", str(folder))
    process, url = _start(cache_dir, f"http://127.0.0.1:{closed}", UNREACHABLE_LOG, *flags)
    yield url, folder
    _stop(process)


def _rate_an_answer(chromium: Browser, url: str, text: str) -> None:
    context = chromium.new_context(locale="en-US", viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.goto(url)
    _send(page, text)
    expect(page.locator("#chatbot")).to_contain_text("Timings", timeout=90_000)
    page.get_by_role("button", name="Dislike").click()
    expect(page.locator("#chat-feedback-status")).to_contain_text("saved")
    context.close()


def test_a_browser_sessions_feedback_reaches_the_dataset(
    browser: Browser,  # noqa: F811 (the fixture imported above)
    hub_app: str,
    hub: FakeHub,
    cache_dir: Path,
) -> None:
    _rate_an_answer(browser, hub_app, "Hello, who are you?")

    deadline = time.monotonic() + 60
    while not (lines := _committed(hub)):
        assert time.monotonic() < deadline, f"no commit reached the stand-in; unknown calls: {hub.unknown}"
        time.sleep(0.5)
    (line,) = lines
    assert (line["rating"], line["tab"], line["model"]) == ("down", "chat", "preview")
    assert line["conversation"][0]["text"] == "Hello, who are you?"
    assert {c.token for c in hub.commits} == {TOKEN}
    assert hub.created[0]["type"] == "dataset"
    # The same line stays in the local folder (the cache's, as no --feedback-dir was given).
    local = (cache_dir / "feedback" / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["id"] for x in local] == [line["id"]]
    log = LOG.read_text(encoding="utf-8", errors="replace")
    assert f"committed to the dataset {REPO} every 0.05 minutes" in log
    assert "Traceback" not in log
    assert "WARNING omni_demo.feedback_hub" not in log


def test_an_unreachable_hub_is_one_log_sentence_and_feedback_lands_locally(
    browser: Browser,  # noqa: F811 (the fixture imported above)
    unreachable_app: tuple[str, Path],
) -> None:
    url, folder = unreachable_app
    _rate_an_answer(browser, url, "Is anyone there?")
    (line,) = [json.loads(x) for x in (folder / "feedback.jsonl").read_text(encoding="utf-8").splitlines()]
    assert (line["rating"], line["conversation"][0]["text"]) == ("down", "Is anyone there?")
    time.sleep(3)  # five more attempts, each refused
    log = UNREACHABLE_LOG.read_text(encoding="utf-8", errors="replace")
    (warning,) = [x for x in log.splitlines() if "WARNING" in x or "ERROR" in x]
    assert "Feedback could not be committed to the Hugging Face dataset testers/omni-feedback" in warning
    assert "Traceback" not in log
    assert "Retrying" not in log


def _committed(hub: FakeHub) -> list[dict]:
    """The lines of this server's file in the newest commit (one server: one data/<run>.jsonl)."""
    files = hub.files(f"datasets/{REPO}")
    data = [content for path, content in files.items() if path.startswith("data/")]
    assert len(data) <= 1, list(files)
    return [json.loads(x) for content in data for x in content.decode("utf-8").splitlines()]
