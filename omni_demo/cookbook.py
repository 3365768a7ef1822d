"""The 18 upstream cookbooks as data: what each case takes, asks and expects.

The UI (`omni_demo.ui.cookbook`) renders one generic panel per `Case`; nothing here imports gradio or
torch. Prompts and settings follow the upstream cookbooks: greedy decoding whichever model is loaded
(only the Captioner samples), no system prompt unless the case is a spoken interaction, media first and
the text prompt last (Image Math: text, picture, text), audio-in-video on only for the audio-visual cases.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

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
from omni_demo.errors import InputError, OmniError
from omni_demo.i18n import Sentence, Words
from omni_demo.i18n.cases import CASE_TEXT
from omni_demo.presets import VOICE_ASSISTANT_PROMPT
from omni_demo.types import Capabilities, Media, MediaKind, ModelKind, Request, Sampling, Turn

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"

Category = Literal["Audio", "Visual", "Audio-Visual", "Agent", "Captioner"]
CATEGORIES: tuple[Category, ...] = ("Audio", "Visual", "Audio-Visual", "Agent", "Captioner")
Renderer = Literal["text", "grounding", "tools", "thinking"]
Task = Literal["", "asr", "translation"]


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

# --------------------------------------------------------------------------------------------------
# Languages and task prompts
# --------------------------------------------------------------------------------------------------

# The 19 speech-input languages. The README names 18 (this order); the technical report's multilingual
# ASR benchmark (Fleurs-avg, 19 languages) adds Thai, the 19th.
SPEECH_LANGUAGES: tuple[str, ...] = (
    "English",
    "Chinese",
    "Korean",
    "Japanese",
    "German",
    "Russian",
    "Italian",
    "French",
    "Spanish",
    "Portuguese",
    "Malay",
    "Dutch",
    "Indonesian",
    "Turkish",
    "Vietnamese",
    "Cantonese",
    "Arabic",
    "Urdu",
    "Thai",
)

# Translation targets: the model writes 119 text languages; a picker of 119 names helps nobody, so it
# offers the 19 languages it hears (which include the 15 of the report's speech-translation benchmark)
# plus widely used written languages with many speakers.
TEXT_LANGUAGES: tuple[str, ...] = (
    *SPEECH_LANGUAGES,
    "Hindi",
    "Bengali",
    "Persian",
    "Polish",
    "Ukrainian",
    "Czech",
    "Romanian",
    "Hungarian",
    "Greek",
    "Swedish",
    "Danish",
    "Norwegian",
    "Finnish",
    "Hebrew",
    "Filipino",
    "Swahili",
)

ASR_PROMPT_ZH = "请将这段中文语音转换为纯文本。"
# Back-translated from the seed README's Chinese; the upstream English wording is unconfirmed.
LYRICS_PROMPT = (
    "Transcribe the song lyrics into text without any punctuation, separate lines with line breaks, "
    "and output only the lyrics without additional explanations."
)


def asr_prompt(language: str) -> str:
    """The README's evaluation prompt for speech recognition in `language`."""
    if language == "Chinese":
        return ASR_PROMPT_ZH
    return f"Transcribe the {language} audio into text."


def translation_prompt(source: str, target: str) -> str:
    """The README's evaluation prompt for speech-to-text translation."""
    return f"Listen to the provided {source} speech and produce a translation in {target} text."


# Persona system prompts for Audio-Visual Interaction, the cookbook's word for word (the trailing spaces
# of some lines included).
ROMANTIC_POET_PROMPT = (
    "You are a romantic and artistic AI, skilled at using metaphors and personification in your responses, "
    "deeply romantic, and prone to spontaneously reciting poetry.\n"
    "You are a voice assistant with specific characteristics. \n"
    "Interact with users using brief, straightforward language, maintaining a natural tone.\n"
    "Never use formal phrasing, mechanical expressions, bullet points, overly structured language. \n"
    "Your output must consist only of the spoken content you want the user to hear. \n"
    "Do not include any descriptions of actions, emotions, sounds, or voice changes. \n"
    "Do not use asterisks, brackets, parentheses, or any other symbols to indicate tone or actions. \n"
    "You must answer users' audio or text questions, do not directly describe the video content. \n"
    "You communicate in the same language as the user unless they request otherwise.\n"
    "When you are uncertain (e.g., you can't see/hear clearly, don't understand, or the user makes a "
    "comment rather than asking a question), use appropriate questions to guide the user to continue the "
    "conversation.\n"
    "Keep replies concise and conversational, as if talking face-to-face."
)
BEIJING_PROMPT = "你是一个北京大爷，说话很幽默，说这地道北京话。"

# --------------------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One upstream cookbook as a ready-to-run page."""

    id: str  # stable, used in element ids: run-<id>, example-<id>
    title: str
    category: Category
    description: str
    inputs: tuple[MediaKind, ...]  # in the order the model reads them
    prompts: tuple[str, ...]  # presets (written after the media), the first is the default; () = none
    system_prompt: str = ""  # "" = none (the benchmark setting)
    audio_in_video: bool = False
    greedy: bool = True
    speak: bool = False  # speech out by default
    needs: ModelKind | None = None  # the model kind the case is made for; None = Instruct or Thinking
    example: Mapping[MediaKind, str] = field(default_factory=dict)  # kind -> file name in assets/
    renderer: Renderer = "text"
    task: Task = ""  # task controls: ASR language picker and lyrics mode, translation pickers
    speech_option: bool = False  # offer speech out although the case answers in text by default
    system_presets: tuple[tuple[str, str], ...] = ()  # (label, prompt) personas to pick from
    # The English display name of each prompt preset, in the order of `prompts` (the picker shows the
    # name, translated; the prompt itself goes to the model as upstream wrote it).
    preset_names: tuple[str, ...] = ()
    # Text written before the media, one per preset: upstream's Image Math states each problem above
    # its picture and gives the options below it.
    prompts_before: tuple[str, ...] = ()
    # The example file of each preset, where each upstream prompt has a picture of its own.
    preset_examples: tuple[str, ...] = ()
    # Any one of `inputs` will do (upstream's spoken interactions are a video or a spoken request alone).
    any_input: bool = False
    talker_greedy: bool = False  # upstream passes talker_do_sample=False

    @property
    def presets(self) -> tuple[tuple[str, str], ...]:
        """(display name, prompt) of each preset the picker offers; () when there is nothing to pick."""
        if self.task or len(self.prompts) < 2:
            return ()
        return tuple(zip(self.preset_names, self.prompts, strict=True))

    @property
    def offers_speech(self) -> bool:
        return self.speak or self.speech_option

    def before_for(self, prompt: str) -> str:
        """The text before the media that goes with preset `prompt` ("" for any other prompt)."""
        return dict(zip(self.prompts, self.prompts_before, strict=True)).get(prompt, "")

    def example_for(self, prompt: str) -> str | None:
        """The example file of preset `prompt`; None when the case has one example for all."""
        return dict(zip(self.prompts, self.preset_examples, strict=True)).get(prompt)

    def settings(self) -> tuple[Sentence, ...]:
        """The upstream settings, one short phrase each."""
        parts = [Sentence("settings.greedy" if self.greedy else "settings.sampled")]
        if self.needs is ModelKind.CAPTIONER:
            parts.append(Sentence("settings.captioner"))
        else:
            parts.append(self._system_words())
        if self.prompts_before:
            parts.append(Sentence("settings.text_picture_text"))
        if self.any_input:
            parts.append(Sentence("settings.video_or_spoken"))
        if "video" in self.inputs:
            parts.append(Sentence("settings.aiv_on" if self.audio_in_video else "settings.aiv_off"))
        parts.append(Sentence("settings.spoken" if self.speak else "settings.text"))
        if self.talker_greedy:
            parts.append(Sentence("settings.greedy_codes"))
        return tuple(parts)

    def settings_line(self) -> str:
        """The upstream settings in one plain English line."""
        return " · ".join(self.settings())

    def _system_words(self) -> Sentence:
        if self.renderer == "tools":
            return Sentence("settings.tools")
        if self.system_presets:
            return Sentence("settings.persona")
        if self.system_prompt == VOICE_ASSISTANT_PROMPT:
            return Sentence("settings.voice_assistant")
        return Sentence("settings.system" if self.system_prompt else "settings.no_system")


# The prompts of the upstream notebooks (QwenLM/Qwen3-Omni cookbooks/<case>.ipynb), word for word,
# typos included: the model was shown these.
_MUSIC_PROMPT = (
    "Describe the style, rhythm, dynamics, and expressed emotions of this piece of music. Identify the "
    "instruments used and suggest possible scenarios from which this music might originate."
)
_MUSIC_STYLE_ZH = "请分析这是什么风格的音乐？"
_MUSIC_APPRECIATION = (
    "Write an appreciative description for this piece of music. Identifying its style and genre. Analyze "
    "the collaborative patterns of different instruments in audio and explain their impact on the overall "
    "atmosphere."
)
_MIXED_SPEAKER_ZH = "判断说话人的国籍和性别，并告诉我音频里出现的音效是什么？"
_IQ_PROMPT = (
    "Identify the one picture that follows the same pattern or rule established by the previous pictures. "
    "Please directly the correct answer from the options above."
)
_AV_CHOICE_PROMPT = (
    "Question: What narrative purpose do the question marks above Will's head serve when they first "
    "appear?\nChoices: [\"A. To show Will's confusion about SEC regulations\", 'B. To visualize Will "
    "analyzing market trends', 'C. To demonstrate investor demand for his expertise', 'D. To indicate "
    "SEC scrutiny of his fund proposal']\nPlease give your answer."
)
# Image Math (run on the Thinking model): text, picture, text.
_SPRINKLER_PROBLEM = (
    "The 3-arm lawn sprinkler of Fig. P3.114 receives 20°C water through the center at 2.7 m^3/hr. If "
    "collar friction is neglected, what is the steady rotation rate in rev/min for $\\theta $ = 40°?"
)
_SPRINKLER_OPTIONS = "A, 317 rev/min, B, 414 rev/min, C, 400 rev/min, D, NaN, choose one of the options."
_COST_PROBLEM = (
    "Suppose we have a training set with m=3 examples,plotted below.Our hypothes is representation is "
    "$h_{\\theta}(x) = \\theta_1x$, with parameter $\\theta_1$. The cost function $J(\\theta_1)$ is "
    "$J(\\theta_1)$=${1\\over2m}\\sum\\nolimits_{i=1}^m(h_\\theta(x^i) - y^i)^2$. What is $J(0)$?"
)
_COST_OPTIONS = (
    "Options:\nA. 0\nB. 1/6\nC. 1\nD. 14/6\nPlease select the correct answer from the options above."
)

CASES: tuple[Case, ...] = (
    # ------------------------------------------------------------------------------------- Audio
    Case(
        id="speech-recognition",
        title="Speech Recognition",
        category="Audio",
        description="Speech recognition in 19 languages, long audio included. Pick the language to get "
        "the exact evaluation prompt, or switch on lyrics mode for songs.",
        inputs=("audio",),
        prompts=(asr_prompt("English"), ASR_PROMPT_ZH, LYRICS_PROMPT),
        example={"audio": "speech_en.wav"},
        task="asr",
    ),
    Case(
        id="speech-translation",
        title="Speech Translation",
        category="Audio",
        description="Speech-to-text translation from any of the 19 spoken languages into a written "
        "language. Tick “Speak the answer” to hear the translation too (speech-to-speech).",
        inputs=("audio",),
        prompts=(translation_prompt("Chinese", "English"), translation_prompt("English", "Chinese")),
        example={"audio": "speech_zh.wav"},
        task="translation",
        speech_option=True,
    ),
    Case(
        id="music-analysis",
        title="Music Analysis",
        category="Audio",
        description="Detailed analysis and appreciation of any music: style, genre, rhythm, instruments "
        "and mood.",
        inputs=("audio",),
        prompts=(_MUSIC_PROMPT, _MUSIC_STYLE_ZH, _MUSIC_APPRECIATION),
        preset_names=("Style, rhythm and instruments", "Which style? (Chinese)", "Appreciation"),
        example={"audio": "music.wav"},
    ),
    Case(
        id="sound-analysis",
        title="Sound Analysis",
        category="Audio",
        description="Description and analysis of sound effects and audio signals: what happened, what "
        "made the sound, where it was recorded.",
        inputs=("audio",),
        prompts=(
            "What happened in the audio?",
            "What is this sound? In what kind of situation might it occur?",
            "Guess where I am?",
        ),
        preset_names=("What happened?", "What is this sound?", "Guess where I am?"),
        example={"audio": "sound.wav"},
    ),
    Case(
        id="audio-caption",
        title="Audio Caption",
        category="Audio",
        description="A detailed description of any audio: speech, music, sounds and the scene they suggest.",
        inputs=("audio",),
        prompts=(
            "Give the detailed description of the audio.",
            "Please provide a detailed description of the audio.",
            "Give a thorough description of the audio.",
        ),
        preset_names=("Detailed description", "Detailed description, asked politely", "Thorough description"),
        example={"audio": "caption.wav"},
    ),
    Case(
        id="mixed-audio-analysis",
        title="Mixed Audio Analysis",
        category="Audio",
        description="Analysis of audio that mixes speech, music and environmental sounds.",
        inputs=("audio",),
        prompts=(
            "Determine which sound effects and musical instruments are present in the audio.",
            _MIXED_SPEAKER_ZH,
        ),
        preset_names=("Sound effects and instruments", "Speaker and sound effects (Chinese)"),
        example={"audio": "mixed.wav"},
    ),
    # ------------------------------------------------------------------------------------ Visual
    Case(
        id="ocr",
        title="OCR",
        category="Visual",
        description="Reads the text of complex images: documents, receipts, signs.",
        inputs=("image",),
        prompts=("Extract the text from the image.", "请提取图片中的文字。"),
        preset_names=("Extract the text", "Extract the text (Chinese)"),
        example={"image": "ocr.png"},
    ),
    Case(
        id="object-grounding",
        title="Object Grounding",
        category="Visual",
        description="Finds objects and answers with boxes, which are drawn on the image with their "
        "labels. Change the object after “Locate the object:”.",
        inputs=("image",),
        prompts=(
            "Locate the object: bird.",
            "Locate the object: A person riding a motorcycle while wearing a helmet.",
        ),
        preset_names=("A bird", "A motorcyclist wearing a helmet"),
        example={"image": "grounding.png"},
        renderer="grounding",
    ),
    Case(
        id="image-question",
        title="Image Question",
        category="Visual",
        description="Answers any question about an image.",
        inputs=("image",),
        prompts=(
            "What style does this image depict?",
            "Based on this image, what do you think will happen next?",
            _IQ_PROMPT,
        ),
        preset_names=("Image style", "What happens next?", "Picture pattern puzzle"),
        example={"image": "scene.png"},
    ),
    Case(
        id="image-math",
        title="Image Math",
        category="Visual",
        description="Solves math problems shown in images, the showcase of the Thinking model: its "
        "reasoning is folded above the final answer. Each of upstream's two problems is stated above its "
        "picture and gives its options below it; the pictures are the project's own drawings of them.",
        inputs=("image",),
        prompts=(_SPRINKLER_OPTIONS, _COST_OPTIONS),
        prompts_before=(_SPRINKLER_PROBLEM, _COST_PROBLEM),
        preset_names=("Lawn sprinkler (multiple choice)", "Cost function J(0) (multiple choice)"),
        preset_examples=("math_sprinkler.png", "math_cost.png"),
        needs=ModelKind.THINKING,
        example={"image": "math_sprinkler.png"},
        renderer="thinking",
    ),
    Case(
        id="video-description",
        title="Video Description",
        category="Visual",
        description="A detailed description of what a video shows.",
        inputs=("video",),
        prompts=("Describe the video.",),
        example={"video": "video_room.mp4"},
    ),
    Case(
        id="video-navigation",
        title="Video Navigation",
        category="Visual",
        description="Navigation directions from a first-person video of moving through a place.",
        inputs=("video",),
        prompts=("If I want to stop at the window. Which direction should I take?",),
        example={"video": "video_room.mp4"},
    ),
    Case(
        id="video-scene-transition",
        title="Video Scene Transition",
        category="Visual",
        description="How the scenes of a video change from one to the next.",
        inputs=("video",),
        prompts=("How the scenes in the video change?",),
        example={"video": "video_scenes.mp4"},
    ),
    # ------------------------------------------------------------------------------ Audio-Visual
    Case(
        id="audio-visual-question",
        title="Audio-Visual Question",
        category="Audio-Visual",
        description="Questions about what is seen and heard together, in time: who said what, and when.",
        inputs=("video",),
        prompts=("What was the first sentence the boy said when he met the girl?", _AV_CHOICE_PROMPT),
        preset_names=("The boy's first sentence", "Multiple choice: a scene's purpose"),
        audio_in_video=True,
        example={"video": "av_dialogue.mp4"},
    ),
    Case(
        id="audio-visual-interaction",
        title="Audio-Visual Interaction",
        category="Audio-Visual",
        description="The question is spoken, in a video or in a recording alone; there is no text "
        "prompt. Pick a persona to change how the model answers.",
        inputs=("video", "audio"),
        any_input=True,
        prompts=(),
        audio_in_video=True,
        speech_option=True,  # upstream's notebook answers in text; speech is one tick away
        example={"video": "av_question.mp4"},
        system_presets=(
            ("None", ""),
            ("Romantic poet", ROMANTIC_POET_PROMPT),
            ("Beijing grandpa (北京大爷)", BEIJING_PROMPT),
        ),
    ),
    Case(
        id="audio-visual-dialogue",
        title="Audio-Visual Dialogue",
        category="Audio-Visual",
        description="Casual spoken chat with a video assistant, using the README's recommended "
        "voice-assistant system prompt. Record yourself with the webcam, or just your voice, to talk to it.",
        inputs=("video", "audio"),
        any_input=True,
        prompts=(),
        system_prompt=VOICE_ASSISTANT_PROMPT,
        audio_in_video=True,
        speak=True,
        talker_greedy=True,
        example={"video": "av_dialogue.mp4"},
    ),
    # ------------------------------------------------------------------------------------- Agent
    Case(
        id="audio-function-call",
        title="Audio Function Call",
        category="Agent",
        description="A spoken request becomes function calls. The tools below go into the system prompt "
        "the way the Qwen3 chat template writes them; each call is shown as JSON.",
        inputs=("audio",),
        prompts=(),
        example={"audio": "function_call.wav"},
        renderer="tools",
    ),
    # --------------------------------------------------------------------------------- Captioner
    Case(
        id="omni-captioner",
        title="Omni Captioner",
        category="Captioner",
        description="Qwen3-Omni-30B-A3B-Captioner, fine-tuned from the Instruct model, writes detailed, "
        "low-hallucination captions of any audio. It takes one clip and no prompt; clips of 30 s or less "
        "are recommended (longer ones are accepted, with a note).",
        inputs=("audio",),
        prompts=(),
        greedy=False,  # the Captioner's card: temperature 0.6, top-p 0.95, top-k 20
        needs=ModelKind.CAPTIONER,
        example={"audio": "caption.wav"},
    ),
)

_BY_ID = {case.id: case for case in CASES}


def cases_in(category: Category) -> tuple[Case, ...]:
    return tuple(case for case in CASES if case.category == category)


def case_by_id(case_id: str) -> Case:
    return _BY_ID[case_id]


def example_path(name: str) -> str:
    return str(ASSETS_DIR / name)


def asr_example(language: str, lyrics: bool) -> tuple[str, str]:
    """(example file, language to show) for the ASR controls; shipped clips exist for English, Chinese, song."""
    if lyrics:
        return "song.wav", language
    if language == "Chinese":
        return "speech_zh.wav", language
    return "speech_en.wav", "English"


def translation_example(source: str, target: str) -> tuple[str, str, str]:
    """(example file, source, target) for the translation controls; shipped clips are English and Chinese."""
    if source == "English":
        return "speech_en.wav", source, target if target != source else "Chinese"
    return "speech_zh.wav", "Chinese", target if target != "Chinese" else "English"


# --------------------------------------------------------------------------------------------------
# Model kind checks
# --------------------------------------------------------------------------------------------------

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
            title=Words(case.title, CASE_TEXT[case.id][0]),
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
    return Sampling(temperature=0.6, top_p=0.95, top_k=20, max_new_tokens=int(max_new_tokens))


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
