"""The Chat tab: a multi-turn multimodal chat with streamed text and speech."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import gradio as gr

from omni_demo.engine.base import Engine
from omni_demo.feedback import FeedbackStore
from omni_demo.presets import SYSTEM_PROMPTS, default_system_prompt, preset_name, reply_sampling
from omni_demo.transcript import Exchange
from omni_demo.types import Capabilities, Media, Turn
from omni_demo.ui import feedback, handlers, takeaway
from omni_demo.ui.handlers import ChatOptions
from omni_demo.ui.i18n import LANG_JS, lang_box, named, t
from omni_demo.ui.render import without_waiting

PRIVATE = "private"  # internal events stay out of the API
# One concurrency id for every event that runs the model; ui/app.py sets how many of them run at once
# (`generations_let_through`: all for the local engine, which keeps its own line).
GPU = "gpu"
# Upstream's web demo lets a reply run this long with transformers (long Thinking traces). The default
# stays lower: the fast engine sizes its caches from the request's limit.
MAX_NEW_TOKENS = 32_768


@dataclass
class SettingsPanel:
    """The controls beside the chat; `inputs` is in ChatOptions' field order."""

    system_prompt: gr.Textbox
    voice: gr.Dropdown
    speak: gr.Checkbox
    audio_in_video: gr.Checkbox
    temperature: gr.Slider
    top_p: gr.Slider
    top_k: gr.Slider
    max_new_tokens: gr.Slider

    @property
    def inputs(self) -> list[gr.components.Component]:
        return [
            self.system_prompt,
            self.voice,
            self.speak,
            self.audio_in_video,
            self.temperature,
            self.top_p,
            self.top_k,
            self.max_new_tokens,
        ]


def max_new_tokens_limit(engine: Engine) -> int:
    """The most new tokens a reply may ask for: upstream's limit, within the model's context where the
    engine holds the model (a remote back-end refuses a longer request itself), as a multiple of the
    slider's step of 8."""
    config = getattr(getattr(engine, "model", None), "config", None)
    thinker = getattr(getattr(config, "thinker_config", None), "text_config", None)
    context = int(getattr(thinker, "max_position_embeddings", MAX_NEW_TOKENS))
    return max(8, min(MAX_NEW_TOKENS, context) // 8 * 8)


def chat_defaults(engine: Engine) -> ChatOptions:
    """The chat tab's initial settings; the API's defaults are the same."""
    caps = engine.info.capabilities
    sampling = reply_sampling(engine.info)
    return ChatOptions(
        system_prompt=default_system_prompt(caps.speech_output),
        voice=caps.default_voice,
        speak=caps.speech_output,
        audio_in_video=True,  # heard where a video has a sound track (see handlers.hears_video_sound)
        temperature=sampling.temperature,
        top_p=sampling.top_p,
        top_k=sampling.top_k,
        max_new_tokens=sampling.max_new_tokens,
    )


def settings_panel(engine: Engine) -> SettingsPanel:
    caps = engine.info.capabilities
    defaults = chat_defaults(engine)
    with gr.Column(scale=1, min_width=280):
        preset = gr.Dropdown(
            named(SYSTEM_PROMPTS),
            value=preset_name(defaults.system_prompt),
            label=t("chat.preset"),
            visible=caps.text_input,
        )
        system_prompt = gr.Textbox(
            value=defaults.system_prompt,
            label=t("chat.system"),
            lines=4,
            max_lines=8,
            visible=caps.text_input,
            placeholder=t("chat.none"),
            elem_id="system-prompt",
        )
        no_prompt = gr.Button(
            t("chat.no_system"), size="sm", visible=caps.text_input, elem_id="clear-system-prompt"
        )
        preset.change(
            lambda name: SYSTEM_PROMPTS.get(name, ""),
            preset,
            system_prompt,
            queue=False,
            api_visibility=PRIVATE,
        )
        no_prompt.click(
            lambda: (preset_name(""), ""), None, [preset, system_prompt], queue=False, api_visibility=PRIVATE
        )
        voice = gr.Dropdown(
            list(caps.voices), value=defaults.voice, label=t("chat.voice"), visible=caps.speech_output
        )
        speak = gr.Checkbox(value=defaults.speak, label=t("chat.speak"), visible=caps.speech_output)
        audio_in_video = gr.Checkbox(
            value=defaults.audio_in_video,
            label=t("chat.aiv"),
            info=t("chat.aiv_info"),
            visible=caps.kind.value != "captioner",
        )
        with gr.Accordion(t("chat.sampling"), open=False):
            temperature = gr.Slider(
                0, 1.5, value=defaults.temperature, step=0.05, label=t("chat.temperature")
            )
            top_p = gr.Slider(0.05, 1, value=defaults.top_p, step=0.05, label=t("chat.top_p"))
            top_k = gr.Slider(1, 100, value=defaults.top_k, step=1, label=t("chat.top_k"))
            max_new_tokens = gr.Slider(
                8,
                max_new_tokens_limit(engine),
                value=defaults.max_new_tokens,
                step=8,
                label=t("chat.max_tokens"),
                elem_id="max-new-tokens",
            )
    return SettingsPanel(
        system_prompt, voice, speak, audio_in_video, temperature, top_p, top_k, max_new_tokens
    )


def _options(values: tuple[Any, ...]) -> ChatOptions:
    return ChatOptions(*values)


def build_chat_tab(engine: Engine, store: FeedbackStore | None = None) -> None:
    caps = engine.info.capabilities
    # This browser session's conversation, kept once: the chat's messages and the model's turns are
    # derived from it (see `handlers`).
    exchanges = gr.State([])  # list[Exchange]: each answer with its settings, timings and speech
    pending = gr.State(None)  # Exchange | None: the question being answered, with its answer so far
    lang = lang_box()
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(
                label=t("chat.conversation"), height=520, buttons=["copy"], elem_id="chatbot"
            )
            speech = gr.Audio(
                label=t("chat.speech"),
                streaming=True,
                autoplay=True,
                interactive=False,
                visible=caps.speech_output,
                elem_id="speech-stream",
            )
            if caps.text_input:
                box = gr.MultimodalTextbox(
                    placeholder=t("chat.placeholder"),
                    file_types=["audio", "image", "video"],
                    file_count="multiple",
                    sources=["upload", "microphone"],
                    show_label=False,
                    elem_id="chat-input",
                )
            else:
                box = gr.Audio(sources=["upload", "microphone"], type="filepath", label=t("chat.one_clip"))
            with gr.Row():
                send = gr.Button(t("chat.send" if caps.text_input else "chat.describe"), variant="primary")
                stop = gr.Button(t("chat.stop"), variant="stop", elem_id="stop-button")
                clear = gr.Button(t("chat.clear"), elem_id="clear-button")
            if caps.text_input:
                with gr.Accordion(t("chat.webcam"), open=False):
                    webcam = gr.Video(
                        sources=["webcam"],
                        include_audio=True,
                        format="mp4",
                        label=t("chat.webcam_label"),
                        elem_id="webcam",
                    )
            else:
                webcam = gr.State(None)
            comments = _feedback_box() if store is not None else None
            away = takeaway.takeaway_row()
        panel = settings_panel(engine)

    # Each accepted message adds one to `asked`, and that change starts the reply. A refused message
    # changes nothing (its sentence is a toast) and never waits in the GPU queue.
    asked = gr.State(0)
    triggers = [send.click, box.submit] if caps.text_input else [send.click]
    # Validation runs in the queue (not queue=False) so that its toast shows; it is cheap and
    # thread-safe, so it needs no concurrency limit.
    gr.on(
        triggers,
        partial(_submit, engine),
        [box, webcam, chatbot, exchanges, pending, asked, *panel.inputs, lang],
        [box, webcam, chatbot, exchanges, pending, asked],
        show_progress="hidden",
        concurrency_limit=None,
        js=LANG_JS,
        api_visibility=PRIVATE,
    )
    running = asked.change(
        partial(_reply, engine),
        [exchanges, pending, *panel.inputs, lang],
        [chatbot, pending, speech, exchanges],
        concurrency_id=GPU,
        concurrency_limit=1,
        show_progress="minimal",
        js=LANG_JS,
        api_visibility=PRIVATE,
    )
    running.then(lambda: _open_box(caps), None, box, queue=False, api_visibility=PRIVATE)
    stop.click(
        lambda shown: (_open_box(caps), _stopped(shown)),
        chatbot,
        [box, chatbot],
        cancels=[running],
        queue=False,
        api_visibility=PRIVATE,
    )
    cleared = [chatbot, pending, speech, box, exchanges]
    if comments is not None:
        feedback.wire_chat(store, engine, chatbot, exchanges, comments)
        cleared += [comments.rated, comments.status]
    clear.click(
        lambda: ([], None, None, _open_box(caps), [], *([None, ""] if comments else [])),
        None,
        cleared,
        cancels=[running],
        queue=False,
        api_visibility=PRIVATE,
    )
    takeaway.wire(engine, away, [chatbot, pending, exchanges], panel.inputs)


def _submit(
    engine: Engine,
    message: Any,
    cam: str | None,
    shown: list,
    log: list[Exchange],
    pending: Exchange | None,
    asked: int,
    *values: Any,
) -> Any:
    """Check the new message against the conversation; on success show it and count it in `asked`."""
    *options, lang_now = values
    caps = engine.info.capabilities

    def added() -> tuple[list, list[Exchange], Exchange]:
        turn = _turn_from_inputs(message, cam, caps)
        return handlers.add_user_turn(engine, turn, shown, log, pending, _options(options), lang_now)

    result = handlers.checked(lang_now, added)
    if result is None:
        return gr.skip()
    messages, conversation, asked_now = result
    return _locked_box(caps), None, messages, conversation, asked_now, asked + 1


def _reply(engine: Engine, log: list[Exchange], pending: Exchange | None, *values: Any) -> Iterator[Any]:
    *options, lang_now = values
    if pending is None:  # nothing asked (a stale event): nothing to answer
        return
    with handlers.shown_to_user(lang_now):
        yield from handlers.respond(engine, log, pending, _options(options), lang_now)


def _stopped(shown: list) -> Any:
    """The chat after a Stop: a request stopped while it waited for the GPU leaves no place in line on
    show; anything else (the answer so far) stays as it was."""
    kept = without_waiting(shown)
    return gr.skip() if kept is None else kept


def _feedback_box() -> feedback.CommentBox:
    with gr.Accordion(t("fb.title"), open=True, elem_id="chat-feedback"):
        gr.Markdown(t("fb.hint"))
        return feedback.comment_box("chat")


def _turn_from_inputs(message: Any, cam: str | None, caps: Capabilities) -> Turn:
    if not caps.text_input:  # the Captioner: one audio clip, nothing else
        return Turn("user", media=(Media("audio", message),) if message else ())
    message = message or {}
    files = [f if isinstance(f, str) else f["path"] for f in message.get("files", [])]
    if cam:
        files.append(cam)
    return handlers.new_user_turn(message.get("text", ""), files)


def _locked_box(caps: Capabilities) -> Any:
    if caps.text_input:
        return gr.MultimodalTextbox(value=None, interactive=False)
    return gr.Audio(value=None, interactive=False)


def _open_box(caps: Capabilities) -> Any:
    return gr.MultimodalTextbox(interactive=True) if caps.text_input else gr.Audio(interactive=True)
