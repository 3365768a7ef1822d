"""The page in English and Chinese: every user-visible string has its translation.

Three guards, each reading the real code or running it:
- every sentence the code shows to users is made from a catalog key with that key's fields, and every
  key has English and Chinese;
- the UI modules pass no bare English to a component: labels, buttons, tabs and texts go through keys;
- real errors, notes and the timings line come out fully in Chinese.
"""

from __future__ import annotations

import ast
import pickle
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
from omni_demo.cookbook.cases import (
    CASES,
    CATEGORIES,
    CATEGORY_ZH,
    SPEECH_LANGUAGES,
    TEXT_LANGUAGES,
    case_by_id,
)
from omni_demo.cookbook.requests import kind_note
from omni_demo.engine import budget
from omni_demo.errors import InputError, OmniError
from omni_demo.i18n import EN, ZH, Sentence, Words, fields_of, fill, language, render, text, timings_line
from omni_demo.i18n.sentences import SENTENCES
from omni_demo.i18n.ui import UI
from omni_demo.presets import SYSTEM_PROMPTS
from omni_demo.transcript import SavedConversation, loaded_note
from omni_demo.types import Capabilities, Media, ModelKind, Request, Timings, Turn
from omni_demo.ui import handlers

PACKAGE = Path(__file__).resolve().parents[2] / "omni_demo"
# What makes a sentence for the user: the errors (their first argument is a key) and `Sentence`.
MAKERS = {"OmniError", "InputError", "QueueFullError", "ModelLoadError", "FeedbackError", "Sentence"}
CATALOG = {**UI, **SENTENCES}
ENGLISH_WORDS = re.compile(r"\b(the|and|or|is|was|could|choose|attach|try|with|file|not|this)\b", re.I)

# --------------------------------------------------------------------------------------------------
# Reading the code
# --------------------------------------------------------------------------------------------------


def _name(func: ast.AST) -> str | None:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _keys(node: ast.AST) -> list[str] | None:
    """The keys a first argument names: a literal, or either side of `"a" if x else "b"`; None when
    it is not made of literals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _keys(node.body), _keys(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def _check_call(call: ast.Call) -> tuple[set[str], list[str]]:
    """(keys used, problems) of one call that makes a sentence."""
    where = f"line {call.lineno}: {ast.unparse(call)[:100]}"
    if not call.args:
        return set(), [f"{where}: no key"]
    first = call.args[0]
    keys = _keys(first)
    if keys is None:
        # Only a sentence made before may be passed on whole (a refusal a cache remembers).
        built = isinstance(first, ast.JoinedStr | ast.BinOp | ast.Constant) or call.keywords or call.args[1:]
        return set(), [f"{where}: the first argument must be a key"] if built else []
    problems = []
    given = {k.arg for k in call.keywords}
    if None in given or call.args[1:]:
        problems.append(f"{where}: fields must be named one by one")
    for key in keys:
        if key not in CATALOG:
            problems.append(f"{where}: {key!r} is not in the catalog")
        elif given - {None} != fields_of(CATALOG[key][0]):
            problems.append(f"{where}: {key!r} takes {sorted(fields_of(CATALOG[key][0]))}")
    return set(keys), problems


def sentence_calls(tree: ast.AST) -> tuple[set[str], list[str]]:
    """(keys used, problems) of every call in `tree` that makes a sentence."""
    keys: set[str] = set()
    problems: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in MAKERS:
            found, wrong = _check_call(node)
            keys |= found
            problems += wrong
    return keys, problems


def code_sentences() -> tuple[set[str], list[str]]:
    """Every key the package's code makes a sentence from, and what is wrong where one is made."""
    keys: set[str] = set()
    problems: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "i18n" or relative == Path("errors.py"):
            continue  # where sentences and errors are defined, passing a caller's key on
        found, wrong = sentence_calls(ast.parse(path.read_text(encoding="utf-8")))
        keys |= found
        problems += [f"{path.relative_to(PACKAGE)} {w}" for w in wrong]
    return keys, problems


def test_the_reader_finds_sentences_in_every_model_side_module() -> None:
    found, _ = code_sentences()
    assert "input.empty" in found  # conversation.py
    assert "media.not_found" in found  # media.py
    assert "tools.too_deep" in found  # answers.py
    assert "case.boxes_failed" in found  # cookbook/requests.py
    assert "engine.unreadable_file" in found  # engine
    assert "chat.forgotten" in found  # a UI text raised by the chat's handlers
    assert len(found) > 80


def test_every_sentence_is_made_from_a_known_key_with_its_fields() -> None:
    _, problems = code_sentences()
    assert not problems, "make these from a key of omni_demo/i18n/sentences.py:\n" + "\n".join(problems)


def test_the_guard_catches_english_an_unknown_key_and_wrong_fields() -> None:
    code = """
raise InputError(f"The file {name} is bad.")
raise OmniError("media.nothing_like_this")
raise InputError("media.too_short")
note = Sentence("media.too_short", name=name, size=3)
raise InputError("media.too_short", **fields)
raise InputError("media.too_short", name=name)
raise InputError(error.sentence)
"""
    keys, problems = sentence_calls(ast.parse(code))
    assert {int(p.split(":")[0].removeprefix("line ")) for p in problems} == {2, 3, 4, 5, 6}, problems
    assert "media.too_short" in keys


def test_every_catalog_sentence_is_still_in_the_code() -> None:
    found, _ = code_sentences()
    stale = sorted(set(SENTENCES) - found)
    assert not stale, "these sentences are no longer made anywhere (remove them):\n" + "\n".join(stale)


def test_every_key_has_english_and_chinese_with_the_same_fields() -> None:
    assert not set(SENTENCES) & set(UI)  # one key, one sentence
    for key, (english, chinese) in SENTENCES.items():
        assert english.strip(), key
        assert chinese.strip(), key
        assert fields_of(chinese) <= fields_of(english), key
        assert re.search(r"[\u4e00-\u9fff]", chinese) or chinese == english, key  # "mp4" is "mp4"
    for key, (english, chinese) in UI.items():
        assert english.strip(), key
        assert chinese.strip(), key
        assert fields_of(chinese) == fields_of(english), key


def test_a_sentence_is_made_only_from_a_known_key_with_its_fields() -> None:
    with pytest.raises(KeyError):
        Sentence("The file is bad.")
    with pytest.raises(KeyError):
        InputError(f"“{'a.wav'}” is too short to hear anything; record or choose a longer clip.")
    with pytest.raises(TypeError):
        Sentence("media.too_short")
    with pytest.raises(TypeError):
        Sentence("media.too_short", name="a.wav", size=3)
    made = InputError("media.too_short", name="a.wav")
    assert str(made) == "“a.wav” is too short to hear anything; record or choose a longer clip."
    assert made.render(ZH) == "“a.wav”太短，听不到任何内容；请录制或选择更长的片段。"
    again = pickle.loads(pickle.dumps(made))  # as a copy of the error is made
    assert (type(again), again.render(ZH)) == (InputError, made.render(ZH))


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
    # Names and descriptions carry their Chinese with them (`Words`); each must have some.
    personas = [label for case in CASES for label, _ in case.system_presets]
    preset_names = [name for case in CASES for name, _ in case.presets]
    texts = [case.title for case in CASES] + [case.description for case in CASES]
    for words in [*texts, *SYSTEM_PROMPTS, *personas, *preset_names, *SPEECH_LANGUAGES, *TEXT_LANGUAGES]:
        assert isinstance(words, Words), f"no Chinese for {words!r}"
        assert re.search(r"[\u4e00-\u9fff]", words.zh), (str(words), words.zh)
    assert set(CATEGORIES) == set(CATEGORY_ZH)
    assert all(CATEGORY_ZH[category].strip() for category in CATEGORIES)  # "Captioner" is a name
    for case in CASES:
        for part in case.settings():
            _assert_chinese(part)


# --------------------------------------------------------------------------------------------------
# Real sentences come out in Chinese
# --------------------------------------------------------------------------------------------------


def _assert_chinese(sentence: str, *keep: str) -> str:
    assert isinstance(sentence, Sentence), f"not made from the catalog: {sentence}"
    translated = render(sentence, ZH)
    assert re.search(r"[\u4e00-\u9fff]", translated)
    assert not ENGLISH_WORDS.search(translated), translated
    for value in keep:
        assert value in translated, (value, translated)
    return translated


def _raised(action: object) -> Sentence:
    with pytest.raises(OmniError) as caught:
        action()  # type: ignore[operator]
    return caught.value.sentence


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
    assert render("Something nobody wrote.", ZH) == "Something nobody wrote."
    assert render(Sentence("input.empty"), EN) == "Type a message or attach a file before sending."


def test_loaded_note_is_translated() -> None:
    note = loaded_note(SavedConversation((), missing=2), "chat.json")
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
        raise InputError("input.empty")
    assert caught.value.message == "请先输入消息或添加文件，再发送。"
    with pytest.raises(gr.Error) as caught, handlers.shown_to_user("zh-CN"):
        raise OmniError("chat.aiv_locked")  # a UI sentence travelling as an error
    assert caught.value.message == UI["chat.aiv_locked"][1]
    assert str(OmniError("chat.aiv_locked")) == text("chat.aiv_locked", EN) == UI["chat.aiv_locked"][0]
    with pytest.raises(gr.Error) as caught, handlers.shown_to_user("zh-CN"):
        raise RuntimeError("a bug")
    assert caught.value.message == UI["error.unexpected"][1]
