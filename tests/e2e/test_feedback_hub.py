"""A tester's feedback in the browser reaches a Hugging Face dataset: `python app.py --feedback-repo` with
HF_ENDPOINT pointing at the stand-in Hub on loopback (tests/fake_hub.py), committing every 3 seconds."""

from __future__ import annotations

import json
import os
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


@pytest.fixture(scope="module")
def hub() -> Iterator[FakeHub]:
    server = FakeHub()
    yield server
    server.close()


@pytest.fixture(scope="module")
def hub_app(cache_dir: Path, hub: FakeHub) -> Iterator[str]:
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    env = {
        **os.environ,
        "OMNI_CACHE_DIR": str(cache_dir),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_ENDPOINT": hub.url,
        "HF_TOKEN": TOKEN,
    }
    argv = [sys.executable, "app.py", "--model", "preview", "--no-warmup", "--server-port", str(port)]
    argv += ["--feedback-repo", REPO, "--feedback-every", "0.05"]  # no --feedback-dir: CACHE_DIR/feedback
    with LOG.open("wb") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, process, LOG)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_browser_sessions_feedback_reaches_the_dataset(
    browser: Browser,  # noqa: F811 (the fixture imported above)
    hub_app: str,
    hub: FakeHub,
    cache_dir: Path,
) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.goto(hub_app)
    _send(page, "Hello, who are you?")
    chat = page.locator("#chatbot")
    expect(chat).to_contain_text("Timings", timeout=90_000)
    page.get_by_role("button", name="Dislike").click()
    expect(page.locator("#chat-feedback-status")).to_contain_text("saved")
    context.close()

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


def _committed(hub: FakeHub) -> list[dict]:
    """The lines of this server's file in the newest commit (one server: one data/<run>.jsonl)."""
    files = hub.files(f"datasets/{REPO}")
    data = [content for path, content in files.items() if path.startswith("data/")]
    assert len(data) <= 1, list(files)
    return [json.loads(x) for content in data for x in content.decode("utf-8").splitlines()]
