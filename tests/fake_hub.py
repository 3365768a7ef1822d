"""A stand-in for the Hugging Face Hub's HTTP API on loopback: the calls a scheduled commit makes.

`huggingface_hub.CommitScheduler` creates the repository (`POST /api/repos/create`), asks how each file
goes up (`POST /api/{type}s/{repo}/preupload/{revision}`) and commits (`POST /api/{type}s/{repo}/commit/
{revision}`, an NDJSON body: a `header` line, then one `file` line per file with its content in base64).
The stand-in answers "regular" to every preupload, as the Hub does for small text files, so every file's
content arrives inside the commit. Each repository keeps its commits; `files(repo)` is the newest content
of each path. Requests it does not know get 404 and are kept in `unknown`, so a test sees a call it missed;
`fail_with` makes it answer every request with one HTTP status (a wrong token: 401).
Point a client at it with `HfApi(endpoint=hub.url)` or `HF_ENDPOINT=hub.url`.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_PREUPLOAD = re.compile(r"^/api/(?P<type>\w+)s/(?P<repo>[^/]+/[^/]+)/preupload/(?P<revision>[^/?]+)")
_COMMIT = re.compile(r"^/api/(?P<type>\w+)s/(?P<repo>[^/]+/[^/]+)/commit/(?P<revision>[^/?]+)")


@dataclass
class Commit:
    repo: str  # "datasets/owner/name"
    message: str
    files: dict[str, bytes]  # path in the repository -> content
    token: str | None  # the bearer token it came with


@dataclass
class FakeHub:
    commits: list[Commit] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)  # bodies of repo creation requests
    unknown: list[str] = field(default_factory=list)
    fail_with: int | None = None  # answer every request with this HTTP status (a Hub that refuses)

    def __post_init__(self) -> None:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                hub._unknown(self)

            def do_POST(self) -> None:
                hub._post(self)

        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def files(self, repo: str) -> dict[str, bytes]:
        """The newest content of each path committed to `repo` ("datasets/owner/name")."""
        with self._lock:
            newest: dict[str, bytes] = {}
            for commit in self.commits:
                if commit.repo == repo:
                    newest.update(commit.files)
            return newest

    # ------------------------------------------------------------------------------------ handlers

    def _post(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        path = handler.path
        if self.fail_with is not None:
            self._json(handler, self.fail_with, {"error": "refused by the stand-in"})
        elif path.split("?")[0] == "/api/repos/create":
            self._create(handler, json.loads(body))
        elif match := _PREUPLOAD.match(path):
            files = json.loads(body)["files"]
            modes = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]
            self._json(handler, 200, {"files": modes})
        elif match := _COMMIT.match(path):
            self._commit(handler, f"{match['type']}s/{match['repo']}", body)
        else:
            self._unknown(handler)

    def _create(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        with self._lock:
            self.created.append(body)
        repo = f"{body['organization']}/{body['name']}" if body.get("organization") else body["name"]
        self._json(handler, 200, {"url": f"{self.url}/{body.get('type', 'model')}s/{repo}"})

    def _commit(self, handler: BaseHTTPRequestHandler, repo: str, body: bytes) -> None:
        message, files = "", {}
        for line in body.splitlines():
            item = json.loads(line)
            value = item["value"]
            if item["key"] == "header":
                message = value["summary"]
            elif item["key"] == "file":
                files[value["path"]] = base64.b64decode(value["content"])
        auth = handler.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        with self._lock:
            self.commits.append(Commit(repo, message, files, token))
        oid = uuid.uuid4().hex + uuid.uuid4().hex[:8]
        self._json(handler, 200, {"commitUrl": f"{self.url}/{repo}/commit/{oid}", "commitOid": oid})

    def _unknown(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.unknown.append(f"{handler.command} {handler.path}")
        self._json(handler, 404, {"error": "not in the stand-in"})

    @staticmethod
    def _json(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
