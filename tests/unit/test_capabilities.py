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

    config, processor, folder = _saved(cache_dir, "captioner")
    caps = detect_capabilities(config, processor, name=folder.name)

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


# The Thinking checkpoint's chat template, reduced to what decides the kind and the reasoning split, in
# the shape of the official Qwen3 templates: a plain generation prompt (the model writes <think> itself),
# an empty think block only for enable_thinking=False, reasoning_content and </think> handled in history.
REAL_THINKING_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message.content is string %}{%- set content = message.content %}"
    "{%- else %}{%- set content = namespace(t='') %}{%- for c in message.content %}"
    "{%- if c.type == 'text' %}{%- set content.t = content.t + c.text %}{%- endif %}{%- endfor %}"
    "{%- set content = content.t %}{%- endif %}"
    "{%- if message.role == 'assistant' %}"
    "{%- set reasoning_content = '' %}"
    "{%- if message.reasoning_content is string %}{%- set reasoning_content = message.reasoning_content %}"
    "{%- elif '</think>' in content %}"
    "{%- set reasoning_content = content.split('</think>')[0].rstrip('\\n')"
    ".split('<think>')[-1].lstrip('\\n') %}"
    "{%- set content = content.split('</think>')[-1].lstrip('\\n') %}{%- endif %}"
    "{{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>\\n' }}{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{%- endif %}"
)
OPENING_TEMPLATE = (
    "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n<|im_end|>\\n' }}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n<think>\\n' }}{%- endif %}"
)
PLAIN_TEMPLATE = (
    "{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n<|im_end|>\\n' }}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def _talkerless(cache_dir: Path, template: str) -> tuple[object, object]:
    config, processor, _ = _saved(cache_dir, "captioner")
    processor.chat_template = template
    return config, processor


def test_the_real_thinking_template_is_thinking(cache_dir: Path) -> None:
    """Its generation prompt does not open <think>: the old detector called this model a Captioner."""
    from omni_demo.engine.loading import detect_capabilities

    config, processor = _talkerless(cache_dir, REAL_THINKING_TEMPLATE)
    probe = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    prompt = processor.apply_chat_template(probe, add_generation_prompt=True, tokenize=False)
    assert prompt.endswith("<|im_start|>assistant\n")  # the template really is of that shape
    caps = detect_capabilities(config, processor, name="Qwen/Qwen3-Omni-30B-A3B-Thinking")
    assert caps.kind is ModelKind.THINKING
    assert caps.text_input
    assert not caps.think_in_prompt  # the model writes <think> itself


def test_a_template_that_opens_think_in_the_prompt_is_thinking(cache_dir: Path) -> None:
    from omni_demo.engine.loading import detect_capabilities

    config, processor = _talkerless(cache_dir, OPENING_TEMPLATE)
    caps = detect_capabilities(config, processor)
    assert caps.kind is ModelKind.THINKING
    assert caps.think_in_prompt


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Qwen/Qwen3-Omni-30B-A3B-Captioner", ModelKind.CAPTIONER),
        ("/models/qwen3-omni-captioner", ModelKind.CAPTIONER),
        ("/models/my-omni", ModelKind.INSTRUCT),
        ("", ModelKind.INSTRUCT),
    ],
)
def test_captioner_only_on_positive_evidence(cache_dir: Path, name: str, kind: ModelKind) -> None:
    """No talker and no thinking: the Captioner only when the name says so, else a text-only Instruct."""
    from omni_demo.engine.loading import detect_capabilities

    config, processor = _talkerless(cache_dir, PLAIN_TEMPLATE)
    caps = detect_capabilities(config, processor, name=name)
    assert caps.kind is kind
    assert caps.voices == ()
    assert caps.text_input is (kind is not ModelKind.CAPTIONER)


@pytest.mark.parametrize("kind", list(ModelKind))
def test_kind_flag_overrides_the_files(cache_dir: Path, kind: ModelKind) -> None:
    from omni_demo.engine.loading import detect_capabilities

    config, processor, _ = _saved(cache_dir, "instruct")
    caps = detect_capabilities(config, processor, name="preview", kind=kind)
    assert caps.kind is kind
    assert caps.speech_output is (kind is ModelKind.INSTRUCT)
    assert caps.text_input is (kind is not ModelKind.CAPTIONER)


def test_a_disabled_talker_means_no_voices(cache_dir: Path) -> None:
    from omni_demo.engine.loading import detect_capabilities

    config, processor, _ = _saved(cache_dir, "instruct")
    caps = detect_capabilities(config, processor, name="preview", has_talker=False)
    assert caps.kind is ModelKind.INSTRUCT
    assert caps.voices == ()
    assert not caps.speech_output


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
