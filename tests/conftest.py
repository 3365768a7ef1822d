"""Shared fixtures: the preview models are built once per test session into a temp cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from omni_demo.config import Settings

ASSETS = Path(__file__).resolve().parent.parent / "assets"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("omni-cache")


def _engine(cache_dir: Path, model: str):
    import torch

    from omni_demo.engine.loading import load_engine

    torch.manual_seed(0)
    return load_engine(Settings(model=model, cache_dir=cache_dir))


@pytest.fixture(scope="session")
def preview_engine(cache_dir: Path):
    """The Instruct-like preview (thinker + talker + code2wav)."""
    return _engine(cache_dir, "preview")


@pytest.fixture(scope="session")
def thinking_engine(cache_dir: Path):
    return _engine(cache_dir, "preview-thinking")


@pytest.fixture(scope="session")
def captioner_engine(cache_dir: Path):
    return _engine(cache_dir, "preview-captioner")


@pytest.fixture
def assets() -> Path:
    return ASSETS


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    """The ffmpeg command, which media tests use to make their files: missing, they fail (never skip)."""
    found = shutil.which("ffmpeg")
    assert found, "these tests need the ffmpeg command: sudo apt-get install -y ffmpeg"
    return found
