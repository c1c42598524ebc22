"""Fake backends for tests: speech-like audio without an engine, and engines that misbehave.

They satisfy :class:`narrate.synth.backends.Backend` without inheriting from it. Worker processes
import this module as ``tests.fakes``: spawned workers get the parent's ``sys.path``.

:class:`MarkingBackend` (``fake-words``) is the plain fake that also reports word times.

Fault fakes react to markers in the text, so one pool run can mix good and bad jobs:

- :class:`HangingBackend`: ``HANG`` sleeps forever.
- :class:`EmptyBackend`: ``EMPTY`` returns audio with 0 frames.
- :class:`CrashingBackend`: ``CRASH`` ends the process with ``os._exit(3)``.
- :class:`RaisingBackend`: ``RAISE`` raises :class:`BackendError`.
- :class:`BrokenBackend`: cannot even be constructed (a missing engine).
- :class:`SlowBackend`: every text takes ``NARRATE_FAKE_DELAY`` seconds (default 0.2), so a
  subprocess test can interrupt or kill a build while it is synthesising.
- :class:`FailOnceBackend`: any of those markers misbehaves only on the first attempt per text
  (remembered as files in the folder named by ``NARRATE_FAKE_STATE``), then speaks normally.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from pathlib import Path

import numpy as np

from narrate.errors import BackendError, EnvironmentProblem
from narrate.pcm import WordMark
from narrate.settings.model import VoiceSettings
from narrate.synth.backends.base import Audio, VoiceInfo

SAMPLE_RATE = 22050
WORD_SECONDS = 0.22
"""Length of one word's voiced burst at 160 wpm (scaled by 160/rate)."""
GAP_SECONDS = 0.05
"""Near-silence between words at 160 wpm (scaled by 160/rate)."""
EDGE_SECONDS = 0.12
"""Near-silence before the first and after the last word, like a real engine's edges."""
TARGET_RMS_DBFS = -20.0
"""Loudness of a whole clip; its peaks come out about 19 dB higher, as espeak-ng's do."""
STATE_ENV = "NARRATE_FAKE_STATE"
DELAY_ENV = "NARRATE_FAKE_DELAY"


def fake_duration(text: str, rate: int = 160) -> float:
    """Return the exact duration in seconds FakeBackend gives ``text`` at ``rate``."""
    n = len(text.split())
    scale = 160 / rate
    frames = (
        2 * _samples(EDGE_SECONDS)
        + n * _samples(WORD_SECONDS * scale)
        + max(0, n - 1) * _samples(GAP_SECONDS * scale)
    )
    return frames / SAMPLE_RATE


def _samples(seconds: float) -> int:
    return int(round(seconds * SAMPLE_RATE))


def _seed(*parts: object) -> int:
    digest = hashlib.sha256("\0".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _word(rng: np.random.Generator, n: int, f0: float) -> np.ndarray:
    """Return one voiced burst: a falling harmonic tone with a smooth envelope and breath noise."""
    t = np.arange(n) / SAMPLE_RATE
    # Pitch falls ~10% across the word, like a stressed syllable; phase is the integral.
    pitch = f0 * (1.05 - 0.10 * t / max(t[-1], 1e-9))
    phase = 2 * math.pi * np.cumsum(pitch) / SAMPLE_RATE
    tone = np.zeros(n)
    # Harmonics in cosine phase with a gentle tilt: a pulse train like a glottal source, which
    # gives the peaky waveform (high crest factor) of real speech.
    for k in range(1, int(4000 // (f0 * 1.05)) + 1):
        tone += k**-0.6 * np.cos(k * phase)
    noise = rng.random(n) - 0.5
    tone = tone / np.abs(tone).max() + 0.03 * noise
    attack, release = _samples(0.04), _samples(0.06)
    env = np.ones(n)
    env[:attack] = 0.5 - 0.5 * np.cos(np.linspace(0, math.pi, attack))
    env[n - release :] = 0.5 + 0.5 * np.cos(np.linspace(0, math.pi, release))
    burst: np.ndarray = tone * env
    return burst


class FakeBackend:
    """Deterministic speech-like audio per (text, voice, rate), without an engine."""

    name = "fake"

    def voices(self) -> list[VoiceInfo]:
        """Return two fake voices, speaking ``en``.

        A build accepts these ids and any English tag (``en-us``), like a real backend's
        languages; ``synthesise`` itself takes any id, which only seeds the sound.
        """
        return [
            VoiceInfo(id="fake-low", name="Fake Low", language="en"),
            VoiceInfo(id="fake-high", name="Fake High", language="en"),
        ]

    def cache_token(self, voice: VoiceSettings) -> str:
        """Return ``fake-1/<voice>/<rate>``."""
        return f"fake-1/{voice.voice}/{voice.rate}"

    def synthesise(self, text: str, voice: VoiceSettings) -> Audio:
        """Return one burst per word, gaps between words and quiet edges."""
        words = text.split()
        if not words:
            raise BackendError("nothing to speak: the text is empty or only whitespace")
        scale = 160 / voice.rate
        rng = np.random.default_rng(_seed(text, voice.voice, voice.rate))
        edge, gap, burst = (
            _samples(EDGE_SECONDS),
            _samples(GAP_SECONDS * scale),
            _samples(WORD_SECONDS * scale),
        )
        parts = [np.zeros(edge)]
        for i, word in enumerate(words):
            if i:
                parts.append(np.zeros(gap))
            f0 = 140 + 40 * (_seed(word, voice.voice) % 1000) / 1000
            parts.append(_word(rng, burst, f0))
        parts.append(np.zeros(edge))
        signal = np.concatenate(parts)
        signal *= 10 ** (TARGET_RMS_DBFS / 20) / math.sqrt(float(np.mean(signal**2)))
        # Near-silence, not digital zero: a real engine's quiet parts carry a little noise.
        signal += 10 ** (-70 / 20) * (rng.random(signal.size) - 0.5)
        pcm = np.clip(np.round(signal * 32767), -32768, 32767).astype("<i2")
        return Audio(pcm=pcm.tobytes(), sample_rate=SAMPLE_RATE)

    def close(self) -> None:
        """Nothing to release."""


class HangingBackend(FakeBackend):
    """A fake engine that never returns for text containing ``HANG``."""

    name = "fake-hanging"

    def synthesise(self, text: str, voice: VoiceSettings) -> Audio:
        """Hang on ``HANG``, else speak like :class:`FakeBackend`."""
        if "HANG" in text:
            _hang()
        return super().synthesise(text, voice)


class EmptyBackend(FakeBackend):
    """A fake engine that returns 0 frames for text containing ``EMPTY``."""

    name = "fake-empty"

    def synthesise(self, text: str, voice: VoiceSettings) -> Audio:
        """Return empty audio on ``EMPTY``, else speak like :class:`FakeBackend`."""
        if "EMPTY" in text:
            return Audio(pcm=b"", sample_rate=SAMPLE_RATE)
        return super().synthesise(text, voice)


class CrashingBackend(FakeBackend):
    """A fake engine whose process dies for text containing ``CRASH``."""

    name = "fake-crashing"

    def synthesise(self, text: str, voice: VoiceSettings) -> Audio:
        """Exit the process with status 3 on ``CRASH``, else speak like :class:`FakeBackend`."""
        if "CRASH" in text:
            os._exit(3)
        return super().synthesise(text, voice)


class RaisingBackend(FakeBackend):
    """A fake engine that raises for text containing ``RAISE``."""

    name = "fake-raising"

    def synthesise(self, text: str, voice: VoiceSettings) -> Audio:
        """Raise BackendError on ``RAISE``, else speak like :class:`FakeBackend`."""
        if "RAISE" in text:
            raise BackendError("fake engine failure")
        return super().synthesise(text, voice)


class FailOnceBackend(FakeBackend):
    """A fake engine that misbehaves on the first attempt at a marked text, then recovers."""

    name = "fake-fail-once"

    def synthesise(self, text: str, voice: VoiceSettings) -> Audio:
        """Hang, return nothing, crash or raise the first time a marked text is seen."""
        markers = [m for m in ("HANG", "EMPTY", "CRASH", "RAISE") if m in text]
        if markers and _first_attempt(text):
            if markers[0] == "HANG":
                _hang()
            if markers[0] == "EMPTY":
                return Audio(pcm=b"", sample_rate=SAMPLE_RATE)
            if markers[0] == "CRASH":
                os._exit(3)
            raise BackendError("fake engine failure")
        return super().synthesise(text, voice)


class BrokenBackend(FakeBackend):
    """A fake engine that is not installed: constructing it raises EnvironmentProblem."""

    name = "fake-broken"

    def __init__(self) -> None:
        raise EnvironmentProblem("fake engine is not installed")


class SlowBackend(FakeBackend):
    """A fake engine that takes ``NARRATE_FAKE_DELAY`` seconds (default 0.2) per text."""

    name = "fake-slow"

    def synthesise(self, text: str, voice: VoiceSettings) -> Audio:
        """Sleep, then speak like :class:`FakeBackend`."""
        time.sleep(float(os.environ.get(DELAY_ENV, "0.2")))
        return super().synthesise(text, voice)


def _first_attempt(text: str) -> bool:
    """Record an attempt at ``text``; return whether it is the first (across processes)."""
    folder = os.environ.get(STATE_ENV)
    if not folder:
        raise RuntimeError(f"FailOnceBackend needs {STATE_ENV} set to a writable folder")
    marker = Path(folder) / (hashlib.sha256(text.encode()).hexdigest()[:16] + ".tried")
    try:
        # O_EXCL: exactly one attempt wins, even with several workers.
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _hang() -> None:
    while True:
        time.sleep(3600)


class MarkingBackend(FakeBackend):
    """The fake that reports word times, as the real engines do: where each burst begins.

    The bursts are the words, so a test knows exactly where each mark must land in the output.
    """

    name = "fake-words"

    def synthesise(self, text: str, voice: VoiceSettings) -> Audio:
        audio = super().synthesise(text, voice)
        scale = 160 / voice.rate
        step = _samples(WORD_SECONDS * scale) + _samples(GAP_SECONDS * scale)
        edge = _samples(EDGE_SECONDS)
        marks = tuple(WordMark(edge + i * step, w) for i, w in enumerate(text.split()))
        return Audio(pcm=audio.pcm, sample_rate=audio.sample_rate, words=marks)


FAKES: dict[str, type[FakeBackend]] = {
    "fake": FakeBackend,
    "fake-words": MarkingBackend,
    "slow": SlowBackend,
    "hang": HangingBackend,
    "empty": EmptyBackend,
    "crash": CrashingBackend,
    "fail-once": FailOnceBackend,
}
"""Backend name -> fake, as given to ``--backend``: what ``tests/run_with_fakes.py`` registers in
its process and the ``fake_backends`` fixture (``tests/conftest.py``) in the test process."""
