"""build_demo(engine): the whole page. The only UI entry point app.py needs."""

from __future__ import annotations

import gradio as gr

from omni_demo.config import DEFAULT_GPU_MODEL, DEFAULTS
from omni_demo.engine.base import Engine
from omni_demo.feedback import FeedbackStore
from omni_demo.housekeeping.sweep import CacheSweeper
from omni_demo.i18n import EN, LANGUAGES, text
from omni_demo.types import ModelInfo
from omni_demo.ui.api import build_api, hide_internal_endpoints
from omni_demo.ui.chat import GPU, build_chat_tab
from omni_demo.ui.cookbook import build_cookbook_tabs
from omni_demo.ui.i18n import language_switch, pair, t, wire_switch
from omni_demo.ui.live import build_live_tab

TITLE = text("page.title", EN)  # the browser tab's title (Gradio does not translate it)

# On a phone the header would fill the first screen (the title beside the language buttons, then the
# whole preview banner), so there it shrinks to a few lines: a smaller title with the buttons on the
# same line, the banner's first sentence only, and a shorter chat, so that the message box and the
# latest answer are on the first screen. The page carries it itself (see `_page_style`).
PAGE_CSS = """
#page-style { display: none !important; }
@media (max-width: 640px) {
  #page-header { flex-wrap: nowrap; align-items: flex-start; gap: 8px; }
  #page-header > .column { min-width: 0 !important; }
  #banner h1 { font-size: 1.25rem; margin: 0 0 2px; }
  #banner p { margin: 2px 0; font-size: 0.85rem; line-height: 1.35; }
  #banner .banner-more { display: none; }
  #language-switch { flex: 0 0 auto; width: auto; min-width: 0; flex-wrap: nowrap; gap: 4px; }
  #language-switch button { flex: 0 0 auto; min-width: 0 !important; padding: 2px 8px; white-space: nowrap; }
  #chatbot { height: 40vh !important; min-height: 200px; }
}
"""


def banner(info: ModelInfo, lang: str = EN) -> str:
    kind = info.capabilities.kind.value.capitalize()
    line = text("page.model", lang, name=info.name, kind=kind, device=info.device)
    heading = f"# {text('page.title', lang)}\n{line}"
    if not info.is_preview:
        return heading
    more = text("page.preview_more", lang, model=DEFAULT_GPU_MODEL)
    return f'{heading}\n\n{text("page.preview", lang)} <span class="banner-more">{more}</span>'


def build_demo(
    engine: Engine,
    feedback: FeedbackStore | None = None,
    temp_max_age_s: float = DEFAULTS.temp_max_age_s,
    limits: dict[str, object] | None = None,
) -> gr.Blocks:
    """The page. Gradio's cache (uploads, returned files) is to be swept every `temp_max_age_s` / 4 of
    whatever is older than `temp_max_age_s` (`start_cache_sweeper`, once launched), so the disk it
    uses stays bounded however long it runs."""
    with gr.Blocks(title=TITLE, delete_cache=_cache_rule(temp_max_age_s)) as demo:
        with gr.Row(equal_height=False, elem_id="page-header"):
            with gr.Column(scale=1, min_width=320):  # on a phone PAGE_CSS keeps the buttons beside it
                gr.Markdown(
                    pair(**{lang.replace("-", "_"): banner(engine.info, lang) for lang in LANGUAGES}),
                    elem_id="banner",
                )
            switch = language_switch()
        with gr.Tabs():
            with gr.Tab(t("tab.chat"), id="chat") as chat:
                build_chat_tab(engine, feedback)
            with gr.Tab(t("tab.live"), id="live", elem_id="tab-live") as live:
                build_live_tab(engine)
            tabs = build_cookbook_tabs(engine, feedback)
        wire_switch(switch, [(chat, t("tab.chat")), (live, t("tab.live")), *tabs])
        build_api(engine, limits)
        _page_style()
    hide_internal_endpoints(demo)
    demo.queue(default_concurrency_limit=1)
    _share_generations(demo, generations_let_through(engine))
    return demo


def generations_let_through(engine: Engine) -> int | None:
    """How many requests the page lets reach the engine at once (None: all).

    The local engine keeps its own line (`admission`): it runs what the GPU holds, tells the others
    their place as it changes, and refuses in one sentence past its longest line, so every request goes
    through; Gradio's queue would keep them where their place is unknown. A remote back-end runs its
    `concurrency` at once and the rest wait in Gradio's queue.
    """
    if getattr(engine, "admission", None) is not None:
        return None
    return getattr(engine, "concurrency", 1)


def _page_style() -> None:
    """PAGE_CSS as a <style> in the page (its own block hidden): it goes with every way the page is
    served, not only with app.py's launch()."""
    gr.HTML(f"<style>{PAGE_CSS}</style>", elem_id="page-style", container=False, padding=False)


def _cache_rule(temp_max_age_s: float) -> tuple[int, int]:
    """(sweep every, remove files older than), in whole seconds as Gradio takes them."""
    return max(1, int(temp_max_age_s // 4)), max(1, int(temp_max_age_s))


def start_cache_sweeper(demo: gr.Blocks, temp_max_age_s: float = DEFAULTS.temp_max_age_s) -> CacheSweeper:
    """The sweep of Gradio's cache that survives concurrent requests (see `sweep`), by the same rule."""
    every, age = _cache_rule(temp_max_age_s)
    sweeper = CacheSweeper(demo, every_s=every, max_age_s=age)
    sweeper.start()
    return sweeper


def _share_generations(demo: gr.Blocks, limit: int | None) -> None:
    """Let `limit` generations run at once (None: any number): widen the one generation slot to that.

    Every event that runs the model shares the concurrency id GPU; Gradio makes that id's queue on
    first use, from the events' limits (the lowest wins), so changing them all before launch is enough.
    """
    if limit == 1:
        return
    for fn in demo.fns.values():
        if fn.concurrency_id == GPU:
            fn.concurrency_limit = limit
