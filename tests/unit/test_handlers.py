"""omni_demo.ui.handlers: chat settings -> Request, the new user turn, and the chat-tab handlers.

The handler tests marked `integration` run the real preview engine (no stubs): they check the
handlers' contract with the engine (validation up front, copies not mutation, the failed turn taken
back out on an engine error).
"""

from __future__ import annotations

import copy
import shutil
from dataclasses import asdict, replace
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import soundfile as sf
from sentences import assert_one_sentence

from omni_demo.engine.workers import worker
from omni_demo.errors import InputError, OmniError
from omni_demo.transcript import Exchange
from omni_demo.types import (
    AudioChunk,
    Capabilities,
    Media,
    ModelInfo,
    ModelKind,
    Preparing,
    Queued,
    Request,
    Result,
    Sampling,
    TextDelta,
    Timings,
    Turn,
)
from omni_demo.ui import chat, handlers
from omni_demo.ui.handlers import ChatOptions
from omni_demo.ui.render import user_messages


def _options(**changes: object) -> ChatOptions:
    values: dict[str, object] = {
        "system_prompt": "",
        "voice": "Ethan",
        "speak": True,
        "audio_in_video": False,
        "temperature": 0.0,
        "top_p": 0.95,
        "top_k": 20,
        "max_new_tokens": 8,
    }
    values.update(changes)
    return ChatOptions(**values)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ ChatOptions.request


def test_request_maps_every_setting(assets: Path) -> None:
    clip = Media("video", str(assets / "av_question.mp4"))  # has a sound track
    turns = [Turn("user", "Hi"), Turn("assistant", "Hello"), Turn("user", "Again", media=(clip,))]
    options = ChatOptions(
        system_prompt="Be brief.",
        voice="Chelsie",
        speak=False,
        audio_in_video=True,
        temperature=0.7,
        top_p=0.8,
        top_k=30.0,  # type: ignore[arg-type]  # sliders deliver floats
        max_new_tokens=256.0,  # type: ignore[arg-type]
    )
    request = options.request(turns)

    assert request == Request(
        turns=tuple(turns),
        system_prompt="Be brief.",
        voice="Chelsie",
        return_audio=False,
        use_audio_in_video=True,
        sampling=Sampling(temperature=0.7, top_p=0.8, top_k=30, max_new_tokens=256),
    )
    assert isinstance(request.turns, tuple)
    assert type(request.sampling.top_k) is int
    assert type(request.sampling.max_new_tokens) is int


def test_a_video_with_sound_is_heard_and_a_silent_one_is_only_seen(assets: Path) -> None:
    heard = Turn("user", "What do I ask?", media=(Media("video", str(assets / "av_question.mp4")),))
    silent = Turn("user", "And here?", media=(Media("video", str(assets / "video_room.mp4")),))
    assert _options(audio_in_video=True).request([heard]).use_audio_in_video is True
    assert _options(audio_in_video=False).request([heard]).use_audio_in_video is False  # unticked
    assert _options(audio_in_video=True).request([silent]).use_audio_in_video is False
    # One setting for every video of the request: a silent one among them turns it off.
    both = [heard, Turn("assistant", "Red."), silent]
    assert _options(audio_in_video=True).request(both).use_audio_in_video is False
    # Without a video the setting changes nothing and stays off.
    assert _options(audio_in_video=True).request([Turn("user", "Hi")]).use_audio_in_video is False


@pytest.mark.integration
def test_a_silent_video_is_answered_with_the_box_ticked(preview_engine, assets: Path) -> None:
    """The chat's default (audio in video on) takes a silent video without a sentence about sound."""
    silent = Turn("user", "What is in the room?", media=(Media("video", str(assets / "video_room.mp4")),))
    options = _options(audio_in_video=True, speak=False, max_new_tokens=4)
    _, log, pending = handlers.add_user_turn(preview_engine, silent, [], [], None, options)
    assert handlers.fixed_audio_in_video([pending]) is True
    *_, last = handlers.respond(preview_engine, log, pending, options)
    _, _, _, exchanges = last
    assert exchanges[-1].timings["input_tokens"]["video"] > 0
    assert "audio" not in exchanges[-1].timings["input_tokens"]
    assert not exchanges[-1].notices


@pytest.mark.parametrize("voice", ["", None])
def test_no_voice_means_the_models_default(voice: str | None) -> None:
    assert _options(voice=voice).request([Turn("user", "x")]).voice is None


def test_temperature_zero_is_greedy() -> None:
    assert _options(temperature=0).request([Turn("user", "x")]).sampling.greedy
    assert not _options(temperature=0.6).request([Turn("user", "x")]).sampling.greedy


def test_request_does_not_alias_the_turn_list() -> None:
    turns = [Turn("user", "x")]
    request = _options().request(turns)
    turns.append(Turn("assistant", "y"))
    assert len(request.turns) == 1


# ------------------------------------------------------------------------------------- new_user_turn


def test_new_user_turn_sorts_files_by_kind_and_strips_text() -> None:
    turn = handlers.new_user_turn(
        "  What is this?  ", ["/up/a.WAV", "/up/b.jpeg", "/up/c.mp4", "/up/rec.webm"]
    )
    assert turn == Turn(
        "user",
        "What is this?",
        media=(
            Media("audio", "/up/a.WAV"),
            Media("image", "/up/b.jpeg"),
            Media("video", "/up/c.mp4"),
            Media("video", "/up/rec.webm"),
        ),
    )


@pytest.mark.parametrize(
    "name", ["/up/notes.txt", "/up/archive.zip", "/up/no_extension", "/up/model.safetensors"]
)
def test_new_user_turn_refuses_unknown_file_types(name: str) -> None:
    with pytest.raises(OmniError) as info:
        handlers.new_user_turn("look", [name])
    assert isinstance(info.value, InputError)
    message = str(info.value)
    assert_one_sentence(message)
    assert Path(name).name in message
    assert "/up/" not in message  # the server's folders are not the user's business


def test_omni_error_reaches_the_user_as_the_same_sentence() -> None:
    with pytest.raises(gr.Error) as caught, handlers.shown_to_user():
        raise InputError("media.too_short", name="clip.wav")
    assert caught.value.message == "“clip.wav” is too short to hear anything; record or choose a longer clip."


def test_a_bug_is_summarised_in_one_sentence_not_a_traceback() -> None:
    with pytest.raises(gr.Error) as caught, handlers.shown_to_user():
        raise KeyError("internal detail")
    assert caught.value.message == handlers.UNEXPECTED
    assert_one_sentence(caught.value.message)


# ------------------------------------------------------------------------------ with the real engine


def _speech_copy(assets: Path, tmp_path: Path) -> str:
    target = tmp_path / "question.wav"
    shutil.copy(assets / "speech_en.wav", target)
    return str(target)


@pytest.mark.integration
@pytest.mark.parametrize(("locked", "requested"), [(True, False), (False, True)])
def test_add_user_turn_refuses_changing_audio_in_video_mid_conversation(
    preview_engine, locked: bool, requested: bool
) -> None:
    history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    exchanges = [Exchange(Turn("user", "Hi"), "Hello", settings=asdict(_options(audio_in_video=locked)))]
    before = (copy.deepcopy(history), list(exchanges))

    with pytest.raises(OmniError) as info:
        handlers.add_user_turn(
            preview_engine,
            Turn("user", "Again"),
            history,
            exchanges,
            None,
            _options(audio_in_video=requested),
        )
    assert_one_sentence(str(info.value))
    assert "Clear" in str(info.value)  # says how to start over
    assert (history, exchanges) == before


@pytest.mark.integration
def test_a_conversation_the_server_dropped_is_not_answered_without_its_history(preview_engine) -> None:
    # Past --max-sessions Gradio drops the session unused longest, with its turns; the browser still
    # shows the conversation. Answering the new message without the earlier turns would look like the
    # model forgot them.
    history = [{"role": "user", "content": "My name is Ada."}, {"role": "assistant", "content": "Hello Ada"}]
    with pytest.raises(OmniError) as info:
        handlers.add_user_turn(preview_engine, Turn("user", "Who am I?"), history, [], None, _options())
    assert_one_sentence(str(info.value))
    assert "Clear" in str(info.value)


@pytest.mark.integration
def test_add_user_turn_returns_copies_and_locks_the_setting(
    preview_engine, assets: Path, tmp_path: Path
) -> None:
    history: list = []
    exchanges: list[Exchange] = []
    first = Turn("user", "What do you hear?", media=(Media("audio", _speech_copy(assets, tmp_path)),))

    history1, log1, pending1 = handlers.add_user_turn(
        preview_engine, first, history, exchanges, None, _options()
    )

    assert (history, exchanges) == ([], [])  # the inputs are untouched
    assert (log1, pending1.user, pending1.answer) == ([], first, "")
    assert pending1.settings == asdict(_options())
    assert history1 == user_messages(first)
    assert handlers.fixed_audio_in_video([pending1]) is False

    history1_before = copy.deepcopy(history1)
    second = Turn("user", "And now?")
    conversation = [replace(pending1, answer="A voice.")]
    conversation_before = list(conversation)
    history2, log2, pending2 = handlers.add_user_turn(
        preview_engine, second, history1, conversation, None, _options()
    )
    assert [*handlers.turns_of(log2), pending2.user] == [first, Turn("assistant", "A voice."), second]
    assert history2[: len(history1)] == history1
    assert history2[-1] == {"role": "user", "content": "And now?"}
    assert (conversation, history1) == (conversation_before, history1_before)
    with pytest.raises(OmniError):  # the first answer fixed it
        handlers.add_user_turn(
            preview_engine, second, history1, conversation, None, _options(audio_in_video=True)
        )
    assert history2 is not history1
    assert log2 is not conversation


@pytest.mark.integration
def test_add_user_turn_validates_the_file_before_anything_runs(preview_engine, tmp_path: Path) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(np.random.default_rng(0).bytes(4000))
    history: list = []
    exchanges: list[Exchange] = []
    with pytest.raises(InputError) as info:
        handlers.add_user_turn(
            preview_engine,
            Turn("user", "?", media=(Media("audio", str(broken)),)),
            history,
            exchanges,
            None,
            _options(),
        )
    assert_one_sentence(str(info.value))
    assert "broken.wav" in str(info.value)
    assert (history, exchanges) == ([], [])
    assert not preview_engine.busy


@pytest.mark.integration
def test_respond_streams_the_reply_and_ends_with_a_wav(preview_engine, assets: Path, tmp_path: Path) -> None:
    options = _options(max_new_tokens=12)
    turn = Turn("user", "Say something.", media=(Media("audio", _speech_copy(assets, tmp_path)),))
    history, log, pending = handlers.add_user_turn(preview_engine, turn, [], [], None, options)
    log_before, pending_before = list(log), copy.deepcopy(pending)

    updates = list(handlers.respond(preview_engine, log, pending, options))

    assert (log, pending) == (log_before, pending_before)  # respond works on copies too
    skip = gr.skip()
    chunks = [u[2] for u in updates if u[2] != skip]
    assert chunks, "the speech must stream while the reply is made"
    for rate, samples in chunks:
        assert rate == 24_000
        assert samples.dtype == np.int16
        assert samples.ndim == 1
    text_updates = [u for u in updates if u[0] != skip]
    assert len(text_updates) >= 2  # text deltas, then the final history

    final_history, final_pending, final_speech, exchanges = updates[-1]
    assert final_speech == skip
    assert final_pending is None  # answered: nothing is pending any more
    (exchange,) = exchanges
    assert exchange.answer.strip()
    # While it streamed, the pending exchange held the answer so far (what Stop would leave).
    streamed = [u[1] for u in updates[:-1] if u[1] != skip]
    assert streamed
    assert all(p.user == turn and exchange.answer.startswith(p.answer) for p in streamed)
    assert final_history[: len(history)] == history
    reply = final_history[len(history) :]
    assert reply[0] == {"role": "assistant", "content": exchange.answer}
    audio = [m for m in reply if isinstance(m["content"], dict)]
    assert len(audio) == 1
    wav_path = Path(audio[0]["content"]["path"])
    assert wav_path.suffix == ".wav"
    samples, rate = sf.read(wav_path, dtype="int16")
    assert rate == 24_000
    assert len(samples) == sum(len(c[1]) for c in chunks)
    assert np.array_equal(samples, np.concatenate([c[1] for c in chunks]))
    assert "Timings" in str(reply[-1].get("metadata", {}).get("title"))
    assert not preview_engine.busy
    # The finished answer is recorded for feedback and the download, with its settings and WAV.
    assert all(u[3] == skip for u in updates[:-1])
    assert exchange.user == turn
    assert exchange.settings["max_new_tokens"] == 12
    assert exchange.timings["total_s"] > 0
    assert exchange.speech is not None
    assert np.array_equal(sf.read(exchange.speech, dtype="int16")[0], samples)


@pytest.mark.integration
def test_respond_writes_the_reply_in_the_page_language(preview_engine) -> None:
    options = _options(speak=False, max_new_tokens=8)
    _, log, pending = handlers.add_user_turn(preview_engine, Turn("user", "Hi"), [], [], None, options)
    final_history = list(handlers.respond(preview_engine, log, pending, options, lang="zh-CN"))[-1][0]
    timings = final_history[-1]
    assert timings["metadata"]["title"] == "用时"
    assert "总计" in timings["content"]
    assert "total" not in timings["content"]


@pytest.mark.integration
def test_respond_without_speech_has_no_wav(preview_engine) -> None:
    options = _options(speak=False)
    _, log, pending = handlers.add_user_turn(preview_engine, Turn("user", "Hi"), [], [], None, options)
    updates = list(handlers.respond(preview_engine, log, pending, options))
    skip = gr.skip()
    assert all(u[2] == skip for u in updates)
    final_history = updates[-1][0]
    assert not any(isinstance(m["content"], dict) for m in final_history)


@pytest.mark.integration
def test_respond_takes_the_failed_turn_back_out(preview_engine, assets: Path, tmp_path: Path) -> None:
    options = _options()
    earlier = [Exchange(Turn("user", "Hi"), "Hello")]
    earlier_history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    clip = _speech_copy(assets, tmp_path)
    turn = Turn("user", "What is this?", media=(Media("audio", clip),))
    history, log, pending = handlers.add_user_turn(
        preview_engine, turn, earlier_history, earlier, None, options
    )
    assert len(history) == 4

    Path(clip).unlink()  # gone between validation and generation
    updates = []

    def run() -> None:  # as the chat tab runs it: inside the one error boundary
        with handlers.shown_to_user():
            updates.extend(handlers.respond(preview_engine, log, pending, options))

    with pytest.raises(gr.Error) as info:
        run()

    assert_one_sentence(info.value.message)
    assert "question.wav" in info.value.message
    assert str(tmp_path) not in info.value.message
    restored_history, restored_pending, speech, exchanges = updates[-1]
    assert restored_history == earlier_history
    assert restored_pending is None  # the failed question is dropped
    assert speech == gr.skip()
    assert exchanges == gr.skip()  # the recorded answers stay as they were
    assert not preview_engine.busy
    assert not worker("omni-generate").busy
    assert not worker("omni-thinker").busy

    # The conversation goes on without the failed turn.
    history, log, pending = handlers.add_user_turn(
        preview_engine, Turn("user", "Still there?"), restored_history, log, restored_pending, options
    )
    final = list(handlers.respond(preview_engine, log, pending, _options(speak=False)))[-1][3]
    assert [t.role for t in handlers.turns_of(final)] == ["user", "assistant", "user", "assistant"]
    assert [e.user.text for e in final] == ["Hi", "Still there?"]


@pytest.mark.integration
def test_an_answer_cut_by_stop_stays_in_the_conversation(preview_engine) -> None:
    """Stop cancels the reply mid-stream: the pending exchange keeps the answer so far, and the next
    question is asked after it (the model sees it, the chat shows it)."""
    options = _options(speak=False, max_new_tokens=16)
    _, log, pending = handlers.add_user_turn(
        preview_engine, Turn("user", "Tell me a story."), [], [], None, options
    )
    stream = handlers.respond(preview_engine, log, pending, options)
    shown, cut = next(u[:2] for u in stream if u[1] != gr.skip())
    stream.close()  # what Stop does to the generator
    assert cut.answer

    history, log2, pending2 = handlers.add_user_turn(
        preview_engine, Turn("user", "Go on."), shown, log, cut, options
    )
    assert log2 == [cut]
    turns = [*handlers.turns_of(log2), pending2.user]
    assert turns == [Turn("user", "Tell me a story."), Turn("assistant", cut.answer), Turn("user", "Go on.")]
    assert {"role": "assistant", "content": cut.answer} in history
    final = list(handlers.respond(preview_engine, log2, pending2, options))[-1][3]
    assert [e.user.text for e in final] == ["Tell me a story.", "Go on."]
    assert final[0].answer == cut.answer


# ----------------------------------------------------------------------------- waiting for the GPU


class _Scripted:
    """An engine whose stream is a fixed list of events (what the local engine yields in line)."""

    def __init__(self, *events: object) -> None:
        caps = Capabilities(ModelKind.INSTRUCT, voices=("Ethan",))
        self.info = ModelInfo("preview", caps, "cpu", "float32", is_preview=True, load_seconds=0.0)
        self.events = events

    def stream(self, request: Request):
        yield from self.events


def _chats(engine: _Scripted, lang: str = "en") -> list[list[dict]]:
    """Each chat the page is sent while the answer streams (the updates that leave it are skipped)."""
    pending = Exchange(Turn("user", "Hi"), "")
    updates = handlers.respond(engine, [], pending, _options(speak=False), lang)
    return [update[0] for update in updates if update[0] != gr.skip()]


def _last_bubble(shown: list[dict]) -> object:
    return shown[-1]["content"]


def test_a_waiting_request_shows_its_place_in_line_as_it_moves_up() -> None:
    result = Result("Hello", None, Timings(total_s=1.0))
    engine = _Scripted(
        Preparing(), Queued(2), Queued(2), Queued(2), Queued(1), Queued(0), Queued(0), TextDelta("Hel"),
        TextDelta("lo"), result,
    )  # fmt: skip
    shown = _chats(engine)
    # One update per place (the ticks in between change nothing on the page), then the answer.
    assert [_last_bubble(s) for s in shown[:3]] == [
        "Waiting for the GPU: 2 people ahead of you.",
        "Waiting for the GPU: 1 person ahead of you.",
        "Waiting for the GPU: you're next.",
    ]
    assert _last_bubble(shown[3]) == "Hel"  # the answer takes the waiting bubble's place
    assert not [m for s in shown[3:] for m in s if "Waiting" in str(m["content"])]
    assert shown[3][:-1] == shown[0][:-1] == user_messages(Turn("user", "Hi"))


def test_the_place_in_line_is_shown_in_the_page_language() -> None:
    shown = _chats(_Scripted(Queued(3), TextDelta("你好"), Result("你好", None, Timings())), "zh-CN")
    assert _last_bubble(shown[0]) == "正在等待 GPU：你前面还有 3 人。"


def test_speech_before_any_text_also_ends_the_wait_on_the_page() -> None:
    chunk = AudioChunk(np.zeros(240, dtype=np.float32))
    engine = _Scripted(Queued(0), chunk, Result("", None, Timings()))
    updates = list(handlers.respond(engine, [], Exchange(Turn("user", "Hi"), ""), _options()))
    assert "Waiting" in _last_bubble(updates[0][0])
    shown, _, speech, _ = updates[1]  # the chunk's own update also takes the waiting bubble away
    assert speech != gr.skip()
    assert shown != gr.skip()
    assert not [m for m in shown if "Waiting" in str(m["content"])]


def test_stop_while_waiting_takes_the_place_in_line_off_the_chat() -> None:
    shown = _chats(_Scripted(Queued(1), TextDelta("Hi"), Result("Hi", None, Timings())))
    waiting, answering = shown[0], shown[1]
    assert chat._stopped(waiting) == waiting[:-1]
    assert chat._stopped(answering) == gr.skip()  # the answer so far stays as it was
    assert chat._stopped([]) == gr.skip()
