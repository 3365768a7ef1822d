"""The one interface between the UI and a model back-end.

A back-end takes a `Request` and yields events: `TextDelta`s and `AudioChunk`s as they are made,
then exactly one `Result`. It raises `OmniError` (before or during the stream) for problems the user
can fix. The local transformers engine and the remote back-ends implement it; what both check the
same way (the voice, the media) is written here once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from omni_demo import media
from omni_demo.conversation import ModelInput, build_model_input
from omni_demo.errors import InputError
from omni_demo.types import Capabilities, Event, ModelInfo, Request


class Engine(Protocol):
    @property
    def info(self) -> ModelInfo:
        """What was loaded: name, kind and capabilities, device."""
        ...

    def check(self, request: Request) -> None:
        """Raise OmniError now if the request can't be served (bad media, empty message, ...)."""
        ...

    def stream(self, request: Request) -> Iterator[Event]:
        """Generate a reply. Closing the iterator early cancels the generation at once."""
        ...

    def system_turn(self, system: str, tools: Sequence[dict]) -> str:
        """The system turn the model's chat template writes for this system prompt and `tools`."""
        ...


def engine_name(engine: object) -> str:
    """Which engine runs the replies, for records: a local engine's loop ("fast" or "plain", its
    `options.engine`), else the back-end's class name."""
    options = getattr(engine, "options", None)
    name = getattr(options, "engine", None)
    return str(name) if name else type(engine).__name__


def check_voice(request: Request, caps: Capabilities) -> None:
    """A spoken request's voice must be one of the model's (in any case); one sentence otherwise.
    Without speech the voice is not used, so it is not checked."""
    voice = request.voice
    if not (voice and request.return_audio and caps.speech_output):
        return
    if voice.lower() in {v.lower() for v in caps.voices}:
        return
    names = ", ".join(caps.voices)
    raise InputError("engine.no_voice", voice=voice, names=names)


def checked_input(
    request: Request, caps: Capabilities, max_media_turns: int, max_clip_seconds: float
) -> ModelInput:
    """What the model will read for `request`, after the checks every back-end makes before any work:
    the voice, the turns that keep their media, and each clip (readable, at most `max_clip_seconds`,
    a video's sound track where the request hears it)."""
    check_voice(request, caps)
    model_input = build_model_input(request, caps, max_media_turns)
    for item in model_input.media:
        media.validate(item, max_seconds=max_clip_seconds, need_video_audio=request.use_audio_in_video)
    return model_input
