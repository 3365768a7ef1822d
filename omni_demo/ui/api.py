"""API-only endpoints for scripts (`gradio_client`): /generate and /generate_stream.

Both take one user turn (text plus optional audio / image / video files) and the chat settings.
/generate returns the whole reply: text, a WAV file (or None) and the timings as JSON.
/generate_stream yields as the reply is made: text so far, the newest speech chunk as a WAV file,
and, as its last update, the whole reply with the full WAV and the timings (iterate a
`client.submit(...)` job to read them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from omni_demo.engine.base import Engine
from omni_demo.types import AudioChunk, Media, Request, Result, TextDelta, Turn
from omni_demo.ui.chat import GPU
from omni_demo.ui.handlers import ChatOptions, save_wav, shown_to_user


def _request(text: str, audio: str | None, image: str | None, video: str | None, *settings: Any) -> Request:
    """One user turn plus the chat settings, mapped exactly as the chat tab maps them."""
    items = [
        Media(kind, path) for kind, path in (("audio", audio), ("image", image), ("video", video)) if path
    ]
    turn = Turn("user", text=(text or "").strip(), media=tuple(items))
    system_prompt, voice, use_audio_in_video, return_audio, temperature, top_p, top_k, max_new_tokens = (
        settings
    )
    options = ChatOptions(
        system_prompt=system_prompt or "",
        voice=voice or None,
        speak=bool(return_audio),
        audio_in_video=bool(use_audio_in_video),
        temperature=float(temperature),
        top_p=float(top_p),
        top_k=int(top_k),
        max_new_tokens=int(max_new_tokens),
    )
    return options.request([turn])


def build_api(engine: Engine) -> None:
    """Hidden components wired to named endpoints; they do not show on the page."""
    caps = engine.info.capabilities
    with gr.Column(visible=False):
        inputs = [
            gr.Textbox(label="text"),
            gr.File(label="audio", type="filepath"),
            gr.File(label="image", type="filepath"),
            gr.File(label="video", type="filepath"),
            gr.Textbox(label="system_prompt"),
            gr.Textbox(label="voice", value=caps.voices[0] if caps.voices else ""),
            gr.Checkbox(label="use_audio_in_video", value=False),
            gr.Checkbox(label="return_audio", value=caps.speech_output),
            gr.Number(label="temperature", value=0.6),
            gr.Number(label="top_p", value=0.95),
            gr.Number(label="top_k", value=20),
            gr.Number(label="max_new_tokens", value=256),
        ]
        outputs = [gr.Textbox(label="text"), gr.File(label="audio"), gr.JSON(label="timings")]
        run = gr.Button(visible=False)
        run_stream = gr.Button(visible=False)

    def generate(*values: Any) -> tuple[str, str | None, dict[str, Any]]:
        *_, last = generate_stream(*values)  # the last update holds the whole reply
        return last

    def generate_stream(*values: Any) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
        with shown_to_user():
            yield from _stream(engine, _request(*values))

    run.click(generate, inputs, outputs, api_name="generate", concurrency_id=GPU, concurrency_limit=1)
    run_stream.click(
        generate_stream, inputs, outputs, api_name="generate_stream", concurrency_id=GPU, concurrency_limit=1
    )


def _stream(engine: Engine, request: Request) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    text = ""
    for event in engine.stream(request):
        if isinstance(event, TextDelta):
            text += event.text
            yield text, None, {}
        elif isinstance(event, AudioChunk):
            yield text, str(save_wav(event.samples, event.sample_rate)), {}
        elif isinstance(event, Result):
            wav = None if event.audio is None else str(save_wav(event.audio, event.sample_rate))
            yield event.text, wav, {**event.timings.as_dict(), "notices": list(event.notices)}
