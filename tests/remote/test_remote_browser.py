"""The page in Chromium before a fake vLLM-Omni: streamed text, speech playing, Stop closing the stream."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from e2e.test_browser import ARTIFACTS, CHROMIUM, FLAGS, SPEECH_PLAYING, _send
from fake_services import FakeService
from playwright.sync_api import Page, expect, sync_playwright

from remote.test_remote_app import App

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeService, App]]:
    service = FakeService("vllm-omni", delay_s=0.05)
    app = App(service, "--concurrency", "2")
    yield service, app
    app.stop()
    service.close()


@pytest.fixture
def page(served: tuple[FakeService, App]) -> Iterator[Page]:
    _, app = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1100})
        page = context.new_page()
        page.goto(app.url)
        expect(page.locator("#banner")).to_contain_text("vLLM-Omni at 127.0.0.1")
        yield page
        browser.close()


def test_streamed_text_and_playing_speech_from_vllm_omni(page: Page, served: tuple[FakeService, App]) -> None:
    service, _ = served
    _send(page, "Hello from the browser")
    bot = page.locator(".message-row.bot-row").first
    expect(bot).to_contain_text("You said: Hello from the browser", timeout=30_000)
    page.wait_for_function(SPEECH_PLAYING, timeout=30_000)
    expect(page.get_by_text("Timings")).to_be_visible(timeout=30_000)
    expect(page.locator(".message-wrap audio, .message-wrap .audio-container").first).to_be_attached()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "remote-vllm-omni-chat.png"), full_page=True)
    assert service.served[-1].body["modalities"] == ["text", "audio"]
    assert service.served[-1].body["speaker"] == "ethan"  # the page's default voice


def test_stop_closes_the_stream_and_the_chat_goes_on(page: Page, served: tuple[FakeService, App]) -> None:
    service, _ = served
    _send(page, "Talk slowly #slow")
    expect(page.locator(".message-row.bot-row").first).to_contain_text("You said:", timeout=30_000)
    page.locator("#stop-button").click()
    expect(page.locator("#chat-input textarea")).to_be_editable(timeout=10_000)
    record = next(r for r in service.served if "#slow" in str(r.body["messages"]))
    deadline = time.monotonic() + 5
    while record.ended is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert record.disconnected  # Stop closed the HTTP stream; the server saw it go
    _send(page, "Are you still there?")
    expect(page.get_by_text("(2 user messages, 0 media parts)")).to_be_visible(timeout=30_000)
