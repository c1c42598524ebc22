"""A third-party narrate backend: one tone per word, deterministic, at 24 kHz.

It satisfies :class:`narrate.synth.backends.Backend` without importing or inheriting from it, and
states its own sample rate (24,000 Hz, not narrate's 22,050), so a build must convert it.
"""

from __future__ import annotations

import numpy as np

from narrate.errors import BackendError
from narrate.settings.model import VoiceSettings
from narrate.synth.backends.base import Audio, VoiceInfo

__version__ = "0.1.0"

SAMPLE_RATE = 24_000
PITCH = {"echo-low": 150.0, "echo-high": 300.0}
"""Voice id -> fundamental frequency in Hz."""
WORD_SECONDS = 0.25
GAP_SECONDS = 0.08


class EchoBackend:
    """Say every word as a short harmonic tone in the voice's pitch."""

    name = "echo"

    def voices(self) -> list[VoiceInfo]:
        """Return the two tone voices."""
        return [
            VoiceInfo(id="echo-low", name="Echo Low (150 Hz)", language="en"),
            VoiceInfo(id="echo-high", name="Echo High (300 Hz)", language="en"),
        ]

    def cache_token(self, voice: VoiceSettings) -> str:
        """Return the plugin's version, the voice and the rate."""
        return f"narrate-echo {__version__}; voice {voice.voice}; rate {voice.rate}"

    def synthesise(self, text: str, voice: VoiceSettings) -> Audio:
        """Return one 24 kHz tone burst per word, spaced like speech at ``voice.rate``."""
        words = text.split()
        if not words:
            raise BackendError("nothing to speak")
        # The site default ("en-us") and unknown ids speak in the low voice.
        f0 = PITCH.get(voice.voice, PITCH["echo-low"])
        scale = 160 / voice.rate
        n = int(WORD_SECONDS * scale * SAMPLE_RATE)
        t = np.arange(n) / SAMPLE_RATE
        envelope = np.sin(np.pi * t / t[-1]) ** 0.5
        burst = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in (1, 2, 3)) * envelope * 0.3
        gap = np.zeros(int(GAP_SECONDS * scale * SAMPLE_RATE))
        edge = np.zeros(int(0.05 * SAMPLE_RATE))
        parts = [edge]
        for i in range(len(words)):
            parts += [gap, burst] if i else [burst]
        parts.append(edge)
        pcm = np.round(np.concatenate(parts) * 32767).astype("<i2")
        return Audio(pcm=pcm.tobytes(), sample_rate=SAMPLE_RATE)

    def close(self) -> None:
        """Nothing to release."""
