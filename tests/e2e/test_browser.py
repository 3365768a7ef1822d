"""A real browser (Debian's Chromium driven by Playwright) uses the page as a tester would."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
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


# The streamed player is really playing: not paused, and its clock has moved.
SPEECH_PLAYING = """() => {
    const a = document.querySelector('#speech-stream audio');
    return Boolean(a && !a.paused && a.currentTime > 0);
}"""

# Samples the page every 20 ms: each new length of the last reply's text (with its time), when the
# streamed player appeared (the page made it, with its stream as source, on the first speech chunk),
# when it was first seen playing, and when the reply's timings line appeared.
RECORDER = """() => {
    const r = window.__rec = {lengths: [], times: [], arrived: null, playing: null, timings: null};
    const start = performance.now();
    window.__recTimer = setInterval(() => {
        const now = performance.now() - start;
        const bots = document.querySelectorAll('.message-row.bot-row');
        const last = bots[bots.length - 1];
        const n = last ? last.innerText.length : 0;
        if (r.lengths[r.lengths.length - 1] !== n) { r.lengths.push(n); r.times.push(now); }
        const a = document.querySelector('#speech-stream audio');
        if (r.playing === null && a && !a.paused && a.currentTime > 0) r.playing = now;
        if (r.arrived === null && a && (a.currentSrc || a.src)) r.arrived = now;
        if (r.timings === null && last && last.innerText.includes('Timings')) r.timings = now;
    }, 20);
}"""


def _recorded(page: Page) -> dict:
    return page.evaluate("() => window.__rec")


def _text_complete_at(rec: dict) -> float:
    """When the reply's text reached its final length: its last change before the timings line."""
    before = [t for t in rec["times"] if t < rec["timings"]]
    assert before, rec
    return before[-1]


def _set_max_tokens(page: Page, value: int) -> None:
    if not page.locator("#max-new-tokens input[type=number]").is_visible():
        page.get_by_text("Sampling").click()
    tokens = page.locator("#max-new-tokens input[type=number]")
    tokens.fill(str(value))
    tokens.press("Enter")


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
    _set_max_tokens(page, 400)
    page.evaluate(RECORDER)
    _send(page, "Hello, please introduce yourself.")
    bot = page.locator(".message-row.bot-row").first
    expect(bot).to_be_visible(timeout=60_000)
    expect(bot).not_to_be_empty()
    # The streamed player really plays (not paused, its clock moving) ...
    audio = page.locator("#speech-stream audio")
    page.wait_for_function(SPEECH_PLAYING, timeout=60_000)
    expect(page.get_by_text("Timings")).to_be_visible(timeout=120_000)
    page.wait_for_function("() => window.__rec.timings !== null", timeout=5_000)  # its 20 ms tick
    rec = _recorded(page)
    # ... and the speech reached the page while the text was still being written: the player appeared
    # before the text reached its final length, and the text grew on afterwards. (When it starts to
    # play is up to the browser's HLS buffering, over ten seconds later on a busy machine, so that
    # moment proves nothing either way.) The text was seen growing step by step.
    assert None not in (rec["arrived"], rec["playing"], rec["timings"]), rec
    text_done = _text_complete_at(rec)
    grown_after = [t for t in rec["times"] if rec["arrived"] < t <= text_done]
    assert grown_after, (
        f"speech reached the page at {rec['arrived']:.0f} ms, the text was whole at {text_done:.0f} ms"
    )
    growing = [n for n in rec["lengths"] if n > 0]
    assert len(growing) >= 5, rec["lengths"]
    assert growing == sorted(growing), rec["lengths"]
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
    # A refusal changes nothing on the page: no "Error" badge over the conversation.
    expect(page.locator("#chatbot").get_by_text("Error", exact=True)).to_have_count(0)
    expect(page.locator("#chatbot")).to_contain_text("Timings")


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
    # Run without a picture: one sentence, and the last answer stays as it was.
    answer = page.locator("#answer-ocr").inner_text()
    page.locator("#case-ocr button[aria-label='Remove Image']").first.click()
    page.locator("#run-ocr").click()
    expect(page.get_by_text("Add an image first")).to_be_visible(timeout=10_000)
    expect(page.locator("#answer-ocr").get_by_text("Error", exact=True)).to_have_count(0)
    assert page.locator("#answer-ocr").inner_text() == answer


def test_stop_ends_text_and_speech_and_the_chat_goes_on(page: Page) -> None:
    _set_max_tokens(page, 2000)
    _send(page, "Tell me a very long story.")
    # Wait until speech is streaming while text is still coming, then press Stop.
    page.wait_for_function(SPEECH_PLAYING, timeout=90_000)
    page.locator("#stop-button").click()
    # The box opens again at once, the partial reply stays, and the next message is answered.
    expect(page.locator("#chat-input textarea")).to_be_editable(timeout=10_000)
    bot = page.locator(".message-row.bot-row").first
    expect(bot).not_to_be_empty()
    # Generation really stopped: the text no longer grows, and the stopped reply gets no timings.
    page.wait_for_timeout(500)
    stopped = bot.inner_text()
    page.wait_for_timeout(3000)
    assert bot.inner_text() == stopped
    assert "Timings" not in stopped
    assert page.locator(".message-row.bot-row").count() == 1
    _set_max_tokens(page, 16)
    _send(page, "Are you still there?")
    expect(page.get_by_text("Are you still there?")).to_be_visible()
    expect(page.get_by_text("Timings")).to_be_visible(timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / "chat-after-stop.png"), full_page=True)


def test_a_second_tester_sees_the_queue_then_gets_the_answer(browser: Browser, app_url: str) -> None:
    """Page B sends while page A's answer is being made: B's pending answer says B is next; a Stop
    while waiting takes that off B's chat; sent again, B waits again, and is answered once A ends."""
    pages = []
    for _ in range(2):
        context = browser.new_context(viewport={"width": 1400, "height": 1100})
        page = context.new_page()
        page.goto(app_url)
        expect(page.locator("#banner")).to_contain_text("Preview model")
        pages.append(page)
    first, second = pages
    _set_max_tokens(first, 8000)  # long enough to outlast this test, which stops it at the end
    _send(first, "Tell me a very long story.")
    expect(first.locator(".message-row.bot-row").first).not_to_be_empty(timeout=90_000)  # it runs

    _set_max_tokens(second, 16)
    _send(second, "Am I in line?")
    waiting = second.locator("#chatbot").get_by_text("Waiting for the GPU: you're next.")
    expect(waiting).to_be_visible(timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    second.screenshot(path=str(ARTIFACTS / "chat-waiting.png"), full_page=True)
    second.locator("#stop-button").click()  # leaves the line: the chat no longer says it waits
    expect(waiting).to_have_count(0, timeout=10_000)
    second.wait_for_timeout(1000)  # no late update of the stopped request brings it back
    expect(waiting).to_have_count(0)
    expect(second.locator("#chat-input textarea")).to_be_editable(timeout=10_000)

    assert "Timings" not in first.locator("#chatbot").inner_text()  # A is still being answered
    _send(second, "Now?")
    expect(waiting).to_be_visible(timeout=30_000)
    first.locator("#stop-button").click()
    expect(second.locator("#chatbot").get_by_text("Timings")).to_be_visible(timeout=60_000)
    expect(waiting).to_have_count(0)
    second.screenshot(path=str(ARTIFACTS / "chat-after-waiting.png"), full_page=True)
    for page in pages:
        page.context.close()


# --------------------------------------------------------------------------------------------------
# For the testers: two languages, feedback, and the conversation to take away
# --------------------------------------------------------------------------------------------------


def test_a_chinese_browser_gets_the_chinese_page(browser: Browser, app_url: str) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.goto(app_url)
    expect(page.locator("#banner")).to_contain_text("预览模型：回答是随机的。")
    expect(page.locator("#tab-audio-button")).to_have_text("音频")
    expect(page.get_by_role("button", name="发送")).to_be_visible()
    page.locator("#tab-visual-button").click()
    expect(page.locator("#case-ocr")).to_contain_text("读取复杂图片中的文字")
    expect(page.locator("#cases-visual")).to_contain_text("目标定位")
    page.screenshot(path=str(ARTIFACTS / "tab-visual-zh.png"), full_page=True)
    context.close()


def test_tester_switches_language_rates_downloads_and_loads_back(
    browser: Browser, app_url: str, feedback_dir: Path, tmp_path: Path
) -> None:
    context = browser.new_context(
        locale="en-US", viewport={"width": 1400, "height": 1100}, accept_downloads=True
    )
    page = context.new_page()
    page.goto(app_url)
    expect(page.locator("#banner")).to_contain_text("Preview model")

    # Switch to Chinese: the page, the tabs not on screen and Gradio's own texts follow at once.
    page.locator("#lang-zh").click()
    expect(page.locator("#banner")).to_contain_text("预览模型")
    expect(page.locator("#tab-audio-button")).to_have_text("音频")
    expect(page.get_by_role("button", name="清空")).to_be_visible()

    # A message; the answer's notes and timings come back in Chinese.
    _send(page, "你好，请介绍一下你自己。")
    chat = page.locator("#chatbot")
    expect(chat).to_contain_text("用时", timeout=90_000)
    chat.get_by_text("用时").first.click()  # open the timings: the line names the engine that ran
    expect(chat.get_by_text("· fast 引擎")).to_be_visible()

    # Thumbs down on the answer, then a comment.
    page.get_by_role("button", name="踩").click()
    status = page.locator("#chat-feedback-status")
    expect(status).to_contain_text("你对第 1 个回答的评分已保存")
    page.locator("#chat-comment textarea").fill("声音太小，听不清。")
    page.locator("#chat-comment-send").click()
    expect(status).to_contain_text("评论已保存")
    comment = _check_feedback(feedback_dir)

    saved = _download(page, tmp_path)
    _check_zip(saved, comment)

    # Clear, then load it back: the chat returns and goes on.
    page.locator("#clear-button").click()
    expect(chat).not_to_contain_text("你好，请介绍一下你自己。")
    with page.expect_file_chooser() as chooser:
        page.locator("#load-chat").click()
    chooser.value.set_files(str(saved))
    expect(page.locator("#takeaway-status")).to_contain_text("已从“conversation.zip”载入 1 个回答")
    expect(chat).to_contain_text("你好，请介绍一下你自己。")
    expect(chat.locator("audio, .audio-container").first).to_be_attached()
    _send(page, "再说一遍。")
    expect(chat.get_by_text("用时")).to_have_count(2, timeout=90_000)
    chat.get_by_text("用时").last.click()  # the new reply's timings, open in the screenshot
    expect(chat.get_by_text("fast 引擎").last).to_be_visible()
    page.wait_for_timeout(500)  # let the block finish sliding open before the picture
    page.screenshot(path=str(ARTIFACTS / "chat-zh.png"), full_page=True)
    context.close()


def _check_feedback(feedback_dir: Path) -> dict:
    """The rating's line and the comment's line carry what the issue lists."""
    text = (feedback_dir / "feedback.jsonl").read_text(encoding="utf-8")
    rating, comment = [json.loads(line) for line in text.splitlines()][-2:]
    assert rating["rating"] == comment["rating"] == "down"
    assert rating["id"] == comment["id"]  # the comment amends the rating's record
    assert comment["comment"] == "声音太小，听不清。"
    assert comment["language"] == "zh-CN"
    assert (comment["model"], comment["kind"], comment["tab"]) == ("preview", "instruct", "chat")
    assert comment["engine"] == "fast"  # the default --engine, named by its loop, not by its class
    assert comment["conversation"][0] == {"role": "user", "text": "你好，请介绍一下你自己。", "media": []}
    assert comment["answer"].strip()
    assert comment["timings"]["total_s"] > 0
    assert comment["settings"]["voice"] == "Ethan"
    return comment


def _download(page: Page, tmp_path: Path) -> Path:
    """Download the conversation as a tester does: the button, then the file's link."""
    page.locator("#takeaway").click()
    page.locator("#download-chat").click()
    link = page.locator("#chat-zip a").first
    expect(link).to_be_visible(timeout=30_000)
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "conversation.zip"
    download.value.save_as(saved)
    return saved


def _check_zip(saved: Path, comment: dict) -> None:
    """The transcript with settings and timings, and the spoken reply as a WAV."""
    with zipfile.ZipFile(saved) as archive:
        assert sorted(archive.namelist()) == ["conversation.json", "speech/01.wav"]
        data = json.loads(archive.read("conversation.json"))
        wav = archive.read("speech/01.wav")
    assert wav[:4] == b"RIFF"
    (exchange,) = data["exchanges"]
    assert exchange["user"]["text"] == "你好，请介绍一下你自己。"
    assert exchange["answer"]["text"] == comment["answer"]
    assert exchange["answer"]["timings"] == comment["timings"]
    assert exchange["answer"]["speech"] == "speech/01.wav"
    assert data["settings"]["voice"] == "Ethan"
    assert data["model"]["engine"] == "fast"


def test_audio_in_video_stays_as_the_conversation_began_until_clear(page: Page) -> None:
    """The conversation's answers fix "audio in video": changed mid-conversation, the message is
    refused with one sentence and not shown; after Clear the new setting is taken."""
    _set_max_tokens(page, 8)
    _send(page, "Hi")
    expect(page.get_by_text("Timings")).to_be_visible(timeout=60_000)
    page.get_by_label("Audio in video").uncheck()
    _send(page, "Again")
    expect(page.get_by_text("can't change in the middle of a conversation")).to_be_visible(timeout=10_000)
    expect(page.locator(".message-row.user-row")).to_have_count(1)
    page.locator("#clear-button").click()
    expect(page.locator(".message-row")).to_have_count(0, timeout=10_000)
    _send(page, "Hi again")
    expect(page.get_by_text("Timings")).to_be_visible(timeout=60_000)
    expect(page.locator(".message-row.user-row")).to_have_count(1)
    expect(page.get_by_text("Hi again")).to_be_visible()


def test_webcam_recording_with_sound_reaches_the_model(page: Page) -> None:
    """Chromium's fake camera and microphone: the recording goes with the next message, sound included,
    with no box ticked: "audio in video" is on from the start for a video with a sound track."""
    page.get_by_text("Record from the webcam (with sound)").click()
    webcam = page.locator("#webcam")
    expect(webcam).to_be_visible(timeout=10_000)
    webcam.get_by_text("Click to Access Webcam").click()
    capture = webcam.locator("button.capture-button")
    expect(capture).to_have_text("Record", timeout=10_000)
    capture.click()
    expect(capture).to_have_text("Stop", timeout=10_000)
    page.wait_for_timeout(2500)
    capture.click()
    # The recording is shown as a video, ready to go with the next message.
    expect(webcam.get_by_role("button", name="Clear")).to_be_visible(timeout=20_000)
    expect(webcam.locator("video")).to_be_attached()
    expect(page.get_by_label("Audio in video")).to_be_checked()  # nobody ticks anything
    _set_max_tokens(page, 16)
    _send(page, "What do you see and hear?")
    expect(page.locator(".message-row.user-row video").first).to_be_attached(timeout=60_000)
    expect(page.get_by_text("Timings")).to_be_visible(timeout=90_000)
    expect(page.get_by_text("has no sound track")).to_have_count(0)
    # The timings list the recording's picture and sound among the input tokens.
    page.get_by_text("Timings").click()
    reply = page.locator(".message-row.bot-row").last
    expect(reply).to_contain_text(re.compile(r"input tokens:[^·]*audio \d+"), timeout=10_000)
    expect(reply).to_contain_text(re.compile(r"input tokens:[^·]*video \d+"))
    page.screenshot(path=str(ARTIFACTS / "chat-webcam.png"), full_page=True)


# --------------------------------------------------------------------------------------------------
# Upstream's defaults: a video's sound heard, the voice-assistant prompt, long replies; and a phone
# --------------------------------------------------------------------------------------------------

# The rows of the newest answer: the bot rows after the last user row (its text, speech and timings).
LATEST_ANSWER = """() => {
    const rows = [...document.querySelectorAll('#chatbot .message-row')];
    const lastUser = rows.map(r => r.classList.contains('user-row')).lastIndexOf(true);
    return rows.slice(lastUser + 1).map(r => {
        const b = r.getBoundingClientRect();
        return {top: b.top, bottom: b.bottom, left: b.left, right: b.right, text: r.innerText};
    });
}"""


def test_a_webcam_style_clip_is_heard_with_no_box_ticked(page: Page, ffmpeg: str, tmp_path: Path) -> None:
    """A clip as a browser records it (WebM: VP8 picture, Opus sound) asking its question aloud, sent
    with no text and no setting touched: the answer's input tokens include the clip's sound."""
    clip = tmp_path / "webcam-question.webm"
    source = Path(__file__).resolve().parents[2] / "assets" / "av_question.mp4"
    made = subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-i",
            str(source),
            "-c:v",
            "libvpx",
            "-c:a",
            "libopus",
            "-ar",
            "48000",
            str(clip),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    _set_max_tokens(page, 8)
    page.locator("#chat-input input[type=file]").set_input_files(str(clip))
    uploaded = page.locator("#chat-input").get_by_role("button", name="Remove file")
    expect(uploaded).to_be_visible(timeout=20_000)
    page.locator("#chat-input textarea").press("Enter")
    expect(page.locator(".message-row.user-row video").first).to_be_attached(timeout=60_000)
    expect(page.get_by_text("Timings")).to_be_visible(timeout=90_000)
    page.get_by_text("Timings").click()
    reply = page.locator(".message-row.bot-row").last
    expect(reply).to_contain_text(re.compile(r"input tokens:[^·]*audio \d+"), timeout=10_000)
    expect(reply).to_contain_text(re.compile(r"input tokens:[^·]*video \d+"))
    page.screenshot(path=str(ARTIFACTS / "chat-webcam-clip.png"), full_page=True)


def test_settings_start_as_upstreams_web_demo(page: Page) -> None:
    """Speech on: the voice-assistant system prompt, cleared in one click; replies up to 32,768 tokens
    (the preview's context is 65,536), the default unchanged."""
    prompt = page.locator("#system-prompt textarea")
    expect(prompt).to_have_value(re.compile(r"^You are Qwen-Omni, a smart voice assistant"))
    page.locator("#clear-system-prompt").click()
    expect(prompt).to_have_value("")
    expect(page.locator("#system-prompt textarea")).to_have_attribute("placeholder", "(none)")
    page.get_by_text("Sampling").click()
    slider = page.locator("#max-new-tokens input[type=range]")
    expect(slider).to_have_attribute("max", "32768")
    expect(page.locator("#max-new-tokens input[type=number]")).to_have_value("48")  # the preview's default
    page.screenshot(path=str(ARTIFACTS / "chat-settings.png"), full_page=True)


def test_on_a_phone_the_input_and_the_latest_answer_are_on_the_first_screen(
    browser: Browser, app_url: str
) -> None:
    """390 x 844 (a phone held upright): the header stays short, so the message box and the newest
    answer are on the first screen, without scrolling."""
    width, height = 390, 844
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(app_url)
    expect(page.locator("#banner")).to_contain_text("Preview model")
    _set_max_tokens(page, 16)
    page.evaluate("() => window.scrollTo(0, 0)")
    _send(page, "Hello from a phone.")
    expect(page.get_by_text("Timings")).to_be_visible(timeout=90_000)
    page.evaluate("() => window.scrollTo(0, 0)")
    page.wait_for_timeout(500)  # the chat scrolls itself to the newest message
    rows = page.evaluate(LATEST_ANSWER)
    assert rows, "no answer rows"
    chat = _edges(page.locator("#chatbot").bounding_box())
    top, bottom = max(0, chat["top"]), min(height, chat["bottom"])
    assert bottom - top >= 200, chat  # the chat's box itself is on the first screen, and not a sliver
    for row in rows:  # on the screen, and not scrolled out of the chat's own box
        shown = row
        if row["bottom"] - row["top"] > bottom - top:
            # Longer than the box (random words can run to many lines): the chat follows the newest
            # text, so the answer's end, its timings, is what shows, and the answer fills most of it.
            shown = {**row, "top": max(row["top"], top)}
            assert shown["bottom"] - shown["top"] >= (bottom - top) / 2, (row, chat)
        _within(shown, top=top, bottom=bottom, width=width)
    _within(_edges(page.locator("#chat-input").bounding_box()), top=0, bottom=height, width=width)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-phone.png"))
    context.close()


def _edges(box: dict | None) -> dict:
    assert box is not None
    return {
        "top": box["y"],
        "bottom": box["y"] + box["height"],
        "left": box["x"],
        "right": box["x"] + box["width"],
    }


def _within(box: dict, top: float, bottom: float, width: float) -> None:
    """The box lies between `top` and `bottom` (a pixel's slack) and inside the window's width."""
    assert box["top"] >= top - 1, (box, top)
    assert box["bottom"] <= bottom + 1, (box, bottom)
    assert box["left"] >= 0, box
    assert box["right"] <= width, (box, width)


def test_audio_visual_interaction_answers_a_spoken_request_alone(page: Page) -> None:
    """Upstream's first Audio-Visual Interaction example is a recording with no video: so is this one."""
    page.locator("#tab-audio-visual-button").click()
    page.locator("#cases-audio-visual").get_by_text("Audio-Visual Interaction", exact=True).click()
    case = page.locator("#case-audio-visual-interaction")
    expect(case).to_be_visible(timeout=10_000)
    case.locator("#video-audio-visual-interaction").get_by_role(
        "button", name=re.compile("Clear|Remove")
    ).first.click()
    speech = Path(__file__).resolve().parents[2] / "assets" / "speech_en.wav"
    case.locator("#audio-audio-visual-interaction input[type=file]").set_input_files(str(speech))
    page.locator("#run-audio-visual-interaction").click()
    timings = page.locator("#timings-audio-visual-interaction")
    expect(timings).to_contain_text("total", timeout=90_000)
    expect(page.locator("#answer-audio-visual-interaction")).not_to_be_empty()
    # The model heard the recording and saw no video.
    assert "audio" in timings.inner_text()
    assert "video" not in timings.inner_text()


def test_image_math_presets_bring_their_own_problem_and_picture(page: Page) -> None:
    page.locator("#tab-visual-button").click()
    page.locator("#cases-visual").get_by_text("Image Math", exact=True).click()
    case = page.locator("#case-image-math")
    expect(case.locator("#before-image-math textarea")).to_have_value(re.compile("lawn sprinkler"))
    case.get_by_label("Prompt preset").click()
    page.get_by_role("option", name="Cost function J(0) (multiple choice)").click()
    expect(case.locator("#before-image-math textarea")).to_have_value(re.compile("training set with m=3"))
    expect(case.locator("#prompt-image-math textarea")).to_have_value(re.compile("D. 14/6"))
    expect(case.locator("#image-image-math img")).to_have_attribute("src", re.compile("math_cost"))
    page.locator("#run-image-math").click()
    expect(page.locator("#timings-image-math")).to_contain_text("total", timeout=90_000)
