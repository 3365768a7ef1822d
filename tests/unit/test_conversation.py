"""omni_demo.conversation.build_model_input: chat history -> processor messages and media lists.

Pure data in, pure data out: no files are opened, so the media paths here are just names.
"""

from __future__ import annotations

import itertools
import re

import pytest
from sentences import assert_one_sentence

from omni_demo.conversation import AudioSlot, build_model_input
from omni_demo.errors import InputError
from omni_demo.types import Capabilities, Media, ModelKind, Request, Turn

INSTRUCT = Capabilities(kind=ModelKind.INSTRUCT, voices=("Chelsie", "Ethan", "Aiden"))
THINKING = Capabilities(kind=ModelKind.THINKING)
CAPTIONER = Capabilities(kind=ModelKind.CAPTIONER, text_input=False)


def content_types(message: dict) -> list[str]:
    return [block["type"] for block in message["content"]]


def roles(messages: list[dict]) -> list[str]:
    return [m["role"] for m in messages]


def assert_alternating(messages: list[dict]) -> None:
    chat = [m for m in messages if m["role"] != "system"]
    for first, second in itertools.pairwise(chat):
        assert first["role"] != second["role"], roles(messages)
    assert chat[-1]["role"] == "user"


# -------------------------------------------------------------------------------------------- order


def test_media_first_text_last_within_each_turn() -> None:
    turn = Turn(
        "user",
        "What is going on?",
        media=(Media("image", "a.png"), Media("audio", "b.wav"), Media("video", "c.mp4")),
    )
    out = build_model_input(Request(turns=(turn,)), INSTRUCT)

    assert roles(out.messages) == ["user"]
    assert content_types(out.messages[0]) == ["image", "audio", "video", "text"]
    blocks = out.messages[0]["content"]
    assert blocks[0] == {"type": "image", "image": "a.png"}
    assert blocks[1] == {"type": "audio", "audio": "b.wav"}
    assert blocks[2] == {"type": "video", "video": "c.mp4"}
    assert blocks[3] == {"type": "text", "text": "What is going on?"}
    assert out.images == ["a.png"]
    assert out.videos == ["c.mp4"]
    assert out.audio == [AudioSlot("b.wav")]
    assert out.notices == ()


def test_media_lists_follow_conversation_order_across_turns() -> None:
    turns = (
        Turn("user", "one", media=(Media("image", "1.png"), Media("audio", "1.wav"))),
        Turn("assistant", "reply one"),
        Turn("user", "two", media=(Media("audio", "2.wav"), Media("image", "2.png"))),
    )
    out = build_model_input(Request(turns=turns), INSTRUCT)

    assert roles(out.messages) == ["user", "assistant", "user"]
    assert out.messages[1]["content"] == [{"type": "text", "text": "reply one"}]
    assert content_types(out.messages[2]) == ["audio", "image", "text"]
    assert out.images == ["1.png", "2.png"]
    assert out.audio == [AudioSlot("1.wav"), AudioSlot("2.wav")]


def test_text_only_turn_has_one_text_block() -> None:
    out = build_model_input(Request(turns=(Turn("user", "Hello"),)), INSTRUCT)
    assert out.messages == [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}]
    assert (out.images, out.videos, out.audio) == ([], [], [])


def test_media_only_turn_has_no_text_block() -> None:
    out = build_model_input(Request(turns=(Turn("user", media=(Media("audio", "q.wav"),)),)), INSTRUCT)
    assert out.messages[0]["content"] == [{"type": "audio", "audio": "q.wav"}]


# ------------------------------------------------------------------------------------ system prompt


def test_system_prompt_comes_first_when_given() -> None:
    request = Request(turns=(Turn("user", "Hi"),), system_prompt="  Be brief.  ")
    out = build_model_input(request, INSTRUCT)
    assert out.messages[0] == {"role": "system", "content": [{"type": "text", "text": "Be brief."}]}
    assert roles(out.messages) == ["system", "user"]


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t"])
def test_no_system_message_for_empty_prompt(prompt: str) -> None:
    out = build_model_input(Request(turns=(Turn("user", "Hi"),), system_prompt=prompt), INSTRUCT)
    assert roles(out.messages) == ["user"]


# ----------------------------------------------------------------------------------- empty message


@pytest.mark.parametrize(
    "turns",
    [
        (),
        (Turn("user", ""),),
        (Turn("user", "   \n "),),
        (Turn("user", "Hi"), Turn("assistant", "Hello")),  # nothing new from the user
    ],
    ids=["no-turns", "empty", "blank", "ends-with-assistant"],
)
@pytest.mark.parametrize("caps", [INSTRUCT, THINKING], ids=["instruct", "thinking"])
def test_empty_message_raises_one_sentence(turns: tuple[Turn, ...], caps: Capabilities) -> None:
    with pytest.raises(InputError) as info:
        build_model_input(Request(turns=turns), caps)
    assert_one_sentence(str(info.value))


# --------------------------------------------------------------------------------- media-turn bound


def _media_conversation(media_turns: int) -> tuple[Turn, ...]:
    turns: list[Turn] = []
    for i in range(media_turns):
        turns += [
            Turn("user", f"question {i}", media=(Media("image", f"{i}.png"),)),
            Turn("assistant", f"answer {i}"),
        ]
    return (*turns, Turn("user", "and now?"))


def test_oldest_media_turns_are_dropped_beyond_the_bound() -> None:
    out = build_model_input(Request(turns=_media_conversation(6)), INSTRUCT, max_media_turns=4)

    assert out.images == ["2.png", "3.png", "4.png", "5.png"]
    assert len(out.notices) == 1
    assert re.search(r"\b2\b", out.notices[0]), out.notices
    assert "turns" in out.notices[0]
    assert_one_sentence(out.notices[0])
    # Every turn is still there, alternating, and the dropped turns keep their text.
    assert len(out.messages) == 13
    assert_alternating(out.messages)
    assert out.messages[0]["content"] == [{"type": "text", "text": "question 0"}]
    assert out.messages[2]["content"] == [{"type": "text", "text": "question 1"}]
    assert content_types(out.messages[4]) == ["image", "text"]
    assert out.messages[-1]["content"] == [{"type": "text", "text": "and now?"}]


def test_one_dropped_turn_is_singular() -> None:
    out = build_model_input(Request(turns=_media_conversation(5)), INSTRUCT, max_media_turns=4)
    assert out.images == ["1.png", "2.png", "3.png", "4.png"]
    assert len(out.notices) == 1
    assert re.search(r"\b1 older turn\b", out.notices[0]), out.notices


def test_within_the_bound_nothing_is_dropped() -> None:
    out = build_model_input(Request(turns=_media_conversation(4)), INSTRUCT, max_media_turns=4)
    assert out.images == ["0.png", "1.png", "2.png", "3.png"]
    assert out.notices == ()


def test_media_only_turn_that_loses_its_media_keeps_a_placeholder() -> None:
    turns: list[Turn] = []
    for i in range(3):
        turns += [Turn("user", media=(Media("audio", f"{i}.wav"),)), Turn("assistant", f"a{i}")]
    turns.append(Turn("user", "?"))
    out = build_model_input(Request(turns=tuple(turns)), INSTRUCT, max_media_turns=1)

    assert out.audio == [AudioSlot("2.wav")]
    assert_alternating(out.messages)
    for dropped in out.messages[0], out.messages[2]:
        assert content_types(dropped) == ["text"]
        assert dropped["content"][0]["text"].strip()
    assert "2" in out.notices[0]


# ---------------------------------------------------------------------------------- audio in video


def test_audio_in_video_adds_one_audio_slot_per_video_in_order() -> None:
    turns = (
        Turn("user", "a", media=(Media("audio", "s1.wav"), Media("video", "v1.mp4"))),
        Turn("assistant", "ok"),
        Turn(
            "user", "b", media=(Media("video", "v2.mp4"), Media("audio", "s2.wav"), Media("video", "v3.mp4"))
        ),
    )
    out = build_model_input(Request(turns=turns, use_audio_in_video=True), INSTRUCT)

    assert out.videos == ["v1.mp4", "v2.mp4", "v3.mp4"]
    assert out.audio == [
        AudioSlot("s1.wav", None),
        AudioSlot("v1.mp4", 0),
        AudioSlot("v2.mp4", 1),
        AudioSlot("s2.wav", None),
        AudioSlot("v3.mp4", 2),
    ]
    # The chat template still sees only the items the user attached.
    assert content_types(out.messages[2]) == ["video", "audio", "video", "text"]


def test_without_audio_in_video_videos_have_no_audio_slot() -> None:
    turn = Turn("user", "a", media=(Media("audio", "s.wav"), Media("video", "v.mp4")))
    out = build_model_input(Request(turns=(turn,), use_audio_in_video=False), INSTRUCT)
    assert out.videos == ["v.mp4"]
    assert out.audio == [AudioSlot("s.wav", None)]


def test_audio_in_video_respects_the_media_bound() -> None:
    turns = (
        Turn("user", "a", media=(Media("video", "old.mp4"),)),
        Turn("assistant", "ok"),
        Turn("user", "b", media=(Media("video", "new.mp4"),)),
    )
    out = build_model_input(Request(turns=turns, use_audio_in_video=True), INSTRUCT, max_media_turns=1)
    assert out.videos == ["new.mp4"]
    assert out.audio == [AudioSlot("new.mp4", 0)]  # the index is into the kept videos


# ------------------------------------------------------------------------------------------ thinking


def test_thinking_strips_reasoning_from_earlier_answers() -> None:
    turns = (
        Turn("user", "2+2?"),
        Turn("assistant", "<think>\nTwo plus two is four.\n</think>\n\nIt is 4."),
        Turn("user", "and 3+3?"),
        Turn("assistant", "Three and three make six.</think>6"),  # the template opened <think> itself
        Turn("user", "thanks"),
    )
    out = build_model_input(Request(turns=turns), THINKING)

    assert out.messages[1]["content"] == [{"type": "text", "text": "It is 4."}]
    assert out.messages[3]["content"] == [{"type": "text", "text": "6"}]
    assert "four" not in str(out.messages)
    assert "six" not in str(out.messages)


def test_instruct_keeps_assistant_text_verbatim() -> None:
    text = "<think>kept</think>answer"
    turns = (Turn("user", "q"), Turn("assistant", text), Turn("user", "q2"))
    out = build_model_input(Request(turns=turns), INSTRUCT)
    assert out.messages[1]["content"] == [{"type": "text", "text": text}]


# ----------------------------------------------------------------------------------------- captioner


def test_captioner_takes_one_audio_and_ignores_history_and_system_prompt() -> None:
    turns = (
        Turn("user", media=(Media("audio", "old.wav"),)),
        Turn("assistant", "an old caption"),
        Turn("user", media=(Media("audio", "new.wav"),)),
    )
    out = build_model_input(Request(turns=turns, system_prompt="Be a poet."), CAPTIONER)

    assert out.messages == [{"role": "user", "content": [{"type": "audio", "audio": "new.wav"}]}]
    assert out.audio == [AudioSlot("new.wav")]
    assert (out.images, out.videos, out.notices) == ([], [], ())


@pytest.mark.parametrize(
    "media",
    [
        (),
        (Media("audio", "a.wav"), Media("audio", "b.wav")),
        (Media("image", "a.png"),),
        (Media("video", "a.mp4"),),
        (Media("audio", "a.wav"), Media("image", "a.png")),
    ],
    ids=["none", "two-audio", "image", "video", "audio-and-image"],
)
def test_captioner_refuses_anything_but_one_audio(media: tuple[Media, ...]) -> None:
    with pytest.raises(InputError) as info:
        build_model_input(Request(turns=(Turn("user", "" if media else "describe", media=media),)), CAPTIONER)
    assert_one_sentence(str(info.value))


def test_captioner_refuses_text_with_its_audio() -> None:
    """The Captioner takes no text prompt: text sent along with the clip (the API allows it) must be
    refused, not silently dropped."""
    turn = Turn("user", "Describe it in French.", media=(Media("audio", "a.wav"),))
    with pytest.raises(InputError) as info:
        build_model_input(Request(turns=(turn,)), CAPTIONER)
    assert_one_sentence(str(info.value))


# ---------------------------------------------------------------------------------- media property


def test_media_lists_every_file_to_validate_once() -> None:
    turns = (
        Turn("user", "x", media=(Media("audio", "s.wav"), Media("video", "v.mp4"), Media("image", "i.png"))),
    )
    out = build_model_input(Request(turns=turns, use_audio_in_video=True), INSTRUCT)
    # The video's own sound track is checked as part of the video, not as a separate audio file.
    assert sorted(out.media, key=lambda m: m.path) == [
        Media("image", "i.png"),
        Media("audio", "s.wav"),
        Media("video", "v.mp4"),
    ]


def test_media_leaves_out_dropped_files() -> None:
    out = build_model_input(Request(turns=_media_conversation(3)), INSTRUCT, max_media_turns=1)
    assert out.media == [Media("image", "2.png")]


def test_text_before_the_media_comes_first():
    """A problem stated above its picture and answered below it: text, picture, text."""
    turn = Turn("user", text="Options: A or B?", media=(Media("image", "p.png"),), text_before="The problem.")
    built = build_model_input(Request(turns=(turn,)), THINKING)
    assert built.messages[-1]["content"] == [
        {"type": "text", "text": "The problem."},
        {"type": "image", "image": "p.png"},
        {"type": "text", "text": "Options: A or B?"},
    ]
    alone = build_model_input(Request(turns=(Turn("user", text_before="Only this."),)), THINKING)
    assert alone.messages[-1]["content"] == [{"type": "text", "text": "Only this."}]
    clip = (Media("audio", "a.wav"),)
    with pytest.raises(InputError, match="exactly one audio clip"):
        build_model_input(Request(turns=(Turn("user", media=clip, text_before="Describe it."),)), CAPTIONER)
