import asyncio
import json

from omni_demo.ui.url_guard import UrlGuard, file_urls, refusal


def _file(path: str) -> dict:
    return {"path": path, "meta": {"_type": "gradio.FileData"}}


def test_file_urls_finds_only_url_paths():
    body = {"data": ["text", _file("/tmp/gradio/upload.wav"), [_file("https://example.com/a.png")], None]}
    assert file_urls(body) == ["https://example.com/a.png"]


def test_refusal_policy():
    assert refusal([], allow=False) is None
    assert "does not fetch" in refusal(["https://93.184.216.34/a.wav"], allow=False)
    assert refusal(["https://93.184.216.34/a.wav"], allow=True) is None
    for private in ("http://127.0.0.1/a.wav", "http://10.0.0.1/x", "http://169.254.169.254/latest"):
        assert "public" in refusal([private], allow=True)


def _call(guard: UrlGuard, body: dict) -> tuple[int, bytes, bool]:
    reached = []

    async def app(scope, receive, send):
        message = await receive()
        reached.append(json.loads(message["body"]))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    guard.app = app
    sent = []

    async def receive():
        return {"type": "http.request", "body": json.dumps(body).encode(), "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/gradio_api/queue/join"}
    asyncio.run(guard(scope, receive, send))
    return sent[0]["status"], sent[1]["body"], bool(reached) and reached[0] == body


def test_guard_blocks_before_the_app_and_passes_the_body_through_otherwise():
    status, body, reached = _call(UrlGuard(None), {"data": [_file("https://93.184.216.34/a.wav")]})
    assert (status, reached) == (400, False)
    assert "upload the file instead" in json.loads(body)["error"]
    status, _, reached = _call(UrlGuard(None), {"data": [_file("/tmp/gradio/a.wav")]})
    assert (status, reached) == (200, True)
    status, _, reached = _call(UrlGuard(None, allow=True), {"data": [_file("https://93.184.216.34/a.wav")]})
    assert (status, reached) == (200, True)
