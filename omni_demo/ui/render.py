"""Turns and replies -> Gradio chat messages (plain dicts; no model code here)."""

from __future__ import annotations

from collections.abc import Sequence

from omni_demo import i18n
from omni_demo.answers import split_reply
from omni_demo.engine.admission import waiting_sentence
from omni_demo.i18n import EN, render, timings_headline, timings_line
from omni_demo.transcript import Exchange, timings_from_dict
from omni_demo.types import Capabilities, Timings, Turn

Message = dict[str, object]
WAITING_ID = "waiting"  # marks the bubble that holds a waiting request's place in the line


def user_messages(turn: Turn) -> list[Message]:
    """One bubble per attachment (shown as a player or picture), then the text."""
    messages: list[Message] = [{"role": "user", "content": {"path": m.path}} for m in turn.media]
    if turn.text.strip():
        messages.append({"role": "user", "content": turn.text})
    return messages


def reply_messages(
    text: str,
    caps: Capabilities,
    *,
    done: bool,
    audio_path: str | None = None,
    timings: Timings | None = None,
    lang: str = EN,
) -> list[Message]:
    """The assistant's reply: reasoning collapsed above the answer, then the speech, then the timings."""
    messages: list[Message] = []
    answer = text
    if caps.reasons:
        reasoning, answer = split_reply(text, caps.think_in_prompt)
        if reasoning:
            status = "done" if done or answer else "pending"
            messages.append(
                {
                    "role": "assistant",
                    "content": reasoning,
                    "metadata": {"title": i18n.text("reply.reasoning", lang), "status": status},
                }
            )
    if answer or not messages:
        messages.append(
            {"role": "assistant", "content": answer or ("…" if not done else i18n.text("reply.empty", lang))}
        )
    if audio_path:
        messages.append({"role": "assistant", "content": {"path": audio_path, "mime_type": "audio/wav"}})
    if timings is not None:
        messages.append(
            {
                "role": "assistant",
                "content": timings_line(timings, lang),
                "metadata": {
                    "title": i18n.text("reply.timings", lang),
                    "log": timings_headline(timings, lang),
                    "status": "done",
                },
            }
        )
    return messages


def waiting_message(ahead: int, lang: str = EN) -> Message:
    """The pending answer while the request waits for the GPU: its place in the line. The answer's
    first text takes its place; `without_waiting` takes it away after a Stop."""
    return {
        "role": "assistant",
        "content": render(waiting_sentence(ahead), lang),
        "metadata": {"id": WAITING_ID},  # an id without a title: shown as a plain bubble
    }


def without_waiting(messages: Sequence[Message]) -> list[Message] | None:
    """The chat without its waiting bubble (the last message); None when there is none."""
    last = messages[-1] if messages else None
    metadata = last.get("metadata") if last else None
    if not (isinstance(metadata, dict) and metadata.get("id") == WAITING_ID):
        return None
    return list(messages[:-1])


def history_of(exchanges: Sequence[Exchange], caps: Capabilities, lang: str) -> list[Message]:
    """The chat's messages of a conversation: each question, its notices, then its answer."""
    history: list[Message] = []
    for exchange in exchanges:
        history.extend(user_messages(exchange.user))
        history.extend(notice_message(n, lang) for n in exchange.notices)
        timings = timings_from_dict(exchange.timings) if exchange.timings else None
        history.extend(
            reply_messages(
                exchange.answer, caps, done=True, audio_path=exchange.speech, timings=timings, lang=lang
            )
        )
    return history


def notice_message(notice: str, lang: str = EN) -> Message:
    """A notice (a `Sentence`, or a plain string kept from an older saved conversation) as a bubble."""
    title = i18n.text("reply.note", lang)
    return {
        "role": "assistant",
        "content": render(notice, lang),
        "metadata": {"title": title, "status": "done"},
    }
