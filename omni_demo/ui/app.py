"""build_demo(engine): the whole page. The only UI entry point app.py needs."""

from __future__ import annotations

import gradio as gr

from omni_demo.config import DEFAULT_GPU_MODEL, DEFAULT_TEMP_MAX_AGE_S
from omni_demo.engine.base import Engine
from omni_demo.feedback import FeedbackStore
from omni_demo.i18n import EN, LANGUAGES, text
from omni_demo.types import ModelInfo
from omni_demo.ui.api import build_api, hide_internal_endpoints
from omni_demo.ui.chat import GPU, build_chat_tab
from omni_demo.ui.cookbook import build_cookbook_tabs
from omni_demo.ui.i18n import language_switch, pair, t, wire_switch
from omni_demo.ui.live import build_live_tab
from omni_demo.ui.sweep import CacheSweeper

TITLE = text("page.title", EN)  # the browser tab's title (Gradio does not translate it)


def banner(info: ModelInfo, lang: str = EN) -> str:
    kind = info.capabilities.kind.value.capitalize()
    line = text("page.model", lang, name=info.name, kind=kind, device=info.device)
    heading = f"# {text('page.title', lang)}\n{line}"
    if not info.is_preview:
        return heading
    return f"{heading}\n\n{text('page.preview', lang, model=DEFAULT_GPU_MODEL)}"


def build_demo(
    engine: Engine,
    feedback: FeedbackStore | None = None,
    temp_max_age_s: float = DEFAULT_TEMP_MAX_AGE_S,
    limits: dict[str, object] | None = None,
) -> gr.Blocks:
    """The page. Gradio's cache (uploads, returned files) is to be swept every `temp_max_age_s` / 4 of
    whatever is older than `temp_max_age_s` (`start_cache_sweeper`, once launched), so the disk it
    uses stays bounded however long it runs."""
    with gr.Blocks(title=TITLE, delete_cache=_cache_rule(temp_max_age_s)) as demo:
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=320):  # on a phone the language buttons wrap below it
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
    hide_internal_endpoints(demo)
    demo.queue(default_concurrency_limit=1)
    _share_generations(demo, getattr(engine, "concurrency", 1))
    return demo


def _cache_rule(temp_max_age_s: float) -> tuple[int, int]:
    """(sweep every, remove files older than), in whole seconds as Gradio takes them."""
    return max(1, int(temp_max_age_s // 4)), max(1, int(temp_max_age_s))


def start_cache_sweeper(demo: gr.Blocks, temp_max_age_s: float = DEFAULT_TEMP_MAX_AGE_S) -> CacheSweeper:
    """The sweep of Gradio's cache that survives concurrent requests (see `sweep`), by the same rule."""
    every, age = _cache_rule(temp_max_age_s)
    sweeper = CacheSweeper(demo, every_s=every, max_age_s=age)
    sweeper.start()
    return sweeper


def _share_generations(demo: gr.Blocks, limit: int) -> None:
    """A remote back-end serves `limit` answers at once: widen the one generation slot to that.

    Every event that runs the model shares the concurrency id GPU; Gradio makes that id's queue on
    first use, from the events' limits, so changing them before launch is enough.
    """
    if limit <= 1:
        return
    for fn in demo.fns.values():
        if fn.concurrency_id == GPU:
            fn.concurrency_limit = limit
