"""The load test, small: 4 users × 20 mixed requests against the preview model, with bounds."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from omni_demo.loadtest import run

pytestmark = pytest.mark.e2e


def test_four_users_twenty_requests_each() -> None:
    # The server sweeps its temporary files older than 5 s, so their total stays small throughout.
    report = run(users=4, requests=20, minutes=4, max_new_tokens=16, temp_max_age_s=5)
    print(report.lines())
    assert report.requests == 80
    assert not report.errors  # every request answered, refused in one sentence, or cancelled
    assert set(report.outcomes) <= {"answered", "refused", "cancelled"}
    assert report.outcomes["answered"] >= 40
    assert report.outcomes["refused"] >= 1
    assert report.outcomes["cancelled"] >= 1
    assert report.latency_p95_s < 30
    # Decoded media is kept by content and freed heap is handed back: no growth with the request count.
    assert report.rss_mib_after - report.rss_mib_before < 400
    assert report.temp_mib_max < report.temp_mib_before + 50
    assert report.temp_mib_after < report.temp_mib_before + 10


def test_temporary_files_are_swept(tmp_path) -> None:
    """Uploads, reply WAVs and Gradio's cached copies older than --temp-max-age are removed."""
    from gradio_client import Client, handle_file

    from omni_demo.loadtest import _Server

    server = _Server(temp_max_age_s=3, extra=["--no-warmup"])
    try:
        server.wait_until_up()
        client = Client(server.url, verbose=False)
        # The example media cached at start-up (the cookbook's) stays; what requests add must go.
        start = {p for folder in server.temp_folders for p in folder.rglob("*") if p.is_file()}
        for i in range(3):
            picture = tmp_path / f"upload-{i}.png"
            Image.fromarray(np.random.default_rng(i).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(
                picture
            )
            client.predict(text="Hi", image=handle_file(str(picture)), api_name="/generate")
        files = [p for folder in server.temp_folders for p in folder.rglob("*") if p.is_file()]
        made = [p for p in files if p not in start]
        assert any(p.suffix == ".wav" for p in made)  # reply WAVs (ours and Gradio's copies)
        assert any(p.suffix == ".png" for p in made)  # the uploads
        time.sleep(8)
        client.predict(text="Hi", return_audio=True, api_name="/generate")  # a save prunes old replies
        time.sleep(1)
        left = [p for p in made if p.exists()]
        # Gradio's upload route leaves one empty temporary file per upload (no bytes, so not counted).
        assert not [p for p in left if p.stat().st_size], left
    finally:
        server.stop()
