"""`python app.py --backend ...` in front of each fake service, driven through gradio_client.

/generate answers on every back-end with the page unchanged; errors arrive as one sentence; four
callers at once are served side by side (--concurrency 4) against a slow server, each getting its
own answer; and the remote app never loads torch or transformers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile as sf
from e2e.conftest import ARTIFACTS, ROOT, _free_port, _wait_until_up
from fake_services import FakeService
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from remote.conftest import DASHSCOPE_KEY

pytestmark = pytest.mark.e2e

SETTINGS = {"system_prompt": "", "use_audio_in_video": False}
SAMPLING = {"temperature": 0.6, "top_p": 0.95, "top_k": 20, "max_new_tokens": 64}


def _args(text: str, voice: str = "", speak: bool = True, audio=None, image=None, video=None) -> list:
    return [text, audio, image, video, "", voice, False, speak, *SAMPLING.values()]


class App:
    def __init__(self, service: FakeService, *flags: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.port = _free_port()
        self.log = ARTIFACTS / f"app-{service.kind}.log"
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "DASHSCOPE_API_KEY": DASHSCOPE_KEY}
        command = [sys.executable, "app.py", "--backend", service.kind, "--api-base", service.base]
        command += ["--server-port", str(self.port), "--remote-model", service.model, *flags]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}/"
        _wait_until_up(self.url, self.process, self.log, timeout_s=120)
        self.client = Client(self.url, verbose=False)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="module", params=["vllm-omni", "vllm", "dashscope"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[FakeService, App]]:
    options: dict[str, object] = {}
    if request.param == "dashscope":
        options = {"model": "qwen3-omni-flash", "api_key": DASHSCOPE_KEY}
    service = FakeService(request.param, **options)  # type: ignore[arg-type]
    app = App(service, "--read-timeout", "2")
    yield service, app
    app.stop()
    service.close()


def test_generate_on_each_back_end(served: tuple[FakeService, App]) -> None:
    service, app = served
    voice = {"vllm-omni": "Aiden", "dashscope": "Ethan"}.get(service.kind, "")
    text, wav, timings = app.client.predict(*_args("Hello remote", voice), api_name="/generate")
    assert text == "You said: Hello remote (1 user messages, 0 media parts)"
    assert timings["engine"] == service.kind
    assert timings["first_token_s"] > 0
    assert timings["input_tokens"] == {"total": 17}
    if service.kind == "vllm":
        assert wav is None  # text only
        assert timings["speech_s"] is None
    else:
        samples, rate = sf.read(wav)
        assert rate == 24_000
        assert len(samples) / rate == pytest.approx(timings["speech_s"], rel=0.01)
        assert timings["real_time_factor"] > 0
    body = service.served[-1].body
    if service.kind == "vllm-omni":
        assert body["speaker"] == "aiden"
    if service.kind == "dashscope":
        assert body["audio"]["voice"] == "Ethan"
    log = app.log.read_text()
    assert DASHSCOPE_KEY not in log  # the key is never logged


def test_generate_with_media_on_each_back_end(served: tuple[FakeService, App], assets: Path) -> None:
    service, app = served
    image = handle_file(str(assets / "ocr.png"))
    text, _, _ = app.client.predict(*_args("Read it", speak=False, image=image), api_name="/generate")
    assert text == "You said: Read it (1 user messages, 1 media parts)"
    part = service.served[-1].body["messages"][0]["content"][0]
    assert part["image_url"]["url"].startswith("data:image/png;base64,")


def test_errors_on_each_back_end_are_one_sentence(served: tuple[FakeService, App]) -> None:
    _service, app = served
    with pytest.raises(AppError) as caught:
        app.client.predict(*_args("fail #status=429"), api_name="/generate")
    assert "is rate-limiting this demo; wait a moment and send again." in str(caught.value)
    started = time.perf_counter()
    with pytest.raises(AppError) as caught:
        app.client.predict(*_args("wait #stall"), api_name="/generate")
    assert "sent nothing for 2 s, so the answer was stopped" in str(caught.value)
    assert time.perf_counter() - started < 10


def test_the_remote_page_loads_neither_torch_nor_transformers() -> None:
    code = (
        "import sys\n"
        "sys.path[:0] = ['tests']\n"
        "from fake_services import FakeService\n"
        "from omni_demo.config import Settings\n"
        "from omni_demo.engine.remote.engine import load_remote\n"
        "from omni_demo.ui.app import build_demo\n"
        "service = FakeService('vllm-omni')\n"
        "engine = load_remote(Settings(backend='vllm-omni', api_base=service.base))\n"
        "build_demo(engine)\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_four_callers_at_once_overlap_and_get_their_own_answers() -> None:
    service = FakeService("vllm-omni", delay_s=0.15)
    app = App(service, "--concurrency", "4")
    try:
        answers: dict[int, str] = {}

        def call(n: int) -> None:
            client = Client(app.url, verbose=False)
            text, _, _ = client.predict(*_args(f"caller {n}", speak=False), api_name="/generate")
            answers[n] = text

        threads = [threading.Thread(target=call, args=(n,)) for n in range(4)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        assert answers == {n: f"You said: caller {n} (1 user messages, 0 media parts)" for n in range(4)}
        deadline = time.monotonic() + 3
        while any(r.ended is None for r in service.served) and time.monotonic() < deadline:
            time.sleep(0.05)
        spans = [(r.started, r.ended) for r in service.served]
        assert len(spans) == 4
        overlap = min(e for _, e in spans) - max(s for s, _ in spans)
        one = sum(e - s for s, e in spans) / 4
        print(f"4 callers: {wall:.2f} s wall, {one:.2f} s per reply, all four streaming for {overlap:.2f} s")
        assert overlap > 0  # all four were being answered at the same moment
    finally:
        app.stop()
        service.close()
