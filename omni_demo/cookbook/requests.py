"""A cookbook case made into a request, and its answer made ready for the page.

Whether the loaded model can run a case (and, where not, the sentence naming what to start instead),
the case's upstream settings applied to the user's media, prompt and options, and the answer split into
reasoning, text, boxes and tool calls. Nothing here imports gradio or torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from PIL import Image

from omni_demo import media
from omni_demo.answers import (
    DEFAULT_TOOLS,
    draw_boxes,
    parse_grounding,
    parse_tool_calls,
    parse_tools_json,
    pretty_tool_calls,
    split_reply,
    split_thinking,
)
from omni_demo.cookbook.cases import Case
from omni_demo.errors import InputError, OmniError
from omni_demo.i18n import Sentence
from omni_demo.types import Capabilities, Media, MediaKind, ModelKind, Request, Sampling, Turn

# --------------------------------------------------------------------------------------------------
# Model kind checks
# --------------------------------------------------------------------------------------------------

CHECKPOINTS: dict[ModelKind, str] = {
    ModelKind.INSTRUCT: "Qwen/Qwen3-Omni-30B-A3B-Instruct",
    ModelKind.THINKING: "Qwen/Qwen3-Omni-30B-A3B-Thinking",
    ModelKind.CAPTIONER: "Qwen/Qwen3-Omni-30B-A3B-Captioner",
}
PREVIEW_CHECKPOINTS: dict[ModelKind, str] = {
    ModelKind.INSTRUCT: "preview",
    ModelKind.THINKING: "preview-thinking",
    ModelKind.CAPTIONER: "preview-captioner",
}

_KIND_NAMES = {
    ModelKind.INSTRUCT: "Instruct",
    ModelKind.THINKING: "Thinking",
    ModelKind.CAPTIONER: "Captioner",
}


def _start_with(kind: ModelKind, preview: bool) -> Sentence:
    if preview:
        return Sentence(
            "case.start_with_preview", checkpoint=CHECKPOINTS[kind], preview=PREVIEW_CHECKPOINTS[kind]
        )
    return Sentence("case.start_with", checkpoint=CHECKPOINTS[kind])


def runs_on(case: Case, caps: Capabilities) -> bool:
    """False when the loaded model can't run the case at all (then `kind_note` says why)."""
    if case.needs is ModelKind.CAPTIONER:
        return caps.kind is ModelKind.CAPTIONER
    return caps.kind is not ModelKind.CAPTIONER


def kind_note(case: Case, caps: Capabilities, preview: bool = False) -> str:
    """Empty when the loaded model suits the case; else one or two plain sentences for the user."""
    loaded = _KIND_NAMES[caps.kind]
    if case.needs is ModelKind.CAPTIONER and caps.kind is not ModelKind.CAPTIONER:
        return Sentence(
            "case.needs_captioner", start=_start_with(ModelKind.CAPTIONER, preview), loaded=loaded
        )
    if caps.kind is ModelKind.CAPTIONER and case.needs is not ModelKind.CAPTIONER:
        return Sentence("case.captioner_loaded", start=_start_with(ModelKind.INSTRUCT, preview))
    if case.needs is ModelKind.THINKING and caps.kind is not ModelKind.THINKING:
        return Sentence(
            "case.made_for_thinking",
            title=case.title,
            start=_start_with(ModelKind.THINKING, preview),
            loaded=loaded,
        )
    if case.speak and not caps.speech_output:
        return Sentence("case.no_voice", loaded=loaded, start=_start_with(ModelKind.INSTRUCT, preview))
    return ""


# --------------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------------

_INPUT_WORDS: dict[MediaKind, Sentence] = {
    "audio": Sentence("word.an_audio_clip"),
    "image": Sentence("word.an_image"),
    "video": Sentence("word.a_video"),
}
# What to add first for a case that takes any one of its inputs.
_ANY_INPUT_WORDS: dict[tuple[MediaKind, ...], Sentence] = {
    ("video", "audio"): Sentence("word.video_or_audio_clip")
}


def _media(case: Case, media_paths: Mapping[MediaKind, str | None]) -> tuple[Media, ...]:
    given = tuple(Media(kind, path) for kind in case.inputs if (path := media_paths.get(kind)))
    if case.any_input:
        if not given:
            raise InputError("case.add_input", what=_ANY_INPUT_WORDS[case.inputs])
        return given
    for kind in case.inputs:
        if not media_paths.get(kind):
            raise InputError("case.add_input", what=_INPUT_WORDS[kind])
    return given


def _sampling(case: Case, max_new_tokens: int) -> Sampling:
    # Every notebook decodes greedily, on the Thinking model too (Image Math). Sampling with the Thinking
    # checkpoint's generation_config is the upstream README's evaluation setting, for the chat only.
    if case.greedy:
        return Sampling(temperature=0.0, max_new_tokens=int(max_new_tokens))
    return Sampling(max_new_tokens=int(max_new_tokens))  # the web demo's sampling


def build_request(
    case: Case,
    media_paths: Mapping[MediaKind, str | None],
    prompt: str,
    system_prompt: str,
    voice: str | None,
    speak: bool,
    tools_json: str | None,
    max_new_tokens: int,
    *,
    text_before: str = "",
) -> Request:
    """The case's settings applied to the user's media, prompt and options (raises `InputError`)."""
    captioner = case.needs is ModelKind.CAPTIONER
    text = prompt.strip() if case.prompts else ""
    before = text_before.strip() if case.prompts_before else ""
    system = "" if captioner else system_prompt.strip()
    tools: tuple[dict, ...] = ()
    if case.renderer == "tools":
        # The engine hands the tools to the processor's chat template, which writes the tool block.
        tools = tuple(DEFAULT_TOOLS if tools_json is None else parse_tools_json(tools_json))
    return Request(
        turns=(Turn("user", text=text, media=_media(case, media_paths), text_before=before),),
        system_prompt=system,
        voice=voice or None,
        return_audio=bool(speak) and case.offers_speech,
        use_audio_in_video=case.audio_in_video,
        sampling=_sampling(case, max_new_tokens),
        tools=tools,
        talker_greedy=case.talker_greedy,
    )


# --------------------------------------------------------------------------------------------------
# Rendering the answer
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """An answer split into what the page shows; every field may be empty."""

    reasoning: str = ""
    answer: str = ""
    image: Image.Image | None = None  # the grounding boxes drawn on the input image
    tool_calls: str = ""  # Markdown, one titled JSON block per call
    note: str = ""  # one `Sentence` about what could not be read


def render_answer(
    case: Case,
    caps: Capabilities,
    text: str,
    media_paths: Mapping[MediaKind, str | None] | None = None,
    done: bool = True,
) -> Rendered:
    """Split reasoning off, then draw boxes or read tool calls (only once the answer is complete)."""
    reasoning, answer = _split(case, caps, text)
    if not done:
        return Rendered(reasoning, answer)
    if case.renderer == "grounding":
        return _render_grounding(reasoning, answer, (media_paths or {}).get("image"))
    if case.renderer == "tools":
        calls = parse_tool_calls(answer)
        return Rendered(reasoning, calls.text, tool_calls=pretty_tool_calls(calls), note=calls.note)
    return Rendered(reasoning, answer)


def _split(case: Case, caps: Capabilities, text: str) -> tuple[str, str]:
    if caps.reasons:
        return split_reply(text, caps.think_in_prompt)
    if case.renderer == "thinking":
        return split_thinking(text)
    return "", text.strip()


def _render_grounding(reasoning: str, answer: str, image_path: str | None) -> Rendered:
    grounding = parse_grounding(answer)
    if not grounding.boxes or not image_path:
        return Rendered(reasoning, answer, note=grounding.note)
    try:
        image = media.load_image(image_path)
    except OmniError as exc:
        return Rendered(reasoning, answer, note=Sentence("case.boxes_failed", error=exc.sentence))
    return Rendered(reasoning, answer, image=draw_boxes(image, grounding.boxes), note=grounding.note)
