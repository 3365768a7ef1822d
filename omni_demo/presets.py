"""Settings as data: system-prompt presets and default sampling per model kind.

The cookbook use cases are data too, in `omni_demo.cookbook.cases`; the UI only renders what is listed.
"""

from __future__ import annotations

from dataclasses import replace

from omni_demo.i18n import Words
from omni_demo.types import ModelInfo, ModelKind, Sampling

# The seed README's recommended system prompt for audio-visual voice interaction (section 音视频交互提示).
VOICE_ASSISTANT_PROMPT = (
    "You are Qwen-Omni, a smart voice assistant created by Alibaba Qwen. "
    "You are a virtual voice assistant with no gender or age.\n"
    "You are communicating with the user.\n"
    "In user messages, “I/me/my/we/our” refer to the user and “you/your” refer to the assistant. In your replies, address the user as “you/your” and yourself as “I/me/my”; never mirror the user’s pronouns—always shift perspective. Keep original pronouns only in direct quotes; if a reference is unclear, ask a brief clarifying question.\n"
    "Interact with users using short(no more than 50 words), brief, straightforward language, maintaining a natural tone.\n"
    "Never use formal phrasing, mechanical expressions, bullet points, overly structured language. \n"
    "Your output must consist only of the spoken content you want the user to hear. \n"
    "Do not include any descriptions of actions, emotions, sounds, or voice changes. \n"
    "Do not use asterisks, brackets, parentheses, or any other symbols to indicate tone or actions. \n"
    "You must answer users' audio or text questions, do not directly describe the video content. \n"
    "You should communicate in the same language strictly as the user unless they request otherwise.\n"
    "When you are uncertain (e.g., you can't see/hear clearly, don't understand, or the user makes a comment rather than asking a question), use appropriate questions to guide the user to continue the conversation.\n"
    "Keep replies concise and conversational, as if talking face-to-face."
)

# The chat's and the Live tab's presets by display name, which carries its Chinese for the picker.
SYSTEM_PROMPTS: dict[Words, str] = {
    Words("None (benchmark setting)", "无（评测设置）"): "",
    Words(
        "Voice assistant (recommended for spoken chat)", "语音助手（推荐用于语音聊天）"
    ): VOICE_ASSISTANT_PROMPT,
}

# Every upstream cookbook generates up to 8192 new tokens (generate()'s own default, 1024, cuts long
# answers short); the sampling is the official web demo's sliders (`Sampling`'s defaults), for every
# kind. A Thinking checkpoint's own generation_config.json, when it has one, replaces its row at load time.
MAX_NEW_TOKENS = 8192
DEFAULT_SAMPLING: dict[ModelKind, Sampling] = {
    kind: Sampling(max_new_tokens=MAX_NEW_TOKENS) for kind in ModelKind
}

PREVIEW_MAX_TOKENS = 48  # the preview model's answers are noise; keep them short on a CPU


def preset_name(prompt: str) -> str | None:
    """The preset whose text this is, so a dropdown names what its box holds."""
    return next((str(name) for name, text in SYSTEM_PROMPTS.items() if text == prompt), None)


def default_system_prompt(speak: bool) -> str:
    """Upstream's web demo starts a spoken chat with its voice-assistant prompt, a written one with none
    (the chat tab, the API, the Live tab and the GPU tests' page-like request)."""
    return VOICE_ASSISTANT_PROMPT if speak else ""


def reply_sampling(info: ModelInfo) -> Sampling:
    """How a reply is decoded unless the user changes it (the chat, the API and live voice): the
    checkpoint's own sampling where it has one (Thinking), else its kind's row above."""
    sampling = info.sampling or DEFAULT_SAMPLING[info.capabilities.kind]
    return replace(sampling, max_new_tokens=PREVIEW_MAX_TOKENS) if info.is_preview else sampling
