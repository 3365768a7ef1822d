"""Several testers at once: four browser pages send together and all four answers stream together;
a fifth page, beyond what the engine decodes together, is told its place in line, then answered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from e2e.conftest import running_app
from e2e.test_browser import CHROMIUM, FLAGS, _send, _set_max_tokens

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PAGES = 4  # the preview engine decodes up to 4 requests together on a CPU (the default --max-batch)

pytestmark = pytest.mark.e2e

# Wall-clock times (shared by every page of this browser): when the latest answer first showed text (not
# the waiting sentence),
# and when its timings line (the answer's end) appeared.
RECORDER = """() => {
    const r = window.__rec = {firstText: null, timings: null};
    window.__recTimer = setInterval(() => {
        const bots = document.querySelectorAll('.message-row.bot-row');
        const last = bots[bots.length - 1];
        if (!last) return;
        const now = Date.now();
        const text = last.innerText.trim();
        const answer = text.length > 0 && !text.includes('Waiting for the GPU');
        if (r.firstText === null && answer) r.firstText = now;
        if (r.timings === null && last.innerText.includes('Timings')) r.timings = now;
    }, 20);
}"""


@pytest.fixture(scope="module")
def batch_app_url(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with its default --max-batch (4 on a CPU)."""
    with running_app(cache_dir, tmp_path_factory.mktemp("batch-tmp"), "app-batch.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    playwright: Playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def _open(browser: Browser, app_url: str, tokens: int) -> Page:
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.goto(app_url)
    expect(page.locator("#banner")).to_contain_text("Preview model")
    _set_max_tokens(page, tokens)
    page.evaluate(RECORDER)
    return page


def test_four_testers_at_once_all_stream_and_a_fifth_waits_its_turn(
    browser: Browser, batch_app_url: str
) -> None:
    pages = [_open(browser, batch_app_url, 300) for _ in range(PAGES)]
    fifth = _open(browser, batch_app_url, 16)
    try:
        for index, page in enumerate(pages):
            _send(page, f"Tester {index + 1}: tell me about lighthouses.")
        for page in pages:
            expect(page.locator(".message-row.bot-row").first).not_to_be_empty(timeout=90_000)
        _send(fifth, "Tester 5: am I in line?")
        waiting = fifth.locator("#chatbot").get_by_text("Waiting for the GPU: you're next.")
        expect(waiting).to_be_visible(timeout=30_000)
        ARTIFACTS.mkdir(exist_ok=True)
        fifth.screenshot(path=str(ARTIFACTS / "batch-fifth-waiting.png"), full_page=True)
        for page in [*pages, fifth]:
            expect(page.get_by_text("Timings")).to_be_visible(timeout=240_000)
            page.wait_for_function("() => window.__rec.timings !== null", timeout=5_000)
        expect(waiting).to_have_count(0)
        records = [page.evaluate("() => window.__rec") for page in pages]
        fifth_record = fifth.evaluate("() => window.__rec")
        for index, page in enumerate(pages):
            page.screenshot(path=str(ARTIFACTS / f"batch-{index + 1}.png"), full_page=True)
    finally:
        for page in [*pages, fifth]:
            page.context.close()
    # Every answer was streaming before the first of them ended: nobody waited for someone else's.
    assert all(r["firstText"] is not None and r["timings"] is not None for r in records), records
    last_start = max(r["firstText"] for r in records)
    first_end = min(r["timings"] for r in records)
    assert last_start < first_end, records
    # The fifth, told it waited, was answered once a place was free, after all four were streaming.
    assert fifth_record["firstText"] > last_start, (fifth_record, records)
