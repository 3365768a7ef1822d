"""Event handlers of the chat tab, and the one place where OmniError becomes gr.Error.

A chat session keeps its conversation once: its `Exchange`s (each question with its answer), plus the
one being answered (`pending`, its answer so far, which stays there when Stop cuts it short). The chat's
messages and the model's turns are derived from them. Handlers never mutate what they receive, so a
failed or cancelled request leaves every other session and the conversation so far untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr

from omni_demo import media
from omni_demo.engine.base import Engine
from omni_demo.errors import OmniError
from omni_demo.housekeeping.tempfiles import reply_files
from omni_demo.i18n import EN, text
from omni_demo.transcript import Exchange
from omni_demo.types import AudioChunk, Media, Preparing, Queued, Request, Result, Sampling, TextDelta, Turn
from omni_demo.ui.render import (
    Message,
    history_of,
    notice_message,
    reply_messages,
    user_messages,
    waiting_message,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class ChatOptions:
    """The settings column of the chat tab, in the order of its inputs."""

    system_prompt: str
    voice: str | None
    speak: bool
    audio_in_video: bool
    temperature: float
    top_p: float
    top_k: int
    max_new_tokens: int

    def request(self, turns: list[Turn]) -> Request:
        return Request(
            turns=tuple(turns),
            system_prompt=self.system_prompt,
            voice=self.voice or None,
            return_audio=self.speak,
            use_audio_in_video=hears_video_sound(turns, self.audio_in_video),
            sampling=Sampling(self.temperature, self.top_p, int(self.top_k), int(self.max_new_tokens)),
        )


def hears_video_sound(turns: list[Turn] | tuple[Turn, ...], wanted: bool) -> bool:
    """Whether the model hears the videos' sound ("audio in video"): when wanted and the
    conversation's videos all have a sound track. A webcam question is heard with no box ticked, and
    a silent video is still taken (seen, not heard): the model takes one setting for all of a
    request's videos, so one silent video turns it off for all of them. Without a video it changes
    nothing and stays off."""
    videos = [item.path for turn in turns for item in turn.media if item.kind == "video"]
    if not wanted or not videos:
        return False
    return all(media.has_sound_track(path) for path in videos)


UNEXPECTED = text("error.unexpected", EN)


@contextmanager
def shown_to_user(lang: str = EN) -> Iterator[None]:
    """The one boundary where errors become what the user reads, in the page's language.

    OmniError's sentence is shown, rendered in `lang`; anything else is a bug: logged with its stack
    trace, and summarised in one sentence rather than Gradio's generic text.
    """
    try:
        yield
    except OmniError as exc:
        raise gr.Error(exc.render(lang), print_exception=False) from exc
    except gr.Error:
        raise
    except Exception as exc:
        log.exception("unexpected error while serving a request")
        raise gr.Error(text("error.unexpected", lang), print_exception=False) from exc


def checked(lang: str, check: Callable[[], T]) -> T | None:
    """Run the checks before an answer starts. A refusal (or a bug) becomes a toast with its one
    sentence, and None: raised, it would make Gradio cover the event's outputs (a conversation among
    them) with a large "Error"."""
    try:
        with shown_to_user(lang):
            return check()
    except gr.Error as refused:
        gr.Warning(refused.message)
        return None


def new_user_turn(text: str, files: list[str]) -> Turn:
    """A turn from the message box; raises OmniError for files of a type the model can't take."""
    items = tuple(Media(media.media_kind_of(path), path) for path in files)
    return Turn("user", text=text.strip(), media=items)


def turns_of(exchanges: Sequence[Exchange]) -> list[Turn]:
    """The model's turns of a conversation: each question, then its answer."""
    return [turn for exchange in exchanges for turn in (exchange.user, Turn("assistant", exchange.answer))]


def conversation_of(exchanges: Sequence[Exchange], pending: Exchange | None) -> list[Exchange]:
    """The conversation so far: a pending exchange left by Stop is part of it, its answer cut there."""
    return [*exchanges, pending] if pending is not None else list(exchanges)


def fixed_audio_in_video(conversation: Sequence[Exchange]) -> bool | None:
    """The "audio in video" setting the conversation's answers were made with (None: nothing fixes it
    yet). A conversation keeps one setting: its earlier videos were read with it."""
    made_with = (e.settings["audio_in_video"] for e in conversation if "audio_in_video" in e.settings)
    return next((bool(value) for value in made_with), None)


def add_user_turn(
    engine: Engine,
    turn: Turn,
    shown: Sequence[Message],
    exchanges: Sequence[Exchange],
    pending: Exchange | None,
    options: ChatOptions,
    lang: str = EN,
) -> tuple[list[Message], list[Exchange], Exchange]:
    """Validate the new turn against the whole conversation; then (the chat's messages, the
    conversation so far, the new pending exchange), all new lists."""
    conversation = conversation_of(exchanges, pending)
    if shown and not conversation:
        # The page still shows a conversation the server no longer holds: its session was the one
        # unused longest when more sessions than `--max-sessions` were open.
        raise OmniError("chat.forgotten")
    fixed = fixed_audio_in_video(conversation)
    if fixed is not None and fixed != options.audio_in_video:
        raise OmniError("chat.aiv_locked")
    engine.check(options.request([*turns_of(conversation), turn]))
    asked = Exchange(turn, "", settings=asdict(options))
    messages = [*history_of(conversation, engine.info.capabilities, lang), *user_messages(turn)]
    return messages, conversation, asked


def respond(
    engine: Engine,
    exchanges: Sequence[Exchange],
    pending: Exchange,
    options: ChatOptions,
    lang: str = EN,
) -> Iterator[tuple[Any, Any, Any, Any]]:
    """Answer `pending`: (chat messages, pending exchange, speech chunk, exchanges) updates; gr.skip()
    where unchanged.

    While the answer streams, `pending` holds it so far (what Stop leaves); the last update moves the
    finished `Exchange` (the answer with its settings, timings and WAV) into the exchanges. A failure
    leaves the exchanges as they were and drops the question, so the conversation goes on without it.
    """
    caps = engine.info.capabilities
    earlier = history_of(exchanges, caps, lang)
    base, reply = [*earlier, *user_messages(pending.user)], ""
    ahead: int | None = None  # the place in the line on show while the request waits for the GPU
    try:
        for event in engine.stream(options.request([*turns_of(exchanges), pending.user])):
            if isinstance(event, Queued) and event.ahead != ahead:
                ahead = event.ahead
                yield [*base, waiting_message(ahead, lang)], gr.skip(), gr.skip(), gr.skip()
            elif isinstance(event, Preparing | Queued):
                yield gr.skip(), gr.skip(), gr.skip(), gr.skip()  # gives Stop its chance before the GPU
            elif isinstance(event, TextDelta):
                reply, ahead = reply + event.text, None
                messages = reply_messages(reply, caps, done=False, lang=lang)
                yield [*base, *messages], replace(pending, answer=reply), gr.skip(), gr.skip()
            elif isinstance(event, AudioChunk):
                # Speech before any text (not seen so far) also ends the wait on the page.
                started = [*base, *reply_messages(reply, caps, done=False, lang=lang)]
                chat, ahead = (gr.skip() if ahead is None else started), None
                yield chat, gr.skip(), (event.sample_rate, media.to_int16(event.samples)), gr.skip()
            elif isinstance(event, Result):
                exchange = _exchange(pending.user, event, options)
                final = _final(base, event, caps, exchange.speech, lang)
                yield final, None, gr.skip(), [*exchanges, exchange]
    except Exception:
        yield earlier, None, gr.skip(), gr.skip()
        raise


def _exchange(turn: Turn, result: Result, options: ChatOptions) -> Exchange:
    speech = None
    if result.audio is not None and len(result.audio):
        speech = str(save_wav(result.audio, result.sample_rate))
    return Exchange(turn, result.text, result.timings.as_dict(), asdict(options), speech, result.notices)


def _final(base: list[Message], result: Result, caps: Any, speech: str | None, lang: str) -> list[Message]:
    messages = reply_messages(
        result.text, caps, done=True, audio_path=speech, timings=result.timings, lang=lang
    )
    return [*base, *(notice_message(n, lang) for n in result.notices), *messages]


def save_wav(samples: Any, sample_rate: int) -> Path:
    """A reply's WAV in the process's bounded reply folder (old ones are removed by age and size)."""
    return reply_files().save(samples, sample_rate)
