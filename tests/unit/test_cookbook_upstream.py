"""Image Math, Audio-Visual Interaction and Audio-Visual Dialogue held against upstream's notebooks.

The data below is copied from the QwenLM/Qwen3-Omni cookbook notebooks as their .ipynb files store it:
the JSON "source" lines of each example cell's `messages = [...]`, and the `generate()` arguments of
each notebook's `run_model`. The tests compare what the project builds (the request, the processor's
messages, the engine's generate() arguments, the vLLM-Omni request body) with them.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from omni_demo.conversation import build_model_input
from omni_demo.cookbook.cases import ASSETS_DIR, case_by_id
from omni_demo.cookbook.requests import build_request
from omni_demo.engine.local import EngineOptions, LocalEngine
from omni_demo.engine.remote import backends
from omni_demo.presets import VOICE_ASSISTANT_PROMPT
from omni_demo.types import Capabilities, ModelInfo, ModelKind, Request, Sampling
from omni_demo.ui.cookbook import _request as panel_request

INSTRUCT = Capabilities(ModelKind.INSTRUCT, voices=("Chelsie", "Ethan", "Aiden"))
THINKING = Capabilities(ModelKind.THINKING)


class _Media(ast.NodeTransformer):
    """`image_path` / `audio_path` / `video_path` -> the kind's name, so the cell's value is a literal."""

    def visit_Name(self, node: ast.Name) -> ast.Constant:
        return ast.Constant(node.id.removesuffix("_path"))


def messages_of(*json_lines: str) -> list[dict[str, Any]]:
    """The `messages` list of a notebook cell, from its source lines as the .ipynb stores them."""
    source = "".join(json.loads(line) for line in json_lines)
    value = ast.parse(source).body[0].value  # type: ignore[attr-defined]
    return ast.literal_eval(_Media().visit(value))


def user_parts(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(type, text or media kind) of the last user message's parts, in order."""
    return [(p["type"], p.get("text", p["type"])) for p in messages[-1]["content"]]


def system_of(messages: list[dict[str, Any]]) -> str:
    first = messages[0]
    if first["role"] != "system":
        return ""
    content = first["content"]
    return content if isinstance(content, str) else "".join(p["text"] for p in content)


# QwenLM/Qwen3-Omni cookbooks/image_math.ipynb (MODEL_PATH = "Qwen/Qwen3-Omni-30B-A3B-Thinking")
SPRINKLER = messages_of(
    r'''"messages = [\n"''',
    r'''"    {\n"''',
    r'''"        \"role\": \"user\",\n"''',
    r'''"        \"content\": [\n"''',
    r'''"            {\"type\": \"text\", \"text\": \"The 3-arm lawn sprinkler of Fig. P3.114 receives 20°C water through the center at 2.7 m^3/hr. If collar friction is neglected, what is the steady rotation rate in rev/min for $\\\\theta $ = 40°?\"},\n"''',  # noqa: E501
    r'''"            {\"type\": \"image\", \"image\": image_path},\n"''',
    r'''"            {\"type\": \"text\", \"text\": \"A, 317 rev/min, B, 414 rev/min, C, 400 rev/min, D, NaN, choose one of the options.\"\"\"} \n"''',  # noqa: E501
    r'''"        ]\n"''',
    r'''"    }\n"''',
    r'''"]\n"''',
)
TRAINING_SET = messages_of(
    r'''"messages = [\n"''',
    r'''"    {\n"''',
    r'''"        \"role\": \"user\",\n"''',
    r'''"        \"content\": [\n"''',
    r'''"            {\"type\": \"text\", \"text\": \"Suppose we have a training set with m=3 examples,plotted below.Our hypothes is representation is $h_{\\\\theta}(x) = \\\\theta_1x$, with parameter $\\\\theta_1$. The cost function $J(\\\\theta_1)$ is $J(\\\\theta_1)$=${1\\\\over2m}\\\\sum\\\\nolimits_{i=1}^m(h_\\\\theta(x^i) - y^i)^2$. What is $J(0)$?\"},\n"''',  # noqa: E501
    r'''"            {\"type\": \"image\", \"image\": image_path},\n"''',
    r'''"            {\"type\": \"text\", \"text\": \"Options:\\nA. 0\\nB. 1/6\\nC. 1\\nD. 14/6\\nPlease select the correct answer from the options above.\"}\n"''',  # noqa: E501
    r'''"        ]\n"''',
    r'''"    }\n"''',
    r'''"]\n"''',
)
IMAGE_MATH_GENERATE = (
    r'''"        text_ids, audio = model.generate(**inputs, \n"''',
    r'''"                                            thinker_return_dict_in_generate=True,\n"''',
    r'''"                                            thinker_max_new_tokens=8192, \n"''',
    r'''"                                            thinker_do_sample=False,\n"''',
)

# QwenLM/Qwen3-Omni cookbooks/audio_visual_interaction.ipynb (Instruct, RETURN_AUDIO = False)
SPOKEN = messages_of(
    r'''"messages = [\n"''',
    r'''"    {\n"''',
    r'''"        \"role\": \"user\",\n"''',
    r'''"        \"content\": [\n"''',
    r'''"            {\"type\": \"audio\", \"audio\": audio_path}\n"''',
    r'''"        ]\n"''',
    r'''"    }\n"''',
    r'''"]\n"''',
)
VIDEO = messages_of(
    r'''"messages = [\n"''',
    r'''"    {\n"''',
    r'''"        \"role\": \"user\",\n"''',
    r'''"        \"content\": [\n"''',
    r'''"            {\"type\": \"video\", \"video\": video_path}\n"''',
    r'''"        ]\n"''',
    r'''"    }\n"''',
    r'''"]\n"''',
)
POET = messages_of(
    r'''"messages = [\n"''',
    r'''"    {\n"''',
    r'''"        \"role\": \"system\",\n"''',
    r'''"        \"content\": \"\"\"You are a romantic and artistic AI, skilled at using metaphors and personification in your responses, deeply romantic, and prone to spontaneously reciting poetry.\n"''',  # noqa: E501
    r'''"You are a voice assistant with specific characteristics. \n"''',
    r'''"Interact with users using brief, straightforward language, maintaining a natural tone.\n"''',
    r'''"Never use formal phrasing, mechanical expressions, bullet points, overly structured language. \n"''',
    r'''"Your output must consist only of the spoken content you want the user to hear. \n"''',
    r'''"Do not include any descriptions of actions, emotions, sounds, or voice changes. \n"''',
    r'''"Do not use asterisks, brackets, parentheses, or any other symbols to indicate tone or actions. \n"''',  # noqa: E501
    r'''"You must answer users' audio or text questions, do not directly describe the video content. \n"''',
    r'''"You communicate in the same language as the user unless they request otherwise.\n"''',
    r'''"When you are uncertain (e.g., you can't see/hear clearly, don't understand, or the user makes a comment rather than asking a question), use appropriate questions to guide the user to continue the conversation.\n"''',  # noqa: E501
    r'''"Keep replies concise and conversational, as if talking face-to-face.\"\"\"\n"''',
    r'''"    },\n"''',
    r'''"    {\n"''',
    r'''"        \"role\": \"user\",\n"''',
    r'''"        \"content\": [\n"''',
    r'''"            {\"type\": \"audio\", \"audio\": audio_path}\n"''',
    r'''"        ]\n"''',
    r'''"    }\n"''',
    r'''"]\n"''',
)
BEIJING = messages_of(
    r'''"messages = [\n"''',
    r'''"    {\n"''',
    r'''"        \"role\": \"system\",\n"''',
    r'''"        \"content\": \"你是一个北京大爷，说话很幽默，说这地道北京话。\"\n"''',
    r'''"    },\n"''',
    r'''"    {\n"''',
    r'''"        \"role\": \"user\",\n"''',
    r'''"        \"content\": [\n"''',
    r'''"            {\"type\": \"video\", \"video\": video_path}\n"''',
    r'''"        ]\n"''',
    r'''"    }\n"''',
    r'''"]\n"''',
)

# QwenLM/Qwen3-Omni cookbooks/audio_visual_dialogue.ipynb (Instruct, RETURN_AUDIO = True)
DIALOGUE_SPOKEN = messages_of(
    r'''"messages = [\n"''',
    r'''"    {\n"''',
    r'''"        \"role\": \"system\",\n"''',
    r'''"        \"content\": \"\"\"You are a virtual voice assistant with no gender or age.\\nYou are communicating with the user.\\nIn user messages, “I/me/my/we/our” refer to the user and “you/your” refer to the assistant. In your replies, address the user as “you/your” and yourself as “I/me/my”; never mirror the user’s pronouns—always shift perspective. Keep original pronouns only in direct quotes; if a reference is unclear, ask a brief clarifying question.\\nInteract with users using short(no more than 50 words), brief, straightforward language, maintaining a natural tone.\\nNever use formal phrasing, mechanical expressions, bullet points, overly structured language. \\nYour output must consist only of the spoken content you want the user to hear. \\nDo not include any descriptions of actions, emotions, sounds, or voice changes. \\nDo not use asterisks, brackets, parentheses, or any other symbols to indicate tone or actions. \\nYou must answer users' audio or text questions, do not directly describe the video content. \\nYou should communicate in the same language strictly as the user unless they request otherwise.\\nWhen you are uncertain (e.g., you can't see/hear clearly, don't understand, or the user makes a comment rather than asking a question), use appropriate questions to guide the user to continue the conversation.\\nKeep replies concise and conversational, as if talking face-to-face.\"\"\"\n"''',  # noqa: E501
    r'''"    },\n"''',
    r'''"    {\n"''',
    r'''"        \"role\": \"user\",\n"''',
    r'''"        \"content\": [\n"''',
    r'''"            {\"type\": \"audio\", \"audio\": audio_path}\n"''',
    r'''"        ]\n"''',
    r'''"    }\n"''',
    r'''"]\n"''',
)
DIALOGUE_VIDEO = messages_of(
    r'''"messages = [\n"''',
    r'''"    {\n"''',
    r'''"        \"role\": \"system\",\n"''',
    r'''"        \"content\": \"\"\"You are a voice assistant with specific characteristics. \\nInteract with users using brief, straightforward language, maintaining a natural tone. \\nNever use formal phrasing, mechanical expressions, bullet points, overly structured language. \\nYour output must consist only of the spoken content you want the user to hear. \\nDo not include any descriptions of actions, emotions, sounds, or voice changes. \\nDo not use asterisks, brackets, parentheses, or any other symbols to indicate tone or actions. \\nYou must answer users' audio or text questions, do not directly describe the video content. \\nYou communicate in the same language as the user unless they request otherwise. \\nWhen you are uncertain (e.g., you can't see/hear clearly, don't understand, or the user makes a comment rather than asking a question), use appropriate questions to guide the user to continue the conversation. \\nKeep replies concise and conversational, as if talking face-to-face.\"\"\"\n"''',  # noqa: E501
    r'''"    },\n"''',
    r'''"    {\n"''',
    r'''"        \"role\": \"user\",\n"''',
    r'''"        \"content\": [\n"''',
    r'''"            {\"type\": \"video\", \"video\": video_path}\n"''',
    r'''"        ]\n"''',
    r'''"    }\n"''',
    r'''"]\n"''',
)
DIALOGUE_GENERATE = (
    r'''"        text_ids, audio = model.generate(**inputs, \n"''',
    r'''"                                            talker_do_sample=False,\n"''',
    r'''"                                            thinker_return_dict_in_generate=True,\n"''',
    r'''"                                            thinker_max_new_tokens=8192, \n"''',
    r'''"                                            thinker_do_sample=False,\n"''',
)


def generate_kwargs(lines: tuple[str, ...]) -> dict[str, Any]:
    """name -> value of the `name=value,` lines after `model.generate(`."""
    pairs = [json.loads(line).strip().rstrip(",").split("=") for line in lines[1:]]
    return {name: ast.literal_eval(value) for name, value in pairs}


def _engine(caps: Capabilities, sampling: Sampling | None = None) -> LocalEngine:
    """A local engine with no model: enough for the requests and generate() arguments it makes."""
    info = ModelInfo("test", caps, "cpu", "float32", is_preview=False, load_seconds=0.0, sampling=sampling)
    return LocalEngine(None, None, info, EngineOptions())


def _stock_kwargs(engine: LocalEngine, request: Request) -> dict[str, Any]:
    """What the engine hands the stock generate() for `request`."""
    from omni_demo.engine.plan import model_generate_kwargs

    return model_generate_kwargs(engine._plan(request))


def _panel(
    engine: LocalEngine, case_id: str, paths: dict[str, str], prompt: str = "", **options: Any
) -> Request:
    """The request a case's panel sends: (prompt, text before, system, speak, voice, max tokens, tools)."""
    case = case_by_id(case_id)
    values = [
        prompt,
        options.get("before", ""),
        options.get("system", case.system_prompt),
        options.get("speak", case.speak),
        options.get("voice"),
        8192,
        None,
    ]
    return panel_request(engine, case, paths, values)


def _asset(name: str) -> str:
    path = ASSETS_DIR / name
    assert Path(path).is_file(), name
    return str(path)


# ------------------------------------------------------------------------------------------ Image Math


# The project's drawing of each problem (upstream's pictures are not bundled).
DRAWINGS = ("math_sprinkler.png", "math_cost.png")


@pytest.mark.parametrize("index", [0, 1], ids=["sprinkler", "training-set"])
def test_image_math_presets_are_upstreams_problems_in_order(index: int) -> None:
    upstream = (SPRINKLER, TRAINING_SET)[index]
    case = case_by_id("image-math")
    picture = _asset(DRAWINGS[index])
    before = case.prompts_before[index]
    request = build_request(
        case, {"image": picture}, case.prompts[index], "", None, False, None, 64, text_before=before
    )
    built = build_model_input(request, THINKING)
    # Text, picture, text, word for word; no system prompt.
    assert user_parts(built.messages) == user_parts(upstream)
    assert [m["role"] for m in built.messages] == ["user"]
    assert built.images == [picture]
    # The panel's picker gives each problem its own text before the picture and its own drawing.
    assert case.before_for(case.prompts[index]) == user_parts(upstream)[0][1]
    assert case.example_for(case.prompts[index]) == DRAWINGS[index]


def test_image_math_decodes_greedily_with_the_thinking_model_loaded() -> None:
    upstream = generate_kwargs(IMAGE_MATH_GENERATE)
    case = case_by_id("image-math")
    # The checkpoint's own sampling (generation_config) is for the chat; the notebook decodes greedily.
    engine = _engine(THINKING, Sampling(temperature=0.6, top_p=0.95, top_k=20, max_new_tokens=8192))
    paths = {"image": _asset(case.preset_examples[0])}
    request = _panel(engine, "image-math", paths, case.prompts[0], before=case.prompts_before[0])
    kwargs = _stock_kwargs(engine, request)
    assert kwargs["thinker_do_sample"] is upstream["thinker_do_sample"]
    assert kwargs["thinker_max_new_tokens"] == upstream["thinker_max_new_tokens"]
    assert not {"thinker_temperature", "thinker_top_p", "thinker_top_k"} & set(kwargs)
    assert case.settings_line().startswith("greedy decoding · ")
    assert "0.6" not in case.settings_line()


@pytest.mark.parametrize("case_id", ["ocr", "audio-visual-question", "audio-caption", "video-description"])
def test_other_cases_stay_greedy_with_the_thinking_model_loaded(case_id: str) -> None:
    case = case_by_id(case_id)
    engine = _engine(THINKING, Sampling(temperature=0.6, top_p=0.95, top_k=20, max_new_tokens=8192))
    paths = {kind: _asset(name) for kind, name in case.example.items()}
    request = _panel(engine, case_id, paths, case.prompts[0])
    assert _stock_kwargs(engine, request)["thinker_do_sample"] is False


# ------------------------------------------------------------------------ Audio-Visual Interaction


def test_personas_are_upstreams_system_prompts() -> None:
    case = case_by_id("audio-visual-interaction")
    personas = dict(case.system_presets)
    assert personas["Romantic poet"] == system_of(POET)
    assert personas["Beijing grandpa (北京大爷)"] == system_of(BEIJING)
    # Sent as written (its lines' trailing spaces included), with upstream's spoken request alone.
    request = build_request(
        case, {"audio": _asset("speech_en.wav")}, "", personas["Romantic poet"], None, False, None, 16
    )
    built = build_model_input(request, INSTRUCT)
    assert built.messages[0] == {"role": "system", "content": [{"type": "text", "text": system_of(POET)}]}
    assert user_parts(built.messages) == user_parts(POET)


CELLS = [
    ("audio-visual-interaction", SPOKEN),
    ("audio-visual-interaction", VIDEO),
    ("audio-visual-interaction", BEIJING),
    ("audio-visual-dialogue", DIALOGUE_SPOKEN),
    ("audio-visual-dialogue", DIALOGUE_VIDEO),
]


@pytest.mark.parametrize(("case_id", "cell"), CELLS, ids=lambda v: v if isinstance(v, str) else "")
def test_a_spoken_request_alone_or_a_video(case_id: str, cell: list[dict[str, Any]]) -> None:
    case = case_by_id(case_id)
    (kind, _), *_ = user_parts(cell)  # upstream sends one medium and no text
    files = {"audio": _asset("speech_en.wav"), "video": _asset(case.example["video"])}
    request = _panel(_engine(INSTRUCT), case_id, {kind: files[kind]})
    built = build_model_input(request, INSTRUCT)
    assert user_parts(built.messages) == user_parts(cell)
    assert request.use_audio_in_video  # USE_AUDIO_IN_VIDEO = True in both notebooks
    heard = [(slot.path, slot.video_index) for slot in built.audio]
    assert heard == [(files[kind], 0 if kind == "video" else None)]


def test_the_audio_visual_cases_ask_for_a_video_or_a_recording() -> None:
    for case_id in ("audio-visual-interaction", "audio-visual-dialogue"):
        with pytest.raises(Exception, match="Add a video or an audio clip first"):
            _panel(_engine(INSTRUCT), case_id, {})


# -------------------------------------------------------------------------- Audio-Visual Dialogue


def test_dialogue_talker_decodes_greedily_as_upstream() -> None:
    upstream = generate_kwargs(DIALOGUE_GENERATE)
    engine = _engine(INSTRUCT)
    video = {"video": _asset(case_by_id("audio-visual-dialogue").example["video"])}
    kwargs = _stock_kwargs(engine, _panel(engine, "audio-visual-dialogue", video, voice="Ethan"))
    assert kwargs["return_audio"] is True
    assert kwargs["talker_do_sample"] is upstream["talker_do_sample"]
    assert kwargs["thinker_do_sample"] is upstream["thinker_do_sample"]
    # Other spoken answers keep the engine's own (sampled) talker.
    spoken = _panel(engine, "speech-translation", {"audio": _asset("speech_zh.wav")}, "x", speak=True)
    assert _stock_kwargs(engine, spoken)["talker_do_sample"] is True


def test_dialogue_talker_is_greedy_on_vllm_omni_too() -> None:
    video = {"video": _asset(case_by_id("audio-visual-dialogue").example["video"])}
    request = _panel(_engine(INSTRUCT), "audio-visual-dialogue", video, voice="Ethan")
    talker = backends.body(backends.BACKENDS["vllm-omni"], request, True, "Ethan")["extra_body"]
    assert talker["sampling_params_list"][1]["temperature"] == 0.0  # vLLM: temperature 0 is greedy
    plain = backends.body(backends.BACKENDS["vllm-omni"], Request(turns=request.turns), True, "Ethan")
    assert plain["extra_body"]["sampling_params_list"][1]["temperature"] == 0.9


def test_dialogue_system_prompt_is_the_readmes_the_notebook_drops_its_first_sentence() -> None:
    """Held for the README's "What still differs" line on the Audio-Visual Dialogue system prompt."""
    assert case_by_id("audio-visual-dialogue").system_prompt == VOICE_ASSISTANT_PROMPT
    first = "You are Qwen-Omni, a smart voice assistant created by Alibaba Qwen. "
    assert VOICE_ASSISTANT_PROMPT.removeprefix(first) == system_of(DIALOGUE_SPOKEN)
    assert system_of(DIALOGUE_VIDEO) != system_of(DIALOGUE_SPOKEN)


def test_a_video_and_a_recording_are_both_sent_the_video_first() -> None:
    case = case_by_id("audio-visual-interaction")
    files = {"audio": _asset("speech_en.wav"), "video": _asset(case.example["video"])}
    built = build_model_input(_panel(_engine(INSTRUCT), case.id, files), INSTRUCT)
    assert user_parts(built.messages) == [("video", "video"), ("audio", "audio")]
    assert [(slot.path, slot.video_index) for slot in built.audio] == [
        (files["video"], 0),
        (files["audio"], None),
    ]
