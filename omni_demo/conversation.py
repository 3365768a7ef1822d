"""Chat history -> the messages and media lists the Qwen3-Omni processor takes.

Rules (transformers 5.x processor behaviour and the upstream cookbooks):
- each user turn puts its media first and its text last; text written before the media (a problem
  stated above its picture, as in upstream's Image Math cookbook) comes first;
- only the newest `max_media_turns` user turns keep their media (older media is dropped, oldest
  first, and the user is told), so a long chat cannot outgrow GPU memory;
- with "audio in video" on, each video also fills an audio slot with its own sound track;
- a Thinking model's earlier reasoning is not fed back, only its final answers;
- the Captioner takes one audio clip, no text and no history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omni_demo.answers import split_thinking
from omni_demo.config import DEFAULTS
from omni_demo.errors import InputError
from omni_demo.i18n import Sentence
from omni_demo.types import Capabilities, Media, ModelKind, Request, Turn


@dataclass(frozen=True)
class AudioSlot:
    """One audio input of the processor: a standalone clip, or the sound track of `videos[video_index]`."""

    path: str
    video_index: int | None = None


@dataclass(frozen=True)
class ModelInput:
    messages: list[dict[str, object]]
    images: list[str] = field(default_factory=list)
    videos: list[str] = field(default_factory=list)
    audio: list[AudioSlot] = field(default_factory=list)
    notices: tuple[Sentence, ...] = ()
    tools: list[dict] = field(default_factory=list)  # for the chat template's ``tools=``

    @property
    def media(self) -> list[Media]:
        """Every file the model will read, for validation."""
        found = [Media("image", p) for p in self.images] + [Media("video", p) for p in self.videos]
        return found + [Media("audio", s.path) for s in self.audio if s.video_index is None]


def _check_last_turn(request: Request, caps: Capabilities) -> Turn:
    if not request.turns or request.turns[-1].role != "user":
        raise InputError("input.empty")
    last = request.turns[-1]
    written = (last.text_before + last.text).strip()
    if not written and not last.media:
        raise InputError("input.empty")
    if caps.kind is ModelKind.CAPTIONER:
        audio = [m for m in last.media if m.kind == "audio"]
        if len(audio) != 1 or len(last.media) != 1 or written:
            raise InputError("input.captioner_one_clip")
    return last


def _keep_media_from(turns: tuple[Turn, ...], max_media_turns: int) -> int:
    """Index of the oldest user turn that keeps its media; earlier media turns are dropped."""
    media_turns = [i for i, t in enumerate(turns) if t.role == "user" and t.media]
    if len(media_turns) <= max_media_turns:
        return 0
    return media_turns[len(media_turns) - max_media_turns] if max_media_turns > 0 else len(turns)


class _Collector:
    """Gathers the processor's ordered media lists while the messages are written."""

    def __init__(self, audio_in_video: bool) -> None:
        self.audio_in_video = audio_in_video
        self.images: list[str] = []
        self.videos: list[str] = []
        self.audio: list[AudioSlot] = []

    def add(self, item: Media) -> dict[str, object]:
        if item.kind == "image":
            self.images.append(item.path)
        elif item.kind == "video":
            self.videos.append(item.path)
            if self.audio_in_video:
                self.audio.append(AudioSlot(item.path, video_index=len(self.videos) - 1))
        else:
            self.audio.append(AudioSlot(item.path))
        return {"type": item.kind, item.kind: item.path}


def _user_content(turn: Turn, keep_media: bool, collector: _Collector) -> list[dict[str, object]]:
    content: list[dict[str, object]] = []
    if turn.text_before.strip():
        content.append({"type": "text", "text": turn.text_before})
    content += [collector.add(item) for item in (turn.media if keep_media else ())]
    if turn.text.strip():
        content.append({"type": "text", "text": turn.text})
    if not content:  # its media was dropped: keep the turn so user/assistant turns still alternate
        content.append({"type": "text", "text": "(an earlier attachment was left out)"})
    return content


def _dropped_notice(dropped: int) -> tuple[Sentence, ...]:
    if not dropped:
        return ()
    turns = Sentence("word.turns" if dropped > 1 else "word.turn")
    return (Sentence("notice.media_dropped", dropped=dropped, turns=turns),)


def build_model_input(
    request: Request, caps: Capabilities, max_media_turns: int = DEFAULTS.max_media_turns
) -> ModelInput:
    """Turn a request into chat-template messages plus the ordered media lists."""
    last = _check_last_turn(request, caps)
    turns, system = request.turns, request.system_prompt.strip()
    if caps.kind is ModelKind.CAPTIONER:
        # Single-turn, no system prompt, no text: exactly what the Captioner was trained on.
        turns, system = (Turn("user", media=last.media),), ""

    keep_from = _keep_media_from(turns, max_media_turns)
    collector = _Collector(request.use_audio_in_video)
    messages: list[dict[str, object]] = []
    if system:
        messages.append({"role": "system", "content": [{"type": "text", "text": system}]})
    for index, turn in enumerate(turns):
        if turn.role == "assistant":
            answer = split_thinking(turn.text)[1] if caps.reasons else turn.text
            messages.append({"role": "assistant", "content": [{"type": "text", "text": answer}]})
        else:
            messages.append({"role": "user", "content": _user_content(turn, index >= keep_from, collector)})
    dropped = sum(1 for t in turns[:keep_from] if t.role == "user" and t.media)
    return ModelInput(
        messages=messages,
        images=collector.images,
        videos=collector.videos,
        audio=collector.audio,
        notices=_dropped_notice(dropped),
        tools=[] if caps.kind is ModelKind.CAPTIONER else list(request.tools),
    )
