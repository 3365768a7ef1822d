"""/v1/realtime behind --auth, and a session that reaches --live-max-minutes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosedOK, InvalidStatus
from websockets.sync.client import connect

from e2e.conftest import ARTIFACTS, ROOT, _free_port, _wait_until_up

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def guarded_url(cache_dir: Path) -> Iterator[str]:
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "app-live-limits.log"
    port = _free_port()
    env = {**os.environ, "OMNI_CACHE_DIR": str(cache_dir), "GRADIO_ANALYTICS_ENABLED": "False"}
    argv = [sys.executable, "app.py", "--model", "preview", "--no-warmup", "--server-port", str(port)]
    argv += ["--auth", "tester:secret", "--live-max-minutes", "0.05"]  # 3 seconds
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, process, log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def _ws(url: str) -> str:
    return url.replace("http", "ws", 1) + "v1/realtime"


def test_without_the_pages_login_the_endpoint_refuses(guarded_url: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(_ws(guarded_url))
    assert refused.value.response.status_code == 403


def test_after_logging_in_a_session_runs_until_its_time_is_up(guarded_url: str) -> None:
    with httpx.Client(base_url=guarded_url) as http:
        http.post("login", data={"username": "tester", "password": "secret"}).raise_for_status()
        cookie = "; ".join(f"{name}={value}" for name, value in http.cookies.items())
    started = time.monotonic()
    with connect(_ws(guarded_url), additional_headers={"Cookie": cookie}) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "session.created"
        error = json.loads(ws.recv(timeout=30))
        assert error["type"] == "error"
        assert error["error"]["code"] == "session_expired"
        assert error["error"]["message"] == "A live session lasts 0.05 minutes; start again."
        with pytest.raises(ConnectionClosedOK):
            ws.recv(timeout=10)  # then the server closes the connection, cleanly
    assert 2.5 < time.monotonic() - started < 20
