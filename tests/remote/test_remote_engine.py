"""RemoteEngine against fake vLLM-Omni, vLLM and DashScope servers speaking their wire formats.

What reaches the server (model, modalities, voice, sampling, inline media), what comes back (text
deltas and speech chunks in order, then one Result with client-side timings), and every failure as
one sentence: unreachable, 401 / 403, 404, 429, 5xx, a stalled stream, malformed chunks, a dropped
connection. Stop closes the HTTP stream; nothing is retried.
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from dataclasses import replace
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import soundfile as sf
from sentences import assert_one_sentence

from omni_demo.config import Settings
from omni_demo.engine.remote.engine import RemoteEngine, load_remote
from omni_demo.errors import InputError, ModelLoadError, OmniError
from omni_demo.transcript import Exchange
from omni_demo.types import AudioChunk, Media, ModelKind, Request, Result, Sampling, TextDelta, Turn
from omni_demo.ui import handlers
from omni_demo.ui.handlers import ChatOptions
from omni_demo.ui.render import user_messages
from remote.conftest import engine_for

ASSETS = Path(__file__).resolve().parents[2] / "assets"


def _request(text: str, *media: Media, speak: bool = True, voice: str | None = None, **kw: object) -> Request:
    turn = Turn("user", text=text, media=media)
    return Request(turns=(turn,), return_audio=speak, voice=voice, **kw)  # type: ignore[arg-type]


def _collect(engine: RemoteEngine, request: Request) -> tuple[list, Result]:
    events = list(engine.stream(request))
    assert isinstance(events[-1], Result)
    assert not any(isinstance(e, Result) for e in events[:-1])
    return events[:-1], events[-1]


def _decoded(url: str) -> bytes:
    head, _, data = url.partition(",")
    assert head.startswith("data:")
    assert head.endswith(";base64")
    return base64.b64decode(data)


# ---------------------------------------------------------------------------------- capabilities


def test_capabilities_come_from_the_back_end(fake) -> None:
    omni = engine_for(fake("vllm-omni")).info.capabilities
    assert omni.kind is ModelKind.INSTRUCT
    assert omni.voices == ("Ethan", "Chelsie", "Aiden")
    assert not engine_for(fake("vllm")).info.capabilities.speech_output
    dash = engine_for(fake("dashscope")).info
    assert dash.capabilities.speech_output
    assert "Cherry" in dash.capabilities.voices
    assert dash.name == "qwen3-omni-flash"
    thinking = engine_for(fake("vllm", model="Qwen/Qwen3-Omni-30B-A3B-Thinking")).info.capabilities
    assert thinking.kind is ModelKind.THINKING
    captioner = engine_for(fake("vllm", model="Qwen/Qwen3-Omni-30B-A3B-Captioner")).info.capabilities
    assert captioner.kind is ModelKind.CAPTIONER
    assert not captioner.text_input
    assert not engine_for(fake("vllm-omni"), no_speech=True).info.capabilities.speech_output


def test_the_served_model_is_found_or_named(fake) -> None:
    service = fake("vllm", model="my-omni")
    assert engine_for(service).model == "my-omni"  # the only one served
    with pytest.raises(ModelLoadError) as caught:
        engine_for(service, remote_model="Qwen/other")
    assert "my-omni" in str(caught.value)
    assert_one_sentence(str(caught.value))


# ------------------------------------------------------------------------------------- streaming


@pytest.mark.parametrize("audio_field", ["content", "audio"])
def test_vllm_omni_streams_text_then_speech(fake, audio_field: str) -> None:
    service = fake("vllm-omni", audio_field=audio_field)
    engine = engine_for(service)
    events, result = _collect(engine, _request("Hello there", voice="Chelsie"))
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == result.text == "You said: Hello there (1 user messages, 0 media parts)"
    chunks = [e for e in events if isinstance(e, AudioChunk)]
    assert len(chunks) >= 2
    assert all(c.sample_rate == 24_000 for c in chunks)
    assert len(result.audio) == sum(len(c.samples) for c in chunks)
    t = result.timings
    assert 0 < t.first_token_s <= t.first_audio_s <= t.total_s
    assert t.speech_s == pytest.approx(len(result.audio) / 24_000)
    assert t.real_time_factor == pytest.approx(t.total_s / t.speech_s)
    assert t.text_tokens == len(result.text.split(" "))
    assert t.input_tokens == {"total": 17}
    assert t.engine == "vllm-omni"
    body = service.served[0].body
    assert body["stream"] is True
    assert body["modalities"] == ["text", "audio"]
    assert body["speaker"] == "chelsie"
    assert body["mm_processor_kwargs"] == {"use_audio_in_video": False}
    thinker, talker, code2wav = body["sampling_params_list"]
    assert thinker["temperature"] == 0.6
    assert thinker["top_k"] == 20
    assert talker["stop_token_ids"] == [2150]
    assert code2wav["detokenize"] is True


def test_vllm_omni_reads_a_served_checkpoint_folder(fake, tmp_path: Path) -> None:
    """vLLM serves a folder under its path: where that folder is on this machine, its config files give
    the voices, the end tokens and the talker's sampling (else the published Qwen3-Omni values)."""
    folder = tmp_path / "Qwen3-Omni-30B-A3B-Instruct"
    folder.mkdir()
    talker = {"speaker_id": {"serena": 1, "ethan": 2}, "codec_eos_token_id": 7, "num_code_groups": 8}
    config = {"im_end_token_id": 99, "talker_config": talker}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    generation = {"talker_temperature": 0.5, "talker_top_k": 9, "talker_max_new_tokens": 100}
    (folder / "generation_config.json").write_text(json.dumps(generation), encoding="utf-8")
    service = fake("vllm-omni", model=str(folder))
    engine = engine_for(service)
    assert engine.info.capabilities.voices == ("Ethan", "Serena")  # the default speaker first

    _collect(engine, _request("Hello", voice="Serena"))

    body = service.served[0].body
    assert body["speaker"] == "serena"
    thinker, talker, code2wav = body["sampling_params_list"]
    assert thinker["stop_token_ids"] == [99]
    assert talker["stop_token_ids"] == [7]
    assert (talker["temperature"], talker["top_k"], talker["max_tokens"]) == (0.5, 9, 100)
    assert talker["repetition_penalty"] == 1.05  # not in the file: the published value
    assert code2wav["max_tokens"] == 100 * 8


def test_vllm_omni_text_only_when_not_speaking(fake) -> None:
    service = fake("vllm-omni")
    events, result = _collect(engine_for(service), _request("Quiet", speak=False))
    assert result.audio is None
    assert not any(isinstance(e, AudioChunk) for e in events)
    assert service.served[0].body["modalities"] == ["text"]
    assert "speaker" not in service.served[0].body


def test_vllm_text_with_greedy_sampling(fake) -> None:
    service = fake("vllm")
    request = _request("Hi", sampling=Sampling(temperature=0, max_new_tokens=33))
    _, result = _collect(engine_for(service), request)
    assert result.text.startswith("You said: Hi")
    assert result.audio is None
    body = service.served[0].body
    assert "modalities" not in body
    assert body["temperature"] == 0
    assert body["max_tokens"] == 33
    assert "top_k" not in body


def test_dashscope_streams_pcm_speech_with_its_voice(fake) -> None:
    service = fake("dashscope")
    engine = engine_for(service)
    events, result = _collect(engine, _request("Bonjour", voice="cherry"))
    assert result.text.startswith("You said: Bonjour")
    assert result.audio is not None
    assert result.timings.speech_s == pytest.approx(len(result.audio) / 24_000)
    assert result.timings.text_tokens == len(result.text.split(" "))  # usage's text_tokens
    body = service.served[0].body
    assert body["audio"] == {"voice": "Cherry", "format": "wav"}
    assert body["modalities"] == ["text", "audio"]
    assert service.served[0].headers["authorization"] == "Bearer sk-fake-dashscope-key"
    first_audio = next(i for i, e in enumerate(events) if isinstance(e, AudioChunk))
    last_text = max(i for i, e in enumerate(events) if isinstance(e, TextDelta))
    assert first_audio < last_text  # speech interleaved with text, as the service sends it


def test_an_unknown_voice_is_refused_before_sending(fake) -> None:
    service = fake("dashscope")
    with pytest.raises(InputError) as caught:
        engine_for(service).check(_request("hi", voice="Chelsie"))
    assert "Cherry" in str(caught.value)
    assert service.served == []


# ------------------------------------------------------------------------------------------ media


def test_media_go_inline_as_data_urls(fake) -> None:
    service = fake("vllm-omni")
    request = _request(
        "What is this?",
        Media("audio", str(ASSETS / "speech_en.wav")),
        Media("image", str(ASSETS / "ocr.png")),
        Media("video", str(ASSETS / "av_question.mp4")),
        use_audio_in_video=True,
    )
    _, result = _collect(engine_for(service), request)
    assert "3 media parts" in result.text
    body = service.served[0].body
    assert body["mm_processor_kwargs"] == {"use_audio_in_video": True}
    parts = body["messages"][0]["content"]
    assert [p["type"] for p in parts] == ["audio_url", "image_url", "video_url", "text"]
    wav, rate = sf.read(io.BytesIO(_decoded(parts[0]["audio_url"]["url"])))
    assert rate == 16_000
    assert len(wav) > 16_000
    assert _decoded(parts[1]["image_url"]["url"]) == (ASSETS / "ocr.png").read_bytes()
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert _decoded(parts[2]["video_url"]["url"]) == (ASSETS / "av_question.mp4").read_bytes()


def test_dashscope_audio_is_an_input_audio_part(fake) -> None:
    service = fake("dashscope")
    request = _request("Transcribe.", Media("audio", str(ASSETS / "speech_en.wav")), speak=False)
    _collect(engine_for(service), request)
    part = service.served[0].body["messages"][0]["content"][0]
    assert part["type"] == "input_audio"
    assert part["input_audio"]["format"] == "wav"
    assert part["input_audio"]["data"].startswith("data:audio/wav;base64,")


def test_dashscope_refuses_two_kinds_of_media_in_one_message_before_sending(fake) -> None:
    service = fake("dashscope")
    request = _request(
        "Both?", Media("audio", str(ASSETS / "speech_en.wav")), Media("image", str(ASSETS / "ocr.png"))
    )
    with pytest.raises(InputError) as caught:
        engine_for(service).check(request)
    assert str(caught.value).startswith("DashScope takes text plus only one kind of media per message")
    assert_one_sentence(str(caught.value))
    assert service.served == []


def test_files_over_the_size_limit_are_refused_before_sending(fake) -> None:
    service = fake("vllm-omni")
    engine = engine_for(service)
    small = RemoteEngine(
        replace(engine.backend, max_inline_mb=0.01), engine.client, engine.model, engine.info
    )
    with pytest.raises(InputError) as caught:
        list(small.stream(_request("Look", Media("image", str(ASSETS / "ocr.png")))))
    assert "ocr.png" in str(caught.value)
    assert_one_sentence(str(caught.value))
    assert service.served == []


def test_bad_media_is_refused_as_locally(fake, tmp_path: Path) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really")
    with pytest.raises(InputError):
        engine_for(fake("vllm")).check(_request("?", Media("audio", str(broken))))


# ----------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "start"),
    [
        (401, "vLLM-Omni refused the API key (HTTP 401)"),
        (403, "vLLM-Omni refused the API key (HTTP 403)"),
        (404, "vLLM-Omni does not serve a model named"),
        (429, "vLLM-Omni is rate-limiting this demo"),
        (500, "vLLM-Omni failed with a server error (HTTP 500)"),
        (503, "vLLM-Omni failed with a server error (HTTP 503)"),
        (400, "vLLM-Omni refused the request (HTTP 400): Steered error."),
    ],
)
def test_http_errors_are_one_sentence_and_not_retried(fake, status: int, start: str) -> None:
    service = fake("vllm-omni")
    with pytest.raises(OmniError) as caught:
        list(engine_for(service).stream(_request(f"#status={status}")))
    assert str(caught.value).startswith(start)
    assert_one_sentence(str(caught.value))
    assert len(service.served) == 1  # no retry


def test_a_wrong_key_is_refused(fake) -> None:
    service = fake("dashscope")
    engine = engine_for(service, api_key="sk-wrong")
    with pytest.raises(OmniError) as caught:
        list(engine.stream(_request("hi")))
    assert str(caught.value) == (
        "DashScope refused the API key (HTTP 401); check --api-key or DASHSCOPE_API_KEY."
    )
    assert "sk-wrong" not in str(caught.value)


def test_a_wrong_model_name_on_dashscope(fake) -> None:
    service = fake("dashscope")
    with pytest.raises(OmniError) as caught:
        list(engine_for(service, remote_model="qwen-omni-nope").stream(_request("hi")))
    assert "“qwen-omni-nope”" in str(caught.value)


def test_dashscope_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DASHSCOPE_API_KEY", raising=False)
    monkeypatch.delenv("OMNI_API_KEY", raising=False)
    with pytest.raises(ModelLoadError) as caught:
        load_remote(Settings(backend="dashscope"))
    assert "DASHSCOPE_API_KEY" in str(caught.value)


def test_the_key_can_come_from_the_environment(fake, monkeypatch: pytest.MonkeyPatch) -> None:
    service = fake("dashscope")
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-fake-dashscope-key")
    engine = load_remote(Settings(backend="dashscope", api_base=service.base))
    _collect(engine, _request("hi", speak=False))
    assert "sk-fake" not in repr(Settings(api_key="sk-fake"))


def test_an_unreachable_server(fake) -> None:
    service = fake("vllm")
    engine = engine_for(service)
    service.close()
    with pytest.raises(OmniError) as caught:
        list(engine.stream(_request("hi")))
    assert "cannot be reached" in str(caught.value)
    assert_one_sentence(str(caught.value))
    with pytest.raises(ModelLoadError) as caught:
        engine_for(service)
    assert str(caught.value).startswith("Cannot reach vLLM at")


@pytest.mark.parametrize(
    ("word", "start"),
    [
        ("#malformed", "The vLLM-Omni server sent a reply this demo cannot read"),
        ("#notjson", "The vLLM-Omni server sent a reply this demo cannot read"),
        ("#drop", "The connection to vLLM-Omni broke in the middle of the answer"),
        ("#error", "vLLM-Omni stopped the answer with an error; try again shortly."),
        ("#stall", "vLLM-Omni sent nothing for 1 s, so the answer was stopped"),
    ],
)
def test_a_stream_that_breaks_midway(fake, word: str, start: str) -> None:
    service = fake("vllm-omni")
    engine = engine_for(service, read_timeout_s=1.0)
    events = []
    started = time.perf_counter()
    with pytest.raises(OmniError) as caught:
        events.extend(engine.stream(_request(f"Go {word}")))
    assert str(caught.value).startswith(start)
    assert_one_sentence(str(caught.value))
    assert time.perf_counter() - started < 5
    assert len(service.served) == 1  # no retry once the stream has started


def test_a_failed_reply_leaves_the_conversation_as_it_was(fake) -> None:
    engine = engine_for(fake("vllm-omni"), read_timeout_s=1.0)
    first = Exchange(Turn("user", "Hello"), "Hi!")
    history = [*user_messages(first.user), {"role": "assistant", "content": "Hi!"}]
    asked = Exchange(Turn("user", "Now fail #status=429"), "")
    options = ChatOptions("", "Ethan", True, False, 0.6, 0.95, 20, 64)
    updates = []
    with pytest.raises(OmniError):
        updates.extend(handlers.respond(engine, [first], asked, options))
    chat, pending, _, kept = updates[-1]
    assert (pending, kept) == (None, gr.skip())  # the question is dropped, the answers stay
    assert chat == history


# -------------------------------------------------------------------------------------------- stop


def test_stop_closes_the_http_stream(fake) -> None:
    service = fake("vllm-omni")
    stream = engine_for(service).stream(_request("Talk slowly #slow"))
    assert isinstance(next(stream), TextDelta)
    stream.close()  # what the page's Stop does to the generator
    deadline = time.monotonic() + 3
    while service.served[0].ended is None and time.monotonic() < deadline:
        time.sleep(0.05)
    record = service.served[0]
    assert record.disconnected  # the server's next write found the connection closed
    assert record.ended - record.started < 2  # far sooner than the ~8 s the whole reply takes


# ------------------------------------------------------------------------------------ concurrency


def test_four_conversations_at_once_overlap_and_stay_apart(fake) -> None:
    service = fake("vllm-omni")
    engine = engine_for(service)
    results: dict[int, list[str]] = {}

    def converse(n: int) -> None:
        turns: list[Turn] = []
        replies = []
        for step in range(2):
            turns.append(Turn("user", f"session {n} step {step} #slow"))
            request = Request(turns=tuple(turns), return_audio=False, sampling=Sampling(max_new_tokens=32))
            *_, result = engine.stream(request)
            turns.append(Turn("assistant", result.text))
            replies.append(result.text)
        results[n] = replies

    threads = [threading.Thread(target=converse, args=(n,)) for n in range(4)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    for n in range(4):
        assert results[n] == [
            f"You said: session {n} step {step} #slow ({step + 1} user messages, 0 media parts)"
            for step in range(2)
        ]
    deadline = time.monotonic() + 3  # the server's threads note the end just after the client saw it
    while any(r.ended is None for r in service.served) and time.monotonic() < deadline:
        time.sleep(0.05)
    first_round = sorted(service.served, key=lambda r: r.started)[:4]
    assert max(r.started for r in first_round) < min(r.ended for r in first_round)  # all four at once
    one = np.mean([r.ended - r.started for r in service.served])
    print(f"4 sessions x 2 turns: {wall:.2f} s wall, {one:.2f} s per reply, {8 * one:.2f} s in a row")
    assert wall < 4 * one  # two rounds side by side, far from eight replies in a row


@pytest.mark.parametrize("name", ["vllm", "vllm-omni", "dashscope"])
def test_tools_reach_the_server_for_its_chat_template(fake, name: str) -> None:
    """The tools travel as the request's `tools` (the server's template writes them into the system
    turn); tool_choice "none", since the demo reads the <tool_call> blocks from the text itself."""
    service = fake(name)
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    engine = engine_for(service)
    _collect(engine, _request("Weather?", speak=False, tools=(tool,)))
    body = service.served[0].body
    assert body["tools"] == [tool]
    assert body["tool_choice"] == "none"
    assert "get_weather" in engine.system_turn("Be brief.", [tool])
    assert engine.system_turn("Be brief.", []) == "Be brief."
