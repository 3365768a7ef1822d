"""The one error type whose message is shown to the user.

Anything the user can fix (a bad file, an empty message, a missing checkpoint) raises `OmniError`
with the key of one plain sentence saying what to change, and that sentence's fields:
`InputError("media.too_short", name="clip.wav")`. The sentence is written in English where it is
raised (`str(error)`, which logs, tests and the API read) and rendered in the page's language at one
boundary (`omni_demo.ui.handlers.shown_to_user`); every other exception is a bug and is logged with
its stack trace.
"""

from __future__ import annotations

from omni_demo.i18n import Sentence


class OmniError(Exception):
    """A problem the user can fix; `sentence` is what they are told (`str(error)`: its English)."""

    def __init__(self, key: str, /, **fields: object) -> None:
        # A Sentence passed whole is one that was raised before (a refusal remembered by a cache).
        self.sentence = key if isinstance(key, Sentence) else Sentence(key, **fields)
        super().__init__(self.sentence)  # args hold the sentence itself, so a copy or pickle is made again

    def __str__(self) -> str:
        return str(self.sentence)

    def render(self, lang: str) -> str:
        """The sentence in `lang` (see `omni_demo.i18n.language`)."""
        return self.sentence.render(lang)


class InputError(OmniError):
    """The request itself is unusable (bad media, empty message, wrong type)."""


class QueueFullError(OmniError):
    """Too many requests already wait for the GPU: this one is not taken (the user may send it again)."""


class ModelLoadError(OmniError):
    """The checkpoint cannot be found, downloaded or loaded."""


class GenerationCancelled(Exception):  # noqa: N818 - a signal, not a failure
    """Raised inside the generation thread to stop the model at once when the user presses Stop."""
