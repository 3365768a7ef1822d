"""The remote back-end flags: --backend, --api-base, --api-key, --remote-model, --concurrency, ..."""

from __future__ import annotations

import pytest

from omni_demo.config import parse_settings

ENV_VARS = ("OMNI_BACKEND", "OMNI_API_BASE", "OMNI_REMOTE_MODEL", "OMNI_CONCURRENCY", "OMNI_READ_TIMEOUT")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def test_defaults_are_the_local_model() -> None:
    settings = parse_settings([])
    assert settings.backend == "local"
    assert settings.api_base is None
    assert settings.api_key is None
    assert settings.remote_model is None
    assert settings.concurrency == 4
    assert settings.read_timeout_s == 60.0


def test_every_remote_flag() -> None:
    settings = parse_settings(
        [
            "--backend", "dashscope",
            "--api-base", "https://example.test/v1",
            "--api-key", "sk-secret",
            "--remote-model", "qwen3-omni-flash",
            "--concurrency", "8",
            "--read-timeout", "12.5",
        ]
    )  # fmt: skip
    assert settings.backend == "dashscope"
    assert settings.api_base == "https://example.test/v1"
    assert settings.api_key == "sk-secret"
    assert settings.remote_model == "qwen3-omni-flash"
    assert settings.concurrency == 8
    assert settings.read_timeout_s == 12.5
    assert "sk-secret" not in repr(settings)  # the key never reaches a log line through the settings


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNI_BACKEND", "vllm-omni")
    monkeypatch.setenv("OMNI_API_BASE", "http://gpu:8091/v1")
    monkeypatch.setenv("OMNI_REMOTE_MODEL", "omni")
    monkeypatch.setenv("OMNI_CONCURRENCY", "16")
    monkeypatch.setenv("OMNI_READ_TIMEOUT", "30")
    settings = parse_settings([])
    assert (settings.backend, settings.api_base, settings.remote_model) == (
        "vllm-omni",
        "http://gpu:8091/v1",
        "omni",
    )
    assert settings.concurrency == 16
    assert settings.read_timeout_s == 30.0


@pytest.mark.parametrize("argv", [["--concurrency", "0"], ["--backend", "ollama"]])
def test_bad_values_stop_with_a_message(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_settings(argv)
