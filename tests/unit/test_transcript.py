"""Conversations saved as a zip (transcript, media, speech) and read back, on real files."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sentences import assert_one_sentence

from omni_demo import transcript
from omni_demo.errors import InputError
from omni_demo.i18n import Sentence, render
from omni_demo.transcript import Exchange, SavedConversation, loaded_note, timings_from_dict
from omni_demo.types import Capabilities, Media, ModelKind, Timings, Turn
from omni_demo.ui.handlers import turns_of
from omni_demo.ui.render import history_of
from omni_demo.ui.takeaway import loaded_settings, panel_values

CAPS = Capabilities(ModelKind.INSTRUCT, voices=("Ethan", "Chelsie"))


def _conversation(tmp_path: Path) -> SavedConversation:
    clip = tmp_path / "my question.wav"
    sf.write(clip, np.linspace(-0.5, 0.5, 16_000, dtype=np.float32), 16_000)
    speech = tmp_path / "reply.wav"
    sf.write(speech, np.zeros(2400, dtype=np.float32), 24_000)
    timings = Timings(
        first_token_s=0.2, first_audio_s=0.9, speech_s=0.1, total_s=1.5, text_tokens=4
    ).as_dict()
    settings = {"system_prompt": "", "voice": "Chelsie", "speak": True, "audio_in_video": False}
    return SavedConversation(
        exchanges=(
            Exchange(Turn("user", "Hi"), "Hello!", timings, settings, str(speech)),
            Exchange(Turn("user", "And this?", (Media("audio", str(clip)),)), "A tone.", timings, settings),
        ),
        settings={**settings, "temperature": 0.3, "top_k": 5},
        model={"name": "preview", "kind": "instruct", "engine": "fast"},
    )


def test_the_zip_holds_transcript_media_and_speech(tmp_path: Path) -> None:
    conversation = _conversation(tmp_path)
    path = transcript.write_zip(conversation, tmp_path)
    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
        data = json.loads(archive.read("conversation.json"))
        media_bytes = archive.read("media/02-1-my_question.wav")
        speech_bytes = archive.read("speech/01.wav")
    assert names == ["conversation.json", "media/02-1-my_question.wav", "speech/01.wav"]
    assert media_bytes == (tmp_path / "my question.wav").read_bytes()
    assert speech_bytes == (tmp_path / "reply.wav").read_bytes()
    assert data["format"] == "qwen3-omni-demo/conversation"
    assert data["model"]["engine"] == "fast"
    assert data["settings"]["temperature"] == 0.3
    first, second = data["exchanges"]
    assert first["answer"] == {
        "text": "Hello!",
        "speech": "speech/01.wav",
        "timings": conversation.exchanges[0].timings,
        "notices": [],
    }
    (entry,) = second["user"]["media"]
    assert entry["name"] == "my question.wav"
    assert entry["sha256"] == hashlib.sha256(media_bytes).hexdigest()
    assert second["settings"]["voice"] == "Chelsie"


def test_a_zip_loads_back_to_the_same_conversation(tmp_path: Path) -> None:
    conversation = _conversation(tmp_path)
    path = transcript.write_zip(conversation, tmp_path)
    loaded = transcript.read(str(path), tmp_path / "loaded")
    assert loaded.missing == 0
    assert loaded.settings == conversation.settings
    assert [e.answer for e in loaded.exchanges] == ["Hello!", "A tone."]
    assert [e.user.text for e in loaded.exchanges] == ["Hi", "And this?"]
    (clip,) = loaded.exchanges[1].user.media
    assert Path(clip.path).read_bytes() == (tmp_path / "my question.wav").read_bytes()
    assert Path(loaded.exchanges[0].speech or "").read_bytes() == (tmp_path / "reply.wav").read_bytes()
    assert loaded.exchanges[0].timings == conversation.exchanges[0].timings
    assert loaded_note(loaded, "x.zip") == ""

    # ... and becomes the chat again: bubbles, turns and settings.
    history = history_of(loaded.exchanges, CAPS, "zh-CN")
    assert history[0] == {"role": "user", "content": "Hi"}
    assert history[1] == {"role": "assistant", "content": "Hello!"}
    assert history[2]["content"]["path"] == loaded.exchanges[0].speech
    assert history[3]["metadata"]["title"] == "用时"
    assert [t.role for t in turns_of(loaded.exchanges)] == ["user", "assistant", "user", "assistant"]
    values = panel_values({**loaded.settings, "voice": "Nobody"}, CAPS)
    assert values[0] == ""  # system prompt
    assert values[1] != "Nobody"  # a voice this model lacks is not applied


def test_the_json_alone_loads_without_its_media(tmp_path: Path) -> None:
    path = transcript.write_zip(_conversation(tmp_path), tmp_path)
    json_path = tmp_path / "conversation.json"
    json_path.write_bytes(zipfile.ZipFile(path).read("conversation.json"))
    loaded = transcript.read(str(json_path), tmp_path / "loaded")
    assert loaded.missing == 1
    assert loaded.exchanges[1].user.media == ()
    assert loaded.exchanges[1].user.text == "And this?"
    assert loaded.exchanges[0].speech is None
    note = loaded_note(loaded, "conversation.json")
    assert_one_sentence(note)
    assert "conversation.json" in note


def test_timings_come_back_as_timings() -> None:
    timings = Timings(0.1, 10.0, 0.5, 2.0, 3.0, 20, {"text": 5, "total": 5}, None)
    assert timings_from_dict(timings.as_dict()) == timings


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"not json at all", "is not a conversation saved by this demo"),
        (json.dumps({"format": "something else"}).encode(), "is not a conversation saved by this demo"),
        (
            json.dumps({"format": transcript.FORMAT, "version": 99, "exchanges": []}).encode(),
            "newer version",
        ),
        (
            json.dumps({"format": transcript.FORMAT, "version": 1, "exchanges": []}).encode(),
            "no conversation",
        ),
    ],
)
def test_bad_files_are_one_sentence(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "upload.json"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        transcript.read(str(path), tmp_path / "out")
    assert expected in str(caught.value)
    assert_one_sentence(str(caught.value))
    assert str(tmp_path) not in str(caught.value)


def test_a_zip_cannot_write_outside_its_folder(tmp_path: Path) -> None:
    data = {
        "format": transcript.FORMAT,
        "version": 1,
        "exchanges": [
            {
                "user": {"text": "hi", "media": [{"kind": "audio", "file": "../../evil.wav"}]},
                "answer": {"text": "x"},
            }
        ],
    }
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("conversation.json", json.dumps(data))
        archive.writestr("../../evil.wav", b"boom")
    loaded = transcript.read(str(path), tmp_path / "a" / "b" / "out")
    assert loaded.missing == 1
    assert not (tmp_path / "evil.wav").exists()
    assert not (tmp_path / "a" / "evil.wav").exists()


def test_an_empty_conversation_has_nothing_to_download(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        transcript.write_zip(SavedConversation(()), tmp_path)
    assert_one_sentence(str(caught.value))


def test_a_notice_comes_back_in_the_page_language(tmp_path: Path) -> None:
    notice = Sentence("notice.media_dropped", dropped=2, turns=Sentence("word.turns"))
    old = "The media of 1 older turn was left out to keep the conversation within memory."
    exchange = Exchange(Turn("user", "Hi"), "Hello!", notices=(notice, old))
    path = transcript.write_zip(SavedConversation((exchange,)), tmp_path)
    data = json.loads(zipfile.ZipFile(path).read("conversation.json"))
    saved = data["exchanges"][0]["answer"]["notices"]
    assert saved[0]["text"] == str(notice)  # readable English in the file
    assert saved[1] == old  # a plain string, as older versions wrote every notice
    loaded = transcript.read(str(path), tmp_path / "loaded")
    back, plain = loaded.exchanges[0].notices
    assert back == str(notice)
    assert render(back, "zh-CN") == "为使对话不超出内存，较早的 2 轮对话中的媒体已被省略。"
    assert render(plain, "zh-CN") == old
    bubbles = history_of(loaded.exchanges, CAPS, "zh-CN")
    assert bubbles[1]["content"] == "为使对话不超出内存，较早的 2 轮对话中的媒体已被省略。"


def test_a_notice_this_version_lacks_loads_as_its_english(tmp_path: Path) -> None:
    data = json.loads(
        zipfile.ZipFile(transcript.write_zip(_conversation(tmp_path), tmp_path)).read("conversation.json")
    )
    data["exchanges"][0]["answer"]["notices"] = [{"text": "Newer.", "key": "notice.newer", "fields": {}}, 3]
    path = tmp_path / "newer.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert transcript.read(str(path), tmp_path / "loaded").exchanges[0].notices == ("Newer.",)


def test_a_loaded_conversation_keeps_audio_in_video_as_its_answers_were_made() -> None:
    """The panel was saved with the box ticked, the answers were made without: the answers decide (the
    next question would otherwise be refused for changing it); answers that do not say leave the panel's."""
    made_without = Exchange(Turn("user", "Hi"), "Hello", settings={"audio_in_video": False, "voice": "Ethan"})
    saved = SavedConversation((made_without,), settings={"audio_in_video": True, "voice": "Chelsie"})
    assert loaded_settings(saved) == {"audio_in_video": False, "voice": "Chelsie"}
    silent = SavedConversation((Exchange(Turn("user", "Hi"), "Hello"),), settings={"audio_in_video": True})
    assert loaded_settings(silent) == {"audio_in_video": True}
