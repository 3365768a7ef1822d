"""omni_demo.ui.render: turns and replies as Gradio chat messages (plain dicts)."""

from __future__ import annotations

from omni_demo.types import Capabilities, Media, ModelKind, Timings, Turn
from omni_demo.ui.render import notice_message, reply_messages, user_messages

INSTRUCT = Capabilities(kind=ModelKind.INSTRUCT, voices=("Chelsie", "Ethan", "Aiden"))
THINKING = Capabilities(kind=ModelKind.THINKING, think_in_prompt=True)  # the template opens <think>
THINKING_CHECKPOINT = Capabilities(kind=ModelKind.THINKING)  # the real one: the model writes <think>
CAPTIONER = Capabilities(kind=ModelKind.CAPTIONER, text_input=False)


def _timings() -> Timings:
    return Timings(
        first_token_s=0.25,
        tokens_per_s=12.5,
        first_audio_s=0.8,
        speech_s=2.0,
        total_s=3.456,
        text_tokens=20,
        input_tokens={"text": 10, "audio": 30, "total": 40},
    )


# ------------------------------------------------------------------------------------------ replies


def test_instruct_reply_is_one_plain_message() -> None:
    assert reply_messages("Hello there.", INSTRUCT, done=True) == [
        {"role": "assistant", "content": "Hello there."}
    ]


def test_instruct_reply_while_streaming_shows_the_text_so_far() -> None:
    assert reply_messages("Hel", INSTRUCT, done=False) == [{"role": "assistant", "content": "Hel"}]


def test_empty_reply_shows_a_placeholder_not_nothing() -> None:
    streaming = reply_messages("", INSTRUCT, done=False)
    finished = reply_messages("", INSTRUCT, done=True)
    assert len(streaming) == 1
    assert len(finished) == 1
    assert streaming[0]["content"]
    assert finished[0]["content"]


def test_thinking_reply_collapses_reasoning_above_the_answer() -> None:
    # The Thinking template opens <think> in the prompt, so the answer carries only the closing tag.
    messages = reply_messages("Two plus two is four.\n</think>\n\nThe answer is 4.", THINKING, done=True)

    assert len(messages) == 2
    reasoning, answer = messages
    assert reasoning["role"] == "assistant"
    assert reasoning["content"] == "Two plus two is four."
    assert reasoning["metadata"]["title"] == "Reasoning"
    assert reasoning["metadata"]["status"] == "done"
    assert answer == {"role": "assistant", "content": "The answer is 4."}
    assert "metadata" not in answer


def test_thinking_reply_with_both_tags() -> None:
    messages = reply_messages("<think>Because.</think>Yes.", THINKING, done=True)
    assert [m["content"] for m in messages] == ["Because.", "Yes."]
    assert messages[0]["metadata"]["status"] == "done"


def test_thinking_reply_is_pending_while_still_reasoning() -> None:
    messages = reply_messages("Let me think about th", THINKING, done=False)

    assert len(messages) == 1
    assert messages[0]["content"] == "Let me think about th"
    assert messages[0]["metadata"]["title"] == "Reasoning"
    assert messages[0]["metadata"]["status"] == "pending"


def test_thinking_half_written_closing_tag_never_shows() -> None:
    messages = reply_messages("Still thinking</thi", THINKING, done=False)
    assert messages[0]["content"] == "Still thinking"
    assert messages[0]["metadata"]["status"] == "pending"


def test_thinking_reasoning_is_done_once_the_answer_starts_streaming() -> None:
    messages = reply_messages("Reasoning.</think>The ans", THINKING, done=False)
    assert [m["content"] for m in messages] == ["Reasoning.", "The ans"]
    assert messages[0]["metadata"]["status"] == "done"


def test_thinking_reply_cut_off_inside_reasoning_is_done_when_finished() -> None:
    messages = reply_messages("Never reached an answer", THINKING, done=True)
    assert messages[0]["metadata"] == {"title": "Reasoning", "status": "done"}


def test_thinking_checkpoint_reasoning_streams_when_the_model_writes_think() -> None:
    """The real Thinking template leaves <think> to the model: each streamed prefix is split right."""
    reply = "<think>\nTwo plus two.\n</think>\n\nIt is 4."
    seen = [reply_messages(reply[:end], THINKING_CHECKPOINT, done=False) for end in range(1, len(reply) + 1)]
    for messages, end in zip(seen, range(1, len(reply) + 1), strict=True):
        shown = " ".join(str(m["content"]) for m in messages)
        assert "<think" not in shown
        assert "</thi" not in shown, reply[:end]
    inside = reply_messages("<think>\nTwo plus", THINKING_CHECKPOINT, done=False)
    assert [m["content"] for m in inside] == ["Two plus"]
    assert inside[0]["metadata"] == {"title": "Reasoning", "status": "pending"}
    final = reply_messages(reply, THINKING_CHECKPOINT, done=True)
    assert [m["content"] for m in final] == ["Two plus two.", "It is 4."]
    assert final[0]["metadata"]["status"] == "done"


def test_thinking_checkpoint_answer_without_think_is_an_answer() -> None:
    """When the model does not reason (no <think> written), the text is the answer, not reasoning."""
    for done in (False, True):
        messages = reply_messages("Hello there.", THINKING_CHECKPOINT, done=done)
        assert messages == [{"role": "assistant", "content": "Hello there."}]


def test_non_thinking_models_do_not_fold_think_tags() -> None:
    for caps in (INSTRUCT, CAPTIONER):
        messages = reply_messages("<think>x</think>y", caps, done=True)
        assert messages == [{"role": "assistant", "content": "<think>x</think>y"}]


def test_reply_with_speech_adds_an_audio_message_after_the_text() -> None:
    messages = reply_messages("Hi.", INSTRUCT, done=True, audio_path="/tmp/reply.wav")

    assert len(messages) == 2
    assert messages[0] == {"role": "assistant", "content": "Hi."}
    assert messages[1] == {
        "role": "assistant",
        "content": {"path": "/tmp/reply.wav", "mime_type": "audio/wav"},
    }


def test_timings_come_last_collapsed() -> None:
    timings = _timings()
    messages = reply_messages("Hi.", INSTRUCT, done=True, audio_path="/tmp/r.wav", timings=timings)

    assert [m["content"] for m in messages[:2]] == ["Hi.", {"path": "/tmp/r.wav", "mime_type": "audio/wav"}]
    last = messages[-1]
    assert len(messages) == 3
    assert last["role"] == "assistant"
    assert last["content"] == timings.summary()
    assert "Timings" in last["metadata"]["title"]
    assert last["metadata"]["status"] == "done"
    for fragment in ("first token 0.25 s", "first audio 0.80 s", "total 3.46 s", "audio 30"):
        assert fragment in last["content"]


def test_thinking_reply_with_timings_keeps_the_order() -> None:
    messages = reply_messages("R.</think>A.", THINKING, done=True, timings=_timings())
    titles = [m.get("metadata", {}).get("title") for m in messages]
    assert titles[:2] == ["Reasoning", None]
    assert "Timings" in titles[2]
    assert len(messages) == 3


# ---------------------------------------------------------------------------------- user and notices


def test_user_turn_shows_each_attachment_then_the_text() -> None:
    turn = Turn("user", "What is this?", media=(Media("image", "/x/a.png"), Media("audio", "/x/b.wav")))
    assert user_messages(turn) == [
        {"role": "user", "content": {"path": "/x/a.png"}},
        {"role": "user", "content": {"path": "/x/b.wav"}},
        {"role": "user", "content": "What is this?"},
    ]


def test_user_turn_without_text_has_no_text_bubble() -> None:
    turn = Turn("user", "  ", media=(Media("video", "/x/v.mp4"),))
    assert user_messages(turn) == [{"role": "user", "content": {"path": "/x/v.mp4"}}]


def test_notice_is_a_collapsed_assistant_note() -> None:
    note = notice_message("The media of 2 older turns was left out.")
    assert note["role"] == "assistant"
    assert note["content"] == "The media of 2 older turns was left out."
    assert note["metadata"]["status"] == "done"
    assert note["metadata"]["title"]
