from __future__ import annotations

import threading
import time
from pathlib import Path

import gradio as gr

from omni_demo.housekeeping.sweep import CacheSweeper


def _files(folder: Path, prefix: str, n: int) -> list[str]:
    paths = []
    for i in range(n):
        path = folder / f"{prefix}{i}.wav"
        path.write_bytes(b"x")
        paths.append(str(path))
    return paths


def test_old_files_go_and_example_files_stay(tmp_path: Path) -> None:
    with gr.Blocks() as demo:
        out = gr.File()
    old = _files(tmp_path, "old", 3)
    example = old.pop()
    out.temp_files.update([*old, example])
    out.keep_in_cache.add(example)
    sweeper = CacheSweeper(demo, every_s=60, max_age_s=100)

    assert sweeper.sweep_once(now=time.time()) == 0  # all younger than 100 s
    assert sweeper.sweep_once(now=time.time() + 101) == 2
    assert [Path(p).exists() for p in old] == [False, False]
    assert Path(example).exists()
    assert out.temp_files == {example}


def test_requests_adding_files_meanwhile_do_not_stop_the_sweep(tmp_path: Path) -> None:
    # Gradio's own sweep walks these sets as they are: a file added meanwhile raises "Set changed size
    # during iteration" and ends its sweeping for good.
    with gr.Blocks() as demo:
        out = gr.File()
    old = _files(tmp_path, "old", 1000)
    out.temp_files.update(old)
    stop = threading.Event()

    def requests() -> None:
        i = 0
        while not stop.is_set():
            out.temp_files.add(str(tmp_path / f"missing{i}.wav"))
            i += 1
            time.sleep(0)  # lets the sweep run too

    adder = threading.Thread(target=requests)
    adder.start()
    try:
        removed = CacheSweeper(demo, every_s=60, max_age_s=0).sweep_once(now=time.time() + 1)
    finally:
        stop.set()
        adder.join()
    assert removed == 1000
    assert not any(Path(p).exists() for p in old)
