"""The Live tab's page side: its script's texts are in the catalog in both languages, and the tab is
built for what the loaded model can do. (tests/e2e/test_live.py drives it in Chromium.)"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pytest

from omni_demo.i18n import ZH, Sentence
from omni_demo.i18n.ui import UI
from omni_demo.presets import VOICE_ASSISTANT_PROMPT
from omni_demo.types import Capabilities, ModelInfo, ModelKind
from omni_demo.ui import live

SCRIPT = live.SCRIPT.read_text(encoding="utf-8")
MODULE = Path(live.__file__).read_text(encoding="utf-8")


def _engine(caps: Capabilities) -> SimpleNamespace:
    info = ModelInfo("preview", caps, "cpu", "float32", is_preview=True, load_seconds=0.0)
    return SimpleNamespace(info=info)


def _states() -> set[str]:
    """Every state the script shows: the words setState() picks from."""
    body = SCRIPT[SCRIPT.index("function setState") : SCRIPT.index("function answered")]
    return set(re.findall(r"'(\w+)'", body))


def test_every_text_the_script_shows_is_in_the_catalog() -> None:
    used = set(re.findall(r"'(live\.[\w.]+)'", SCRIPT)) | set(re.findall(r'"(live\.[\w.]+)"', MODULE))
    used |= {f"live.state.{state}" for state in _states()}
    used.discard("live.js")  # the script's file name
    assert used - set(UI) == set()
    assert {key for key in UI if key.startswith("live.")} - used == set()  # no text left unused
    assert {"idle", "connecting", "listening", "hearing", "thinking", "waiting", "speaking"} <= _states()


def _built_script(caps: Capabilities) -> tuple[str, gr.Blocks]:
    with gr.Blocks() as demo:
        panel = live.build_live_tab(_engine(caps))
    return panel.js_on_load, demo


def test_the_script_gets_the_texts_and_the_model_s_settings() -> None:
    caps = Capabilities(ModelKind.INSTRUCT, voices=("Chelsie", "Ethan"))
    script, _ = _built_script(caps)
    assert "__TEXTS__" not in script
    assert "__SETUP__" not in script
    texts = json.loads(re.search(r"const TEXTS = (\{.*?\});\n", script).group(1))
    assert texts["live.start"] == {"en": "Start", ZH: "开始"}
    setup = json.loads(re.search(r"const SETUP = (\{.*?\});\n", script).group(1))
    assert setup == {
        "speech": True,
        "camera": True,
        # As the chat: a spoken conversation starts with upstream's voice-assistant prompt.
        "settings": {
            "instructions": VOICE_ASSISTANT_PROMPT,
            "voice": "Ethan",
            "speak": True,
            "maxTokens": 48,
        },
    }


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_built_script_is_valid_javascript(tmp_path: Path) -> None:
    script, _ = _built_script(Capabilities(ModelKind.INSTRUCT, voices=("Ethan",)))
    path = tmp_path / "live.js"
    # js_on_load runs as the body of a function taking these arguments.
    path.write_text(f"(function (element, trigger, props, server, upload, watch) {{\n{script}\n}});\n")
    subprocess.run(["node", "--check", str(path)], check=True)


def test_a_model_without_speech_gets_no_voice_controls() -> None:
    script, demo = _built_script(Capabilities(ModelKind.THINKING))
    setup = json.loads(re.search(r"const SETUP = (\{.*?\});\n", script).group(1))
    assert setup["speech"] is False
    assert setup["settings"]["speak"] is False
    assert setup["settings"]["instructions"] == ""  # a written conversation starts with none
    hidden = {b.elem_id for b in demo.blocks.values() if getattr(b, "visible", True) is False}
    assert {"live-voice", "live-speak"} <= hidden


def test_the_captioner_gets_no_system_prompt_and_no_camera() -> None:
    script, demo = _built_script(Capabilities(ModelKind.CAPTIONER, voices=(), text_input=False))
    hidden = {b.elem_id for b in demo.blocks.values() if getattr(b, "visible", True) is False}
    assert "live-system" in hidden
    setup = json.loads(re.search(r"const SETUP = (\{.*?\});\n", script).group(1))
    assert setup["camera"] is False  # it takes one audio clip only


def test_a_sentence_from_the_endpoint_is_shown_in_the_page_language() -> None:
    sentence = Sentence("input.empty").as_dict()  # as the error event carries it
    assert live.live_sentence([sentence, ZH]) == "请先输入消息或添加文件，再发送。"
    assert live.live_sentence([sentence, "en"]) == "Type a message or attach a file before sending."
    assert live.live_sentence(["Nobody wrote this.", ZH]) == "Nobody wrote this."
    unknown = {"key": "media.from_a_newer_version", "fields": {}}
    assert live.live_sentence([unknown, ZH]) == ""  # the page keeps the English message
