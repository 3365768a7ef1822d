"""The one error type whose message is shown to the user.

Anything the user can fix (a bad file, an empty message, a missing checkpoint) raises `OmniError`
with one plain sentence saying what to change. The UI turns it into `gr.Error` at one boundary
(`omni_demo.ui.handlers`); every other exception is a bug and is logged with its stack trace.
"""

from __future__ import annotations


class OmniError(Exception):
    """A problem the user can fix; `str(error)` is the sentence shown to them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(OmniError):
    """The request itself is unusable (bad media, empty message, wrong type)."""


class ModelLoadError(OmniError):
    """The checkpoint cannot be found, downloaded or loaded."""


class GenerationCancelled(Exception):  # noqa: N818 - a signal, not a failure
    """Raised inside the generation thread to stop the model at once when the user presses Stop."""
