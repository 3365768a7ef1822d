"""The page in English and Simplified Chinese: one catalog, two ways to use it.

- Page text the UI owns (labels, buttons, notices, the timings line) is looked up by a stable id in
  `omni_demo.i18n.ui.UI`, which holds both languages side by side: `text("chat.send", lang)`.
- Sentences written by the model side (errors, notices, notes; `media`, `conversation`, `answers`,
  `cookbook`, the engine) stay in English where they are raised, as gettext does: the English sentence
  is its own id. `omni_demo.i18n.sentences.SENTENCES` maps each English template to its Chinese, and
  `localize(sentence, lang)` finds the template a sentence was made from and fills the Chinese one with
  the same values (file names, numbers, nested sentences, which are translated too).

Prompts sent to the model are never translated. Nothing here imports gradio; `omni_demo.ui.i18n`
hands the catalog to Gradio's `gr.I18n`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from omni_demo.i18n.sentences import FRAGMENTS, SENTENCES
from omni_demo.i18n.ui import UI
from omni_demo.types import Timings

EN = "en"
ZH = "zh-CN"
LANGUAGES: tuple[str, ...] = (EN, ZH)

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


def language(value: str | None) -> str:
    """A browser locale ("zh-CN", "zh", "en-US", "") -> one of LANGUAGES."""
    return ZH if (value or "").lower().startswith("zh") else EN


def fill(template: str, values: Mapping[str, object]) -> str:
    """`str.format` for templates whose fields may be any text (`{_KIND_WORDS[by_ext]}`)."""

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return str(values[match.group(1)])

    return _TOKEN.sub(one, template)


def text(key: str, lang: str, **values: object) -> str:
    """The page text `key` in `lang`, with `values` filled in."""
    english, chinese = UI[key]
    return fill(chinese if language(lang) == ZH else english, values)


def both(key: str, **values: object) -> dict[str, str]:
    """The page text `key` in every language."""
    return {lang: text(key, lang, **values) for lang in LANGUAGES}


# --------------------------------------------------------------------------------------------------
# Sentences from the model side
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pattern:
    english: str
    regex: re.Pattern[str]
    fields: tuple[str, ...]
    literal: int  # characters of fixed text: the most specific template wins


def _pattern(english: str) -> _Pattern:
    parts: list[str] = []
    fields: list[str] = []
    literal = 0
    position = 0
    for match in _TOKEN.finditer(english):
        fixed = english[position : match.start()]
        parts.append(re.escape(fixed))
        literal += len(fixed)
        if match.group(0) in ("{{", "}}"):
            parts.append(re.escape(match.group(0)[0]))
            literal += 1
        else:
            parts.append(f"(?P<f{len(fields)}>.+?)")
            fields.append(match.group(1))
        position = match.end()
    tail = english[position:]
    parts.append(re.escape(tail))
    literal += len(tail)
    return _Pattern(english, re.compile("".join(parts) + r"\Z", re.DOTALL), tuple(fields), literal)


@cache
def _patterns() -> tuple[_Pattern, ...]:
    return tuple(sorted((_pattern(e) for e in SENTENCES), key=lambda p: -p.literal))


def _fragment(value: str, lang: str) -> str:
    """A value inside a sentence: a known phrase or a whole sentence is translated, a name is kept."""
    if value in FRAGMENTS:
        return FRAGMENTS[value]
    translated = translate(value, lang)
    return value if translated is None else translated


def translate(sentence: str, lang: str) -> str | None:
    """The sentence in `lang`, or None when no template of the catalog made it."""
    if language(lang) == EN:
        return sentence
    if sentence in FRAGMENTS:
        return FRAGMENTS[sentence]
    for pattern in _patterns():
        match = pattern.regex.match(sentence)
        if match is None:
            continue
        values: dict[str, str] = {}
        for index, field in enumerate(pattern.fields):
            values.setdefault(field, _fragment(match.group(f"f{index}"), lang))
        return fill(SENTENCES[pattern.english], values)
    return None


def localize(sentence: str, lang: str) -> str:
    """The sentence in `lang`; a sentence the catalog lacks is shown in English rather than lost."""
    if not sentence:
        return sentence
    translated = translate(sentence, lang)
    if translated is not None:
        return translated
    # Several sentences in one string ("A. B."): translate each one.
    pieces = re.split(r"(?<=[.;!?])\s+(?=[A-Z“\"])", sentence)
    if len(pieces) > 1:
        return "".join(localize(piece, lang) for piece in pieces)
    return sentence


@cache
def _ui_by_english() -> dict[str, str]:
    """Page texts without fields, by their English: lets a UI sentence travel as an OmniError."""
    return {english: key for key, (english, _) in UI.items() if "{" not in english}


def localize_any(sentence: str, lang: str) -> str:
    """Like `localize`, and also knows the UI's own sentences (raised in English by the handlers)."""
    key = _ui_by_english().get(sentence)
    return text(key, lang) if key is not None else localize(sentence, lang)


# --------------------------------------------------------------------------------------------------
# The timings line
# --------------------------------------------------------------------------------------------------


def timings_line(timings: Timings, lang: str) -> str:
    """`Timings.summary()` in `lang`: one line for the chat bubble and the cookbook panel."""
    parts: list[str] = []
    if timings.first_token_s is not None:
        parts.append(text("timings.first_token", lang, seconds=f"{timings.first_token_s:.2f}"))
    if timings.tokens_per_s is not None:
        rate = f"{timings.tokens_per_s:.1f}"
        parts.append(text("timings.speed", lang, rate=rate, tokens=timings.text_tokens))
    if timings.first_audio_s is not None:
        parts.append(text("timings.first_audio", lang, seconds=f"{timings.first_audio_s:.2f}"))
    if timings.speech_s:
        rtf = f"{timings.real_time_factor:.2f}"
        parts.append(text("timings.speech", lang, seconds=f"{timings.speech_s:.1f}", rtf=rtf))
    if timings.underrun_s is not None:
        parts.append(text("timings.underrun", lang, seconds=f"{timings.underrun_s:.2f}"))
    parts.append(text("timings.total", lang, seconds=f"{timings.total_s:.2f}"))
    if timings.peak_gpu_gib is not None:
        parts.append(text("timings.gpu", lang, gib=f"{timings.peak_gpu_gib:.1f}"))
    if timings.input_tokens:
        sizes = ", ".join(f"{_modality(k, lang)} {v}" for k, v in timings.input_tokens.items())
        parts.append(text("timings.inputs", lang, sizes=sizes))
    if timings.engine:
        parts.append(text("timings.engine", lang, engine=timings.engine))
    return " · ".join(parts)


def timings_headline(timings: Timings, lang: str) -> str:
    """`Timings.headline()` in `lang`: when the first sound (or token) came, and the total."""
    parts: list[str] = []
    if timings.first_audio_s is not None:
        parts.append(text("timings.first_audio", lang, seconds=f"{timings.first_audio_s:.2f}"))
    elif timings.first_token_s is not None:
        parts.append(text("timings.first_token", lang, seconds=f"{timings.first_token_s:.2f}"))
    parts.append(text("timings.total", lang, seconds=f"{timings.total_s:.1f}"))
    return " · ".join(parts)


def _modality(name: str, lang: str) -> str:
    key = "timings.total_tokens" if name == "total" else f"timings.{name}"
    return text(key, lang) if key in UI else name
