"""Feedback records on real files: whole JSON lines, media hashes and copies, and one sentence on failure."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import pytest
from sentences import assert_one_sentence

from omni_demo.engine.local import EngineOptions, LocalEngine
from omni_demo.feedback import FILE_NAME, FeedbackError, FeedbackStore, Source, record
from omni_demo.transcript import Exchange
from omni_demo.types import Capabilities, Media, ModelInfo, ModelKind, Turn
from omni_demo.ui.feedback import Rated, answer_number, rating_of, save, source_for
from omni_demo.ui.takeaway import model_fields

INFO = ModelInfo("preview", Capabilities(ModelKind.INSTRUCT, voices=("Ethan",)), "cpu", "float32", True, 1.0)
SOURCE = Source(INFO, "fast", "chat", "zh-CN")


def _exchanges(tmp_path: Path) -> list[Exchange]:
    clip = tmp_path / "question.wav"
    clip.write_bytes(b"RIFF....WAVEfake")
    first = Exchange(Turn("user", "Hi"), "Hello!", {"total_s": 1.5}, {"temperature": 0.6})
    second = Exchange(
        Turn("user", "What is this?", media=(Media("audio", str(clip)),)),
        "A sound.",
        {"total_s": 2.0, "first_audio_s": 0.4},
        {"temperature": 0.0, "voice": "Ethan"},
        notices=("The media of 1 older turn was left out to keep the conversation within memory.",),
    )
    return [first, second]


def _lines(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / FILE_NAME).read_text(encoding="utf-8").splitlines()]


def test_a_record_holds_the_conversation_up_to_the_rated_answer(tmp_path: Path) -> None:
    exchanges = _exchanges(tmp_path)
    entry = record(SOURCE, exchanges, 1, "down", "  too quiet  ", feedback_id="abc")
    assert entry["id"] == "abc"
    assert entry["rating"] == "down"
    assert entry["comment"] == "too quiet"
    assert (entry["model"], entry["kind"], entry["engine"], entry["language"]) == (
        "preview",
        "instruct",
        "fast",
        "zh-CN",
    )
    assert entry["answer"] == "A sound."
    assert entry["answer_number"] == 2
    assert entry["timings"] == {"total_s": 2.0, "first_audio_s": 0.4}
    assert entry["settings"] == {"temperature": 0.0, "voice": "Ethan"}
    assert [m["role"] for m in entry["conversation"]] == ["user", "assistant", "user", "assistant"]
    (clip,) = entry["conversation"][2]["media"]
    data = (tmp_path / "question.wav").read_bytes()
    assert clip == {"kind": "audio", "name": "question.wav", "bytes": len(data), "sha256": _sha(data)}
    assert record(SOURCE, exchanges, 0, "up")["conversation"][-1]["text"] == "Hello!"


class RemoteEngine:
    """A back-end without local engine options, as a remote one would be."""

    info = INFO


@pytest.mark.parametrize("loop", ["fast", "plain"])
def test_the_record_and_the_zip_name_the_engine_loop_that_ran(tmp_path: Path, loop: str) -> None:
    engine = LocalEngine(None, None, INFO, EngineOptions(engine=loop))
    entry = record(source_for(engine, "chat")("en"), _exchanges(tmp_path), 0, "up")
    assert entry["engine"] == loop
    assert model_fields(engine)["engine"] == loop


def test_a_back_end_without_options_is_named_by_its_class(tmp_path: Path) -> None:
    entry = record(source_for(RemoteEngine(), "chat")("en"), _exchanges(tmp_path), 0, "up")
    assert entry["engine"] == "RemoteEngine"
    assert model_fields(RemoteEngine())["engine"] == "RemoteEngine"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_each_feedback_appends_one_complete_line(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback")
    exchanges = _exchanges(tmp_path)
    store.save(record(SOURCE, exchanges, 0, "up", feedback_id="one"))
    store.save(record(SOURCE, exchanges, 1, "down", "bad", feedback_id="two"))
    lines = _lines(tmp_path / "feedback")
    assert [(x["id"], x["rating"], x["comment"]) for x in lines] == [
        ("one", "up", ""),
        ("two", "down", "bad"),
    ]
    assert not (tmp_path / "feedback" / "media").exists()  # media is kept only when asked


def test_concurrent_feedback_never_interleaves(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path)
    exchanges = _exchanges(tmp_path)
    big = "x" * 20_000  # longer than one pipe buffer: interleaving would show

    def write(worker: int) -> None:
        for n in range(20):
            store.save(record(SOURCE, exchanges, 1, "up", f"{worker}-{n} {big}"))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    comments = sorted(line["comment"].split()[0] for line in _lines(tmp_path))
    assert comments == sorted(f"{w}-{n}" for w in range(4) for n in range(20))


def test_keep_media_copies_each_file_once_by_its_hash(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb", keep_media=True)
    exchanges = _exchanges(tmp_path)
    clip = exchanges[1].user.media[0].path
    for rating in ("up", "down"):
        store.save(record(SOURCE, exchanges, 1, rating), [clip])
    digest = _sha(Path(clip).read_bytes())
    copies = list((tmp_path / "fb" / "media").iterdir())
    assert [c.name for c in copies] == [f"{digest}.wav"]
    assert copies[0].read_bytes() == Path(clip).read_bytes()
    assert _lines(tmp_path / "fb")[-1]["conversation"][2]["media"][0]["copy"] == f"media/{digest}.wav"


def test_an_unwritable_folder_is_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    store = FeedbackStore(blocker / "feedback")
    with pytest.raises(FeedbackError) as caught:
        store.save(record(SOURCE, _exchanges(tmp_path), 0, "up"))
    assert_one_sentence(str(caught.value))
    assert "can't be written" in str(caught.value)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_full_disk_is_one_sentence_and_the_chat_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "fb"
    folder.mkdir()
    os.symlink("/dev/full", folder / FILE_NAME)  # every write fails with ENOSPC, like a full disk
    store = FeedbackStore(folder)
    exchanges = _exchanges(tmp_path)
    with pytest.raises(FeedbackError) as caught:
        store.save(record(SOURCE, exchanges, 0, "up"))
    assert "disk is full" in str(caught.value)
    # What the page shows instead: a sentence in the page's language, no exception.
    saved, status = save(store, SOURCE, exchanges, 0, Rated("id", 0, "up"))
    assert not saved
    assert status == "服务器磁盘已满，无法保存你的反馈；对话不受影响。"


def test_the_page_status_after_saving(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path)
    exchanges = _exchanges(tmp_path)
    english = Source(INFO, "plain", "chat", "en")
    assert save(store, english, exchanges, 1, Rated("a", 1, "down")) == (
        True,
        "Thanks: your rating of answer 2 was saved.",
    )
    assert save(store, english, exchanges, 1, Rated("a", 1, "down"), "hm")[1].startswith(
        "Thanks: your comment"
    )
    assert save(store, SOURCE, exchanges, 0, Rated("b", 0, None))[1] == "你对第 1 个回答的评分已撤回。"
    assert [x["id"] for x in _lines(tmp_path)] == ["a", "a", "b"]  # the comment amends its rating


def test_a_chat_message_maps_to_its_answer() -> None:
    history = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "assistant", "content": "timings"},
        {"role": "user", "content": "Again"},
        {"role": "assistant", "content": "note"},
        {"role": "assistant", "content": "Answer two"},
    ]
    assert [answer_number(history, i) for i in range(6)] == [0, 1, 1, 1, 2, 2]
    assert [rating_of(x) for x in (True, False, None, "Like", "Dislike")] == [
        "up",
        "down",
        None,
        "up",
        "down",
    ]
