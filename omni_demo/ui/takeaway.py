"""Take the chat away: download it as one zip, and load a zip (or its JSON) back into the chat."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import gradio as gr

from omni_demo import transcript
from omni_demo.engine.base import Engine, engine_name
from omni_demo.i18n import render, text
from omni_demo.transcript import Exchange, SavedConversation
from omni_demo.types import Capabilities
from omni_demo.ui import handlers
from omni_demo.ui.handlers import ChatOptions
from omni_demo.ui.i18n import LANG_JS, lang_box, t
from omni_demo.ui.render import history_of

PRIVATE = "private"


@dataclass
class TakeAway:
    download: gr.Button
    file: gr.File
    load: gr.UploadButton
    status: gr.Markdown
    lang: gr.Textbox


def takeaway_row() -> TakeAway:
    """The buttons and the file they make; call inside the layout."""
    with gr.Accordion(t("tr.title"), open=False, elem_id="takeaway"):
        with gr.Row():
            download = gr.Button(t("tr.download"), size="sm", elem_id="download-chat")
            load = gr.UploadButton(t("tr.load"), file_types=[".zip", ".json"], size="sm", elem_id="load-chat")
        file = gr.File(label=t("tr.file"), visible=False, interactive=False, elem_id="chat-zip")
        status = gr.Markdown("", elem_id="takeaway-status")
    return TakeAway(download, file, load, status, lang_box())


def model_fields(engine: Engine) -> dict[str, Any]:
    info = engine.info
    return {
        "name": info.name,
        "kind": info.capabilities.kind.value,
        "engine": engine_name(engine),
        "device": info.device,
    }


def panel_values(settings: dict[str, Any], caps: Capabilities) -> list[Any]:
    """The settings column's values from a saved conversation; gr.skip() where missing or unusable."""
    values: list[Any] = []
    for f in fields(ChatOptions):
        value = settings.get(f.name)
        usable = value is not None and (f.name != "voice" or value in caps.voices)
        values.append(value if usable else gr.skip())
    return values


def loaded_settings(conversation: SavedConversation) -> dict[str, Any]:
    """The panel's settings for a loaded conversation: as saved, with "audio in video" as its answers
    were made with (the chat keeps that one setting for the rest of the conversation)."""
    fixed = handlers.fixed_audio_in_video(conversation.exchanges)
    saved = bool(conversation.settings.get("audio_in_video", False))
    return {**conversation.settings, "audio_in_video": saved if fixed is None else fixed}


def wire(
    engine: Engine,
    row: TakeAway,
    chat: list[gr.components.Component],
    panel: list[gr.components.Component],
) -> None:
    """`chat` = [chatbot, pending exchange, exchanges]; `panel` in ChatOptions' order."""
    caps = engine.info.capabilities
    chatbot, pending, exchanges = chat

    def download(log: list[Exchange], *values: Any) -> Any:
        *options, lang = values
        with handlers.shown_to_user(lang):
            settings = asdict(ChatOptions(*options))
            path = transcript.write_zip(SavedConversation(tuple(log), settings, model_fields(engine)))
        return gr.File(value=str(path), visible=True), ""

    def load(upload: Any, lang: str) -> list[Any]:
        path = upload if isinstance(upload, str) else getattr(upload, "name", None) or upload["path"]
        name = transcript.display_name(path)
        with handlers.shown_to_user(lang):
            conversation = transcript.read(path)
        log = list(conversation.exchanges)
        lines = [text("tr.loaded", lang, answers=len(log), name=name)]
        note = transcript.loaded_note(conversation, name)
        if note:
            lines.append(render(note, lang))
        settings = loaded_settings(conversation)
        return [
            history_of(log, caps, lang),
            None,  # nothing is being answered
            log,
            *panel_values(settings, caps),
            " ".join(lines),
            gr.File(value=None, visible=False),
        ]

    row.download.click(
        download,
        [exchanges, *panel, row.lang],
        [row.file, row.status],
        js=LANG_JS,
        api_visibility=PRIVATE,
    )
    row.load.upload(
        load,
        [row.load, row.lang],
        [chatbot, pending, exchanges, *panel, row.status, row.file],
        js=LANG_JS,
        api_visibility=PRIVATE,
    )
