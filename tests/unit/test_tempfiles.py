"""Bounded disk and memory: reply WAVs removed by age and size; the decoded-media cache bounded in bytes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from omni_demo import media
from omni_demo.housekeeping.tempfiles import ReplyFiles


def test_reply_wavs_older_than_the_age_are_removed(tmp_path: Path) -> None:
    files = ReplyFiles(tmp_path / "replies", max_age_s=60)
    old = files.save(np.zeros(2400, np.float32), 24_000)
    past = time.time() - 120
    os.utime(old, (past, past))
    new = files.save(np.zeros(2400, np.float32), 24_000)  # saving prunes
    assert not old.exists()
    assert new.exists()
    assert sf.read(new)[1] == 24_000


def test_reply_wavs_beyond_the_size_bound_go_oldest_first(tmp_path: Path) -> None:
    files = ReplyFiles(tmp_path / "replies", max_bytes=100_000)
    saved = []
    for i in range(10):
        path = files.save(np.zeros(24_000, np.float32), 24_000)  # 48 kB each as 16-bit PCM
        past = time.time() - 100 + i
        os.utime(path, (past, past))
        saved.append(path)
    files.prune()
    assert files.bytes_used() <= 100_000
    assert saved[-1].exists()
    assert not saved[0].exists()


def test_a_transient_wav_is_gone_after_its_block(tmp_path: Path) -> None:
    files = ReplyFiles(tmp_path / "replies")
    with files.transient(np.zeros(2400, np.float32), 24_000) as path:
        assert path.exists()
    assert not path.exists()
    assert files.bytes_used() == 0


def test_the_decoded_cache_is_bounded_in_bytes(tmp_path: Path) -> None:
    cache = media.DecodedCache(max_bytes=3 * 100 * 100 * 3)  # three 100×100 RGB pictures
    paths = []
    for i in range(5):
        path = tmp_path / f"p{i}.png"
        Image.new("RGB", (100, 100), (i, 0, 0)).save(path)
        paths.append(path)
        cache.get("image", str(path), (), lambda p=path: media._load_image(str(p)))
    assert cache.bytes_used <= cache.max_bytes
    assert cache.decodes == 5
    cache.get("image", str(paths[-1]), (), lambda: media._load_image(str(paths[-1])))
    assert cache.decodes == 5  # the newest is still there
    cache.get("image", str(paths[0]), (), lambda: media._load_image(str(paths[0])))
    assert cache.decodes == 6  # the oldest was dropped and is decoded again


def test_a_refused_file_is_not_decoded_again(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a picture")
    cache = media.DecodedCache(max_bytes=1 << 20)
    for _ in range(3):
        with pytest.raises(media.InputError, match=r"bad\.png"):
            cache.get("image", str(bad), (), lambda: media._load_image(str(bad)))
    assert cache.decodes == 1


def test_the_same_upload_written_again_is_not_decoded_again(tmp_path: Path) -> None:
    # Gradio writes each upload of the same file to the same path again, with a new mtime: a key on
    # path and mtime kept one more copy of the same frames per upload.
    path = tmp_path / "p.png"
    cache = media.DecodedCache(max_bytes=1 << 20)
    for mtime_s in (1_000, 2_000, 3_000):
        Image.new("RGB", (100, 100), (7, 0, 0)).save(path)
        os.utime(path, (mtime_s, mtime_s))
        cache.get("image", str(path), (), lambda: media._load_image(str(path)))
    assert cache.decodes == 1
    assert cache.bytes_used == 100 * 100 * 3
    Image.new("RGB", (100, 100), (8, 0, 0)).save(path)  # new content, same size and path
    cache.get("image", str(path), (), lambda: media._load_image(str(path)))
    assert cache.decodes == 2
