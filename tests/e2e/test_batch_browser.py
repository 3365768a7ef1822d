"""Several testers at once: four browser pages send together and all four answers stream together."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from e2e.test_browser import CHROMIUM, FLAGS, _send, _set_max_tokens

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PAGES = 4  # the preview engine decodes up to 4 requests together on a CPU (the default --max-batch)

pytestmark = pytest.mark.e2e

# Wall-clock times (shared by every page of this browser): when the latest answer first showed text,
# and when its timings line (the answer's end) appeared.
RECORDER = """() => {
    const r = window.__rec = {firstText: null, timings: null};
    window.__recTimer = setInterval(() => {
        const bots = document.querySelectorAll('.message-row.bot-row');
        const last = bots[bots.length - 1];
        if (!last) return;
        const now = Date.now();
        if (r.firstText === null && last.innerText.trim().length > 0) r.firstText = now;
        if (r.timings === null && last.innerText.includes('Timings')) r.timings = now;
    }, 20);
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    playwright: Playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def _open(browser: Browser, app_url: str) -> Page:
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.goto(app_url)
    expect(page.locator("#banner")).to_contain_text("Preview model")
    _set_max_tokens(page, 300)
    page.evaluate(RECORDER)
    return page


def test_four_testers_at_once_all_stream_before_any_finishes(browser: Browser, app_url: str) -> None:
    pages = [_open(browser, app_url) for _ in range(PAGES)]
    try:
        for index, page in enumerate(pages):
            _send(page, f"Tester {index + 1}: tell me about lighthouses.")
        for page in pages:
            expect(page.get_by_text("Timings")).to_be_visible(timeout=240_000)
            page.wait_for_function("() => window.__rec.timings !== null", timeout=5_000)
        records = [page.evaluate("() => window.__rec") for page in pages]
        ARTIFACTS.mkdir(exist_ok=True)
        for index, page in enumerate(pages):
            page.screenshot(path=str(ARTIFACTS / f"batch-{index + 1}.png"), full_page=True)
    finally:
        for page in pages:
            page.context.close()
    # Every answer was streaming before the first of them ended: nobody waited for someone else's.
    assert all(r["firstText"] is not None and r["timings"] is not None for r in records), records
    last_start = max(r["firstText"] for r in records)
    first_end = min(r["timings"] for r in records)
    assert last_start < first_end, records
