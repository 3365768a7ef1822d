"""A server that stays up: out-of-memory faults, Stop before the GPU, media decoded once outside the lock.

The faults are injected into the real preview model (a forward pre-hook that raises once), so the path
an error takes through the engine is the one a real GPU would take.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from pathlib import Path

import pytest
import torch
from sentences import assert_one_sentence

from omni_demo import media
from omni_demo.engine import selfcheck
from omni_demo.engine.loading import _IGNORED_FLAGS, _thinking_template, quiet_library_notes
from omni_demo.engine.workers import worker
from omni_demo.errors import OmniError
from omni_demo.types import Media, Preparing, Queued, Request, Result, Sampling, Turn

pytestmark = pytest.mark.integration
ENGINES = ("fast", "plain")


def _ask(text: str, *items: Media, speak: bool = False, tokens: int = 4) -> Request:
    return Request(
        turns=(Turn("user", text, media=items),),
        return_audio=speak,
        sampling=Sampling(temperature=0, max_new_tokens=tokens),
    )


def _result(engine, request: Request) -> Result:
    events = list(engine.stream(request))
    assert isinstance(events[-1], Result)
    return events[-1]


class _OutOfMemoryOnce:
    """Makes the thinker's embedding raise torch.OutOfMemoryError on its next call, once."""

    def __init__(self, model) -> None:
        self.fired = 0
        self.calls = 0
        self.handle = model.thinker.get_input_embeddings().register_forward_pre_hook(self._hook)

    def _hook(self, *_: object) -> None:
        self.calls += 1
        if not self.fired:
            self.fired += 1
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    def remove(self) -> None:
        self.handle.remove()


@pytest.mark.parametrize("engine_name", ENGINES)
@pytest.mark.parametrize("speak", [False, True])
def test_out_of_memory_is_one_sentence_and_the_next_request_is_served(
    preview_engine, engine_name: str, speak: bool
) -> None:
    engine = preview_engine.with_options(engine=engine_name)
    fault = _OutOfMemoryOnce(engine.model)
    try:
        with pytest.raises(OmniError) as caught:
            list(engine.stream(_ask("Hello there", speak=speak)))
    finally:
        fault.remove()
    assert fault.fired == 1
    message = str(caught.value)
    assert_one_sentence(message)
    assert "ran out of memory" in message
    for what in ("shorter", "fewer new tokens", "clear the chat"):
        assert what in message  # it names what to shrink
    assert not engine.busy
    assert not worker("omni-generate").busy
    result = _result(engine, _ask("Hi again", speak=speak))  # the next request is served
    assert result.text
    assert (result.audio is not None) == speak


@pytest.fixture(scope="module")
def long_video(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    """A 40 s clip: decoding it takes long enough to press Stop meanwhile."""
    path = tmp_path_factory.mktemp("video") / "long.mp4"
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25:duration=40",
         "-pix_fmt", "yuv420p", "-y", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.mark.parametrize("engine_name", ENGINES)
def test_stop_during_media_decoding_ends_the_request_before_the_gpu(
    preview_engine, long_video: Path, engine_name: str
) -> None:
    engine = preview_engine.with_options(engine=engine_name)
    media.CACHE.clear()
    counter = _OutOfMemoryOnce(engine.model)
    counter.fired = 1  # only count calls: nothing is raised
    try:
        stream = engine.stream(_ask("Describe the video.", Media("video", str(long_video))))
        first = next(stream)
        assert isinstance(first, Preparing)  # the media is still being decoded
        started = time.perf_counter()
        stream.close()  # what Stop does to the generator
        closed_in = time.perf_counter() - started
    finally:
        counter.remove()
    assert closed_in < 0.5
    assert counter.calls == 0  # the model never ran
    assert not engine.busy
    assert _result(engine, _ask("Hi")).text  # and the next request is served


def test_media_is_decoded_outside_the_gpu_lock(preview_engine, long_video: Path) -> None:
    media.CACHE.clear()
    request = _ask("Describe the video.", Media("video", str(long_video)))
    events: list = []
    with preview_engine.admission.exclusive():  # another user's generation holds the GPU
        worker = threading.Thread(target=lambda: events.extend(preview_engine.stream(request)))
        worker.start()
        deadline = time.monotonic() + 120
        while media.CACHE.decodes < 3 and time.monotonic() < deadline:  # probe, frame count, frames
            time.sleep(0.05)
        decoded_while_locked = media.CACHE.decodes
        # Nothing reached the model yet: the request prepared, then waited in line.
        assert not [e for e in events if not isinstance(e, Preparing | Queued)]
    worker.join()
    assert decoded_while_locked >= 3
    assert isinstance(events[-1], Result)
    assert events[-1].timings.input_tokens["video"] > 0


def test_each_file_is_decoded_once_across_turns(preview_engine, assets: Path, tmp_path: Path) -> None:
    media.CACHE.clear()
    clip = tmp_path / "q.wav"
    clip.write_bytes((assets / "speech_en.wav").read_bytes())
    items = (
        Media("audio", str(clip)),
        Media("image", str(assets / "scene.png")),
        Media("video", str(assets / "video_room.mp4")),
    )
    first = Request(turns=(Turn("user", "What is this?", media=items),), return_audio=False,
                    sampling=Sampling(temperature=0, max_new_tokens=4))  # fmt: skip
    preview_engine.check(first)
    reply = _result(preview_engine, first)
    after_first = media.CACHE.decodes
    assert after_first > 0
    second = Request(
        turns=(*first.turns, Turn("assistant", reply.text), Turn("user", "And now?")),
        return_audio=False,
        sampling=first.sampling,
    )
    preview_engine.check(second)
    result = _result(preview_engine, second)
    assert media.CACHE.decodes == after_first  # the history's media was not read again
    assert {"audio", "image", "video"} <= set(result.timings.input_tokens)
    # A file changed on disk is read again.
    clip.write_bytes((assets / "speech_zh.wav").read_bytes())
    _result(preview_engine, second)
    assert media.CACHE.decodes > after_first


@pytest.mark.parametrize("engine_name", ENGINES)
def test_speech_self_check_passes_and_keeps_the_engine(preview_engine, engine_name: str) -> None:
    engine = preview_engine.with_options(engine=engine_name)
    assert engine.self_check()
    assert engine.options.engine == engine_name
    assert engine.options.interleave


def test_speech_self_check_falls_back_to_the_plain_engine_on_a_mismatch(
    preview_engine, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Streamed speech whose convolutions get no left context: its joins differ from the one-shot decode.
    from omni_demo.engine import speech

    monkeypatch.setattr(speech, "CONV_CONTEXT_FRAMES", 0)
    engine = preview_engine.with_options(engine="fast", first_chunk_frames=1, chunk_frames=1)
    with caplog.at_level("WARNING", logger="omni_demo.engine.local"):
        assert not engine.self_check()
    lines = [r for r in caplog.records if "self-check" in r.getMessage()]
    assert len(lines) == 1
    assert "using the plain engine" in lines[0].getMessage()
    assert engine.options.engine == "plain"
    assert not engine.options.interleave  # the stock generate() path
    result = _result(engine, _ask("Hi", speak=True))
    assert result.audio is not None
    assert result.timings.engine == "plain"


def test_plain_path_requests_leave_no_library_notes_in_the_logs(preview_engine) -> None:
    """transformers' notes about its own generate() (an ignored flag, a penalty over embeddings) are
    nothing a user can act on: the loader keeps them out of the warnings and the log."""
    import logging
    import warnings

    engine = preview_engine.with_options(engine="plain")
    # What load_engine() does at start-up (pytest resets warning filters around each test, so the
    # session's model load cannot leave them in place here).
    quiet_library_notes()
    with warnings.catch_warnings(record=True) as caught:  # the filters stay as set above
        result = _result(engine, _ask("Hello there", speak=True))
    assert result.audio is not None
    assert [str(w.message) for w in caught if "repetition_penalty" in str(w.message)] == []
    logger = logging.getLogger("transformers.generation.configuration_utils")
    note = logger.makeRecord(logger.name, logging.WARNING, __file__, 1, _IGNORED_FLAGS + ": ['x'].", (), None)
    assert not logger.filter(note)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_loading_and_a_video_request_leave_no_library_warnings(preview_engine, assets: Path) -> None:
    """Start-up (the config, the kind detection) and a video request print nothing from transformers
    that a user could not act on."""
    from transformers import AutoConfig
    from transformers.utils import logging as hf_logging

    quiet_library_notes()  # what load_engine() does at start-up
    hf_logging.warning_once.cache_clear()  # notes printed once per process must show up again here
    collect = _Collect()
    root = logging.getLogger("transformers")
    root.addHandler(collect)
    try:
        AutoConfig.from_pretrained(preview_engine.model.name_or_path)
        _thinking_template(preview_engine.processor)
        video = Media("video", str(assets / "av_question.mp4"))
        result = _result(preview_engine, _ask("What happens?", video))
    finally:
        root.removeHandler(collect)
    assert result.timings.input_tokens["video"] > 0
    assert collect.lines == []


def _break_fast_talker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path's call into a private transformers helper fails, as it would after an upgrade
    that removed it (stock generate() keeps its own copy, so the plain engine still speaks)."""
    import omni_demo.engine.fast.run as fast_run

    def missing(*_args, **_kwargs):
        raise AttributeError(
            "'Qwen3OmniMoeForConditionalGeneration' object has no attribute '_get_talker_user_parts'"
        )

    monkeypatch.setattr(fast_run, "talker_prefill", missing)


@pytest.mark.parametrize("warm", [True, False])
def test_start_up_checks_first_and_falls_back_when_the_fast_path_raises(
    preview_engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, warm: bool
) -> None:
    _break_fast_talker(monkeypatch)
    engine = preview_engine.with_options(engine="fast")
    with caplog.at_level("WARNING", logger="omni_demo.engine"):
        engine.start_up(warm=warm)  # --no-warmup skips only the warm-up: the check still runs
    assert engine.options.engine == "plain"
    assert not engine.options.interleave
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "_get_talker_user_parts" in warnings[0]
    assert "using the plain engine" in warnings[0]
    result = _result(engine, _ask("Hi", speak=True))
    assert result.audio is not None
    assert len(result.audio) > 0
    assert result.timings.engine == "plain"


def test_start_up_falls_back_when_only_the_warm_up_raises(
    preview_engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    engine = preview_engine.with_options(engine="fast")
    monkeypatch.setattr(selfcheck, "speech_mismatch", lambda _engine: None)  # the check passed...
    _break_fast_talker(monkeypatch)  # ... and the fast path breaks in the warm-up after it
    with caplog.at_level("WARNING", logger="omni_demo.engine.local"):
        engine.start_up(warm=True)
    assert engine.options.engine == "plain"
    [line] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "warm-up" in line
    assert "AttributeError" in line
    assert _result(engine, _ask("Hi", speak=True)).timings.engine == "plain"


def test_start_up_keeps_a_working_fast_engine(preview_engine) -> None:
    engine = preview_engine.with_options(engine="fast")
    engine.start_up(warm=True)
    assert engine.options.engine == "fast"
    assert _result(engine, _ask("Hi", speak=True)).timings.engine == "fast"
