"""Feedback committed to a Hugging Face dataset: the real writer and huggingface_hub's CommitScheduler
against a stand-in for the Hub's HTTP API on loopback (tests/fake_hub.py), and an unreachable Hub."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fake_hub import FakeHub
from sentences import assert_one_sentence

from omni_demo.config import parse_settings
from omni_demo.feedback import FILE_NAME, FeedbackStore, record
from omni_demo.feedback_hub import HubOptions, HubSink, _quiet
from unit.test_feedback import SOURCE, _exchanges, _sha

REPO = "testers/omni-feedback"
TOKEN = "hf_test_token"  # the stand-in checks that commits carry it


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    server = FakeHub()
    yield server
    server.close()


def _sink(folder: Path, endpoint: str, every_minutes: float = 60.0) -> HubSink:
    sink = HubSink(folder / "hub", HubOptions(REPO, TOKEN, every_minutes, endpoint=endpoint))
    sink.start()
    return sink


def _wait(condition: Callable[[], object], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def test_feedback_reaches_the_dataset_at_the_interval_with_its_media(tmp_path: Path, hub: FakeHub) -> None:
    sink = _sink(tmp_path / "fb", hub.url, every_minutes=0.01)  # a commit every 0.6 s
    try:
        store = FeedbackStore(tmp_path / "fb", keep_media=True, hub=sink)
        exchanges = _exchanges(tmp_path)
        clip = exchanges[1].user.media[0].path
        store.save(record(SOURCE, exchanges, 1, "down", "too quiet", feedback_id="one"), [clip])
        path = f"data/{sink.run}.jsonl"
        _wait(lambda: path in hub.files(f"datasets/{REPO}"))
    finally:
        sink.stop()
    (created,) = hub.created
    assert (created["organization"], created["name"]) == ("testers", "omni-feedback")
    assert created["type"] == "dataset"
    assert created["visibility"] == "private"  # testers' conversations
    files = hub.files(f"datasets/{REPO}")
    (line,) = [json.loads(x) for x in files[path].decode("utf-8").splitlines()]
    assert (line["id"], line["rating"], line["comment"]) == ("one", "down", "too quiet")
    digest = _sha(Path(clip).read_bytes())
    assert line["conversation"][2]["media"][0]["copy"] == f"media/{digest}.wav"
    assert files[f"media/{digest}.wav"] == Path(clip).read_bytes()  # the copy the line names
    assert {c.token for c in hub.commits} == {TOKEN}
    assert hub.unknown == []
    # The local folder holds the same line: one writer, the dataset a second home.
    assert (tmp_path / "fb" / FILE_NAME).read_bytes() == files[path]


def test_each_server_commits_its_own_file_and_later_lines_follow(tmp_path: Path, hub: FakeHub) -> None:
    """Two replicas on one folder: each commits only its own lines; a commit sends the whole file."""
    first, second = _sink(tmp_path, hub.url), _sink(tmp_path, hub.url)
    try:
        _wait(lambda: first.connected and second.connected)
        exchanges = _exchanges(tmp_path)
        for n, sink in enumerate((first, second, first)):
            FeedbackStore(tmp_path, hub=sink).save(record(SOURCE, exchanges, 0, "up", feedback_id=str(n)))
        for sink in (first, second):
            _commit(sink)
    finally:
        first.stop()
        second.stop()
    files = hub.files(f"datasets/{REPO}")
    assert first.run != second.run
    ids = {
        sink.run: [json.loads(x)["id"] for x in files[f"data/{sink.run}.jsonl"].splitlines()]
        for sink in (first, second)
    }
    assert ids == {first.run: ["0", "2"], second.run: ["1"]}
    # Never another replica's file: it could go up shorter than that replica last sent.
    data_files = {tuple(sorted(p for p in c.files if p.startswith("data/"))) for c in hub.commits}
    assert data_files == {(f"data/{first.run}.jsonl",), (f"data/{second.run}.jsonl",)}
    assert all(not path.startswith("media/") for path in files)  # no media unless kept


def test_an_unreachable_hub_is_one_warning_and_feedback_still_lands_locally(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    sink = _sink(tmp_path, f"http://127.0.0.1:{_closed_port()}", every_minutes=0.005)  # retries every 0.3 s
    try:
        store = FeedbackStore(tmp_path, hub=sink)
        exchanges = _exchanges(tmp_path)
        store.save(record(SOURCE, exchanges, 0, "up", feedback_id="kept"))
        time.sleep(2)  # several attempts, each refused
        store.save(record(SOURCE, exchanges, 1, "down", feedback_id="also kept"))
    finally:
        sink.stop()
    assert not sink.connected
    lines = (tmp_path / FILE_NAME).read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["id"] for x in lines] == ["kept", "also kept"]
    assert sink.lines.read_text(encoding="utf-8").splitlines() == lines  # staged for the next commit
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    (warning,) = loud  # one warning for the whole outage, from any logger
    assert warning.name == "omni_demo.feedback_hub"
    assert warning.exc_info is None  # no traceback
    message = warning.getMessage()
    assert_one_sentence(message)
    assert REPO in message
    assert "ConnectError" in message


def test_a_hub_that_refuses_after_connecting_warns_once_and_recovers(
    tmp_path: Path, hub: FakeHub, caplog: pytest.LogCaptureFixture
) -> None:
    sink = _sink(tmp_path, hub.url)
    path = f"data/{sink.run}.jsonl"
    try:
        _wait(lambda: sink.connected)
        store = FeedbackStore(tmp_path, hub=sink)
        store.save(record(SOURCE, _exchanges(tmp_path), 0, "up", feedback_id="late"))
        hub.fail_with = 401  # the token was revoked between commits
        caplog.set_level(logging.INFO)
        for _ in range(2):
            assert _commit(sink) is None  # failed quietly: no exception left in the future
        hub.fail_with = None
        assert _commit(sink) is not None
    finally:
        sink.stop()
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    (warning,) = loud
    assert (warning.name, warning.exc_info) == ("omni_demo.feedback_hub", None)
    assert "HTTP 401" in warning.getMessage()
    assert any("again" in r.getMessage() for r in caplog.records if r.name == "omni_demo.feedback_hub")
    assert json.loads(hub.files(f"datasets/{REPO}")[path])["id"] == "late"


def _commit(sink: HubSink) -> object:
    future = sink.commit_now()
    assert future is not None
    return future.result(timeout=60)


def test_retry_chatter_of_a_commit_stays_out_of_the_log(caplog: pytest.LogCaptureFixture) -> None:
    """A Hub that is down gets five retries per commit, each logged twice by huggingface_hub and once
    by the HTTP client: made on a commit's thread, they are dropped (the sink says one sentence)."""
    caplog.set_level(logging.INFO)
    with _quiet():
        for name in ("huggingface_hub.utils._http", "httpx2"):
            logging.getLogger(name).warning("Retrying in 1s [Retry 1/5].")
    logging.getLogger("huggingface_hub.utils._http").warning("another thread's retry")
    assert [r.getMessage() for r in caplog.records] == ["another thread's retry"]


def test_the_flags() -> None:
    settings = parse_settings(["--feedback-repo", REPO, "--feedback-every", "2.5"])
    assert (settings.feedback_repo, settings.feedback_every_minutes) == (REPO, 2.5)
    assert parse_settings([]).feedback_repo is None
    for bad in ("no-slash", "a/b/c", "/name", "owner/"):
        with pytest.raises(SystemExit, match="OWNER/NAME"):
            parse_settings(["--feedback-repo", bad])
    with pytest.raises(SystemExit, match="positive"):
        parse_settings(["--feedback-every", "0"])


def test_the_token_comes_from_the_environment_and_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    settings = parse_settings(["--feedback-repo", REPO])
    assert settings.hf_token == TOKEN
    assert TOKEN not in repr(settings)
    assert TOKEN not in repr(HubOptions(REPO, TOKEN))
