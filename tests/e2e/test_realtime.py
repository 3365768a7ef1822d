"""/v1/realtime driven by a WebSocket client against the real app process (preview model)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from websockets.sync.client import ClientConnection, connect

pytestmark = pytest.mark.e2e


class Live:
    """A Realtime client that keeps every server event it received, in order."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict] = []
        assert self.next()["type"] == "session.created"

    def send(self, kind: str, **fields) -> None:
        self.ws.send(json.dumps({"type": kind, **fields}))

    def next(self, timeout: float = 60) -> dict:
        received = json.loads(self.ws.recv(timeout=timeout))
        received["received_at"] = time.monotonic()
        self.events.append(received)
        return received

    def until(self, kind: str, timeout: float = 120, **match) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            received = self.next(timeout=max(0.1, deadline - time.monotonic()))
            if received["type"] == kind and all(_get(received, k) == v for k, v in match.items()):
                return received

    def append(self, samples: np.ndarray, chunk: int) -> None:
        for start in range(0, len(samples), chunk):
            self.send(
                "input_audio_buffer.append",
                audio=base64.b64encode(samples[start : start + chunk].tobytes()).decode(),
            )

    def of(self, kind: str, response_id: str | None = None) -> list[dict]:
        return [
            e
            for e in self.events
            if e["type"] == kind and (response_id is None or e.get("response_id") == response_id)
        ]


def _get(received: dict, dotted: str):
    value = received
    for key in dotted.split("__"):
        value = value[key]
    return value


@pytest.fixture
def live(app_url: str) -> Iterator[Live]:
    with connect(app_url.replace("http", "ws", 1) + "v1/realtime", max_size=None) as ws:
        yield Live(ws)


@pytest.fixture
def speech16k(assets: Path) -> np.ndarray:
    speech, rate = sf.read(assets / "speech_en.wav", dtype="int16")
    assert rate == 16000
    voiced = np.nonzero(np.abs(speech) > 500)[0]
    return speech[voiced[0] : voiced[-1]]


def _at_16k(live: Live, **session) -> None:
    audio = {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}
    live.send("session.update", session={"audio": audio, **session})
    assert live.until("session.updated")["session"]["audio"]["input"]["format"]["rate"] == 16000


def _pcm(delta: str) -> np.ndarray:
    raw = base64.b64decode(delta)
    assert len(raw) % 2 == 0
    return np.frombuffer(raw, dtype="<i2")


def test_server_vad_hears_a_turn_and_answers_with_speech(live: Live, speech16k: np.ndarray) -> None:
    _at_16k(live)
    silence = np.zeros(16000, dtype=np.int16)
    live.append(np.concatenate([silence, speech16k, silence]), chunk=1600)
    started = live.until("input_audio_buffer.speech_started")
    stopped = live.until("input_audio_buffer.speech_stopped")
    assert started["audio_start_ms"] == pytest.approx(1000 - 300, abs=100)  # with the 300 ms prefix
    assert stopped["audio_end_ms"] == pytest.approx(1000 + len(speech16k) / 16, abs=300)
    committed = live.until("input_audio_buffer.committed")
    user = live.until("conversation.item.added", item__role="user")
    assert user["item"]["id"] == committed["item_id"]
    response = live.until("response.created")["response"]
    done = live.until("response.done")
    assert done["response"]["status"] == "completed"
    rid = response["id"]
    transcript = "".join(e["delta"] for e in live.of("response.output_audio_transcript.delta", rid))
    audio = np.concatenate([_pcm(e["delta"]) for e in live.of("response.output_audio.delta", rid)])
    assert transcript.strip()
    assert len(audio) > 24000 * 0.5  # over half a second of 24 kHz speech
    assert np.abs(audio).max() > 100  # not silence
    assert live.of("response.output_audio_transcript.done", rid)[0]["transcript"] == transcript
    # The reply follows the end of speech (the server VAD), not an explicit commit.
    first_delta = live.of("response.output_audio.delta", rid)[0]
    assert stopped["received_at"] <= first_delta["received_at"]


def test_push_to_talk_answers_only_when_asked(live: Live, speech16k: np.ndarray) -> None:
    _at_16k(live, audio={"input": {"format": {"type": "audio/pcm", "rate": 16000}, "turn_detection": None}})
    live.append(np.concatenate([speech16k, np.zeros(16000, np.int16)]), chunk=3200)
    live.send("input_audio_buffer.commit")
    committed = live.until("input_audio_buffer.committed")
    assert not live.of("input_audio_buffer.speech_started")
    live.send("response.create")
    done = live.until("response.done")
    assert done["response"]["status"] == "completed"
    assert live.of("response.output_audio.delta", done["response"]["id"])
    # A second commit with nothing appended is refused in one sentence; the session goes on.
    live.send("input_audio_buffer.commit")
    error = live.until("error")["error"]
    assert error["code"] == "input_audio_buffer_commit_empty"
    assert committed["item_id"]


def test_24khz_input_is_the_default(live: Live, speech16k: np.ndarray) -> None:
    at24k = np.interp(np.arange(len(speech16k) * 3 // 2) * 2 / 3, np.arange(len(speech16k)), speech16k)
    silence = np.zeros(24000, dtype=np.int16)
    live.append(np.concatenate([silence, at24k.astype(np.int16), silence]), chunk=2400)
    assert live.until("input_audio_buffer.speech_started")["audio_start_ms"] == pytest.approx(700, abs=100)
    assert live.until("response.done")["response"]["status"] == "completed"


def test_cancel_stops_the_answer_and_nothing_of_it_arrives_after(live: Live, speech16k: np.ndarray) -> None:
    _at_16k(
        live,
        max_output_tokens=400,
        audio={"input": {"format": {"type": "audio/pcm", "rate": 16000}, "turn_detection": None}},
    )
    live.append(speech16k, chunk=3200)
    live.send("input_audio_buffer.commit")
    live.send("response.create")
    rid = live.until("response.created")["response"]["id"]
    live.until("response.output_audio_transcript.delta")
    live.send("response.cancel")
    done = live.until("response.done")
    assert done["response"]["id"] == rid
    assert done["response"]["status"] == "cancelled"
    with pytest.raises(TimeoutError):
        live.next(timeout=2.0)  # nothing more of it: no delta, no second done
    assert not [e for e in live.events[live.events.index(done) :] if e.get("response_id") == rid]
    live.send("response.cancel")
    assert live.until("error")["error"]["code"] == "response_cancel_not_active"


def _asked(live: Live, speech16k: np.ndarray, tokens: int) -> str:
    """Push-to-talk: one spoken turn, then an answer asked for; its response id."""
    _at_16k(
        live,
        max_output_tokens=tokens,
        audio={"input": {"format": {"type": "audio/pcm", "rate": 16000}, "turn_detection": None}},
    )
    live.append(speech16k, chunk=3200)
    live.send("input_audio_buffer.commit")
    live.send("response.create")
    return live.until("response.created")["response"]["id"]


def test_an_answer_that_waits_for_the_gpu_is_told_its_place(
    live: Live, app_url: str, speech16k: np.ndarray
) -> None:
    first = _asked(live, speech16k, tokens=4096)
    live.until("response.output_audio_transcript.delta")  # the first session's answer holds the GPU
    with connect(app_url.replace("http", "ws", 1) + "v1/realtime", max_size=None) as ws:
        other = Live(ws)
        waiting_id = _asked(other, speech16k, tokens=16)
        waiting = other.until("omni.waiting")
        assert (waiting["response_id"], waiting["ahead"]) == (waiting_id, 0)
        assert waiting["message"] == "Waiting for the GPU: you're next."
        assert waiting["sentence"] == {"key": "queue.next", "fields": {}}
        with pytest.raises(TimeoutError):  # while its place stays, nothing more: no repeat, no answer
            other.next(timeout=0.6)
        live.send("response.cancel")
        assert live.until("response.done")["response"]["id"] == first
        done = other.until("response.done")
        assert (done["response"]["id"], done["response"]["status"]) == (waiting_id, "completed")
        assert other.of("response.output_audio_transcript.delta", waiting_id)
        assert len(other.of("omni.waiting")) == 1  # told once: its place never moved


def test_speaking_over_an_answer_interrupts_it(live: Live, speech16k: np.ndarray) -> None:
    _at_16k(live, max_output_tokens=400)
    silence = np.zeros(16000, dtype=np.int16)
    live.append(np.concatenate([speech16k, silence]), chunk=1600)
    first = live.until("response.created")["response"]["id"]
    live.until("response.output_audio.delta", response_id=first)
    live.append(speech16k[:16000], chunk=1600)  # the user starts speaking again
    barge = live.until("input_audio_buffer.speech_started")
    done = live.until("response.done", response__id=first)
    assert done["response"]["status"] == "cancelled"
    later = [e for e in live.events[live.events.index(barge) :] if e.get("response_id") == first]
    assert not [e for e in later if e["type"].endswith(".delta")]  # no audio or text of it after
    live.append(np.concatenate([speech16k[16000:], silence]), chunk=1600)
    second = live.until("response.created")["response"]["id"]
    assert live.until("response.done", response__id=second)["response"]["status"] == "completed"


def test_truncate_keeps_only_what_was_heard(live: Live, speech16k: np.ndarray) -> None:
    _at_16k(live, max_output_tokens=64)
    live.append(np.concatenate([speech16k, np.zeros(16000, np.int16)]), chunk=1600)
    done = live.until("response.done")
    item = done["response"]["output"][0]
    rid = done["response"]["id"]
    transcript = item["content"][0]["transcript"]
    made_ms = sum(len(_pcm(e["delta"])) for e in live.of("response.output_audio.delta", rid)) / 24
    words = transcript.split()
    assert len(words) >= 4
    live.send(
        "conversation.item.truncate", item_id=item["id"], content_index=0, audio_end_ms=int(made_ms / 2)
    )
    truncated = live.until("conversation.item.truncated")
    assert truncated["item_id"] == item["id"]
    live.send("conversation.item.retrieve", item_id=item["id"])
    kept = live.until("conversation.item.retrieved")["item"]["content"][0]["transcript"]
    assert transcript.startswith(kept)
    assert 0 < len(kept) < len(transcript)
    assert len(kept) <= len(transcript) / 2 + 1


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("{oops", "invalid_json"),
        ('{"type": "conversation.explode"}', "unknown_event"),
        ('{"type": "input_audio_buffer.append", "audio": "AAAA"}', "invalid_audio"),
        ('{"type": "input_audio_buffer.append", "audio": 7}', "invalid_audio"),
        (
            '{"type": "session.update", "session": {"audio": {"input": {"format": {"rate": 8000}}}}}',
            "invalid_audio_format",
        ),
        ('{"type": "conversation.item.truncate", "item_id": "nope", "audio_end_ms": 5}', "item_not_found"),
        ('{"type": "response.create"}', "no_user_turn"),
    ],
)
def test_bad_input_gets_an_error_event_and_the_session_goes_on(live: Live, message: str, code: str) -> None:
    live.ws.send(message)
    error = live.until("error")["error"]
    assert error["code"] == code
    assert error["message"].endswith(".")
    live.send("session.update", session={"instructions": "still here"})
    assert live.until("session.updated")["session"]["instructions"] == "still here"


def test_binary_frames_are_refused(live: Live) -> None:
    live.ws.send(b"\x00\x01")
    assert live.until("error")["error"]["code"] == "invalid_json"


def test_a_socket_closed_mid_answer_leaves_the_server_serving(app_url: str, speech16k: np.ndarray) -> None:
    url = app_url.replace("http", "ws", 1) + "v1/realtime"
    with connect(url) as ws:
        live = Live(ws)
        _at_16k(
            live,
            max_output_tokens=400,
            audio={"input": {"format": {"type": "audio/pcm", "rate": 16000}, "turn_detection": None}},
        )
        live.append(speech16k, chunk=3200)
        live.send("input_audio_buffer.commit")
        live.send("response.create")
        live.until("response.output_audio_transcript.delta")
    # closed in the middle of the answer; the next client is served
    with connect(url) as ws:
        live = Live(ws)
        _at_16k(
            live, audio={"input": {"format": {"type": "audio/pcm", "rate": 16000}, "turn_detection": None}}
        )
        live.append(speech16k, chunk=3200)
        live.send("input_audio_buffer.commit")
        live.send("response.create")
        assert live.until("response.done")["response"]["status"] == "completed"


def _picture(assets: Path, size: int) -> dict:
    """A camera frame as the Live tab sends it: a JPEG data URL in a user item."""
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.open(assets / "scene.png").convert("RGB").resize((size, size)).save(out, "JPEG", quality=70)
    url = "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()
    return {"type": "message", "role": "user", "content": [{"type": "input_image", "image_url": url}]}


def _ask(live: Live, speech16k: np.ndarray) -> dict:
    """One push-to-talk turn; returns (the user item, the finished response)."""
    live.append(np.concatenate([speech16k, np.zeros(3200, np.int16)]), chunk=3200)
    live.send("input_audio_buffer.commit")
    user = live.until("conversation.item.added", item__role="user", item__status="completed")
    while user["item"]["content"][-1]["type"] != "input_audio":  # a picture's item.added came first
        user = live.until("conversation.item.added", item__role="user")
    live.send("response.create")
    done = live.until("response.done")
    assert done["response"]["status"] == "completed"
    return user["item"], done["response"]


def test_camera_pictures_join_the_next_turn(live: Live, speech16k: np.ndarray, assets: Path) -> None:
    """Pictures sent between turns go with the next spoken turn: the newest 4 only, and the model reads
    them (the answer's usage counts image tokens); a later turn's pictures replace the earlier ones."""
    _at_16k(live, audio={"input": {"format": {"type": "audio/pcm", "rate": 16000}, "turn_detection": None}})
    for _ in range(6):
        live.send("conversation.item.create", item=_picture(assets, 96))
        added = live.until("conversation.item.added")["item"]
        assert [part["type"] for part in added["content"]] == ["input_image"]

    first, answer = _ask(live, speech16k)

    assert [part["type"] for part in first["content"]] == ["input_image"] * 4 + ["input_audio"]
    four = answer["usage"]["input_token_details"]["image_tokens"]
    assert four > 0
    # No new pictures: the next turn is audio only, and the model still sees the last turn's pictures.
    second, answer = _ask(live, speech16k)
    assert [part["type"] for part in second["content"]] == ["input_audio"]
    assert answer["usage"]["input_token_details"]["image_tokens"] == four
    # Two new pictures: only they go to the model now.
    for _ in range(2):
        live.send("conversation.item.create", item=_picture(assets, 96))
    third, answer = _ask(live, speech16k)
    assert [part["type"] for part in third["content"]] == ["input_image"] * 2 + ["input_audio"]
    assert answer["usage"]["input_token_details"]["image_tokens"] == four // 2


def _image_item(url: str) -> dict:
    return {"type": "message", "content": [{"type": "input_image", "image_url": url}]}


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ({"type": "message", "content": [{"type": "input_text", "text": "hi"}]}, "invalid_item"),
        ({"type": "message", "role": "assistant", "content": [{"type": "input_image"}]}, "invalid_item"),
        (_image_item("http://example.com/y.jpg"), "invalid_image"),
        (_image_item("data:image/gif;base64,R0lGOD"), "invalid_image"),
        (_image_item("data:image/png;base64,%%"), "invalid_image"),
        ("a string", "invalid_item"),
    ],
)
def test_a_bad_picture_gets_an_error_event(live: Live, item, code: str) -> None:
    live.send("conversation.item.create", item=item)
    error = live.until("error")["error"]
    assert error["code"] == code
    assert error["message"].endswith(".")
