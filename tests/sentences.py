"""The house rule for user-facing errors: one plain sentence, never a traceback."""

from __future__ import annotations

import re


def assert_one_sentence(message: str) -> None:
    assert message
    assert "\n" not in message
    assert "Traceback" not in message
    assert message.endswith((".", "!", "?"))
    assert len(re.split(r"(?<=[.!?])\s+(?=[A-Z])", message)) == 1, message
