"""/generate and /generate_stream through gradio_client against the real app process."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import soundfile as sf
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

pytestmark = pytest.mark.e2e

DEFAULTS = {"system_prompt": "", "voice": "Chelsie", "use_audio_in_video": False, "return_audio": True}
SAMPLING = {"temperature": 0.6, "top_p": 0.95, "top_k": 20, "max_new_tokens": 24}


def _args(text: str, audio=None, image=None, video=None, **overrides) -> list:
    values = {**DEFAULTS, **SAMPLING, **overrides}
    return [text, audio, image, video, *values.values()]


@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


def test_generate_returns_text_wav_and_timings(client: Client) -> None:
    text, wav, timings = client.predict(*_args("Hello, who are you?"), api_name="/generate")
    assert text.strip()
    samples, rate = sf.read(wav)
    assert rate == 24_000
    assert len(samples) / rate == pytest.approx(timings["speech_s"], rel=0.01)
    assert timings["text_tokens"] > 0
    assert timings["first_token_s"] > 0
    assert timings["input_tokens"]["total"] > 0


def test_generate_with_audio_image_and_video(client: Client, assets: Path) -> None:
    text, wav, timings = client.predict(
        *_args(
            "What do you hear and see?",
            handle_file(str(assets / "speech_en.wav")),
            handle_file(str(assets / "ocr.png")),
            handle_file(str(assets / "av_question.mp4")),
            use_audio_in_video=True,
            return_audio=False,
        ),
        api_name="/generate",
    )
    assert text.strip()
    assert wav is None
    assert {"audio", "image", "video"} <= set(timings["input_tokens"])


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"text": ""}, "Type a message"),
        ({"text": "hi", "voice": "Nobody"}, "voice"),
        ({"text": "hi", "video_file": "video_room.mp4", "use_audio_in_video": True}, "no sound track"),
        ({"text": "hi", "audio_file": "ocr.png"}, "image file"),
    ],
)
def test_bad_input_gets_one_clear_sentence(client: Client, assets: Path, kwargs: dict, expected: str) -> None:
    kwargs = dict(kwargs)
    audio = kwargs.pop("audio_file", None)
    video = kwargs.pop("video_file", None)
    args = _args(
        kwargs.pop("text"),
        handle_file(str(assets / audio)) if audio else None,
        None,
        handle_file(str(assets / video)) if video else None,
        **kwargs,
    )
    with pytest.raises(AppError) as caught:
        client.predict(*args, api_name="/generate")
    message = str(caught.value)
    assert expected in message
    assert "Traceback" not in message
    assert "\n" not in message
    # The app keeps serving after the error.
    text, _, _ = client.predict(*_args("still there?", return_audio=False), api_name="/generate")
    assert text.strip()


def test_generate_stream_yields_chunks_then_the_whole_reply(client: Client) -> None:
    job = client.submit(*_args("Tell me a long story.", max_new_tokens=64), api_name="/generate_stream")
    updates = list(job)
    chunk_files = [wav for _, wav, timings in updates[:-1] if wav]
    text, whole_wav, timings = updates[-1]
    assert len(updates) > 3
    assert chunk_files
    assert text.strip()
    assert timings["speech_s"] > 0
    chunk_samples = sum(len(sf.read(f)[0]) for f in chunk_files)
    assert chunk_samples == len(sf.read(whole_wav)[0])


def test_media_urls_are_refused_without_the_flag(client: Client, app_url: str) -> None:
    """Gradio would fetch a file input given as a URL; the server refuses before it does."""
    url_file = {"path": "https://example.com/clip.wav", "meta": {"_type": "gradio.FileData"}}
    with pytest.raises(httpx.HTTPStatusError, match="400"):
        client.predict(*_args("hi", url_file), api_name="/generate")
    private = {"path": "http://169.254.169.254/latest/meta-data", "meta": {"_type": "gradio.FileData"}}
    response = httpx.post(f"{app_url}gradio_api/call/generate", json={"data": _args("hi", private)})
    assert response.status_code == 400
    assert "does not fetch media from URLs" in response.json()["error"]
