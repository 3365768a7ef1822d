"""Model kind detection on the preview variants' real saved files, and load failures as one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
from sentences import assert_one_sentence

from omni_demo.config import Settings
from omni_demo.errors import ModelLoadError
from omni_demo.types import ModelKind


def _saved(cache_dir: Path, variant: str) -> tuple[object, object, object]:
    """(config, processor, folder) as from_pretrained reads them back from the built preview folder."""
    from transformers import AutoConfig, Qwen3OmniMoeProcessor

    from omni_demo.engine.preview import ensure_preview

    folder = ensure_preview(cache_dir, variant)  # type: ignore[arg-type]
    return AutoConfig.from_pretrained(folder), Qwen3OmniMoeProcessor.from_pretrained(folder), folder


def test_instruct_preview_is_instruct_with_its_voices(cache_dir: Path) -> None:
    from omni_demo.engine.loading import detect_capabilities

    config, processor, _ = _saved(cache_dir, "instruct")
    caps = detect_capabilities(config, processor)

    assert caps.kind is ModelKind.INSTRUCT
    assert caps.speech_output
    assert not caps.reasons
    assert caps.text_input
    # Read from the saved config's speaker_id (never hard-coded), capitalised for the UI.
    names = set(config.talker_config.speaker_id)
    assert len(names) == 3
    assert sorted(caps.voices) == sorted(name.capitalize() for name in names)
    assert sorted(caps.voices) == ["Aiden", "Chelsie", "Ethan"]


def test_thinking_preview_is_thinking(cache_dir: Path) -> None:
    from omni_demo.engine.loading import detect_capabilities

    config, processor, _ = _saved(cache_dir, "thinking")
    caps = detect_capabilities(config, processor)

    assert caps.kind is ModelKind.THINKING
    assert caps.reasons
    assert caps.voices == ()
    assert not caps.speech_output
    assert caps.text_input


def test_captioner_preview_is_captioner(cache_dir: Path) -> None:
    from omni_demo.engine.loading import detect_capabilities

    config, processor, _ = _saved(cache_dir, "captioner")
    caps = detect_capabilities(config, processor)

    assert caps.kind is ModelKind.CAPTIONER
    assert caps.text_input is False
    assert caps.voices == ()
    assert not caps.reasons


def test_kind_comes_from_the_files_not_the_folder_name(cache_dir: Path, tmp_path: Path) -> None:
    """A Thinking checkpoint copied to a folder called "instruct" is still Thinking."""
    import shutil

    from transformers import AutoConfig, Qwen3OmniMoeProcessor

    from omni_demo.engine.loading import detect_capabilities

    _, _, folder = _saved(cache_dir, "thinking")
    misnamed = tmp_path / "Qwen3-Omni-30B-A3B-Instruct"
    misnamed.mkdir()
    for name in ("config.json", "processor_config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(folder / name, misnamed / name)
    for extra in folder.glob("*.jinja"):
        shutil.copy(extra, misnamed / extra.name)
    caps = detect_capabilities(
        AutoConfig.from_pretrained(misnamed), Qwen3OmniMoeProcessor.from_pretrained(misnamed)
    )
    assert caps.kind is ModelKind.THINKING


# -------------------------------------------------------------------------------------- resolve_model


@pytest.mark.parametrize("name", ["preview-bogus", "preview-instruct2", "preview-Thinking"])
def test_unknown_preview_variant_is_a_load_error(name: str, tmp_path: Path) -> None:
    from omni_demo.engine.loading import resolve_model

    with pytest.raises(ModelLoadError) as info:
        resolve_model(Settings(model=name, cache_dir=tmp_path), cuda=False)
    assert_one_sentence(str(info.value))
    assert name in str(info.value)
    assert not any(tmp_path.iterdir()), "nothing should be built for an unknown variant"


def test_resolve_model_defaults(cache_dir: Path) -> None:
    from omni_demo.config import DEFAULT_GPU_MODEL
    from omni_demo.engine.loading import resolve_model

    assert resolve_model(Settings(model=None, cache_dir=cache_dir), cuda=True) == (
        DEFAULT_GPU_MODEL,
        DEFAULT_GPU_MODEL,
    )
    name, source = resolve_model(Settings(model=None, cache_dir=cache_dir), cuda=False)
    assert name == "preview"
    assert Path(source) == cache_dir / "preview-instruct"
    name, source = resolve_model(Settings(model="preview-thinking", cache_dir=cache_dir), cuda=False)
    assert (name, Path(source)) == ("preview-thinking", cache_dir / "preview-thinking")
    assert resolve_model(Settings(model="/some/folder", cache_dir=cache_dir), cuda=False) == (
        "/some/folder",
        "/some/folder",
    )


# ---------------------------------------------------------------------------------------- load_engine


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No request may reach the Hub. huggingface_hub reads HF_HUB_OFFLINE once at import (gradio has
    imported it already), so its constant is set as well as the variable."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


@pytest.mark.usefixtures("offline")
@pytest.mark.parametrize(
    "model",
    ["/nonexistent/model", "nobody-here/no-such-omni-model", "empty-folder"],
    ids=["missing-folder", "bad-hub-id", "folder-without-config"],
)
def test_load_engine_failure_is_one_sentence(model: str, tmp_path: Path) -> None:
    from omni_demo.engine.loading import load_engine

    if model == "empty-folder":
        model = str(tmp_path / "empty-checkpoint")
        Path(model).mkdir()
    with pytest.raises(ModelLoadError) as info:
        load_engine(Settings(model=model, cache_dir=tmp_path / "cache"))
    message = str(info.value)
    assert_one_sentence(message)
    assert model in message
    assert "preview" in message  # says what to do instead
