"""API-only endpoints for scripts (`gradio_client`): /generate, /generate_stream and /info.

/generate and /generate_stream take one user turn (text plus optional audio / image / video files)
and the chat settings as named parameters whose defaults are the chat tab's, so
`client.predict(text="Hi", api_name="/generate")` works. /generate returns the whole reply: text, a
WAV file (or None) and the timings as JSON. /generate_stream yields as the reply is made: text so far,
the newest speech chunk as a WAV file, and, as its last update, the whole reply with the full WAV and
the timings (iterate a `client.submit(...)` job to read them). /info describes the loaded model.

Every other event of the page is UI-internal: `hide_internal_endpoints` takes it off the API.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import gradio as gr

from omni_demo.engine.base import Engine, engine_name
from omni_demo.housekeeping.tempfiles import reply_files
from omni_demo.presets import default_system_prompt
from omni_demo.types import AudioChunk, Media, Preparing, Queued, Request, Result, TextDelta, Turn
from omni_demo.ui.chat import GPU, chat_defaults, max_new_tokens_limit
from omni_demo.ui.handlers import ChatOptions, save_wav, shown_to_user

PUBLIC = ("generate", "generate_stream", "info")


def _request(
    text: str | None,
    audio: str | None,
    image: str | None,
    video: str | None,
    options: ChatOptions,
) -> Request:
    """One user turn plus the chat settings, mapped exactly as the chat tab maps them."""
    items = [
        Media(kind, path) for kind, path in (("audio", audio), ("image", image), ("video", video)) if path
    ]
    turn = Turn("user", text=(text or "").strip(), media=tuple(items))
    return options.request([turn])


def _options(
    defaults: ChatOptions,
    system_prompt: str | None,
    voice: str | None,
    use_audio_in_video: bool | None,
    return_audio: bool | None,
    temperature: float | None,
    top_p: float | None,
    top_k: float | None,
    max_new_tokens: float | None,
) -> ChatOptions:
    """The caller's settings; a value left out (None) takes the chat tab's default. As on the page, the
    system prompt left out is the voice-assistant prompt when the reply is spoken, else none ("" is
    none)."""

    def pick(value: Any, default: Any) -> Any:
        return default if value is None else value

    speak = bool(pick(return_audio, defaults.speak))
    return ChatOptions(
        system_prompt=pick(system_prompt, default_system_prompt(speak and defaults.speak)),
        voice=voice or defaults.voice,
        speak=speak,
        audio_in_video=bool(pick(use_audio_in_video, defaults.audio_in_video)),
        temperature=float(pick(temperature, defaults.temperature)),
        top_p=float(pick(top_p, defaults.top_p)),
        top_k=int(pick(top_k, defaults.top_k)),
        max_new_tokens=int(pick(max_new_tokens, defaults.max_new_tokens)),
    )


def engine_description(engine: Engine, limits: dict[str, Any] | None = None) -> dict[str, Any]:
    """What /info returns: the model, its kind, voices, the engine and the request limits."""
    info = engine.info
    caps = info.capabilities
    options = getattr(engine, "options", None)
    defaults = chat_defaults(engine)
    found: dict[str, Any] = {
        "max_clip_seconds": getattr(options, "max_clip_seconds", None),
        "max_media_turns": getattr(options, "max_media_turns", None),
        "max_input_tokens": getattr(options, "max_input_tokens", None),
        "max_new_tokens": max_new_tokens_limit(engine),  # the chat's slider ends here
        **(limits or {}),
    }
    served = getattr(engine, "served", None)  # how requests ended so far (the load test reads it)
    return {
        "model": info.name,
        "kind": caps.kind.value,
        "preview": info.is_preview,
        "device": info.device,
        "dtype": info.dtype,
        "engine": engine_name(engine),
        "voices": list(caps.voices),
        "default_voice": caps.default_voice,
        "speech_output": caps.speech_output,
        "text_input": caps.text_input,
        "limits": found,
        "defaults": {
            "system_prompt": defaults.system_prompt,
            "voice": defaults.voice,
            "use_audio_in_video": defaults.audio_in_video,
            "return_audio": defaults.speak,
            "temperature": defaults.temperature,
            "top_p": defaults.top_p,
            "top_k": defaults.top_k,
            "max_new_tokens": defaults.max_new_tokens,
        },
        **({} if served is None else {"served": served.as_dict()}),
    }


def build_api(engine: Engine, limits: dict[str, Any] | None = None) -> None:
    """Hidden components wired to named endpoints; they do not show on the page."""
    defaults = chat_defaults(engine)
    with gr.Column(visible=False):
        # The components' values are the defaults the API page and gradio_client show and fill in.
        inputs = [
            gr.Textbox(label="text", value=""),
            gr.File(label="audio", type="filepath", value=None),
            gr.File(label="image", type="filepath", value=None),
            gr.File(label="video", type="filepath", value=None),
            # No value: left out, it follows return_audio as the page's does (see `_options`).
            gr.Textbox(label="system_prompt", value=None),
            gr.Textbox(label="voice", value=defaults.voice or ""),
            gr.Checkbox(label="use_audio_in_video", value=defaults.audio_in_video),
            gr.Checkbox(label="return_audio", value=defaults.speak),
            gr.Number(label="temperature", value=defaults.temperature),
            gr.Number(label="top_p", value=defaults.top_p),
            gr.Number(label="top_k", value=defaults.top_k, precision=0),
            gr.Number(label="max_new_tokens", value=defaults.max_new_tokens, precision=0),
        ]
        outputs = [gr.Textbox(label="text"), gr.File(label="audio"), gr.JSON(label="timings")]
        info_out = gr.JSON(label="info")
        run = gr.Button(visible=False)
        run_stream = gr.Button(visible=False)
        run_info = gr.Button(visible=False)

    # Named parameters: Gradio takes the API's parameter names from this signature, given to both
    # endpoints below.
    def request(
        text: str = "",
        audio: str | None = None,
        image: str | None = None,
        video: str | None = None,
        system_prompt: str | None = None,
        voice: str | None = None,
        use_audio_in_video: bool | None = None,
        return_audio: bool | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: float | None = None,
        max_new_tokens: float | None = None,
    ) -> Request:
        options = _options(
            defaults, system_prompt, voice, use_audio_in_video, return_audio, temperature, top_p, top_k,
            max_new_tokens,
        )  # fmt: skip
        return _request(text, audio, image, video, options)

    def generate(*args: Any, **kwargs: Any) -> tuple[str, str | None, dict[str, Any]]:
        with shown_to_user():
            for event in engine.stream(request(*args, **kwargs)):
                if isinstance(event, Result):  # no file for the chunks: only the whole reply is written
                    return _final(event)
        raise RuntimeError("the engine's stream ended without a result")

    def generate_stream(*args: Any, **kwargs: Any) -> Iterator[Any]:
        with shown_to_user():
            yield from _stream(engine, request(*args, **kwargs))

    parameters = inspect.signature(request).replace(return_annotation=inspect.Signature.empty)
    generate.__signature__ = generate_stream.__signature__ = parameters  # type: ignore[attr-defined]

    def describe() -> dict[str, Any]:
        return engine_description(engine, limits)

    run.click(generate, inputs, outputs, api_name="generate", concurrency_id=GPU, concurrency_limit=1)
    run_stream.click(
        generate_stream, inputs, outputs, api_name="generate_stream", concurrency_id=GPU, concurrency_limit=1
    )
    run_info.click(describe, None, info_out, api_name="info", queue=False)


def hide_internal_endpoints(demo: gr.Blocks) -> None:
    """Every event but the API's own is UI-internal: off the API page and not callable by clients."""
    for fn in demo.fns.values():
        if fn.api_name not in PUBLIC:
            fn.api_visibility = "private"


def _final(result: Result) -> tuple[str, str | None, dict[str, Any]]:
    wav = None if result.audio is None else str(save_wav(result.audio, result.sample_rate))
    return result.text, wav, {**result.timings.as_dict(), "notices": list(result.notices)}


def _stream(engine: Engine, request: Request) -> Iterator[Any]:
    text = ""
    for event in engine.stream(request):
        if isinstance(event, TextDelta):
            text += event.text
            yield text, None, {}
        elif isinstance(event, AudioChunk):
            # Gradio copies a returned file into its cache before this generator resumes, so the
            # chunk's own file is removed at once: no file per chunk is left behind.
            with reply_files().transient(event.samples, event.sample_rate) as path:
                yield text, str(path), {}
        elif isinstance(event, Preparing | Queued):
            # Lets a cancelled client end the request while media is decoded or it waits for the GPU.
            yield text, None, {}
        elif isinstance(event, Result):
            yield _final(event)
