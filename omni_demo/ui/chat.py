"""The Chat tab: a multi-turn multimodal chat with streamed text and speech."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from omni_demo.engine.base import Engine
from omni_demo.presets import DEFAULT_SAMPLING, SYSTEM_PROMPTS
from omni_demo.types import Capabilities, Media, Turn
from omni_demo.ui import handlers
from omni_demo.ui.handlers import ChatOptions

GPU = "gpu"  # one concurrency id for every event that runs the model: one generation at a time
PREVIEW_MAX_TOKENS = 48  # the preview model's answers are noise; keep them short on a CPU


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


def default_voice(caps: Capabilities) -> str | None:
    # generate()'s own default is Ethan; otherwise the first voice the config lists.
    return "Ethan" if "Ethan" in caps.voices else (caps.voices[0] if caps.voices else None)


def settings_panel(engine: Engine) -> SettingsPanel:
    caps = engine.info.capabilities
    sampling = engine.info.sampling or DEFAULT_SAMPLING[caps.kind]
    max_tokens = PREVIEW_MAX_TOKENS if engine.info.is_preview else sampling.max_new_tokens
    with gr.Column(scale=1, min_width=280):
        preset = gr.Dropdown(
            list(SYSTEM_PROMPTS), value=None, label="System prompt preset", visible=caps.text_input
        )
        system_prompt = gr.Textbox(
            label="System prompt", lines=4, visible=caps.text_input, placeholder="(none)"
        )
        preset.change(lambda name: SYSTEM_PROMPTS.get(name, ""), preset, system_prompt, queue=False)
        voice = gr.Dropdown(
            list(caps.voices), value=default_voice(caps), label="Voice", visible=caps.speech_output
        )
        speak = gr.Checkbox(value=caps.speech_output, label="Speak the reply", visible=caps.speech_output)
        audio_in_video = gr.Checkbox(
            value=False,
            label="Audio in video",
            info="Let the model hear the sound track of attached videos (fixed for a whole conversation).",
            visible=caps.kind.value != "captioner",
        )
        with gr.Accordion("Sampling", open=False):
            temperature = gr.Slider(
                0, 1.5, value=sampling.temperature, step=0.05, label="Temperature (0 = greedy)"
            )
            top_p = gr.Slider(0.05, 1, value=sampling.top_p, step=0.05, label="Top-p")
            top_k = gr.Slider(1, 100, value=sampling.top_k, step=1, label="Top-k")
            max_new_tokens = gr.Slider(
                8, 8192, value=max_tokens, step=8, label="Max new tokens", elem_id="max-new-tokens"
            )
    return SettingsPanel(
        system_prompt, voice, speak, audio_in_video, temperature, top_p, top_k, max_new_tokens
    )


def _options(values: tuple[Any, ...]) -> ChatOptions:
    return ChatOptions(*values)


def build_chat_tab(engine: Engine) -> None:
    caps = engine.info.capabilities
    turns = gr.State([])  # list[Turn]: this browser session's conversation
    locked_aiv = gr.State(None)  # "audio in video" as fixed by the conversation's first turn
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(label="Conversation", height=520, buttons=["copy"])
            speech = gr.Audio(
                label="Spoken reply (streams as it is made)",
                streaming=True,
                autoplay=True,
                interactive=False,
                visible=caps.speech_output,
                elem_id="speech-stream",
            )
            if caps.text_input:
                box = gr.MultimodalTextbox(
                    placeholder="Type a message, attach audio, images or videos, or record your voice",
                    file_types=["audio", "image", "video"],
                    file_count="multiple",
                    sources=["upload", "microphone"],
                    show_label=False,
                    elem_id="chat-input",
                )
            else:
                box = gr.Audio(
                    sources=["upload", "microphone"],
                    type="filepath",
                    label="One audio clip (≤ 30 s recommended)",
                )
            with gr.Row():
                send = gr.Button("Send" if caps.text_input else "Describe the audio", variant="primary")
                stop = gr.Button("Stop", variant="stop", elem_id="stop-button")
                clear = gr.Button("Clear", elem_id="clear-button")
            if caps.text_input:
                with gr.Accordion("Record from the webcam (with sound)", open=False):
                    webcam = gr.Video(
                        sources=["webcam"],
                        include_audio=True,
                        format="mp4",
                        label="The recording is attached to your next message",
                    )
            else:
                webcam = gr.State(None)
        panel = settings_panel(engine)

    def submit(
        message: Any, cam: str | None, history: list, state: list, locked: bool | None, *values: Any
    ) -> Any:
        with handlers.shown_to_user():
            turn = _turn_from_inputs(message, cam, caps)
            result = handlers.add_user_turn(engine, turn, history, state, locked, _options(values))
        history_out, turns_out, aiv = result
        return _locked_box(caps), None, history_out, turns_out, aiv

    def reply(history: list, state: list, *values: Any) -> Iterator[Any]:
        with handlers.shown_to_user():
            yield from handlers.respond(engine, history, state, _options(values))

    submit_inputs = [box, webcam, chatbot, turns, locked_aiv, *panel.inputs]
    submit_outputs = [box, webcam, chatbot, turns, locked_aiv]
    triggers = [send.click, box.submit] if caps.text_input else [send.click]
    # Validation runs in the queue (not queue=False) so that its gr.Error shows as a toast; it is
    # cheap and thread-safe, so it needs no concurrency limit.
    started = gr.on(
        triggers, submit, submit_inputs, submit_outputs, show_progress="hidden", concurrency_limit=None
    )
    running = started.success(
        reply,
        [chatbot, turns, *panel.inputs],
        [chatbot, turns, speech],
        concurrency_id=GPU,
        concurrency_limit=1,
        show_progress="minimal",
    )
    running.then(lambda: _open_box(caps), None, box, queue=False)
    stop.click(lambda: _open_box(caps), None, box, cancels=[running], queue=False)
    clear.click(
        lambda: ([], [], None, None, _open_box(caps)),
        None,
        [chatbot, turns, locked_aiv, speech, box],
        cancels=[running],
        queue=False,
    )


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
