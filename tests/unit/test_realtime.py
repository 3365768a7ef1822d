"""The live endpoint's protocol parsing, turn detection on real speech, and transcript truncation."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
import soundfile as sf

from omni_demo.realtime import protocol
from omni_demo.realtime.answer import heard_text
from omni_demo.realtime.protocol import ProtocolError, SessionConfig, TurnDetection
from omni_demo.realtime.vad import TurnDetector, to_16k

VOICES = ("Chelsie", "Ethan", "Aiden")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "invalid_json"),
        ("[1, 2]", "invalid_event"),
        ('{"no_type": 1}', "invalid_event"),
        ('{"type": "response.explode"}', "unknown_event"),
    ],
)
def test_bad_messages_are_one_error_each(raw: str, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        protocol.parse(raw)
    assert caught.value.code == code
    error = caught.value.as_event()
    assert error["type"] == "error"
    assert error["error"]["message"].endswith(".")


@pytest.mark.parametrize(
    ("audio", "code"),
    [
        (None, "invalid_audio"),
        ("%%%", "invalid_audio"),
        (base64.b64encode(b"\x01\x02\x03").decode(), "invalid_audio"),
    ],
)
def test_audio_that_is_not_base64_pcm16_is_refused(audio, code: str) -> None:
    with pytest.raises(ProtocolError, match="audio") as caught:
        protocol.pcm16(audio)
    assert caught.value.code == code


def test_pcm16_round_trip() -> None:
    samples = np.array([0.0, 0.5, -0.5, 1.0, -1.0], dtype=np.float32)
    decoded = protocol.pcm16(protocol.encode_pcm16(samples))
    np.testing.assert_allclose(decoded / 32767, samples, atol=1e-4)


def test_session_update_sets_what_it_names_and_keeps_the_rest() -> None:
    session = {
        "instructions": "Be brief.",
        "max_output_tokens": 200,
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 16000},
                "turn_detection": {"type": "server_vad", "threshold": 0.6, "silence_duration_ms": 700},
            },
            "output": {"voice": "chelsie"},
        },
    }
    config = protocol.updated(SessionConfig(), session, VOICES, None)
    assert config.instructions == "Be brief."
    assert config.max_output_tokens == 200
    assert config.input_rate == 16000
    assert config.turn_detection == TurnDetection(
        threshold=0.6, prefix_padding_ms=300, silence_duration_ms=700
    )
    assert config.voice == "Chelsie"  # names are case-insensitive, stored as the model spells them
    described = json.loads(json.dumps(config.as_dict()))
    assert described["audio"]["input"]["turn_detection"]["threshold"] == 0.6
    push_to_talk = protocol.updated(config, {"audio": {"input": {"turn_detection": None}}}, VOICES, None)
    assert push_to_talk.turn_detection is None
    assert push_to_talk.instructions == "Be brief."


@pytest.mark.parametrize(
    ("session", "code"),
    [
        ({"audio": {"input": {"format": {"type": "audio/pcm", "rate": 44100}}}}, "invalid_audio_format"),
        ({"audio": {"input": {"format": {"type": "audio/pcmu"}}}}, "invalid_audio_format"),
        ({"audio": {"output": {"format": {"type": "audio/pcm", "rate": 16000}}}}, "invalid_audio_format"),
        ({"audio": {"output": {"voice": "Nobody"}}}, "invalid_voice"),
        ({"max_output_tokens": 0}, "invalid_max_output_tokens"),
        ({"audio": {"input": {"turn_detection": {"threshold": 2}}}}, "invalid_turn_detection"),
        ({"audio": {"input": {"turn_detection": {"type": "semantic_vad"}}}}, "invalid_turn_detection"),
        ("not an object", "invalid_session"),
    ],
)
def test_bad_session_updates_name_what_to_change(session, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        protocol.updated(SessionConfig(), session, VOICES, "evt_1")
    assert caught.value.code == code
    assert caught.value.as_event()["error"]["event_id"] == "evt_1"


def test_turn_detection_finds_each_utterance_in_real_speech(assets) -> None:
    speech, rate = sf.read(assets / "speech_en.wav", dtype="int16")
    voiced = np.nonzero(np.abs(speech) > 500)[0]
    first_ms, last_ms = voiced[0] * 1000 / rate, voiced[-1] * 1000 / rate
    silence = np.zeros(rate, dtype=np.int16)
    audio = np.concatenate([silence, speech, silence, speech, silence])
    detector = TurnDetector(TurnDetection())
    found = [b for b in detector.feed(to_16k(audio, rate)) if b.kind in ("started", "stopped")]
    assert [b.kind for b in found] == ["started", "stopped", "started", "stopped"]
    second = 2000 + len(speech) * 1000 / rate  # where the second copy starts
    # Starts are reported with the 300 ms prefix padding; both ends within a few frames of the real ones.
    assert found[0].ms == pytest.approx(1000 + first_ms - 300, abs=100)
    assert found[1].ms == pytest.approx(1000 + last_ms, abs=300)
    assert found[2].ms == pytest.approx(second + first_ms - 300, abs=100)
    assert not detector.speaking


def test_silence_and_noise_start_no_turn() -> None:
    rng = np.random.default_rng(0)
    noise = (rng.normal(0, 300, 16000 * 3)).astype(np.int16)  # quiet hiss, -40 dBFS
    detector = TurnDetector(TurnDetection())
    assert detector.feed(to_16k(np.zeros(24000 * 2, np.int16), 24000)) == []
    assert detector.feed(to_16k(noise, 16000)) == []


def test_a_longer_silence_setting_keeps_a_pause_inside_the_turn(assets) -> None:
    speech, rate = sf.read(assets / "speech_en.wav", dtype="int16")
    voiced = np.nonzero(np.abs(speech) > 500)[0]
    speech = speech[voiced[0] : voiced[-1]]  # the words alone, so the pause below is the only silence
    pause = np.zeros(int(rate * 0.8), dtype=np.int16)
    audio = np.concatenate([pause, speech, pause, speech, np.zeros(rate * 2, np.int16)])
    short = TurnDetector(TurnDetection(silence_duration_ms=500)).feed(to_16k(audio, rate))
    long = TurnDetector(TurnDetection(silence_duration_ms=1200)).feed(to_16k(audio, rate))
    assert [b.kind for b in short].count("started") == 2
    kinds = [b.kind for b in long]
    assert kinds[0] == "started"
    assert kinds[-1] == "stopped"
    assert kinds.count("started") == kinds.count("stopped") == 1


def test_a_quiet_stretch_inside_a_turn_is_paused_then_resumed_or_stopped(assets) -> None:
    speech, rate = sf.read(assets / "speech_en.wav", dtype="int16")
    voiced = np.nonzero(np.abs(speech) > 500)[0]
    speech = speech[voiced[0] : voiced[-1]]
    gap = np.zeros(int(rate * 0.35), dtype=np.int16)  # longer than 200 ms, shorter than the 500 ms window
    audio = np.concatenate([speech, gap, speech, np.zeros(rate, np.int16)])
    found = TurnDetector(TurnDetection()).feed(to_16k(audio, rate))
    kinds = [b.kind for b in found]
    assert kinds[0] == "started"
    assert kinds[-2:] == ["paused", "stopped"]  # the final quiet: paused at 200 ms, stopped at 500 ms
    paused, stopped = found[-2], found[-1]
    assert paused.ms == stopped.ms  # both name where the quiet began
    # The 350 ms gap between the two sentences paused the turn and speech resumed it; no stop there.
    gap_start_ms = len(speech) * 1000 / rate
    around_gap = [b.kind for b in found if gap_start_ms - 100 <= b.ms <= gap_start_ms + 400]
    assert around_gap[:2] == ["paused", "resumed"]
    assert kinds.count("started") == kinds.count("stopped") == 1
    assert kinds.count("paused") == kinds.count("resumed") + 1


@pytest.mark.parametrize(
    ("heard_ms", "made_ms", "expected"),
    [
        (0, 2000, ""),
        (2000, 2000, "one two three four"),
        (5000, 2000, "one two three four"),
        (1000, 2000, "one two"),  # half: cut back to the last whole word
        (600, 2000, "one"),
    ],
)
def test_heard_text_keeps_whole_words_in_proportion(heard_ms: float, made_ms: float, expected: str) -> None:
    assert heard_text("one two three four", heard_ms, made_ms) == expected


def test_heard_text_cuts_text_without_spaces_by_character() -> None:
    assert heard_text("你好世界今天", 500, 1000) == "你好世"
