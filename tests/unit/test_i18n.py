"""The page in English and Chinese: every user-visible string has its translation.

Three guards, each reading the real code or running it:
- the sentences the model side raises or returns (found by reading the code) all have Chinese;
- the UI modules pass no bare English to a component: labels, buttons, tabs and texts go through keys;
- real errors, notes and the timings line come out fully in Chinese.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import av
import gradio as gr
import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from omni_demo import media
from omni_demo.answers import parse_grounding, parse_tools_json
from omni_demo.conversation import build_model_input
from omni_demo.cookbook import CASES, CATEGORIES, SPEECH_LANGUAGES, TEXT_LANGUAGES, case_by_id, kind_note
from omni_demo.engine import budget
from omni_demo.errors import InputError, OmniError
from omni_demo.i18n import EN, ZH, fill, language, localize, localize_any, text, timings_line, translate
from omni_demo.i18n.cases import CASE_TEXT, CATEGORY_TEXT, LANGUAGE_TEXT, PRESET_TEXT, PROMPT_PRESET_TEXT
from omni_demo.i18n.sentences import FRAGMENTS, SENTENCES
from omni_demo.i18n.ui import UI
from omni_demo.presets import SYSTEM_PROMPTS
from omni_demo.transcript import Conversation, loaded_note
from omni_demo.types import Capabilities, Media, ModelKind, Request, Timings, Turn
from omni_demo.ui import handlers

PACKAGE = Path(__file__).resolve().parents[2] / "omni_demo"
ERRORS = {"OmniError", "InputError", "FeedbackError"}
# Functions whose return values are sentences for the user (besides the raise sites).
SENTENCE_FUNCTIONS = {
    "_too_long_message",
    "_no_sound_message",
    "_image_too_big_message",
    "_grounding_note",
    "_calls_note",
    "_dropped_notice",
    "kind_note",
    "_start_with",
    "loaded_note",
    "_sentence",
    "_captioner_note",
}
ENGLISH_WORDS = re.compile(r"\b(the|and|or|is|was|could|choose|attach|try|with|file|not|this)\b", re.I)

# --------------------------------------------------------------------------------------------------
# Reading the code
# --------------------------------------------------------------------------------------------------


def _template(node: ast.AST) -> list[str]:
    """The sentence templates an expression can produce, in the catalog's notation."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value.replace("{", "{{").replace("}", "}}")] if node.value else []
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value).replace("{", "{{").replace("}", "}}"))
            else:
                assert isinstance(value, ast.FormattedValue)
                parts.append("{" + ast.unparse(value.value) + "}")
        return ["".join(parts)]
    if isinstance(node, ast.Tuple):
        return [t for element in node.elts for t in _template(element)]
    if isinstance(node, ast.IfExp):
        return _template(node.body) + _template(node.orelse)
    return []


def _name(func: ast.AST) -> str | None:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _sentences_in(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in SENTENCE_FUNCTIONS:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None:
                    found.update(t for t in _template(inner.value) if " " in t)
                if isinstance(inner, ast.Assign):
                    found.update(t for t in _template(inner.value) if " " in t)
        if isinstance(node, ast.Call) and _name(node.func) in ERRORS and node.args:
            found.update(_template(node.args[0]))
        if isinstance(node, ast.Call) and _name(node.func) in {"Grounding", "Rendered", "ToolCalls"}:
            values = [*node.args[1:], *(k.value for k in node.keywords if k.arg == "note")]
            for value in values:
                found.update(_template(value))
    return found


def model_side_sentences() -> set[str]:
    """Every sentence the code outside omni_demo/ui and omni_demo/bench shows to users."""
    found: set[str] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).parts
        if relative[0] in ("ui", "bench", "i18n"):
            continue
        found |= _sentences_in(ast.parse(path.read_text(encoding="utf-8")))
    return found


def test_the_reader_finds_sentences_in_every_model_side_module() -> None:
    found = model_side_sentences()
    assert "Type a message or attach a file before sending." in found  # conversation.py
    assert "The {what} “{name}” was not found; attach it again." in found  # media.py
    assert "The tool list is nested too deeply to read." in found  # answers.py
    assert "The boxes could not be drawn: {exc}" in found  # cookbook.py
    assert "The model could not read one of the attached files; try another file." in found  # engine
    assert len(found) > 50


def test_every_model_side_sentence_has_chinese() -> None:
    missing = sorted(model_side_sentences() - set(SENTENCES))
    assert not missing, "add these to omni_demo/i18n/sentences.py:\n" + "\n".join(missing)


def test_every_catalog_sentence_is_still_in_the_code() -> None:
    stale = sorted(set(SENTENCES) - model_side_sentences())
    assert not stale, "these English sentences are no longer in the code (update them):\n" + "\n".join(stale)


def _fields(template: str) -> set[str]:
    return set(re.findall(r"(?<!\{)\{([^{}]+)\}(?!\})", template))


def test_chinese_templates_use_only_the_english_fields() -> None:
    for english, chinese in SENTENCES.items():
        assert _fields(chinese) <= _fields(english), english
        assert re.search(r"[\u4e00-\u9fff]", chinese), english
    for key, (english, chinese) in UI.items():
        assert english.strip(), key
        assert chinese.strip(), key
        assert _fields(chinese) == _fields(english), key


# --------------------------------------------------------------------------------------------------
# The UI passes keys, never bare English
# --------------------------------------------------------------------------------------------------

TEXT_KEYWORDS = {"label", "info", "placeholder", "title"}
TEXT_FIRST_ARG = {"Button", "Tab", "Markdown", "Accordion", "UploadButton", "DownloadButton"}


def _bare_texts(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "gr"):
            continue
        values = [k.value for k in node.keywords if k.arg in TEXT_KEYWORDS]
        if node.func.attr in TEXT_FIRST_ARG and node.args:
            values.append(node.args[0])
        for value in values:
            literal = isinstance(value, ast.JoinedStr) or (
                isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value.strip()
            )
            if literal:
                found.append(f"line {node.lineno}: gr.{node.func.attr}({ast.unparse(value)})")
    return found


def test_the_page_gives_components_keys_not_english() -> None:
    # The API's hidden components name parameters for scripts; they are not page text.
    pages = [p for p in sorted((PACKAGE / "ui").glob("*.py")) if p.name != "api.py"]
    bare = {p.name: _bare_texts(ast.parse(p.read_text(encoding="utf-8"))) for p in pages}
    assert not {k: v for k, v in bare.items() if v}


def test_the_guard_catches_a_bare_label() -> None:
    tree = ast.parse('gr.Textbox(label="Voice")\ngr.Button("Send")\ngr.Button(t("chat.send"))')
    assert len(_bare_texts(tree)) == 2


def test_every_case_category_preset_and_language_has_chinese() -> None:
    assert {case.id for case in CASES} == set(CASE_TEXT)
    assert set(CATEGORIES) == set(CATEGORY_TEXT)
    personas = {label for case in CASES for label, _ in case.system_presets}
    assert set(SYSTEM_PROMPTS) | personas <= set(PRESET_TEXT)
    assert set(SPEECH_LANGUAGES) | set(TEXT_LANGUAGES) <= set(LANGUAGE_TEXT)
    preset_names = {name for case in CASES for name, _ in case.presets}
    assert preset_names == set(PROMPT_PRESET_TEXT)
    for case in CASES:
        for part in case.settings_line().split(" · "):
            assert part in FRAGMENTS, (case.id, part)


# --------------------------------------------------------------------------------------------------
# Real sentences come out in Chinese
# --------------------------------------------------------------------------------------------------


def _assert_chinese(sentence: str, *keep: str) -> str:
    translated = translate(sentence, ZH)
    assert translated is not None, f"no template made: {sentence}"
    assert re.search(r"[\u4e00-\u9fff]", translated)
    assert not ENGLISH_WORDS.search(translated), translated
    for value in keep:
        assert value in translated, (value, translated)
    return translated


def _raised(action: object) -> str:
    with pytest.raises(OmniError) as caught:
        action()  # type: ignore[operator]
    return str(caught.value)


def test_real_media_errors_come_out_in_chinese(tmp_path: Path) -> None:
    wav = tmp_path / "long clip.wav"
    sf.write(wav, np.zeros(32_000, dtype=np.float32), 16_000)
    fake = tmp_path / "photo.png"
    fake.write_text("not a picture")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    picture = tmp_path / "scene.png"
    Image.new("RGB", (32, 32)).save(picture)

    _assert_chinese(_raised(lambda: media.media_kind_of("notes.xyz")), "notes.xyz", ".xyz")
    _assert_chinese(_raised(lambda: media.media_kind_of("README")), "README")
    _assert_chinese(_raised(lambda: media.load_audio(str(tmp_path / "gone.wav"), 60)), "gone.wav")
    _assert_chinese(_raised(lambda: media.load_audio(str(empty), 60)), "empty.wav")
    _assert_chinese(_raised(lambda: media.load_audio(str(wav), 1.0)), "long clip.wav", "1")
    _assert_chinese(_raised(lambda: media.load_image(str(fake))), "photo.png")
    _assert_chinese(_raised(lambda: media.validate(Media("audio", str(picture)), 60, False)), "scene.png")


def test_real_notes_and_checks_come_out_in_chinese() -> None:
    _assert_chinese(_raised(lambda: parse_tools_json("[1]")), "1")
    _assert_chinese(_raised(lambda: parse_tools_json("[")))
    _assert_chinese(parse_grounding("").note)
    _assert_chinese(parse_grounding("no boxes here").note)
    caps = Capabilities(ModelKind.INSTRUCT, voices=("Ethan",))
    empty = Request(turns=(Turn("user", ""),))
    _assert_chinese(_raised(lambda: build_model_input(empty, caps)))
    for case in CASES:
        for kind in ModelKind:
            for preview in (False, True):
                note = kind_note(case, Capabilities(kind), preview=preview)
                if note:
                    _assert_chinese(note, "--model")


def test_a_nested_sentence_and_a_fragment_are_translated_too() -> None:
    note = kind_note(case_by_id("image-math"), Capabilities(ModelKind.INSTRUCT), preview=True)
    translated = _assert_chinese(note, "preview-thinking", "Qwen/Qwen3-Omni-30B-A3B-Thinking")
    assert "图片数学题" in translated  # the case title inside the sentence


def test_an_unknown_sentence_stays_english_rather_than_lost() -> None:
    assert translate("Something nobody wrote.", ZH) is None
    assert localize("Something nobody wrote.", ZH) == "Something nobody wrote."
    assert localize("Type a message or attach a file before sending.", EN).startswith("Type")


def test_two_sentences_in_one_string_are_translated_one_by_one() -> None:
    joined = "Type a message or attach a file before sending. The tool list is nested too deeply to read."
    assert localize(joined, ZH) == "请先输入消息或添加文件，再发送。工具列表嵌套过深，无法读取。"


def test_loaded_note_is_translated() -> None:
    note = loaded_note(Conversation((), missing=2), "chat.json")
    _assert_chinese(note, "chat.json", "2")


def test_the_timings_line_in_chinese_has_no_english_words() -> None:
    timings = Timings(
        0.31, 12.5, 1.2, 4.0, 5.0, 40, {"text": 10, "audio": 50, "total": 60}, 3.2, "fast", underrun_s=0.12
    )
    line = timings_line(timings, ZH)
    assert line == (
        "首个 token 0.31 秒 · 12.5 token/秒（40 个 token） · 首段语音 1.20 秒 · 语音 4.0 秒（实时率 1.25） · "
        "播放等待 0.12 秒 · 总计 5.00 秒 · GPU 峰值 3.2 GiB · "
        "输入 token：文字 10, 音频 50, 合计 60 · fast 引擎"
    )
    assert timings_line(timings, EN) == timings.summary()  # the English line is the engine's own
    assert timings.summary().endswith(" · fast engine")


def test_the_timings_line_names_the_engine_only_when_known() -> None:
    plain = Timings(total_s=2.0, engine="plain")
    assert timings_line(plain, ZH) == "总计 2.00 秒 · plain 引擎"
    assert timings_line(plain, EN) == plain.summary() == "total 2.00 s · plain engine"
    assert timings_line(Timings(total_s=2.0), ZH) == "总计 2.00 秒"  # a back-end that does not say


def test_the_token_budget_sentences_come_out_in_chinese() -> None:
    text_only = budget.Estimate(40_000, {"text": 40_000, "total": 40_000})
    message = _raised(lambda: budget.check_limit(text_only, 32_768))
    assert _assert_chinese(message) == (
        "此请求约需 40,000 个输入 token，超出了本服务器 32,768 个的上限；"
        "请使用更短的片段、减少附件，或按“清空”重新开始。"
    )
    video = budget.Estimate(
        50_000,
        {"text": 1_000, "video": 49_000, "total": 50_000},
        video_tokens_per_s=490.0,
        video_size=(640, 360),
    )
    message = _raised(lambda: budget.check_limit(video, 32_768))
    assert "at most about 64 s" in message  # (32,768 - 1,000) / 490 tokens a second
    assert _assert_chinese(message) == (
        "此请求约需 50,000 个输入 token，超出了本服务器 32,768 个的上限；"
        "在这里，640×360 的视频最长约 64 秒——请剪短。"
    )


def test_a_video_of_one_frame_is_refused_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "one frame.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height = 64, 48
        stream.pix_fmt = "yuv420p"
        frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), dtype=np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    message = _raised(lambda: media.plan_video_file(str(path)))
    assert message == "The video “one frame.mp4” has fewer than 2 frames; choose a longer video."
    assert _assert_chinese(message) == "视频“one frame.mp4”不足 2 帧；请选择更长的视频。"


def test_languages_from_the_browser() -> None:
    found = [language(x) for x in ("zh-CN", "zh", "zh-TW", "en-US", "", None, "fr")]
    assert found == [ZH, ZH, ZH, EN, EN, EN, EN]


def test_fill_keeps_literal_braces() -> None:
    assert fill("write {{...}} for {x}", {"x": "1"}) == "write {...} for 1"
    assert text("fb.saved", ZH, number=3) == "谢谢：你对第 3 个回答的评分已保存。"


def test_the_error_boundary_speaks_the_page_language() -> None:
    with pytest.raises(gr.Error) as caught, handlers.shown_to_user("zh-CN"):
        raise InputError("Type a message or attach a file before sending.")
    assert caught.value.message == "请先输入消息或添加文件，再发送。"
    with pytest.raises(gr.Error) as caught, handlers.shown_to_user("zh-CN"):
        raise OmniError(text("chat.aiv_locked", EN))  # a UI sentence travelling as an error
    assert caught.value.message == UI["chat.aiv_locked"][1]
    assert localize_any(UI["chat.aiv_locked"][0], EN) == UI["chat.aiv_locked"][0]
    with pytest.raises(gr.Error) as caught, handlers.shown_to_user("zh-CN"):
        raise RuntimeError("a bug")
    assert caught.value.message == UI["error.unexpected"][1]
