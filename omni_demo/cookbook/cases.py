"""The 18 upstream cookbooks as data: what each case takes, asks and expects, in English and Chinese.

A case is written in one place: its title, description, preset and persona names carry their Chinese
beside the English (`Words`), as do the tabs and the languages of the pickers. Prompts have no
translation: they go to the model as upstream wrote them. The page (`omni_demo.ui.cookbook`) renders
one generic panel per `Case`; `omni_demo.cookbook.requests` turns a case and the user's inputs into a
request. Nothing here imports gradio or torch.

Prompts and settings follow the upstream cookbooks: greedy decoding whichever model is loaded (only the
Captioner samples), no system prompt unless the case is a spoken interaction, media first and the text
prompt last (Image Math: text, picture, text), audio-in-video on only for the audio-visual cases.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from omni_demo.i18n import Sentence, Words
from omni_demo.presets import VOICE_ASSISTANT_PROMPT
from omni_demo.types import MediaKind, ModelKind

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"

Category = Literal["Audio", "Visual", "Audio-Visual", "Agent", "Captioner"]
# The tabs in page order, with their Chinese names (the Captioner is named after its checkpoint).
CATEGORY_ZH: dict[Category, str] = {
    "Audio": "音频",
    "Visual": "视觉",
    "Audio-Visual": "音视频",
    "Agent": "智能体",
    "Captioner": "Captioner",
}
CATEGORIES: tuple[Category, ...] = tuple(CATEGORY_ZH)
Renderer = Literal["text", "grounding", "tools", "thinking"]
Task = Literal["", "asr", "translation"]

# --------------------------------------------------------------------------------------------------
# Languages and task prompts
# --------------------------------------------------------------------------------------------------

# The 19 speech-input languages, each with its Chinese name for the pickers (the prompt keeps the English
# name). The README names 18 (this order); the technical report's multilingual ASR benchmark (Fleurs-avg,
# 19 languages) adds Thai, the 19th.
SPEECH_LANGUAGES: tuple[Words, ...] = (
    Words("English", "英语"),
    Words("Chinese", "中文"),
    Words("Korean", "韩语"),
    Words("Japanese", "日语"),
    Words("German", "德语"),
    Words("Russian", "俄语"),
    Words("Italian", "意大利语"),
    Words("French", "法语"),
    Words("Spanish", "西班牙语"),
    Words("Portuguese", "葡萄牙语"),
    Words("Malay", "马来语"),
    Words("Dutch", "荷兰语"),
    Words("Indonesian", "印尼语"),
    Words("Turkish", "土耳其语"),
    Words("Vietnamese", "越南语"),
    Words("Cantonese", "粤语"),
    Words("Arabic", "阿拉伯语"),
    Words("Urdu", "乌尔都语"),
    Words("Thai", "泰语"),
)

# Translation targets: the model writes 119 text languages; a picker of 119 names helps nobody, so it
# offers the 19 languages it hears (which include the 15 of the report's speech-translation benchmark)
# plus widely used written languages with many speakers.
TEXT_LANGUAGES: tuple[Words, ...] = (
    *SPEECH_LANGUAGES,
    Words("Hindi", "印地语"),
    Words("Bengali", "孟加拉语"),
    Words("Persian", "波斯语"),
    Words("Polish", "波兰语"),
    Words("Ukrainian", "乌克兰语"),
    Words("Czech", "捷克语"),
    Words("Romanian", "罗马尼亚语"),
    Words("Hungarian", "匈牙利语"),
    Words("Greek", "希腊语"),
    Words("Swedish", "瑞典语"),
    Words("Danish", "丹麦语"),
    Words("Norwegian", "挪威语"),
    Words("Finnish", "芬兰语"),
    Words("Hebrew", "希伯来语"),
    Words("Filipino", "菲律宾语"),
    Words("Swahili", "斯瓦希里语"),
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
    title: Words  # English, with its Chinese
    category: Category
    description: Words
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
    system_presets: tuple[tuple[Words, str], ...] = ()  # (label, prompt) personas to pick from
    # The display name of each prompt preset, in the order of `prompts` (the picker shows the name in
    # the page's language; the prompt itself goes to the model as upstream wrote it).
    preset_names: tuple[Words, ...] = ()
    # Text written before the media, one per preset: upstream's Image Math states each problem above
    # its picture and gives the options below it.
    prompts_before: tuple[str, ...] = ()
    # The example file of each preset, where each upstream prompt has a picture of its own.
    preset_examples: tuple[str, ...] = ()
    # Any one of `inputs` will do (upstream's spoken interactions are a video or a spoken request alone).
    any_input: bool = False
    talker_greedy: bool = False  # upstream passes talker_do_sample=False

    @property
    def presets(self) -> tuple[tuple[Words, str], ...]:
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
        title=Words("Speech Recognition", "语音识别"),
        category="Audio",
        description=Words(
            "Speech recognition in 19 languages, long audio included. Pick the language to get "
            "the exact evaluation prompt, or switch on lyrics mode for songs.",
            "支持 19 种语言的语音识别，包括长音频。选择语言即可得到对应的官方评测提示词；"
            "唱歌请打开歌词模式。",
        ),
        inputs=("audio",),
        prompts=(asr_prompt("English"), ASR_PROMPT_ZH, LYRICS_PROMPT),
        example={"audio": "speech_en.wav"},
        task="asr",
    ),
    Case(
        id="speech-translation",
        title=Words("Speech Translation", "语音翻译"),
        category="Audio",
        description=Words(
            "Speech-to-text translation from any of the 19 spoken languages into a written "
            "language. Tick “Speak the answer” to hear the translation too (speech-to-speech).",
            "把 19 种口语中的任意一种翻译成文字。勾选“朗读回答”还能听到译文（语音到语音）。",
        ),
        inputs=("audio",),
        prompts=(translation_prompt("Chinese", "English"), translation_prompt("English", "Chinese")),
        example={"audio": "speech_zh.wav"},
        task="translation",
        speech_option=True,
    ),
    Case(
        id="music-analysis",
        title=Words("Music Analysis", "音乐分析"),
        category="Audio",
        description=Words(
            "Detailed analysis and appreciation of any music: style, genre, rhythm, instruments and mood.",
            "对任意音乐进行详细分析与赏析：风格、流派、节奏、乐器与情绪。",
        ),
        inputs=("audio",),
        prompts=(_MUSIC_PROMPT, _MUSIC_STYLE_ZH, _MUSIC_APPRECIATION),
        preset_names=(
            Words("Style, rhythm and instruments", "风格、节奏与乐器"),
            Words("Which style? (Chinese)", "是什么风格？（中文提问）"),
            Words("Appreciation", "音乐赏析"),
        ),
        example={"audio": "music.wav"},
    ),
    Case(
        id="sound-analysis",
        title=Words("Sound Analysis", "声音分析"),
        category="Audio",
        description=Words(
            "Description and analysis of sound effects and audio signals: what happened, what "
            "made the sound, where it was recorded.",
            "描述并分析音效和音频信号：发生了什么、是什么发出的声音、在哪里录制的。",
        ),
        inputs=("audio",),
        prompts=(
            "What happened in the audio?",
            "What is this sound? In what kind of situation might it occur?",
            "Guess where I am?",
        ),
        preset_names=(
            Words("What happened?", "发生了什么？"),
            Words("What is this sound?", "这是什么声音？"),
            Words("Guess where I am?", "猜猜我在哪里？"),
        ),
        example={"audio": "sound.wav"},
    ),
    Case(
        id="audio-caption",
        title=Words("Audio Caption", "音频描述"),
        category="Audio",
        description=Words(
            "A detailed description of any audio: speech, music, sounds and the scene they suggest.",
            "详细描述任意音频：语音、音乐、声音以及它们暗示的场景。",
        ),
        inputs=("audio",),
        prompts=(
            "Give the detailed description of the audio.",
            "Please provide a detailed description of the audio.",
            "Give a thorough description of the audio.",
        ),
        preset_names=(
            Words("Detailed description", "详细描述"),
            Words("Detailed description, asked politely", "详细描述（礼貌请求）"),
            Words("Thorough description", "全面描述"),
        ),
        example={"audio": "caption.wav"},
    ),
    Case(
        id="mixed-audio-analysis",
        title=Words("Mixed Audio Analysis", "混合音频分析"),
        category="Audio",
        description=Words(
            "Analysis of audio that mixes speech, music and environmental sounds.",
            "分析混合了语音、音乐和环境声的音频。",
        ),
        inputs=("audio",),
        prompts=(
            "Determine which sound effects and musical instruments are present in the audio.",
            _MIXED_SPEAKER_ZH,
        ),
        preset_names=(
            Words("Sound effects and instruments", "音效与乐器"),
            Words("Speaker and sound effects (Chinese)", "说话人与音效（中文提问）"),
        ),
        example={"audio": "mixed.wav"},
    ),
    # ------------------------------------------------------------------------------------ Visual
    Case(
        id="ocr",
        title=Words("OCR", "文字识别（OCR）"),
        category="Visual",
        description=Words(
            "Reads the text of complex images: documents, receipts, signs.",
            "读取复杂图片中的文字：文档、收据、标牌。",
        ),
        inputs=("image",),
        prompts=("Extract the text from the image.", "请提取图片中的文字。"),
        preset_names=(
            Words("Extract the text", "提取文字"),
            Words("Extract the text (Chinese)", "提取文字（中文提问）"),
        ),
        example={"image": "ocr.png"},
    ),
    Case(
        id="object-grounding",
        title=Words("Object Grounding", "目标定位"),
        category="Visual",
        description=Words(
            "Finds objects and answers with boxes, which are drawn on the image with their "
            "labels. Change the object after “Locate the object:”.",
            "找到物体并以框作答，框和标签会画在图片上。"
            "修改“Locate the object:”后面的物体名称即可换一个目标。",
        ),
        inputs=("image",),
        prompts=(
            "Locate the object: bird.",
            "Locate the object: A person riding a motorcycle while wearing a helmet.",
        ),
        preset_names=(
            Words("A bird", "一只鸟"),
            Words("A motorcyclist wearing a helmet", "戴头盔骑摩托车的人"),
        ),
        example={"image": "grounding.png"},
        renderer="grounding",
    ),
    Case(
        id="image-question",
        title=Words("Image Question", "图片问答"),
        category="Visual",
        description=Words(
            "Answers any question about an image.",
            "回答关于图片的任何问题。",
        ),
        inputs=("image",),
        prompts=(
            "What style does this image depict?",
            "Based on this image, what do you think will happen next?",
            _IQ_PROMPT,
        ),
        preset_names=(
            Words("Image style", "图片风格"),
            Words("What happens next?", "接下来会发生什么？"),
            Words("Picture pattern puzzle", "图形规律题"),
        ),
        example={"image": "scene.png"},
    ),
    Case(
        id="image-math",
        title=Words("Image Math", "图片数学题"),
        category="Visual",
        description=Words(
            "Solves math problems shown in images, the showcase of the Thinking model: its "
            "reasoning is folded above the final answer. Each of upstream's two problems is stated above its "
            "picture and gives its options below it; the pictures are the project's own drawings of them.",
            "解答图片中的数学题，这是 Thinking 模型的拿手好戏：推理过程折叠在最终答案上方。"
            "上游的两道题都是题干在图片上方、选项在图片下方；图片是本项目按题意自己绘制的。",
        ),
        inputs=("image",),
        prompts=(_SPRINKLER_OPTIONS, _COST_OPTIONS),
        prompts_before=(_SPRINKLER_PROBLEM, _COST_PROBLEM),
        preset_names=(
            Words("Lawn sprinkler (multiple choice)", "草坪洒水器（选择题）"),
            Words("Cost function J(0) (multiple choice)", "代价函数 J(0)（选择题）"),
        ),
        preset_examples=("math_sprinkler.png", "math_cost.png"),
        needs=ModelKind.THINKING,
        example={"image": "math_sprinkler.png"},
        renderer="thinking",
    ),
    Case(
        id="video-description",
        title=Words("Video Description", "视频描述"),
        category="Visual",
        description=Words(
            "A detailed description of what a video shows.",
            "详细描述视频中的内容。",
        ),
        inputs=("video",),
        prompts=("Describe the video.",),
        example={"video": "video_room.mp4"},
    ),
    Case(
        id="video-navigation",
        title=Words("Video Navigation", "视频导航"),
        category="Visual",
        description=Words(
            "Navigation directions from a first-person video of moving through a place.",
            "根据在某处行走的第一人称视频给出导航方向。",
        ),
        inputs=("video",),
        prompts=("If I want to stop at the window. Which direction should I take?",),
        example={"video": "video_room.mp4"},
    ),
    Case(
        id="video-scene-transition",
        title=Words("Video Scene Transition", "视频场景转换"),
        category="Visual",
        description=Words(
            "How the scenes of a video change from one to the next.",
            "视频中的场景如何一个接一个地变化。",
        ),
        inputs=("video",),
        prompts=("How the scenes in the video change?",),
        example={"video": "video_scenes.mp4"},
    ),
    # ------------------------------------------------------------------------------ Audio-Visual
    Case(
        id="audio-visual-question",
        title=Words("Audio-Visual Question", "音视频问答"),
        category="Audio-Visual",
        description=Words(
            "Questions about what is seen and heard together, in time: who said what, and when.",
            "关于同时看到和听到的内容、以及它们时间先后的问题：谁在何时说了什么。",
        ),
        inputs=("video",),
        prompts=("What was the first sentence the boy said when he met the girl?", _AV_CHOICE_PROMPT),
        preset_names=(
            Words("The boy's first sentence", "男孩说的第一句话"),
            Words("Multiple choice: a scene's purpose", "选择题：画面的叙事作用"),
        ),
        audio_in_video=True,
        example={"video": "av_dialogue.mp4"},
    ),
    Case(
        id="audio-visual-interaction",
        title=Words("Audio-Visual Interaction", "音视频交互"),
        category="Audio-Visual",
        description=Words(
            "The question is spoken, in a video or in a recording alone; there is no text "
            "prompt. Pick a persona to change how the model answers.",
            "问题是说出来的：在视频里，或者单独一段录音；没有文字提示词。选择一个角色来改变模型的回答方式。",
        ),
        inputs=("video", "audio"),
        any_input=True,
        prompts=(),
        audio_in_video=True,
        speech_option=True,  # upstream's notebook answers in text; speech is one tick away
        example={"video": "av_question.mp4"},
        system_presets=(
            (Words("None", "无"), ""),
            (Words("Romantic poet", "浪漫诗人"), ROMANTIC_POET_PROMPT),
            (Words("Beijing grandpa (北京大爷)", "北京大爷"), BEIJING_PROMPT),
        ),
    ),
    Case(
        id="audio-visual-dialogue",
        title=Words("Audio-Visual Dialogue", "音视频对话"),
        category="Audio-Visual",
        description=Words(
            "Casual spoken chat with a video assistant, using the README's recommended "
            "voice-assistant system prompt. Record yourself with the webcam, or just your voice, "
            "to talk to it.",
            "与视频助手轻松语音聊天，使用 README 推荐的语音助手系统提示词。"
            "用摄像头录下自己，或只录声音，即可与它对话。",
        ),
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
        title=Words("Audio Function Call", "音频函数调用"),
        category="Agent",
        description=Words(
            "A spoken request becomes function calls. The tools below go into the system prompt "
            "the way the Qwen3 chat template writes them; each call is shown as JSON.",
            "把口头请求变成函数调用。下方的工具会按 Qwen3 对话模板的写法写入系统提示词；"
            "每个调用以 JSON 显示。",
        ),
        inputs=("audio",),
        prompts=(),
        example={"audio": "function_call.wav"},
        renderer="tools",
    ),
    # --------------------------------------------------------------------------------- Captioner
    Case(
        id="omni-captioner",
        title=Words("Omni Captioner", "全能描述（Omni Captioner）"),
        category="Captioner",
        description=Words(
            "Qwen3-Omni-30B-A3B-Captioner, fine-tuned from the Instruct model, writes detailed, "
            "low-hallucination captions of any audio. It takes one clip and no prompt; clips of 30 s or less "
            "are recommended (longer ones are accepted, with a note).",
            "Qwen3-Omni-30B-A3B-Captioner 由 Instruct 模型微调而来，可为任意音频写出详细、低幻觉的描述。"
            "它只接受一段音频，不接受提示词；建议音频不超过 30 秒（更长的也可以，结果会附上提示）。",
        ),
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
    """(example file, language to show) for the ASR controls; shipped clips: English, Chinese, a song."""
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
