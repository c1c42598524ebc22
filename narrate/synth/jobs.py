"""What flows between the scheduler and the places that synthesise: jobs, batches, outcomes.

A :class:`Job` is one sentence to speak; a :class:`Batch` is jobs for one backend and loudness
target; an :data:`Outcome` is a job with its finished audio, or the error that stopped it. Every
executor speaks in these terms, and every backend's output is finished (trimmed, mastered) where
the engine runs, by :class:`Mastered`: the one place that decides where mastering happens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

from narrate.errors import NarrateError
from narrate.pcm import SAMPLE_WIDTH, Audio
from narrate.settings.model import VoiceSettings
from narrate.synth.backends.base import Backend

__all__ = ["Batch", "Job", "Mastered", "Outcome", "audio_problem", "reason"]


@dataclass(frozen=True)
class Job:
    """One piece of text to speak."""

    key: str
    """Cache key (hex) identifying the result."""
    text: str
    """Text to speak, already normalised."""
    voice: VoiceSettings
    """Voice and rate to speak it with."""
    label: str
    """Human name for errors, e.g. ``imagenet, chapter 'Legacy', line 40 ('The images…')``."""


@dataclass(frozen=True)
class Batch:
    """Sentences to speak with one backend and master to one loudness target."""

    backend: str
    """Registry name of the backend."""
    integrated_lufs: float
    """Loudness target of the finished sentences."""
    true_peak_db: float
    """True-peak ceiling of the finished sentences."""
    jobs: tuple[Job, ...]
    """The sentences (each key at most once)."""


Outcome: TypeAlias = "tuple[Job, Audio | NarrateError]"
"""A job and its finished audio, or the error that stopped it (other jobs carry on)."""


def audio_problem(audio: object) -> str | None:
    """Return why a backend's result is unusable, or None if it is fine."""
    if not isinstance(audio, Audio):
        return f"engine returned {type(audio).__name__} instead of audio"
    if audio.frames == 0 or audio.sample_rate <= 0 or len(audio.pcm) % SAMPLE_WIDTH:
        return "engine returned no audio"
    return None


def reason(exc: BaseException) -> str:
    """Return a one-line reason for a failure."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, NarrateError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass(frozen=True)
class Mastered:
    """A picklable backend factory whose backend returns finished (trimmed, mastered) audio.

    Mastering runs where the engine runs, in the worker processes (or on a Dask worker): it
    costs more than espeak-ng's synthesis, and there it is spread over every core without
    competing for the parent's interpreter lock.
    """

    factory: Callable[[], Backend]
    integrated_lufs: float
    true_peak_db: float

    def __call__(self) -> Backend:
        """Return the wrapped backend."""
        return _MasteringBackend(self.factory(), self.integrated_lufs, self.true_peak_db)


class _MasteringBackend:
    """A backend whose audio comes back finished (see :class:`Mastered`)."""

    def __init__(self, inner: Backend, lufs: float, peak: float) -> None:
        self.inner, self.lufs, self.peak = inner, lufs, peak
        self.name = inner.name

    def voices(self) -> list[Any]:
        """Return the wrapped backend's voices."""
        return self.inner.voices()

    def cache_token(self, voice: Any) -> str:
        """Return the wrapped backend's token."""
        return self.inner.cache_token(voice)

    def synthesise(self, text: str, voice: Any) -> Audio:
        """Speak and master one sentence."""
        from narrate.audio.master import finish

        return finish(self.inner.synthesise(text, voice), self.lufs, self.peak)

    def close(self) -> None:
        """Close the wrapped backend."""
        self.inner.close()
