"""Fake vLLM-Omni, vLLM and DashScope servers on loopback, speaking each service's wire format.

Each fake answers `GET /v1/models` and `POST /v1/chat/completions` (server-sent events, `data: {json}`
lines, ended by `data: [DONE]`) as the real service does:

- vLLM (OpenAI-compatible server, `vllm/entrypoints/openai/serving_chat.py`): a first chunk with the
  assistant role and empty content, one chunk per text delta, a last chunk with `finish_reason`, then,
  with `stream_options.include_usage`, a chunk with `"choices": []` and `usage`. Errors are vLLM's
  `ErrorResponse`: `{"object": "error", "message", "type", "param", "code"}` with the HTTP status.
- vLLM-Omni (`vllm_omni/entrypoints/openai/serving_chat.py`, protocol `OmniChatCompletionStreamResponse`):
  the same chunks with a top-level `"modality": "text"`; when `modalities` asks for audio, chunks with
  `"modality": "audio"` whose `delta.content` is one base64 WAV file at 24 kHz (`audio_field="audio"`
  puts it in `delta.audio.data` instead, as other versions do).
- DashScope (Model Studio compatible mode, Qwen-Omni guide): refuses `stream: false` with HTTP 400,
  refuses a message with two kinds of media, needs `Authorization: Bearer <key>` (401 with the
  OpenAI-style `{"error": {...}}` body otherwise); text in `delta.content`, speech in
  `delta.audio.data` as base64 PCM16 at 24 kHz (with `transcript` deltas and a closing delta holding
  only `id` and `expires_at`), `usage` with `completion_tokens_details.text_tokens`.

The reply is computed from the request so that tests can check what the server received: it echoes
the last user text and counts the user messages and media parts. Words in the last user text steer
the fake: `#slow` (0.25 s between chunks), `#stall` (one chunk, then silence), `#malformed` (a chunk
that breaks the format), `#notjson` (a data line that is not JSON), `#error` (an error event, then
the end), `#drop` (the connection closes
mid-stream), `#status=NNN` (that HTTP error before the stream).
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import soundfile as sf

RATE = 24_000
WORDS_PER_AUDIO_CHUNK = 2


def tone(seconds: float, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def wav_b64(samples: np.ndarray) -> str:
    buffer = io.BytesIO()
    sf.write(buffer, samples, RATE, format="WAV", subtype="PCM_16")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def pcm_b64(samples: np.ndarray) -> str:
    return base64.b64encode((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()).decode("ascii")


@dataclass
class Served:
    """What one request looked like and when it ran (for the tests' assertions)."""

    body: dict[str, Any]
    headers: dict[str, str]
    started: float
    ended: float | None = None
    disconnected: bool = False


@dataclass
class FakeService:
    kind: str  # "vllm-omni" | "vllm" | "dashscope"
    model: str = "Qwen/Qwen3-Omni-30B-A3B-Instruct"
    api_key: str | None = None  # required bearer key; None: any
    audio_field: str = "content"  # vLLM-Omni: where audio chunks carry the WAV ("content" | "audio")
    delay_s: float = 0.0  # between chunks
    served: list[Served] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    closing: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                service.get(self)

            def do_POST(self) -> None:
                service.post(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()

    # -- HTTP ---------------------------------------------------------------------------------------

    def _json(self, handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        handler.send_header("Connection", "close")  # so a closed fake is unreachable, not kept alive
        handler.end_headers()
        handler.wfile.write(raw)
        handler.close_connection = True

    def _error(self, handler: BaseHTTPRequestHandler, status: int, message: str, code: str = "") -> None:
        if self.kind == "dashscope":
            body = {
                "error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}
            }
        else:
            body = {
                "object": "error",
                "message": message,
                "type": "BadRequestError",
                "param": None,
                "code": status,
            }
        self._json(handler, status, body)

    def _authorised(self, handler: BaseHTTPRequestHandler) -> bool:
        if self.api_key is None:
            return True
        if handler.headers.get("Authorization") == f"Bearer {self.api_key}":
            return True
        self._error(handler, 401, "Incorrect API key provided.", "invalid_api_key")
        return False

    def get(self, handler: BaseHTTPRequestHandler) -> None:
        if not self._authorised(handler):
            return
        if handler.path.rstrip("/") != "/v1/models":
            self._error(handler, 404, "Not Found")
            return
        model = {"id": self.model, "object": "model", "created": 0, "owned_by": "vllm", "root": self.model}
        self._json(handler, 200, {"object": "list", "data": [model]})

    def post(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", 0))
        body = json.loads(handler.rfile.read(length) or b"{}")
        record = Served(body, dict(handler.headers), time.perf_counter())
        with self.lock:
            self.served.append(record)
        try:
            self._answer(handler, body, record)
        except (BrokenPipeError, ConnectionResetError):
            record.disconnected = True
        finally:
            record.ended = time.perf_counter()

    # -- the reply ----------------------------------------------------------------------------------

    def _refused(self, handler: BaseHTTPRequestHandler, body: dict[str, Any], last: str) -> bool:
        """Answer an error as the service would, if there is one; True when it was answered."""
        if not self._authorised(handler):
            return True
        error = None
        if handler.path != "/v1/chat/completions":
            error = (404, "Not Found", "")
        elif body.get("model") != self.model:
            error = (404, f"The model `{body.get('model')}` does not exist.", "model_not_found")
        elif status := re.search(r"#status=(\d{3})", last):
            error = (int(status.group(1)), "Steered error.", "")
        elif self.kind == "dashscope" and (refusal := _dashscope_refusal(body)):
            error = (400, refusal, "InvalidParameter")
        if error is not None:
            self._error(handler, *error)
        return error is not None

    def _answer(self, handler: BaseHTTPRequestHandler, body: dict[str, Any], record: Served) -> None:
        last = _last_user_text(body.get("messages", []))
        if self._refused(handler, body, last):
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Transfer-Encoding", "chunked")  # as uvicorn streams it
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True

        def send(line: str) -> None:
            raw = line.encode()
            handler.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
            handler.wfile.flush()

        delay = 0.25 if "#slow" in last else self.delay_s
        for index, sent in enumerate(self._chunks(body, last)):
            chunk = sent
            if "#malformed" in last and index == 2:
                chunk = {"id": "x", "object": "chat.completion.chunk", "choices": "oops"}
            if "#error" in last and index == 2:  # vLLM's create_streaming_error_response
                error = {"object": "error", "message": "engine died", "type": "InternalServerError"}
                chunk = {"error": {**error, "param": None, "code": 500}}
            broken = "#notjson" in last and index == 2
            send("data: {not json\n\n" if broken else f"data: {json.dumps(chunk)}\n\n")
            if "#drop" in last and index == 2:
                return  # the server dies: no closing chunk of the chunked body
            if "#error" in last and index == 2:
                break  # vLLM ends the stream with [DONE] after an error event
            if "#stall" in last and index == 1:
                self.closing.wait(30)
                return
            if delay:
                time.sleep(delay)
        send("data: [DONE]\n\n")
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()

    def reply_text(self, body: dict[str, Any]) -> str:
        users = [m for m in body["messages"] if m["role"] == "user"]
        parts = [p for m in users if isinstance(m["content"], list) for p in m["content"]]
        media = sum(1 for p in parts if p.get("type") != "text")
        last = _last_user_text(body["messages"])
        return f"You said: {last} ({len(users)} user messages, {media} media parts)"

    def _chunks(self, body: dict[str, Any], last: str) -> list[dict[str, Any]]:
        text = self.reply_text(body)
        words = [w + " " for w in text.split(" ")]
        words[-1] = words[-1].rstrip()
        speak = "audio" in (body.get("modalities") or []) and self.kind != "vllm"
        base = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self.model,
        }

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return {**base, **extra, "choices": [choice]}

        omni = {"modality": "text"} if self.kind == "vllm-omni" else {}
        chunks = [chunk({"role": "assistant", "content": ""}, **omni)]
        if self.kind == "dashscope":
            for i, word in enumerate(words):
                chunks.append(chunk({"content": word}))
                if speak:
                    chunks.append(chunk({"audio": {"transcript": word}}))
                    if i % WORDS_PER_AUDIO_CHUNK == 1 or i == len(words) - 1:
                        chunks.append(chunk({"audio": {"data": pcm_b64(tone(0.2))}}))
            if speak:
                chunks.append(chunk({"audio": {"id": "audio_fake", "expires_at": int(time.time()) + 86400}}))
            chunks.append(chunk({}, "stop"))
        else:
            chunks += [chunk({"content": w}, **omni) for w in words]
            chunks.append(chunk({"content": ""}, "stop", **omni))
            if speak:
                for _ in range(len(words) // WORDS_PER_AUDIO_CHUNK + 1):
                    data = wav_b64(tone(0.2))
                    delta = {"role": "assistant", "content": data}
                    if self.audio_field == "audio":
                        delta = {"role": "assistant", "content": "", "audio": {"data": data}}
                    chunks.append(chunk(delta, modality="audio"))
                chunks.append(chunk({"content": ""}, "stop", modality="audio"))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage: dict[str, Any] = {
                "prompt_tokens": 17 * len(body["messages"]),
                "completion_tokens": len(words),
                "total_tokens": 17 * len(body["messages"]) + len(words),
            }
            if self.kind == "dashscope":
                usage["completion_tokens_details"] = {"text_tokens": len(words), "audio_tokens": 50}
            chunks.append(
                {
                    **base,
                    **({"modality": "text"} if self.kind == "vllm-omni" else {}),
                    "choices": [],
                    "usage": usage,
                }
            )
        return chunks


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message["role"] == "user":
            content = message["content"]
            if isinstance(content, str):
                return content
            return " ".join(p["text"] for p in content if p.get("type") == "text")
    return ""


def _dashscope_refusal(body: dict[str, Any]) -> str | None:
    if not body.get("stream"):
        return "This model only support stream mode, please enable the stream parameter to access the model."
    for message in body["messages"]:
        content = message["content"]
        if isinstance(content, list):
            kinds = {p["type"] for p in content if p["type"] != "text"}
            if len(kinds) > 1:
                return "Only one type of multimodal input is supported per message."
            for part in content:
                if part["type"] == "input_audio" and not part["input_audio"]["data"].startswith("data:"):
                    return "input_audio.data must be a URL or a data URL."
    return None
