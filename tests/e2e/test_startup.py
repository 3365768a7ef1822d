"""A server whose fast path cannot run (a private transformers helper it calls is missing) still
starts, on the plain engine, and speaks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
from gradio_client import Client

from e2e.conftest import ARTIFACTS, ROOT, _free_port, _wait_until_up

pytestmark = pytest.mark.e2e

# Runs app.py after breaking the fast path's call into transformers' private `_get_talker_user_parts`,
# as an upgrade that removed it would. (Deleting the helper from transformers itself would also break
# the stock generate(), which calls it too: nothing could speak then.)
LAUNCHER = """
import runpy, sys
import omni_demo.engine.fast.run as fast_run

def missing(*args, **kwargs):
    raise AttributeError("'Qwen3OmniMoeForConditionalGeneration' has no attribute '_get_talker_user_parts'")

fast_run.talker_prefill = missing
sys.argv = ["app.py", *sys.argv[1:]]
runpy.run_path("app.py", run_name="__main__")
"""


def test_a_broken_fast_path_starts_on_the_plain_engine_and_speaks(cache_dir: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "app-broken-fast-path.log"
    port = _free_port()
    env = {**os.environ, "OMNI_CACHE_DIR": str(cache_dir), "GRADIO_ANALYTICS_ENABLED": "False"}
    argv = [
        sys.executable,
        "-c",
        LAUNCHER,
        "--model",
        "preview",
        "--engine",
        "fast",
        "--server-port",
        str(port),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, process, log)
        client = Client(url, verbose=False)
        assert client.predict(api_name="/info")["engine"] == "plain"
        text, wav, timings = client.predict(text="Hello", max_new_tokens=8, api_name="/generate")
        assert text.strip()
        samples, rate = sf.read(wav)
        assert rate == 24_000
        assert len(samples) > 0
        assert timings["engine"] == "plain"
    finally:
        process.terminate()
        process.wait(timeout=20)
    lines = log.read_text().splitlines()
    falling_back = [line for line in lines if "using the plain engine" in line]
    assert len(falling_back) == 1  # one line saying why
    assert "_get_talker_user_parts" in falling_back[0]
