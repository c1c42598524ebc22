"""The TTS backend interface. Built-in and third-party backends implement this Protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from narrate.pcm import SAMPLE_RATE, SAMPLE_WIDTH, Audio
from narrate.settings.model import VoiceSettings

__all__ = [
    "SAMPLE_RATE",
    "SAMPLE_WIDTH",
    "Audio",
    "Backend",
    "ChecksVoices",
    "VoiceInfo",
    "VoiceSettings",
]


@dataclass(frozen=True)
class VoiceInfo:
    """A voice a backend offers."""

    id: str
    """What to put in ``voice:`` in the config."""
    name: str
    """Human-readable name."""
    language: str | None = None


@runtime_checkable
class Backend(Protocol):
    """A speech engine. One instance lives in one worker process (or Dask worker) and is reused."""

    name: str
    """Registry name, e.g. ``pyttsx3``."""

    def voices(self) -> list[VoiceInfo]:
        """Return the voices this backend can speak with."""
        ...

    def cache_token(self, voice: VoiceSettings) -> str:
        """Return a string that changes whenever the sound for the same text would change.

        It must cover the engine and its version, the voice id and the rate.
        """
        ...

    def synthesise(self, text: str, voice: VoiceSettings) -> Audio:
        """Speak ``text`` (already normalised for speech) and return the audio.

        Raise :class:`narrate.errors.BackendError` on failure; never return empty audio for
        non-empty text.

        Optional: word times. A backend that knows where it began each word fills
        :attr:`Audio.words` (sample offsets into the returned audio, ascending, each with the
        word as it read it); both built-in backends do. Without them the page and the
        transcripts spread each sentence's time over its words, and say they are estimates.
        """
        ...

    def close(self) -> None:
        """Release the engine."""
        ...


@runtime_checkable
class ChecksVoices(Protocol):
    """Optional: a backend that can say, before any synthesis, whether a voice exists.

    Backends without it are checked against :meth:`Backend.voices` (an id, or a language one of
    its voices speaks).
    """

    def check_voice(self, voice: str) -> None:
        """Raise :class:`narrate.errors.UnknownVoiceError` (with a suggestion) unless it exists."""
        ...
