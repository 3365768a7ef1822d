"""Past --max-sessions Gradio drops the session unused longest; its page says so and goes on after Clear."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect, sync_playwright

from e2e.test_browser import ARTIFACTS, CHROMIUM, FLAGS, _send
from omni_demo.bench.loadtest import _Server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def one_session_url() -> Iterator[str]:
    server = _Server(temp_max_age_s=3600, extra=["--max-sessions", "1", "--no-warmup"])
    try:
        server.wait_until_up()
        yield server.url
    finally:
        server.stop()


def test_a_dropped_session_says_so_and_clear_starts_again(one_session_url: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        first, second = (browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2))
        a, b = first.new_page(), second.new_page()
        a.goto(one_session_url)
        _send(a, "My name is Ada.")
        expect(a.get_by_text("Timings")).to_be_visible(timeout=60_000)

        b.goto(one_session_url)  # a second session: the server keeps one, so it drops the first
        _send(b, "Hello from the second tab.")
        expect(b.get_by_text("Timings")).to_be_visible(timeout=60_000)

        _send(a, "What is my name?")
        expect(a.get_by_text("The server no longer holds this conversation")).to_be_visible(timeout=20_000)
        expect(a.get_by_text("My name is Ada.")).to_be_visible()  # the page keeps what it showed
        ARTIFACTS.mkdir(exist_ok=True)
        a.screenshot(path=str(ARTIFACTS / "session-dropped.png"), full_page=True)

        a.locator("#clear-button").click()
        expect(a.get_by_text("My name is Ada.")).not_to_be_visible()
        _send(a, "Hello again.")
        expect(a.get_by_text("Timings")).to_be_visible(timeout=60_000)
        browser.close()
