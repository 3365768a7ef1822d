"""Feedback widgets: thumbs up / down on every answer and an optional comment (on with --feedback-dir).

The chat rates with the chatbot's own 👍 / 👎 beside each answer; a cookbook panel has its two
buttons under the answer. Either way the rating is saved at once, and a comment sent afterwards saves
the same record again with the comment (same `id`; the last line of an id wins). Saving never touches
the conversation: a failure is one sentence in the status line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr

from omni_demo import feedback
from omni_demo.engine.base import Engine, engine_name
from omni_demo.errors import OmniError
from omni_demo.feedback import FeedbackStore, Source
from omni_demo.i18n import text
from omni_demo.transcript import Exchange
from omni_demo.ui.i18n import LANG_JS, lang_box, t

PRIVATE = "private"  # internal events stay out of the API


@dataclass(frozen=True)
class Rated:
    """The last rating given in this panel, which a comment amends."""

    id: str
    index: int  # which exchange
    rating: str | None


@dataclass
class CommentBox:
    comment: gr.Textbox
    send: gr.Button
    status: gr.Markdown
    rated: gr.State
    lang: gr.Textbox


def comment_box(prefix: str) -> CommentBox:
    """The comment field, its button and the status line; call inside the layout."""
    comment = gr.Textbox(
        label=t("fb.comment"), placeholder=t("fb.placeholder"), lines=2, elem_id=f"{prefix}-comment"
    )
    send = gr.Button(t("fb.send"), size="sm", elem_id=f"{prefix}-comment-send")
    status = gr.Markdown("", elem_id=f"{prefix}-feedback-status")
    return CommentBox(comment, send, status, gr.State(None), lang_box())


def answer_number(history: Sequence[Any], index: int) -> int:
    """1-based number of the answer that the chat message at `index` belongs to (0: none)."""
    number, previous = 0, None
    for message in history[: index + 1]:
        role = message.get("role") if isinstance(message, dict) else getattr(message, "role", None)
        if role == "assistant" and previous != "assistant":
            number += 1
        previous = role
    return number


def rating_of(liked: object) -> str | None:
    """LikeData.liked -> "up", "down", or None when the tester took the rating back."""
    if liked is True or liked == "Like":
        return "up"
    if liked is False or liked == "Dislike":
        return "down"
    return None


def save(
    store: FeedbackStore,
    source: Source,
    exchanges: list[Exchange],
    index: int,
    rated: Rated,
    comment: str = "",
) -> tuple[bool, str]:
    """Write the record; (saved, the status sentence for the tester)."""
    entry = feedback.record(source, exchanges, index, rated.rating, comment, feedback_id=rated.id)
    media = [m.path for e in exchanges[: index + 1] for m in e.user.media]
    try:
        store.save(entry, media)
    except OmniError as exc:
        return False, exc.render(source.lang)
    number = index + 1
    if comment.strip():
        return True, text("fb.comment_saved", source.lang, number=number)
    key = "fb.saved" if rated.rating else "fb.withdrawn"
    return True, text(key, source.lang, number=number)


def source_for(engine: Engine, tab: str) -> Callable[[str], Source]:
    return lambda lang: Source(engine.info, engine_name(engine), tab, lang)


def wire_chat(
    store: FeedbackStore, engine: Engine, chatbot: gr.Chatbot, exchanges: gr.State, box: CommentBox
) -> None:
    """👍 / 👎 beside every chat answer, then the comment for the last one rated."""
    source = source_for(engine, "chat")

    def rate(data: gr.LikeData, history: list, log: list[Exchange], lang: str) -> tuple[str, Any]:
        index = data.index[0] if isinstance(data.index, (list, tuple)) else int(data.index)
        number = answer_number(history, index)
        if not 1 <= number <= len(log):
            return text("fb.rate_first", lang), gr.skip()
        rated = Rated(feedback.new_id(), number - 1, rating_of(data.liked))
        return save(store, source(lang), log, rated.index, rated)[1], rated

    chatbot.like(
        rate, [chatbot, exchanges, box.lang], [box.status, box.rated], js=LANG_JS, api_visibility=PRIVATE
    )
    _wire_comment(store, source, exchanges, box)


def wire_case(
    store: FeedbackStore,
    engine: Engine,
    tab: str,
    last: gr.State,
    up: gr.Button,
    down: gr.Button,
    box: CommentBox,
) -> None:
    """The two buttons under a cookbook answer, then the comment."""
    source = source_for(engine, tab)

    def rater(rating: str) -> Callable[[Exchange | None, str], tuple[str, Any]]:
        def rate(exchange: Exchange | None, lang: str) -> tuple[str, Any]:
            if exchange is None:
                return text("fb.no_answer", lang), gr.skip()
            rated = Rated(feedback.new_id(), 0, rating)
            return save(store, source(lang), [exchange], 0, rated)[1], rated

        return rate

    for button, rating in ((up, "up"), (down, "down")):
        button.click(
            rater(rating), [last, box.lang], [box.status, box.rated], js=LANG_JS, api_visibility=PRIVATE
        )

    def as_log(exchange: Exchange | None) -> list[Exchange]:
        return [exchange] if exchange is not None else []

    _wire_comment(store, source, last, box, as_log)


def _wire_comment(
    store: FeedbackStore,
    source: Callable[[str], Source],
    log_state: gr.State,
    box: CommentBox,
    as_log: Callable[[Any], list[Exchange]] = list,
) -> None:
    def send(comment: str, rated: Rated | None, log: Any, lang: str) -> tuple[str, Any]:
        exchanges = as_log(log)
        if rated is None or rated.index >= len(exchanges):
            return text("fb.rate_first", lang), gr.skip()
        if not comment.strip():
            return gr.skip(), gr.skip()
        saved, status = save(store, source(lang), exchanges, rated.index, rated, comment)
        return status, "" if saved else gr.skip()

    gr.on(
        [box.send.click, box.comment.submit],
        send,
        [box.comment, box.rated, log_state, box.lang],
        [box.status, box.comment],
        js=LANG_JS,
        api_visibility=PRIVATE,
    )
