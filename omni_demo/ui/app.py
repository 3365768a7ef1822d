"""build_demo(engine): the whole page. The only UI entry point app.py needs."""

from __future__ import annotations

import gradio as gr

from omni_demo.config import DEFAULT_GPU_MODEL
from omni_demo.engine.base import Engine
from omni_demo.types import ModelInfo
from omni_demo.ui.api import build_api
from omni_demo.ui.chat import build_chat_tab
from omni_demo.ui.cookbook import build_cookbook_tabs

TITLE = "Qwen3-Omni demo"


def banner(info: ModelInfo) -> str:
    kind = info.capabilities.kind.value.capitalize()
    line = f"**Model:** `{info.name}` ({kind}) on `{info.device}`"
    if not info.is_preview:
        return line
    return (
        f"{line}\n\n"
        "⚠️ **Preview model: answers are random.** This is a tiny random-weight Qwen3-Omni that runs on any "
        "CPU, so every control works but the text and speech are noise. To load a real checkpoint, "
        f"start the demo on a GPU with `python app.py --model {DEFAULT_GPU_MODEL}` (or a local folder)."
    )


def build_demo(engine: Engine) -> gr.Blocks:
    with gr.Blocks(title=TITLE) as demo:
        gr.Markdown(f"# {TITLE}\n{banner(engine.info)}", elem_id="banner")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                build_chat_tab(engine)
            build_cookbook_tabs(engine)
        build_api(engine)
    demo.queue(default_concurrency_limit=1)
    return demo
