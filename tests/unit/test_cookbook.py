"""omni_demo.cookbook: the 18 cases as data (cases.py); requests, kind notes and rendering (requests.py)."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from omni_demo.answers import DEFAULT_TOOLS
from omni_demo.cookbook.cases import (
    ASSETS_DIR,
    CASES,
    CATEGORIES,
    LYRICS_PROMPT,
    SPEECH_LANGUAGES,
    TEXT_LANGUAGES,
    asr_example,
    asr_prompt,
    case_by_id,
    cases_in,
    translation_example,
    translation_prompt,
)
from omni_demo.cookbook.requests import build_request, kind_note, render_answer, runs_on
from omni_demo.errors import InputError
from omni_demo.presets import VOICE_ASSISTANT_PROMPT
from omni_demo.types import Capabilities, ModelKind

INSTRUCT = Capabilities(ModelKind.INSTRUCT, voices=("Chelsie", "Ethan", "Aiden"))
THINKING = Capabilities(ModelKind.THINKING)
CAPTIONER = Capabilities(ModelKind.CAPTIONER, text_input=False)

EXPECTED = {
    "Audio": [
        "Speech Recognition",
        "Speech Translation",
        "Music Analysis",
        "Sound Analysis",
        "Audio Caption",
        "Mixed Audio Analysis",
    ],
    "Visual": [
        "OCR",
        "Object Grounding",
        "Image Question",
        "Image Math",
        "Video Description",
        "Video Navigation",
        "Video Scene Transition",
    ],
    "Audio-Visual": ["Audio-Visual Question", "Audio-Visual Interaction", "Audio-Visual Dialogue"],
    "Agent": ["Audio Function Call"],
    "Captioner": ["Omni Captioner"],
}


def _paths(case):
    return {kind: str(ASSETS_DIR / name) for kind, name in case.example.items()}


def _request(case, **overrides):
    args = {
        "prompt": case.prompts[0] if case.prompts else "",
        "system_prompt": case.system_prompt,
        "voice": None,
        "speak": case.speak,
        "tools_json": None,
        "max_new_tokens": 16,
    }
    args.update(overrides)
    return build_request(case, _paths(case), **args)


# ------------------------------------------------------------------------------------------ the data


def test_eighteen_cases_in_five_categories_in_order():
    assert len(CASES) == 18
    assert CATEGORIES == ("Audio", "Visual", "Audio-Visual", "Agent", "Captioner")
    assert {category: [c.title for c in cases_in(category)] for category in CATEGORIES} == EXPECTED


def test_ids_are_unique_and_safe_for_element_ids():
    ids = [case.id for case in CASES]
    assert len(set(ids)) == len(ids)
    assert all(case_id.replace("-", "").isalnum() and case_id.islower() for case_id in ids)
    assert case_by_id("ocr").title == "OCR"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_case_has_a_shipped_example_for_each_input(case):
    assert case.description
    assert case.inputs
    if case.any_input:  # one example of the alternatives will do
        assert case.example
        assert set(case.example) <= set(case.inputs)
    else:
        assert set(case.example) == set(case.inputs)
    for name in (*case.example.values(), *case.preset_examples):
        assert (ASSETS_DIR / name).is_file(), name
    assert len(case.preset_examples) in (0, len(case.prompts))
    assert len(case.prompts_before) in (0, len(case.prompts))


def test_upstream_settings():
    by_id = {case.id: case for case in CASES}
    for case_id in ("video-description", "video-navigation", "video-scene-transition"):
        assert by_id[case_id].audio_in_video is False
    for case in cases_in("Audio-Visual"):
        assert case.audio_in_video is True
    assert by_id["audio-visual-dialogue"].system_prompt == VOICE_ASSISTANT_PROMPT
    assert by_id["audio-visual-dialogue"].speak
    assert LYRICS_PROMPT.endswith("without additional explanations.")
    # Upstream's notebook answers the spoken question in text; speech is offered, not the default.
    assert not by_id["audio-visual-interaction"].speak
    assert by_id["audio-visual-interaction"].speech_option
    assert by_id["audio-visual-interaction"].prompts == ()
    assert by_id["omni-captioner"].prompts == ()
    assert by_id["omni-captioner"].needs is ModelKind.CAPTIONER
    assert by_id["image-math"].needs is ModelKind.THINKING
    assert by_id["image-math"].renderer == "thinking"
    assert by_id["object-grounding"].renderer == "grounding"
    assert by_id["audio-function-call"].renderer == "tools"
    # Every notebook decodes greedily (Image Math on the Thinking model too); the Captioner's samples.
    assert [c.id for c in CASES if not c.greedy] == ["omni-captioner"]
    assert [c.id for c in CASES if c.talker_greedy] == ["audio-visual-dialogue"]
    assert not any(c.system_prompt for c in CASES if c.id != "audio-visual-dialogue")


def test_notes_prompts_are_verbatim():
    assert "Locate the object: bird." in case_by_id("object-grounding").prompts
    assert case_by_id("ocr").prompts == ("Extract the text from the image.", "请提取图片中的文字。")
    assert case_by_id("sound-analysis").prompts[2] == "Guess where I am?"
    assert case_by_id("audio-caption").prompts[0] == "Give the detailed description of the audio."
    assert case_by_id("video-scene-transition").prompts == ("How the scenes in the video change?",)


# Every example prompt of the upstream notebooks, word for word (typos included), by case. Source of
# each: the notebook named in its comment, in the QwenLM/Qwen3-Omni repository.
UPSTREAM_PROMPTS: dict[str, tuple[str, ...]] = {
    # QwenLM/Qwen3-Omni cookbooks/music_analysis.ipynb
    "music-analysis": (
        "请分析这是什么风格的音乐？",
        "Describe the style, rhythm, dynamics, and expressed emotions of this piece of music. Identify "
        "the instruments used and suggest possible scenarios from which this music might originate.",
        "Write an appreciative description for this piece of music. Identifying its style and genre. "
        "Analyze the collaborative patterns of different instruments in audio and explain their impact "
        "on the overall atmosphere.",
    ),
    # QwenLM/Qwen3-Omni cookbooks/mixed_audio_analysis.ipynb
    "mixed-audio-analysis": (
        "判断说话人的国籍和性别，并告诉我音频里出现的音效是什么？",
        "Determine which sound effects and musical instruments are present in the audio.",
    ),
    # QwenLM/Qwen3-Omni cookbooks/audio_caption.ipynb
    "audio-caption": (
        "Give the detailed description of the audio.",
        "Please provide a detailed description of the audio.",
        "Give a thorough description of the audio.",
    ),
    # QwenLM/Qwen3-Omni cookbooks/image_question.ipynb
    "image-question": (
        "What style does this image depict?",
        "Based on this image, what do you think will happen next?",
        "Identify the one picture that follows the same pattern or rule established by the previous "
        "pictures. Please directly the correct answer from the options above.",
    ),
    # QwenLM/Qwen3-Omni cookbooks/object_grounding.ipynb
    "object-grounding": (
        "Locate the object: bird.",
        "Locate the object: A person riding a motorcycle while wearing a helmet.",
    ),
    # QwenLM/Qwen3-Omni cookbooks/audio_visual_question.ipynb
    "audio-visual-question": (
        "What was the first sentence the boy said when he met the girl?",
        "Question: What narrative purpose do the question marks above Will's head serve when they first "
        "appear?\nChoices: [\"A. To show Will's confusion about SEC regulations\", 'B. To visualize "
        "Will analyzing market trends', 'C. To demonstrate investor demand for his expertise', 'D. To "
        "indicate SEC scrutiny of his fund proposal']\nPlease give your answer.",
    ),
}


@pytest.mark.parametrize("case_id", sorted(UPSTREAM_PROMPTS))
def test_every_notebook_prompt_is_a_preset(case_id):
    case = case_by_id(case_id)
    assert set(case.prompts) == set(UPSTREAM_PROMPTS[case_id])
    assert len(case.prompts) == len(UPSTREAM_PROMPTS[case_id])
    # Each is offered in the picker under its own name.
    names = [name for name, _ in case.presets]
    assert [prompt for _, prompt in case.presets] == list(case.prompts)
    assert len(set(names)) == len(names) == len(case.prompts)


def test_every_picker_case_names_its_presets():
    for case in CASES:
        if case.task or len(case.prompts) < 2:
            assert case.presets == (), case.id
        else:
            assert len(case.preset_names) == len(case.prompts), case.id
            assert all(name.strip() for name in case.preset_names), case.id


def test_a_preset_is_sent_as_written():
    case = case_by_id("mixed-audio-analysis")
    request = _request(case, prompt=case.presets[1][1])
    assert request.turns[0].text == "判断说话人的国籍和性别，并告诉我音频里出现的音效是什么？"


# ------------------------------------------------------------------------------------- task prompts


def test_nineteen_speech_languages():
    assert len(SPEECH_LANGUAGES) == 19 == len(set(SPEECH_LANGUAGES))
    for language in ("English", "Chinese", "Cantonese", "Urdu", "Thai"):
        assert language in SPEECH_LANGUAGES
    assert set(SPEECH_LANGUAGES) <= set(TEXT_LANGUAGES)
    assert len(set(TEXT_LANGUAGES)) == len(TEXT_LANGUAGES)


def test_asr_prompts_are_the_evaluation_prompts():
    assert asr_prompt("Chinese") == "请将这段中文语音转换为纯文本。"
    assert asr_prompt("English") == "Transcribe the English audio into text."
    assert asr_prompt("Cantonese") == "Transcribe the Cantonese audio into text."
    assert all(
        asr_prompt(lang).startswith("Transcribe the ") for lang in SPEECH_LANGUAGES if lang != "Chinese"
    )


def test_translation_prompt():
    assert translation_prompt("Chinese", "English") == (
        "Listen to the provided Chinese speech and produce a translation in English text."
    )


def test_lyrics_prompt():
    assert LYRICS_PROMPT.startswith("Transcribe the song lyrics into text without any punctuation")


def test_examples_follow_the_task_controls():
    assert asr_example("English", lyrics=False) == ("speech_en.wav", "English")
    assert asr_example("Chinese", lyrics=False) == ("speech_zh.wav", "Chinese")
    assert asr_example("French", lyrics=False) == ("speech_en.wav", "English")  # no French clip ships
    assert asr_example("French", lyrics=True) == ("song.wav", "French")
    assert translation_example("Chinese", "English") == ("speech_zh.wav", "Chinese", "English")
    assert translation_example("English", "English") == ("speech_en.wav", "English", "Chinese")
    assert translation_example("Thai", "Chinese") == ("speech_zh.wav", "Chinese", "English")


# ------------------------------------------------------------------------------------------ requests


def test_build_request_applies_greedy_and_media_first():
    case = case_by_id("ocr")
    request = _request(case, prompt="  Extract the text from the image.  ")
    (turn,) = request.turns
    assert turn.role == "user"
    assert turn.text == "Extract the text from the image."
    assert [(m.kind, m.path) for m in turn.media] == [("image", str(ASSETS_DIR / "ocr.png"))]
    assert request.sampling.greedy
    assert request.sampling.max_new_tokens == 16
    assert request.system_prompt == ""
    assert request.return_audio is False
    assert request.use_audio_in_video is False


def test_build_request_spoken_audio_visual_case():
    case = case_by_id("audio-visual-dialogue")
    request = _request(case, voice="Chelsie")
    assert request.system_prompt == VOICE_ASSISTANT_PROMPT
    assert request.use_audio_in_video is True
    assert request.return_audio is True
    assert request.voice == "Chelsie"
    assert request.turns[0].text == ""  # the question is spoken in the video


def test_build_request_speech_only_where_offered():
    assert _request(case_by_id("ocr"), speak=True).return_audio is False
    assert _request(case_by_id("speech-translation"), speak=True).return_audio is True
    assert _request(case_by_id("audio-visual-dialogue"), speak=False).return_audio is False


def test_build_request_captioner_sends_only_the_clip():
    case = case_by_id("omni-captioner")
    request = _request(case, prompt="ignored", system_prompt="ignored too")
    assert request.turns[0].text == ""
    assert request.system_prompt == ""
    assert [m.kind for m in request.turns[0].media] == ["audio"]
    assert not request.sampling.greedy
    assert request.sampling.temperature == 0.6


def test_build_request_hands_the_tools_to_the_chat_template():
    # The tools travel as data; the processor's chat template writes them into the system turn.
    case = case_by_id("audio-function-call")
    request = _request(case)
    assert request.tools == tuple(DEFAULT_TOOLS)
    assert request.system_prompt == ""
    one_tool = json.dumps([DEFAULT_TOOLS[1]])
    request = _request(case, tools_json=one_tool, system_prompt="Be brief.")
    assert request.system_prompt == "Be brief."
    assert [tool["function"]["name"] for tool in request.tools] == ["car_ac_control"]
    assert _request(case_by_id("ocr")).tools == ()
    with pytest.raises(InputError, match="not valid JSON"):
        _request(case, tools_json="[{")


def test_build_request_says_what_media_is_missing():
    case = case_by_id("video-description")
    with pytest.raises(InputError, match="Add a video first"):
        build_request(case, {"video": None}, "Describe the video.", "", None, False, None, 16)


# ---------------------------------------------------------------------------------------- kind notes


def test_kind_note_is_empty_when_the_model_fits():
    assert kind_note(case_by_id("ocr"), INSTRUCT) == ""
    assert kind_note(case_by_id("image-math"), THINKING) == ""
    assert kind_note(case_by_id("omni-captioner"), CAPTIONER) == ""
    assert kind_note(case_by_id("audio-visual-dialogue"), INSTRUCT) == ""


def test_kind_note_captioner_case_on_instruct():
    note = kind_note(case_by_id("omni-captioner"), INSTRUCT)
    assert "--model Qwen/Qwen3-Omni-30B-A3B-Captioner" in note
    assert "Audio Caption in the Audio tab" in note
    assert "preview-captioner" in kind_note(case_by_id("omni-captioner"), INSTRUCT, preview=True)
    assert not runs_on(case_by_id("omni-captioner"), INSTRUCT)


def test_kind_note_other_cases_on_the_captioner():
    note = kind_note(case_by_id("ocr"), CAPTIONER)
    assert "--model Qwen/Qwen3-Omni-30B-A3B-Instruct" in note
    assert "Captioner tab" in note
    assert not runs_on(case_by_id("ocr"), CAPTIONER)
    assert runs_on(case_by_id("omni-captioner"), CAPTIONER)


def test_kind_note_image_math_recommends_thinking_but_runs():
    note = kind_note(case_by_id("image-math"), INSTRUCT)
    assert "Qwen/Qwen3-Omni-30B-A3B-Thinking" in note
    assert "runs it too" in note
    assert runs_on(case_by_id("image-math"), INSTRUCT)


def test_kind_note_spoken_case_on_thinking():
    note = kind_note(case_by_id("audio-visual-dialogue"), THINKING)
    assert "no voice" in note
    assert "text only" in note
    assert runs_on(case_by_id("audio-visual-dialogue"), THINKING)


# ----------------------------------------------------------------------------------------- rendering


def test_render_grounding_draws_the_boxes():
    case = case_by_id("object-grounding")
    answer = '```json\n[{"bbox_2d": [420, 560, 760, 860], "label": "bird"}]\n```'
    rendered = render_answer(case, INSTRUCT, answer, _paths(case))
    assert isinstance(rendered.image, Image.Image)
    assert rendered.image.size == (640, 480)
    assert rendered.note == ""
    assert rendered.answer == answer


@pytest.mark.parametrize("answer", ["", "nonsense", '```json\n[{"bbox_2d": [1, 2', "[" * 3000])
def test_render_grounding_malformed_shows_raw_answer_and_note(answer):
    case = case_by_id("object-grounding")
    rendered = render_answer(case, INSTRUCT, answer, _paths(case))
    assert rendered.image is None
    assert rendered.note
    assert rendered.answer == answer.strip()


def test_render_grounding_waits_for_the_whole_answer():
    case = case_by_id("object-grounding")
    partial = '[{"bbox_2d": [1, 2, 3, 4], "label": "bird"}'
    assert render_answer(case, INSTRUCT, partial, _paths(case), done=False).image is None


def test_render_tool_calls():
    case = case_by_id("audio-function-call")
    answer = (
        'Sure.\n<tool_call>\n{"name": "web_search", "arguments": {"queries": ["Hangzhou weather"]}}\n'
        "</tool_call>\n<tool_call>\n{broken</tool_call>"
    )
    rendered = render_answer(case, INSTRUCT, answer)
    assert "**`web_search`**" in rendered.tool_calls
    assert '"Hangzhou weather"' in rendered.tool_calls
    assert rendered.answer.startswith("Sure.")
    assert "{broken" in rendered.answer
    assert rendered.note


def test_render_thinking_model_answers_fold_the_reasoning():
    # A template that opens <think> in the prompt: the answer carries only the closing tag.
    opened = Capabilities(ModelKind.THINKING, think_in_prompt=True)
    rendered = render_answer(case_by_id("ocr"), opened, "Let me read it.</think>TOTAL 12.50")
    assert (rendered.reasoning, rendered.answer) == ("Let me read it.", "TOTAL 12.50")
    streaming = render_answer(case_by_id("ocr"), opened, "Still reading", done=False)
    assert (streaming.reasoning, streaming.answer) == ("Still reading", "")


def test_render_thinking_checkpoint_writes_think_itself():
    """The Thinking checkpoint's template leaves <think> to the model, also while the answer streams."""
    streaming = render_answer(case_by_id("image-math"), THINKING, "<think>\nx + 2 = 7", done=False)
    assert (streaming.reasoning, streaming.answer) == ("x + 2 = 7", "")
    rendered = render_answer(case_by_id("image-math"), THINKING, "<think>\nx + 2 = 7\n</think>\n\nx = 5")
    assert (rendered.reasoning, rendered.answer) == ("x + 2 = 7", "x = 5")
    plain = render_answer(case_by_id("ocr"), THINKING, "TOTAL 12.50", done=False)
    assert (plain.reasoning, plain.answer) == ("", "TOTAL 12.50")


def test_render_image_math_on_instruct_has_no_reasoning():
    rendered = render_answer(case_by_id("image-math"), INSTRUCT, "x = 5")
    assert (rendered.reasoning, rendered.answer) == ("", "x = 5")
