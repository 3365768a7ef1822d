"""`RemoteEngine`: the `Engine` protocol over an OpenAI-compatible HTTP service.

One streamed `chat.completions.create(stream=True)` per reply through the official `openai` client.
Every failure becomes one sentence (`OmniError`) and the page keeps the conversation: a server that
cannot be reached, a refused key (401 / 403), an unknown model name (404), a rate limit (429), a
server error (5xx), a stream that stalls longer than the read timeout, and chunks that break the
service's wire format. Nothing is retried once the stream has started (the client's own retries are
off too, so an error shows at once). Closing the iterator (the page's Stop) closes the HTTP response,
which a vLLM server takes as the request's cancellation.

Timings are measured here, on the client: first token, first audio, tokens per second (the server's
`usage` when it sends one, else the streamed text deltas), seconds of speech and the real-time factor.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import openai

from omni_demo.config import DEFAULTS, Settings
from omni_demo.conversation import ModelInput
from omni_demo.engine.base import checked_input
from omni_demo.engine.facts import QWEN3_OMNI, ModelFacts, of_served
from omni_demo.engine.remote import backends, wire
from omni_demo.engine.remote.backends import Backend
from omni_demo.errors import ModelLoadError, OmniError
from omni_demo.types import (
    SAMPLE_RATE,
    AudioChunk,
    Capabilities,
    Event,
    ModelInfo,
    ModelKind,
    Request,
    Result,
    TextDelta,
    Timings,
    underrun,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RemoteOptions:
    max_clip_seconds: float = DEFAULTS.max_clip_seconds  # longest audio/video clip accepted
    max_media_turns: int = DEFAULTS.max_media_turns  # user turns whose media is sent
    connect_timeout_s: float = 10.0
    # The longest silence inside a stream before it counts as stalled.
    read_timeout_s: float = DEFAULTS.read_timeout_s


def _sentence_for_status(exc: openai.APIStatusError, backend: Backend, model: str) -> OmniError:
    status = exc.status_code
    if status in (401, 403):
        return OmniError("remote.bad_key", service=backend.title, status=status, key_env=backend.key_env)
    if status == 404:
        return OmniError("remote.no_such_model", service=backend.title, model=model)
    if status == 429:
        return OmniError("remote.rate_limited", service=backend.title)
    if status >= 500:
        return OmniError("remote.server_error", service=backend.title, status=status)
    detail = _detail(exc)
    return OmniError("remote.refused", service=backend.title, status=status, detail=detail)


def _detail(exc: openai.APIStatusError) -> str:
    """The server's own reason, short (it is shown as it is: the servers write English)."""
    body = exc.body
    message = body.get("message") if isinstance(body, dict) else None
    text = str(message or exc.message or "no reason given").strip().replace("\n", " ")
    text = text if len(text) <= 200 else text[:197] + "..."
    return text if text.endswith(".") else text + "."


class RemoteEngine:
    """Implements `Engine` by streaming from a remote service; many sessions may stream at once."""

    def __init__(
        self,
        backend: Backend,
        client: openai.OpenAI,
        model: str,
        info: ModelInfo,
        options: RemoteOptions | None = None,
        concurrency: int = DEFAULTS.concurrency,
        facts: ModelFacts = QWEN3_OMNI,
    ) -> None:
        self.backend = backend
        self.client = client
        self.model = model
        self._info = info
        self.options = options or RemoteOptions()
        self.concurrency = concurrency  # generations the page runs at once
        self.facts = facts  # the served model's (its token ids and talker sampling go into requests)

    @property
    def info(self) -> ModelInfo:
        return self._info

    def check(self, request: Request) -> None:
        self._checked_input(request)

    def system_turn(self, system: str, tools: Sequence[dict]) -> str:
        """What this demo can show of the system turn: the server renders it with its own chat
        template, which writes the tools (sent as the request's `tools`) into it."""
        if not tools:
            return system
        names = ", ".join(str(t.get("function", t).get("name", "?")) for t in tools)
        return f"{system}\n\n[tools written in by the server's chat template: {names}]".lstrip()

    def stream(self, request: Request) -> Iterator[Event]:
        model_input = self._checked_input(request)
        caps = self._info.capabilities
        speak = bool(request.return_audio and caps.speech_output)
        # The voice as the service spells it (the page may send "ethan" for "Ethan").
        chosen = (request.voice or "").lower()
        voice = next((v for v in caps.voices if v.lower() == chosen), caps.voices[0] if caps.voices else None)
        messages = backends.messages(self.backend, model_input, self.options.max_clip_seconds)
        args = backends.body(self.backend, request, speak, voice, self.facts)
        parser = wire.PARSERS[self.backend.name]()
        started = time.perf_counter()
        response = self._open(messages, args)
        progress = _Progress(started)
        try:
            for piece in self._pieces(response, parser, progress):
                progress.note(piece)
                yield piece
        finally:
            response.close()  # Stop, an error or the end: the HTTP stream is closed here
        result = progress.result(self.backend.name, model_input.notices)
        log.info("reply: %s", result.timings.summary())
        yield result

    # ---------------------------------------------------------------------------------------------

    def _checked_input(self, request: Request) -> ModelInput:
        turns, seconds = self.options.max_media_turns, self.options.max_clip_seconds
        model_input = checked_input(request, self._info.capabilities, turns, seconds)
        backends.check_request(self.backend, model_input, request)
        return model_input

    def _open(self, messages: list[dict[str, Any]], args: dict[str, Any]) -> Any:
        try:
            return self.client.chat.completions.create(
                model=self.model, messages=messages, stream=True, **args
            )
        except openai.APIStatusError as exc:
            log.warning("%s answered HTTP %s: %s", self.backend.title, exc.status_code, exc.message)
            raise _sentence_for_status(exc, self.backend, self.model) from exc
        except openai.APITimeoutError as exc:
            raise self._stalled() from exc
        except openai.APIConnectionError as exc:
            log.warning("cannot reach %s: %s", self.client.base_url, exc)
            raise OmniError(
                "remote.unreachable", service=self.backend.title, url=self.client.base_url
            ) from exc

    def _pieces(self, response: Any, parser: wire.ChunkParser, progress: _Progress) -> Iterator[wire.Piece]:
        try:
            for chunk in response:
                data = chunk.to_dict() if hasattr(chunk, "to_dict") else chunk
                progress.usage(data.get("usage") if isinstance(data, dict) else None)
                yield from parser.feed(data)
            yield from parser.finish()
        except openai.APITimeoutError as exc:  # the client wraps its transport's timeouts in this
            raise self._stalled() from exc
        except openai.APIStatusError as exc:  # an `error` object sent inside the stream
            raise _sentence_for_status(exc, self.backend, self.model) from exc
        except openai.APIConnectionError as exc:  # ... and its transport's other failures in this
            log.warning("%s stream broke: %s", self.backend.title, exc)
            raise OmniError("remote.broke", service=self.backend.title) from exc
        except openai.APIError as exc:  # an error event inside the stream, with no status
            log.warning("%s sent an error inside the stream: %s", self.backend.title, exc.message)
            raise OmniError("remote.stream_error", service=self.backend.title) from exc
        except ValueError as exc:  # a data line that is not JSON
            log.warning("%s sent a chunk that is not JSON: %s", self.backend.title, exc)
            raise wire.malformed(self.backend.title) from exc

    def _stalled(self) -> OmniError:
        seconds = self.options.read_timeout_s
        return OmniError("remote.stalled", service=self.backend.title, seconds=f"{seconds:.0f}")


class _Progress:
    """What the stream has brought so far, and when."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.first_token: float | None = None
        self.last_token: float | None = None
        self.first_audio: float | None = None
        self.deltas = 0
        self.text: list[str] = []
        self.audio: list[np.ndarray] = []
        self.arrivals: list[tuple[float, int]] = []  # (time, samples) per audio chunk
        self.rate: int | None = None
        self.prompt_tokens: int | None = None
        self.text_tokens: int | None = None

    def note(self, piece: wire.Piece) -> None:
        now = time.perf_counter()
        if isinstance(piece, TextDelta):
            self.first_token = self.first_token or now
            self.last_token = now
            self.deltas += 1
            self.text.append(piece.text)
        elif isinstance(piece, AudioChunk):
            self.first_audio = self.first_audio or now
            self.rate = self.rate or piece.sample_rate
            self.audio.append(piece.samples)
            self.arrivals.append((now, int(piece.samples.size)))

    def usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        if isinstance(usage.get("prompt_tokens"), int):
            self.prompt_tokens = usage["prompt_tokens"]
        details = usage.get("completion_tokens_details")
        text_tokens = details.get("text_tokens") if isinstance(details, dict) else None
        if isinstance(text_tokens, int):
            self.text_tokens = text_tokens

    def result(self, engine: str, notices: tuple[str, ...]) -> Result:
        audio = np.concatenate(self.audio) if self.audio else None
        rate = self.rate or SAMPLE_RATE
        tokens = self.text_tokens if self.text_tokens is not None else self.deltas
        speed = None
        if self.first_token is not None and self.last_token is not None and tokens > 1:
            elapsed = self.last_token - self.first_token
            speed = (tokens - 1) / elapsed if elapsed > 0 else None
        timings = Timings(
            first_token_s=None if self.first_token is None else self.first_token - self.started,
            tokens_per_s=speed,
            first_audio_s=None if self.first_audio is None else self.first_audio - self.started,
            speech_s=None if audio is None else len(audio) / rate,
            underrun_s=underrun(self.arrivals, rate),
            total_s=time.perf_counter() - self.started,
            text_tokens=tokens,
            input_tokens={"total": self.prompt_tokens} if self.prompt_tokens else {},
            engine=engine,
        )
        return Result(
            text="".join(self.text), audio=audio, timings=timings, sample_rate=rate, notices=notices
        )


# -------------------------------------------------------------------------------------------------
# Start-up
# -------------------------------------------------------------------------------------------------


def _capabilities(backend: Backend, model: str, settings: Settings, model_facts: ModelFacts) -> Capabilities:
    kind = ModelKind(settings.kind) if settings.kind else backends.kind_from_name(model)
    speaks = backend.speaks and kind is ModelKind.INSTRUCT and not settings.no_speech
    voices = backend.voices if backend.voices is not None else backends.model_voices(model_facts)
    return Capabilities(
        kind=kind,
        voices=voices if speaks else (),
        text_input=kind is not ModelKind.CAPTIONER,
    )


def _served_models(client: openai.OpenAI, backend: Backend) -> list[str]:
    """The model names a vLLM server serves (GET /models); raises ModelLoadError with one sentence."""
    try:
        return [m.id for m in client.models.list()]
    except openai.APIStatusError as exc:
        raise ModelLoadError(
            "remote.models_refused", service=backend.title, url=client.base_url, status=exc.status_code
        ) from exc
    except openai.APIConnectionError as exc:
        raise ModelLoadError("remote.models_unreachable", service=backend.title, url=client.base_url) from exc


def load_remote(settings: Settings) -> RemoteEngine:
    """The engine for --backend vllm-omni | vllm | dashscope; raises ModelLoadError in one sentence."""
    backend = backends.BACKENDS[settings.backend]
    started = time.perf_counter()
    key = settings.api_key or _env_key(backend)
    if backend.name == "dashscope" and not key:
        raise ModelLoadError("remote.needs_key", key_env=backend.key_env)
    base = settings.api_base or backend.default_base
    options = RemoteOptions(
        max_clip_seconds=settings.max_clip_seconds,
        max_media_turns=settings.max_media_turns,
        read_timeout_s=settings.read_timeout_s,
    )
    timeout = openai.Timeout(options.read_timeout_s, connect=options.connect_timeout_s)
    client = openai.OpenAI(base_url=base, api_key=key or "EMPTY", timeout=timeout, max_retries=0)
    model = settings.remote_model
    if backend.name != "dashscope":  # Model Studio's model list is not part of its compatible mode
        served = _served_models(client, backend)
        if model is None and len(served) == 1:
            model = served[0]
        if model not in served:
            names = ", ".join(served) or "none"
            raise ModelLoadError(
                "remote.model_not_served",
                service=backend.title,
                url=base,
                model=model or backend.default_model,
                names=names,
            )
    model = model or backend.default_model
    model_facts = of_served(model)
    caps = _capabilities(backend, model, settings, model_facts)
    if backend.name == "vllm-omni" and caps.kind is not ModelKind.INSTRUCT:
        log.warning(
            "vLLM-Omni speaks for the Instruct model only; a %s model answers in text", caps.kind.value
        )
    info = ModelInfo(
        name=model,
        capabilities=caps,
        device=f"{backend.title} at {_host(base)}",
        dtype="remote",
        is_preview=False,
        load_seconds=time.perf_counter() - started,
    )
    return RemoteEngine(backend, client, model, info, options, settings.concurrency, model_facts)


def _env_key(backend: Backend) -> str | None:
    return os.environ.get("OMNI_API_KEY") or os.environ.get(backend.key_env) or None


def _host(base: str) -> str:
    url = urlsplit(base)
    return (url.hostname or base) + (f":{url.port}" if url.port else "")
