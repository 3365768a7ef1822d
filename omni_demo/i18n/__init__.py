"""The page in English and Simplified Chinese: one catalog, two ways to use it.

- Page text the UI owns (labels, buttons, notices, the timings line) is looked up by a stable id in
  `omni_demo.i18n.ui.UI`, which holds both languages side by side: `text("chat.send", lang)`.
- Sentences written by the model side (errors, notices, notes; `media`, `conversation`, `answers`,
  `cookbook`, the engine) are made as a `Sentence`: a key of `omni_demo.i18n.sentences.SENTENCES` (or of
  `UI`) and its fields. As a `str` a sentence is its English text, which tests, logs and the API read;
  `render(sentence, lang)` writes it in the page's language where the UI shows it.

Prompts sent to the model are never translated. Nothing here imports gradio; `omni_demo.ui.i18n`
hands the catalog to Gradio's `gr.I18n`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from omni_demo.i18n.sentences import SENTENCES
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
    """`str.format` for templates whose fields are plain names, with literal braces doubled."""

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return str(values[match.group(1)])

    return _TOKEN.sub(one, template)


def fields_of(template: str) -> frozenset[str]:
    """The names of a template's fields."""
    return frozenset(m.group(1) for m in _TOKEN.finditer(template) if m.group(1) is not None)


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


@cache
def catalog() -> dict[str, tuple[str, str]]:
    """Every key a `Sentence` may name: the model side's sentences and the UI's own texts."""
    return {**UI, **SENTENCES}


class Sentence(str):
    """A sentence for the user, kept as its catalog key and fields; as a `str` it is the English text.

    Made with a key the catalog lacks, or with other fields than the English template's, it raises at
    once: a sentence can't be written any other way, so every one of them has its Chinese. A field
    may hold another `Sentence` (or `Words`), rendered in the same language as the whole.
    """

    key: str
    fields: dict[str, object]

    def __new__(cls, key: str, /, **fields: object) -> Sentence:
        if key not in catalog():
            raise KeyError(f"no sentence {key!r} in the catalog (omni_demo/i18n/sentences.py)")
        english = catalog()[key][0]
        if set(fields) != fields_of(english):
            raise TypeError(
                f"sentence {key!r} takes the fields {sorted(fields_of(english))}, got {sorted(fields)}"
            )
        made = super().__new__(cls, _rendered(english, fields, EN))
        made.key, made.fields = key, dict(fields)
        return made

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, object]]:
        return (self.key,), dict(self.fields)  # copies and pickles are made again from the key

    def render(self, lang: str) -> str:
        if language(lang) == EN:
            return str(self)
        return _rendered(catalog()[self.key][1], self.fields, lang)

    def as_dict(self) -> dict[str, Any]:
        """The key and fields as JSON (a saved conversation's notices, a live error event)."""
        fields = {
            name: v.as_dict() if isinstance(v, Sentence | Words) else v for name, v in self.fields.items()
        }
        return {"key": self.key, "fields": fields}


class Words(str):
    """A phrase that carries its own translation (data: a cookbook case's title, a language's name)."""

    zh: str

    def __new__(cls, english: str, zh: str) -> Words:
        made = super().__new__(cls, english)
        made.zh = zh
        return made

    def __getnewargs__(self) -> tuple[str, str]:
        return str(self), self.zh

    def render(self, lang: str) -> str:
        return self.zh if language(lang) == ZH else str(self)

    def as_dict(self) -> dict[str, Any]:
        return {"en": str(self), "zh": self.zh}


def _rendered(template: str, fields: Mapping[str, object], lang: str) -> str:
    return fill(template, {name: render(value, lang) for name, value in fields.items()})


def render(value: object, lang: str) -> str:
    """A `Sentence` or `Words` in `lang`; anything else (a file name, a number) as it is."""
    if isinstance(value, Sentence | Words):
        return value.render(lang)
    return str(value)


def sentence_from(data: object) -> str:
    """`Sentence.as_dict()` back as the sentence; a plain string stays itself. Raises ValueError for
    anything else, or for a key or fields this version's catalog lacks."""
    if isinstance(data, str):
        return data
    if not isinstance(data, dict):
        raise ValueError(f"not a sentence: {data!r}")
    if set(data) == {"en", "zh"}:
        return Words(str(data["en"]), str(data["zh"]))
    fields = data.get("fields")
    if not isinstance(data.get("key"), str) or not isinstance(fields, dict):
        raise ValueError(f"not a sentence: {data!r}")
    try:
        return Sentence(
            data["key"], **{str(k): sentence_from(v) if isinstance(v, dict) else v for k, v in fields.items()}
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(str(exc)) from None


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
