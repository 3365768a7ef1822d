"""/generate, /generate_stream and /info through gradio_client against the real app process."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import httpx
import pytest
import soundfile as sf
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
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


def test_the_readme_example_runs_with_keyword_arguments(
    app_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's API example, exactly as written but for the server's address."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## API") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert 'text="What is in this picture?", image=' in code  # keyword arguments
    code = code.replace("http://127.0.0.1:7860/", app_url)
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    lines = [line for line in out.getvalue().splitlines() if not line.startswith("Loaded as API")]
    info = eval(lines[0])  # the printed /info dict
    assert info["default_voice"] == "Ethan"
    assert re.search(r"\.wav \d", "\n".join(lines[1:])), lines  # the reply's WAV path, then first_audio_s
    assert len(lines) > 3  # the streamed updates were printed


def test_named_parameters_take_the_chat_tabs_defaults(client: Client) -> None:
    text, wav, timings = client.predict(text="Hi there", api_name="/generate")
    assert text.strip()
    assert wav is not None  # speech on by default, as on the chat tab
    assert sf.read(wav)[1] == 24_000
    assert timings["text_tokens"] <= 48  # the preview's chat-tab default for max_new_tokens
    text, wav, _ = client.predict(text="Hi", return_audio=False, max_new_tokens=8, api_name="/generate")
    assert wav is None


def test_a_videos_sound_is_heard_by_default_and_a_silent_video_is_seen(client: Client, assets: Path) -> None:
    """use_audio_in_video left out: a clip with a spoken question is heard, a silent one only seen."""
    quiet = {"return_audio": False, "max_new_tokens": 4}
    _, _, heard = client.predict(
        text="", video=handle_file(str(assets / "av_question.mp4")), api_name="/generate", **quiet
    )
    assert heard["input_tokens"]["audio"] > 0
    assert heard["input_tokens"]["video"] > 0
    _, _, seen = client.predict(
        text="hi", video=handle_file(str(assets / "video_room.mp4")), api_name="/generate", **quiet
    )
    assert seen["input_tokens"]["video"] > 0
    assert "audio" not in seen["input_tokens"]
    assert not seen["notices"]


def test_the_system_prompt_left_out_follows_speech(client: Client) -> None:
    """As on the page: the voice-assistant prompt when the reply is spoken, none when it is not."""
    tokens = {"max_new_tokens": 4, "api_name": "/generate"}
    _, _, spoken = client.predict(text="Hi", **tokens)
    _, _, none = client.predict(text="Hi", system_prompt="", **tokens)
    _, _, written = client.predict(text="Hi", return_audio=False, **tokens)
    assert spoken["input_tokens"]["text"] > none["input_tokens"]["text"] + 100  # the prompt's words
    assert written["input_tokens"]["text"] == none["input_tokens"]["text"]


def test_info_describes_the_model(client: Client) -> None:
    info = client.predict(api_name="/info")
    assert info["model"] == "preview"
    assert info["kind"] == "instruct"
    assert set(info["voices"]) == {"Chelsie", "Ethan", "Aiden"}
    assert info["default_voice"] == info["defaults"]["voice"] == "Ethan"
    assert info["engine"] in {"fast", "plain"}
    assert info["limits"]["max_clip_seconds"] == 180
    assert info["limits"]["max_file_size"] == "200mb"
    assert info["defaults"]["max_new_tokens"] == 48
    assert info["defaults"]["use_audio_in_video"] is True
    assert info["defaults"]["system_prompt"].startswith("You are Qwen-Omni")
    assert info["limits"]["max_new_tokens"] == 32_768  # upstream's; the preview's context is 65,536


def test_only_the_api_endpoints_are_public(client: Client, app_url: str) -> None:
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {
        "/generate",
        "/generate_stream",
        "/info",
    }
    assert not client.view_api(print_info=False, return_format="dict")["unnamed_endpoints"]
    info = httpx.get(f"{app_url}gradio_api/info").json()
    assert set(info["named_endpoints"]) == {"/generate", "/generate_stream", "/info"}


def _reply_files(app_temp_dir: Path) -> set[Path]:
    """The WAVs in the app's reply folder (one per process, in the app's own TMPDIR)."""
    folders = list(app_temp_dir.glob("omni-demo-replies-*"))
    assert len(folders) <= 1, folders  # only the server under test writes here
    return {p for folder in folders for p in folder.glob("*.wav")}


def test_generate_leaves_no_reply_files_but_its_own(client: Client, app_temp_dir: Path) -> None:
    """/generate writes one WAV (the whole reply), /generate_stream none per chunk that outlives it."""
    before = _reply_files(app_temp_dir)
    job = client.submit(text="Tell me a story.", max_new_tokens=32, api_name="/generate_stream")
    updates = list(job)
    assert sum(1 for _, wav, _ in updates[:-1] if wav) >= 2  # several chunks were streamed
    client.predict(text="Hello", api_name="/generate")
    after = _reply_files(app_temp_dir)
    assert len(after - before) == 2  # the stream's whole reply and /generate's reply; no chunk files
    assert before <= after  # nothing of ours was removed meanwhile
