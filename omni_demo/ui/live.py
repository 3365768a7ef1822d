"""The Live tab: press Start once, then just talk; the model answers aloud and can be interrupted.

The page talks to the WebSocket endpoint `/v1/realtime` (`omni_demo.realtime`) straight from the
browser: the panel is a `gr.HTML` whose script (`live.js`) records the microphone, plays the answers
and shows the conversation. The settings beside it are ordinary Gradio controls; their values reach
the script through a DOM event, with no round trip to the server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gradio as gr

from omni_demo.engine.base import Engine
from omni_demo.i18n import EN, LANGUAGES, render, sentence_from, text
from omni_demo.i18n.sentences import SENTENCES
from omni_demo.i18n.ui import UI
from omni_demo.presets import SYSTEM_PROMPTS, default_system_prompt, preset_name, reply_sampling
from omni_demo.types import ModelKind
from omni_demo.ui.chat import PRIVATE
from omni_demo.ui.i18n import named, t

SCRIPT = Path(__file__).with_name("live.js")
MAX_TOKENS = 4096  # the most `max_output_tokens` the endpoint takes

# The settings' current values, sent to the panel's script (live.js listens for this event).
SETTINGS_JS = """(instructions, voice, speak, maxTokens) => {
    const detail = {instructions, voice, speak, maxTokens};
    window.omniLiveSettings = {...(window.omniLiveSettings || {}), ...detail};
    window.dispatchEvent(new CustomEvent('omni-live-settings', {detail}));
}"""

CSS = """
.omni-live { display: flex; flex-direction: column; gap: 10px; }
.live-bar { display: flex; align-items: center; gap: 14px; flex-wrap: wrap; }
.live-start {
    font-size: 1.15rem; font-weight: 600; padding: 12px 34px; min-width: 128px; border-radius: 999px;
    border: none; cursor: pointer; color: var(--button-primary-text-color);
    background: var(--button-primary-background-fill);
}
.live-start:hover { background: var(--button-primary-background-fill-hover); }
.live-start:disabled { opacity: 0.5; cursor: not-allowed; }
.omni-live:not([data-state="idle"]) .live-start {
    color: var(--button-cancel-text-color); background: var(--button-cancel-background-fill);
}
.live-status {
    display: flex; align-items: center; gap: 8px; font-weight: 600; min-height: 1.6em; flex: 1 1 150px;
}
.live-dot { width: 12px; height: 12px; border-radius: 50%; flex: none; background: var(--neutral-400); }
.omni-live[data-state="listening"] .live-dot { background: #22c55e; }
.omni-live[data-state="hearing"] .live-dot { background: #f97316; animation: live-pulse 0.8s infinite; }
.omni-live[data-state="thinking"] .live-dot,
.omni-live[data-state="connecting"] .live-dot { background: #3b82f6; animation: live-pulse 1.2s infinite; }
.omni-live[data-state="waiting"] .live-dot { background: #eab308; animation: live-pulse 1.6s infinite; }
.omni-live[data-state="speaking"] .live-dot,
.omni-live[data-state="answering"] .live-dot { background: #a855f7; animation: live-pulse 0.6s infinite; }
@keyframes live-pulse { 50% { opacity: 0.35; } }
.live-pos { font-weight: 400; font-variant-numeric: tabular-nums; color: var(--body-text-color-subdued); }
.live-level {
    width: 64px; height: 6px; border-radius: 3px; overflow: hidden; background: var(--neutral-200);
}
.live-level i { display: block; height: 100%; width: 0; background: #22c55e; transition: width 60ms linear; }
.omni-live.unsupported .live-status, .omni-live.unsupported .live-level { visibility: hidden; }
.live-hints { margin: 0; font-size: 0.88em; color: var(--body-text-color-subdued); }
.live-hints span { display: block; }
.live-error, .live-insecure {
    margin: 0; padding: 8px 12px; border-radius: 8px; color: var(--error-text-color);
    background: var(--error-background-fill); border: 1px solid var(--error-border-color);
}
.live-log {
    list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 8px;
    max-height: 60vh; overflow-y: auto;
}
.live-turn { padding: 8px 12px; border-radius: 14px; max-width: 88%; overflow-wrap: anywhere; }
.live-turn.user { align-self: flex-end; background: var(--color-accent-soft); }
.live-turn.assistant {
    align-self: flex-start; background: var(--background-fill-secondary);
    border: 1px solid var(--border-color-primary);
}
.live-camera {
    padding: 6px 14px; border-radius: 999px; cursor: pointer; color: var(--body-text-color);
    background: var(--button-secondary-background-fill); border: 1px solid var(--border-color-primary);
}
.live-camera[aria-pressed="true"] { background: var(--color-accent-soft); border-color: var(--color-accent); }
.live-preview { width: 96px; height: 72px; object-fit: cover; border-radius: 8px; background: #000; }
.omni-live.no-camera .live-camera, .omni-live.no-camera .live-hints span:last-child { display: none; }
.live-meta { display: block; margin-top: 4px; font-size: 0.8em; color: var(--body-text-color-subdued); }
.live-meta:empty { display: none; }
"""


def _html() -> str:
    """The panel; live.js writes its texts (`data-t` keys) in the page's language and fills it in."""

    def hint(key: str) -> str:
        return f'<span data-t="{key}">{text(key, EN)}</span>'

    return f"""<div class="omni-live" data-state="idle">
  <div class="live-bar">
    <button type="button" class="live-start" id="live-start">{text("live.start", EN)}</button>
    <div class="live-status" role="status">
      <span class="live-dot"></span>
      <span class="live-state" id="live-state">{text("live.state.idle", EN)}</span>
      <span class="live-pos" id="live-pos"></span>
    </div>
    <span class="live-level" aria-hidden="true"><i></i></span>
    <button type="button" class="live-camera" id="live-camera" aria-pressed="false">
      {text("live.camera.on", EN)}</button>
    <video class="live-preview" id="live-preview" muted playsinline hidden></video>
  </div>
  <p class="live-insecure" id="live-insecure" data-t="live.insecure" hidden></p>
  <p class="live-error" id="live-error" role="alert" hidden></p>
  <p class="live-hints">{hint("live.hint")}{hint("live.headphones")}{hint("live.camera.hint")}</p>
  <ol class="live-log" id="live-log" aria-live="polite"></ol>
</div>"""


def _script(setup: dict[str, Any]) -> str:
    live = {key: value for key, value in UI.items() if key.startswith("live.")}
    # The place in the GPU's line comes from the server as a sentence's key and fields.
    live |= {key: value for key, value in SENTENCES.items() if key.startswith("queue.")}
    texts = {key: dict(zip(LANGUAGES, value, strict=True)) for key, value in live.items()}
    source = SCRIPT.read_text(encoding="utf-8")
    return source.replace("__TEXTS__", json.dumps(texts, ensure_ascii=False)).replace(
        "__SETUP__", json.dumps(setup, ensure_ascii=False)
    )


def live_sentence(args: Any) -> str:
    """An error's sentence from the live endpoint (its key and fields, as the error event carries
    them) in the page's language; called by live.js as `server.live_sentence(sentence, lang)`. "" for
    what it can't read, so the page keeps the English message."""
    sentence, lang = args if isinstance(args, list) and len(args) == 2 else (args, EN)
    try:
        return render(sentence_from(sentence), str(lang))
    except ValueError:
        return ""


def build_live_tab(engine: Engine) -> gr.HTML:
    caps = engine.info.capabilities
    max_tokens = min(reply_sampling(engine.info).max_new_tokens, MAX_TOKENS)
    # As the chat: a spoken conversation starts with upstream's voice-assistant prompt.
    instructions = default_system_prompt(caps.speech_output) if caps.text_input else ""
    settings = {
        "instructions": instructions,
        "voice": caps.default_voice,
        "speak": caps.speech_output,
        "maxTokens": max_tokens,
    }
    setup = {
        "speech": caps.speech_output,
        "camera": caps.kind is not ModelKind.CAPTIONER,
        "settings": settings,
    }
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=300):
            panel = gr.HTML(
                _html(),
                css_template=CSS,
                js_on_load=_script(setup),
                server_functions=[live_sentence],
                elem_id="live-panel",
                padding=False,
            )
        with gr.Column(scale=1, min_width=280), gr.Accordion(t("live.settings"), open=True):
            gr.Markdown(t("live.later"))
            preset = gr.Dropdown(
                named(SYSTEM_PROMPTS),
                value=preset_name(instructions),
                label=t("chat.preset"),
                visible=caps.text_input,
            )
            system_prompt = gr.Textbox(
                value=instructions,
                label=t("chat.system"),
                lines=3,
                visible=caps.text_input,
                placeholder=t("chat.none"),
                elem_id="live-system",
            )
            voice = gr.Dropdown(
                list(caps.voices),
                value=caps.default_voice,
                label=t("chat.voice"),
                visible=caps.speech_output,
                elem_id="live-voice",
            )
            speak = gr.Checkbox(
                value=caps.speech_output,
                label=t("chat.speak"),
                visible=caps.speech_output,
                elem_id="live-speak",
            )
            tokens = gr.Slider(
                8, MAX_TOKENS, value=max_tokens, step=8, label=t("live.max_tokens"), elem_id="live-max-tokens"
            )
    preset.change(
        lambda name: SYSTEM_PROMPTS.get(name, ""), preset, system_prompt, queue=False, api_visibility=PRIVATE
    )
    controls = [system_prompt, voice, speak, tokens]
    gr.on(
        [c.change for c in controls],
        None,
        controls,
        None,
        js=SETTINGS_JS,
        queue=False,
        show_progress="hidden",
        api_visibility=PRIVATE,
    )
    return panel
