"""Refuse media given as URLs unless --allow-url-fetch, and never to private addresses.

Gradio downloads a file input whose `path` is an http(s) URL before our handlers run, so the
policy has to sit in front of Gradio: this ASGI middleware reads the JSON body of API calls and
refuses any FileData whose path is a URL the settings do not allow.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from omni_demo.urls import is_public_url

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_MAX_BODY = 2_000_000  # API calls carry file references, not file bytes (uploads use /upload)


def file_urls(value: object) -> list[str]:
    """Every FileData `path` in a JSON value that is an http(s) URL."""
    found: list[str] = []
    if isinstance(value, dict):
        path = value.get("path")
        if isinstance(path, str) and path.lower().startswith(("http://", "https://")):
            found.append(path)
        for child in value.values():
            found.extend(file_urls(child))
    elif isinstance(value, list):
        for child in value:
            found.extend(file_urls(child))
    return found


def refusal(urls: list[str], allow: bool) -> str | None:
    """The sentence that refuses these URLs, or None when every one is allowed."""
    if urls and not allow:
        return "This server does not fetch media from URLs; upload the file instead."
    for url in urls:
        if not is_public_url(url):
            return "Media URLs must point to a public http(s) address; upload the file instead."
    return None


class UrlGuard:
    """ASGI middleware; `allow` mirrors --allow-url-fetch."""

    def __init__(self, app: ASGIApp, allow: bool = False) -> None:
        self.app = app
        self.allow = allow

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or "/upload" in scope["path"]:
            await self.app(scope, receive, send)
            return
        body, messages = await _read_body(receive)
        sentence = refusal(file_urls(_json(body)), self.allow)
        if sentence is not None:
            await _reply_400(send, sentence)
            return
        await self.app(scope, _replay(messages, receive), send)


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    messages: list[Message] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        body += message.get("body", b"") if len(body) < _MAX_BODY else b""
        if message["type"] != "http.request" or not message.get("more_body"):
            return body, messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """Hand the body we read to the app again, then pass the real channel through."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


async def _reply_400(send: Send, sentence: str) -> None:
    payload = json.dumps({"error": sentence, "detail": sentence}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
