"""A real browser (Debian's Chromium driven by Playwright) uses the page as a tester would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",  # the sandboxed network refuses Chromium's own requests
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


# The streamed player has started: an <audio> with a (blob) source and a non-zero duration.
SPEECH_PLAYING = """() => {
    const a = document.querySelector('#speech-stream audio');
    return Boolean(a && a.src && a.duration > 0);
}"""


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:  # one driver per module: a second sync_playwright() would fail
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser, app_url: str) -> Iterator[Page]:
    viewport = {"width": 1400, "height": 1100}
    context = browser.new_context(viewport=viewport, permissions=["microphone", "camera"])
    page = context.new_page()
    page.goto(app_url)
    expect(page.locator("#banner")).to_contain_text("Preview model")
    yield page
    context.close()


def _send(page: Page, text: str) -> None:
    box = page.locator("#chat-input textarea")
    box.fill(text)
    box.press("Enter")


def test_chat_streams_text_and_speech(page: Page) -> None:
    _send(page, "Hello, please introduce yourself.")
    bot = page.locator(".message-row.bot-row").first
    expect(bot).to_be_visible(timeout=60_000)
    expect(bot).not_to_be_empty()
    # The streamed player starts: an <audio> with a blob source and a growing, non-zero duration.
    audio = page.locator("#speech-stream audio")
    page.wait_for_function(SPEECH_PLAYING, timeout=60_000)
    # When the reply is done, the whole speech stays in the history as a player, with the timings.
    history_player = page.locator(".message-wrap audio, .message-wrap .audio-container").first
    expect(history_player).to_be_attached(timeout=60_000)
    expect(page.get_by_text("Timings")).to_be_visible(timeout=60_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)
    assert audio.count() == 1


def test_empty_message_gets_a_sentence_and_keeps_the_chat(page: Page) -> None:
    _send(page, "First message")
    expect(page.get_by_text("Timings")).to_be_visible(timeout=60_000)
    page.locator("#chat-input textarea").fill("")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Type a message or attach a file before sending.")).to_be_visible(timeout=10_000)
    expect(page.get_by_text("First message")).to_be_visible()


def test_microphone_recording_reaches_the_model(playwright: Playwright, app_url: str) -> None:
    """Chromium's fake microphone plays a shipped speech clip; the recording goes with the message."""
    speech = Path(__file__).resolve().parents[2] / "assets" / "speech_en.wav"
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*FLAGS, f"--use-file-for-fake-audio-capture={speech}"]
    )
    context = browser.new_context(viewport={"width": 1400, "height": 1100}, permissions=["microphone"])
    page = context.new_page()
    page.goto(app_url)
    page.get_by_role("button", name="Record audio").click()
    page.get_by_role("button", name="Start recording").click()
    page.wait_for_timeout(2500)
    page.locator("#chat-input").get_by_role("button", name="Stop recording").click()
    expect(page.locator("#chat-input").get_by_role("button", name="Play")).to_be_visible(timeout=10_000)
    _send(page, "What did I say?")
    # The user's bubble holds the recording as a player, and the model answers it.
    expect(
        page.locator(".message-row.user-row audio, .message-row.user-row .audio-container").first
    ).to_be_attached(timeout=60_000)
    expect(page.get_by_text("Timings")).to_be_visible(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "chat-microphone.png"), full_page=True)
    browser.close()


COOKBOOK_TABS = {
    "audio": "speech-recognition",
    "visual": "ocr",
    "audio-visual": "audio-visual-question",
    "agent": "audio-function-call",
    "captioner": "omni-captioner",
}


def test_every_cookbook_tab_opens_and_an_example_runs(page: Page) -> None:
    for tab, first_case in COOKBOOK_TABS.items():
        page.locator(f"#tab-{tab}-button").click()
        expect(page.locator(f"#case-{first_case}")).to_be_visible(timeout=10_000)
        page.screenshot(path=str(ARTIFACTS / f"tab-{tab}.png"))
    # The Captioner case says plainly which checkpoint it needs while the Instruct preview is loaded.
    expect(page.locator("#kind-note-omni-captioner")).to_contain_text("Captioner")
    # One click loads an example, one click runs it.
    page.locator("#tab-visual-button").click()
    page.locator("#example-ocr").click()
    page.locator("#run-ocr").click()
    expect(page.locator("#timings-ocr")).to_contain_text("total", timeout=90_000)
    expect(page.locator("#answer-ocr")).not_to_be_empty()
    page.screenshot(path=str(ARTIFACTS / "tab-visual-ocr.png"), full_page=True)


def test_stop_ends_text_and_speech_and_the_chat_goes_on(page: Page) -> None:
    page.get_by_text("Sampling").click()
    tokens = page.locator("#max-new-tokens input[type=number]")
    tokens.fill("600")
    tokens.press("Enter")
    _send(page, "Tell me a very long story.")
    # Wait until speech is streaming while text is still coming, then press Stop.
    page.wait_for_function(SPEECH_PLAYING, timeout=90_000)
    page.locator("#stop-button").click()
    # The box opens again at once, the partial reply stays, and the next message is answered.
    expect(page.locator("#chat-input textarea")).to_be_editable(timeout=10_000)
    expect(page.locator(".message-row.bot-row").first).not_to_be_empty()
    tokens.fill("16")
    tokens.press("Enter")
    _send(page, "Are you still there?")
    expect(page.get_by_text("Are you still there?")).to_be_visible()
    expect(page.get_by_text("Timings")).to_be_visible(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "chat-after-stop.png"), full_page=True)
