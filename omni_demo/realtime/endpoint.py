"""The WebSocket endpoint `/v1/realtime` on the demo's own server and port.

One connection is one `LiveSession`. A reader takes client events one by one (a bad one gets an
`error` event and the connection goes on); a writer sends the session's events in order, dropping
deltas of an answer that was cancelled meanwhile, and gives up on a client that stops reading. With
`--auth` a connection needs the login cookie the page got.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from omni_demo.engine.base import Engine
from omni_demo.realtime import protocol
from omni_demo.realtime.protocol import ProtocolError, event
from omni_demo.realtime.session import LiveLimits, LiveSession

log = logging.getLogger(__name__)
PATH = "/v1/realtime"
SEND_TIMEOUT_S = 10.0  # a client that has not taken an event for this long is gone
POLICY_VIOLATION = 1008  # WebSocket close code: not logged in


class RealtimeRoute:
    """ASGI middleware that serves WebSocket connections to `PATH` and passes everything else on.

    As middleware (given to the app when it is made) the endpoint exists from the server's first
    request; a route added after `launch()` would answer 403 to a client that connects first.
    """

    def __init__(self, app: Any, engine: Engine, limits: LiveLimits) -> None:
        self.app = app
        self.engine = engine
        self.limits = limits

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket" and scope["path"].rstrip("/").endswith(PATH):
            await serve(WebSocket(scope, receive, send), self.engine, self.limits)
            return
        await self.app(scope, receive, send)


async def serve(websocket: WebSocket, engine: Engine, limits: LiveLimits) -> None:
    if not _logged_in(websocket):
        await websocket.close(code=POLICY_VIOLATION, reason="Log in on the demo's page first.")
        return
    await websocket.accept()
    outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    session = LiveSession(engine, outbox.put_nowait, limits)
    writer = asyncio.create_task(_write(websocket, outbox, session))
    session.opened()
    try:
        await _read(websocket, session, outbox)
    finally:
        session.close()
        outbox.put_nowait(None)  # the writer sends what is queued, then stops
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(writer, SEND_TIMEOUT_S)
        await _close(websocket)


async def _read(websocket: WebSocket, session: LiveSession, outbox: asyncio.Queue) -> None:
    while True:
        left_s = session.limits.max_session_s - (time.monotonic() - session.started)
        try:
            message = await asyncio.wait_for(websocket.receive(), timeout=max(0.0, left_s))
        except asyncio.TimeoutError:
            minutes = session.limits.max_session_s / 60
            outbox.put_nowait(
                _error("session_expired", f"A live session lasts {minutes:g} minutes; start again.")
            )
            return
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is None:
            outbox.put_nowait(_error("invalid_json", "Send events as JSON text messages, not binary ones."))
            continue
        try:
            session.handle(protocol.parse(text))
        except ProtocolError as exc:
            outbox.put_nowait(exc.as_event())


async def _write(websocket: WebSocket, outbox: asyncio.Queue, session: LiveSession) -> None:
    while (item := await outbox.get()) is not None:
        if session.stale(item):
            continue
        try:
            await asyncio.wait_for(websocket.send_text(json.dumps(item)), SEND_TIMEOUT_S)
        except asyncio.TimeoutError:
            log.info("a live client stopped reading; closing its connection")
            session.close()
            await _close(websocket)
            return
        except (WebSocketDisconnect, RuntimeError):
            return  # the client went away: the reader ends the session


async def _close(websocket: WebSocket) -> None:
    """Close unless either side already did (a client that vanished is no error to log)."""
    if WebSocketState.CONNECTED not in (websocket.client_state, websocket.application_state):
        return
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.close()


def _error(code: str, message: str) -> dict[str, Any]:
    return event("error", error={"type": "invalid_request_error", "code": code, "message": message})


def _logged_in(websocket: WebSocket) -> bool:
    """With --auth, the page's login cookie must name a live token (Gradio's own check, read here
    without importing Gradio)."""
    app = websocket.app
    if getattr(app, "auth", None) is None and getattr(app, "auth_dependency", None) is None:
        return True
    cookie_id = getattr(app, "cookie_id", "")
    cookies = websocket.cookies
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return token is not None and token in getattr(app, "tokens", {})
