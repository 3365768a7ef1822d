"""Fake services on loopback for the remote back-end tests (see tests/fake_services.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_services import FakeService

from omni_demo.config import Settings
from omni_demo.engine.remote.engine import RemoteEngine, load_remote

DASHSCOPE_KEY = "sk-fake-dashscope-key"


@pytest.fixture
def fake() -> Iterator:
    """A factory: fake("vllm-omni", **options) starts one; all are closed after the test."""
    started: list[FakeService] = []

    def start(kind: str, **options: object) -> FakeService:
        if kind == "dashscope":
            options = {"model": "qwen3-omni-flash", "api_key": DASHSCOPE_KEY, **options}
        service = FakeService(kind, **options)  # type: ignore[arg-type]
        started.append(service)
        return service

    yield start
    for service in started:
        service.close()


def engine_for(service: FakeService, **settings: object) -> RemoteEngine:
    values: dict[str, object] = {"backend": service.kind, "api_base": service.base, "read_timeout_s": 5.0}
    if service.kind == "dashscope":
        values |= {"api_key": DASHSCOPE_KEY, "remote_model": service.model}
    return load_remote(Settings(**{**values, **settings}))  # type: ignore[arg-type]
