"""The catalog of `omni_demo.i18n` handed to Gradio.

Two paths, one catalog:
- Text fixed when the page is built (labels, tab and case names, descriptions, the banner) is given to
  components as `gr.I18n` keys; the browser translates it, from its own language and again at once
  when the language is switched (the buttons at the top, or Gradio's Settings).
- Text made while serving (answers' notes, the timings line, error toasts) is translated on the server:
  every such event sends the page's current language (`document.documentElement.lang`, which Gradio
  keeps equal to its locale) through a hidden textbox as its last input.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable

import gradio as gr
from gradio.i18n import I18nData

from omni_demo.i18n import EN, LANGUAGES, ZH, Words, both
from omni_demo.i18n.ui import UI

# Writes the page's current language into the event's last input (the hidden `lang_box()`).
LANG_JS = "(...args) => { args[args.length - 1] = document.documentElement.lang || 'en'; return args; }"

# Switches Gradio's own locale (what its Settings panel does) by loading the very module the page
# loaded, so the whole page, Gradio's built-in texts included, is re-translated in place.
_SWITCH_JS = """async () => {
    const locale = %s;
    const core = performance.getEntriesByType('resource').map((e) => e.name)
        .find((name) => /\\/core-[^/]*\\.js$/.test(name));
    if (!core) { return; }
    (await import(core)).changeLocale(locale);
    // A language's built-in texts load lazily: wait until the page has switched.
    for (let i = 0; i < 40 && document.documentElement.lang !== locale; i++) {
        await new Promise((done) => setTimeout(done, 50));
    }
}"""

_computed: dict[str, dict[str, str]] = {}  # keys made while building pages: key -> {lang: text}


def t(key: str, **values: object) -> I18nData:
    """A page-text key for a component; with `values`, a key for that filled-in text."""
    if key not in UI:
        raise KeyError(f"page text {key!r} is not in omni_demo.i18n.ui.UI")
    if not values:
        return I18nData(key)
    return pair(**both(key, **values))


def pair(**texts: str) -> I18nData:
    """A key for text computed at build time, given in every language (`en=..., zh_CN=...`)."""
    by_lang = {lang.replace("_", "-"): value for lang, value in texts.items()}
    if set(by_lang) != set(LANGUAGES):
        raise ValueError(f"page text needs {LANGUAGES}, got {sorted(by_lang)}")
    digest = hashlib.sha1(json.dumps(by_lang, sort_keys=True).encode()).hexdigest()[:12]
    key = f"omni.{digest}"
    _computed[key] = by_lang
    return I18nData(key)


def in_every_language(render: Callable[[str], str]) -> I18nData:
    """A key for text made at build time by `render(lang)` in each language."""
    return pair(**{lang.replace("-", "_"): render(lang) for lang in LANGUAGES})


def named(names: Iterable[Words]) -> list[tuple[I18nData, str]]:
    """Dropdown or radio choices shown in the page's language; each value stays the English name."""
    return [(in_every_language(name.render), str(name)) for name in names]


def translations() -> gr.I18n:
    """Every page text, for `launch(i18n=...)`; call after the page is built."""
    tables: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for key, (english, chinese) in UI.items():
        tables[EN][key] = english
        tables[ZH][key] = chinese
    for key, by_lang in _computed.items():
        for lang, value in by_lang.items():
            tables[lang][key] = value
    return gr.I18n(**tables)


def lang_box() -> gr.Textbox:
    """The hidden input that `LANG_JS` fills with the page's language."""
    return gr.Textbox(value=EN, visible=False)


def language_switch() -> dict[str, gr.Button]:
    """Two small buttons that switch the page between English and Chinese; wire them with `wire_switch`."""
    with gr.Row(elem_id="language-switch"):
        return {
            locale: gr.Button(t(key), size="sm", scale=0, min_width=80, elem_id=elem_id)
            for key, locale, elem_id in (("lang.en", EN, "lang-en"), ("lang.zh", ZH, "lang-zh"))
        }


def wire_switch(buttons: dict[str, gr.Button], tabs: list[tuple[gr.Tab, I18nData]]) -> None:
    """Switch the locale, then send every tab its label again.

    Gradio re-translates only the tabs on screen; the others keep the old language until their label
    is sent again, which then is translated in the new locale.
    """
    components = [tab for tab, _ in tabs]

    def relabel() -> list[gr.Tab]:
        return [gr.Tab(label=label) for _, label in tabs]

    for locale, button in buttons.items():
        button.click(
            relabel,
            None,
            components,
            js=_SWITCH_JS % json.dumps(locale),
            queue=False,
            show_progress="hidden",
            api_visibility="private",
        )
