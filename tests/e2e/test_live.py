"""The Live tab in a real browser: Chromium's fake microphone talks, the page listens, answers aloud,
and is interrupted.

The fake microphone plays a WAV made from assets/speech_en.wav: a sentence, a pause long enough for
the answer to start playing, the sentence again (which speaks over that answer), then a long pause
(Chromium loops the file). The test watches the page and the WebSocket frames it exchanges.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import Browser, Page, Playwright, WebSocket, expect, sync_playwright
from websockets.sync.client import ClientConnection, connect

from omni_demo.i18n import ZH, text

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
SENTENCE_S = 3.4  # "The quick brown fox jumps over the lazy dog." (the clip's first sentence)
GAP_S = 6.0  # between the two utterances: the answer starts ~1 s after the first and plays on

pytestmark = pytest.mark.e2e

# The first answer bubble, as the page shows it.
FIRST_ANSWER = """() => {
    const b = document.querySelector('.live-turn.assistant');
    return b && {text: b.querySelector('.live-text').textContent, played: Number(b.dataset.playedMs),
                 received: Number(b.dataset.receivedMs), cut: b.classList.contains('cut')};
}"""


@pytest.fixture(scope="module")
def fake_mic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    speech, rate = sf.read(ROOT / "assets" / "speech_en.wav", dtype="int16")
    sentence = speech[: int(SENTENCE_S * rate)]

    def silence(seconds: float) -> np.ndarray:
        return np.zeros(int(seconds * rate), dtype=np.int16)

    path = tmp_path_factory.mktemp("live") / "mic.wav"
    sf.write(path, np.concatenate([silence(1.0), sentence, silence(GAP_S), sentence, silence(15.0)]), rate)
    return path


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright, fake_mic: Path) -> Iterator[Browser]:
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=[*FLAGS, f"--use-file-for-fake-audio-capture={fake_mic}"]
    )
    yield browser
    browser.close()


class Frames:
    """The events the page sent and received on /v1/realtime, in order."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.received: list[dict] = []
        self.log: list[tuple[str, dict]] = []

    def attach(self, ws: WebSocket) -> None:
        if not ws.url.endswith("/v1/realtime"):
            return
        ws.on("framesent", lambda payload: self._add(self.sent, "sent", payload))
        ws.on("framereceived", lambda payload: self._add(self.received, "received", payload))

    def _add(self, into: list[dict], direction: str, payload: str | bytes) -> None:
        event = json.loads(payload)
        into.append(event)
        self.log.append((direction, event))

    def save(self, path: Path) -> None:
        """Every frame but the audio, for reading after a failure."""
        path.parent.mkdir(exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            for direction, event in self.log:
                if "audio" not in event and "output_audio.delta" not in event["type"]:
                    out.write(json.dumps({"dir": direction, **event}, ensure_ascii=False) + "\n")

    def of(self, kind: str, sent: bool = False) -> list[dict]:
        return [e for e in (self.sent if sent else self.received) if e["type"] == kind]


def _open_live(page: Page, app_url: str) -> None:
    page.goto(app_url)
    page.locator("#tab-live-button").click()
    expect(page.locator("#live-start")).to_be_visible(timeout=10_000)


def test_live_talk_answer_and_interrupt(browser: Browser, app_url: str) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, permissions=["microphone"])
    page = context.new_page()
    frames = Frames()
    page.on("websocket", frames.attach)
    _open_live(page, app_url)
    expect(page.locator("#live-state")).to_have_text("Press Start, then just talk.")
    # A long answer (the preview's default is ~2 s of speech), so that there is one to interrupt.
    tokens = page.locator("#live-max-tokens input[type=number]")
    tokens.fill("400")
    tokens.press("Enter")
    page.locator("#live-start").click()
    expect(page.locator("#live-start")).to_have_text("Stop")

    try:
        _first_answer_plays(page, frames)
        _second_utterance_interrupts_it(page, frames)
    finally:
        frames.save(ARTIFACTS / "live-frames.jsonl")
    _screenshots(page)

    # A setting changed during the session is sent at once: speech off, text answers from now on.
    page.locator("#live-speak input").uncheck()
    update = _wait(page, lambda: frames.of("session.update", sent=True)[1:])
    assert update["session"]["output_modalities"] == ["text"]
    # Stop ends the session: the microphone is released and the page is idle again.
    page.locator("#live-start").click()
    expect(page.locator("#live-start")).to_have_text("Start")
    expect(page.locator("#live-state")).to_have_text("Press Start, then just talk.")
    assert page.evaluate("() => window.omniLive.stream === null && window.omniLive.ws === null")
    context.close()


def _first_answer_plays(page: Page, frames: Frames) -> None:
    """The first sentence is heard, then answered aloud: the player's position advances."""
    expect(page.locator(".live-turn.assistant").first).to_be_attached(timeout=60_000)
    page.wait_for_function(f"() => ({FIRST_ANSWER})().played > 300", timeout=60_000)
    expect(page.locator("#live-pos")).to_contain_text("▶")
    before = page.evaluate(FIRST_ANSWER)
    page.wait_for_timeout(600)
    playing = page.evaluate(FIRST_ANSWER)
    assert playing["played"] > before["played"], (before, playing)
    assert not playing["cut"]
    assert playing["text"].strip()  # the transcript streams beside the speech
    states = page.evaluate("() => window.omniLive.states")
    assert _in_order(states, ["listening", "hearing", "thinking", "speaking"]), states
    update = frames.of("session.update", sent=True)[0]["session"]
    assert update["max_output_tokens"] == 400
    assert update["output_modalities"] == ["audio"]
    assert update["audio"]["output"]["voice"] == "Ethan"
    assert update["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    appended = frames.of("input_audio_buffer.append", sent=True)
    assert len(appended) > 20
    assert {len(e["audio"]) for e in appended} == {3200}  # 50 ms at 24 kHz: 2400 bytes, 3200 in base64


def _second_utterance_interrupts_it(page: Page, frames: Frames) -> None:
    """The second sentence speaks over the answer: the page stops it at once and keeps what was heard."""
    page.wait_for_function(f"() => ({FIRST_ANSWER})().cut", timeout=60_000)
    expect(page.locator(".live-turn.user")).to_have_count(2, timeout=10_000)
    stopped = page.evaluate(FIRST_ANSWER)
    (truncate,) = frames.of("conversation.item.truncate", sent=True)
    item_id = truncate["item_id"]
    assert truncate["audio_end_ms"] == stopped["played"]
    assert 0 < stopped["played"] < stopped["received"], stopped
    # The server's copy of the answer, read back after the truncation, is what the page shows: the
    # start of the streamed transcript, cut to the part that was played.
    retrieved = _wait(
        page, lambda: [e for e in frames.of("conversation.item.retrieved") if e["item"]["id"] == item_id]
    )
    page.wait_for_timeout(200)  # the page paints it
    kept = retrieved["item"]["content"][0]["transcript"] or ""
    assert page.evaluate(FIRST_ANSWER)["text"].strip() == kept.strip()
    streamed = "".join(
        e["delta"] for e in frames.of("response.output_audio_transcript.delta") if e["item_id"] == item_id
    )
    assert streamed.startswith(kept), (kept, streamed)
    assert len(kept) < len(streamed), (kept, streamed)
    meta = page.locator(".live-turn.assistant").first.locator(".live-meta")
    expect(meta).to_contain_text(f"you heard {stopped['played'] / 1000:.1f} s")
    # The first answer stopped: its position stays, and none of its audio came after its cancellation.
    page.wait_for_timeout(1000)
    assert page.evaluate(FIRST_ANSWER)["played"] == stopped["played"]
    cancelled = [e for e in frames.of("response.done") if e["response"]["status"] == "cancelled"]
    assert cancelled
    after = frames.received[frames.received.index(cancelled[0]) :]
    assert not [e for e in after if e["type"].endswith(".delta") and e.get("item_id") == item_id]
    states = page.evaluate("() => window.omniLive.states")
    assert _in_order(states, ["hearing", "thinking", "speaking", "hearing"]), states
    # The talk goes on: the second sentence gets its answer, which plays.
    second = page.locator(".live-turn.assistant").nth(1)
    expect(second).to_be_attached(timeout=30_000)
    page.wait_for_function(
        "() => Number(document.querySelectorAll('.live-turn.assistant')[1].dataset.playedMs) > 1000",
        timeout=60_000,
    )
    expect(page.locator("#live-state")).to_have_text("Speaking")


def _screenshots(page: Page) -> None:
    """Desktop, then a 390-px phone: there the Start button, the state and the conversation are on the
    first screen."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "live.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    page.evaluate("() => window.scrollTo(0, 0)")
    for selector in ("#live-start", "#live-state", ".live-turn.assistant"):
        box = page.locator(selector).first.bounding_box()
        assert box is not None, selector
        assert box["y"] + min(box["height"], 40) <= 844, (selector, box)
        assert 0 <= box["x"] <= box["x"] + box["width"] <= 390, (selector, box)
    page.screenshot(path=str(ARTIFACTS / "live-phone.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})


def _hold_the_gpu(ws: ClientConnection) -> None:
    """Another live user's long answer, asked push-to-talk over `ws`, is being made."""
    speech, _ = sf.read(ROOT / "assets" / "speech_en.wav", dtype="int16")  # 16 kHz
    audio = {"input": {"format": {"type": "audio/pcm", "rate": 16000}, "turn_detection": None}}
    ws.send(json.dumps({"type": "session.update", "session": {"audio": audio, "max_output_tokens": 4096}}))
    for start in range(0, len(speech), 3200):
        chunk = base64.b64encode(speech[start : start + 3200].tobytes()).decode()
        ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": chunk}))
    ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
    ws.send(json.dumps({"type": "response.create"}))
    while json.loads(ws.recv(timeout=60))["type"] != "response.output_audio_transcript.delta":
        pass


def test_a_live_answer_waiting_for_the_gpu_shows_its_place(browser: Browser, app_url: str) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, permissions=["microphone"])
    page = context.new_page()
    _open_live(page, app_url)
    with connect(app_url.replace("http", "ws", 1) + "v1/realtime", max_size=None) as other:
        _hold_the_gpu(other)
        page.locator("#live-start").click()
        state = page.locator("#live-state")
        expect(state).to_have_text("Waiting for the GPU: you're next.", timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "live-waiting.png"))
        other.send(json.dumps({"type": "response.cancel"}))  # the other answer ends: this one starts
        expect(page.locator(".live-turn.assistant").first).not_to_be_empty(timeout=60_000)
        expect(state).not_to_have_text("Waiting for the GPU: you're next.")
    states = page.evaluate("() => window.omniLive.states")
    assert _in_order(states, ["listening", "hearing", "waiting"]), states
    page.locator("#live-start").click()
    expect(page.locator("#live-start")).to_have_text("Start")
    context.close()


def test_camera_pictures_go_with_the_next_turn(browser: Browser, app_url: str) -> None:
    """The camera button starts a session with the camera on (Chromium's fake camera): about one JPEG a
    second goes to the server, the next spoken turn carries them (the page shows how many), and turning
    the camera off stops it and its pictures."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, permissions=["microphone", "camera"]
    )
    page = context.new_page()
    frames = Frames()
    page.on("websocket", frames.attach)
    _open_live(page, app_url)
    page.locator("#live-camera").click()
    expect(page.locator("#live-start")).to_have_text("Stop")
    expect(page.locator("#live-camera")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#live-preview")).to_be_visible()

    user = page.locator(".live-turn.user").first
    expect(user).to_contain_text("📷", timeout=60_000)
    pictures = frames.of("conversation.item.create", sent=True)
    assert len(pictures) >= 2
    for event in pictures:
        (part,) = event["item"]["content"]
        assert part["type"] == "input_image"
        assert part["image_url"].startswith("data:image/jpeg;base64,")
    turn = next(
        e["item"]
        for e in frames.of("conversation.item.added")
        if e["item"]["role"] == "user" and e["item"]["content"][-1]["type"] == "input_audio"
    )
    count = sum(part["type"] == "input_image" for part in turn["content"])
    assert 1 <= count <= 4
    expect(user).to_contain_text(f"📷 {count}")
    page.screenshot(path=str(ARTIFACTS / "live-camera.png"))

    page.locator("#live-camera").click()
    expect(page.locator("#live-preview")).to_be_hidden()
    sent = page.evaluate("() => window.omniLive.picturesSent")
    page.wait_for_timeout(2500)
    assert page.evaluate("() => window.omniLive.picturesSent") == sent  # no picture after Camera off
    expect(page.locator("#live-start")).to_have_text("Stop")  # the talk goes on without it
    page.locator("#live-start").click()
    expect(page.locator("#live-start")).to_have_text("Start")
    context.close()


def test_live_without_a_secure_page_says_why_in_chinese(browser: Browser, app_url: str) -> None:
    """A page opened over plain http from another machine has no getUserMedia: one sentence says so."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'mediaDevices', {get: () => undefined})"
    )
    page = context.new_page()
    _open_live(page, app_url)
    expect(page.locator("#live-insecure")).to_have_text(text("live.insecure", ZH))
    expect(page.locator("#live-start")).to_be_disabled()
    expect(page.locator("#live-start")).to_have_text(text("live.start", ZH))
    expect(page.locator("#live-panel")).to_contain_text(text("live.headphones", ZH))
    page.screenshot(path=str(ARTIFACTS / "live-insecure-zh.png"))
    context.close()


def _wait(page: Page, found: Callable[[], list], timeout_s: float = 10) -> dict:
    """The first thing `found` returns, polled while Playwright delivers events."""
    for _ in range(int(timeout_s * 10)):
        if items := found():
            return items[0]
        page.wait_for_timeout(100)
    raise AssertionError("not seen in time")


def _in_order(seen: list[str], wanted: list[str]) -> bool:
    """`wanted` occurs in `seen` as a subsequence."""
    rest = iter(seen)
    return all(state in rest for state in wanted)
