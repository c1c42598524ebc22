"""The audio value type every stage shares, and the one sample rate narrate works at.

Below every stage (synth makes :class:`Audio`, audio/ masters and stitches it, the pipeline
times it), so no stage reaches back up the flow for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SAMPLE_RATE = 22_050
"""Samples per second of all of narrate's audio (espeak-ng's and Piper's native rate)."""
SAMPLE_WIDTH = 2
"""Bytes per sample of :class:`Audio` (signed 16-bit little-endian)."""


@dataclass(frozen=True)
class WordMark:
    """Where an engine began one word of what it was given to say."""

    start: int
    """Sample offset into the audio it belongs to."""
    text: str
    """The word as the engine read it (spoken form: ``thousand``, not ``2009``)."""


@dataclass(frozen=True)
class Audio:
    """Mono PCM audio that states its own format, so nothing downstream guesses it."""

    pcm: bytes
    """Signed 16-bit little-endian mono samples."""
    sample_rate: int
    """Samples per second."""
    words: tuple[WordMark, ...] = ()
    """The engine's word starts, ascending, inside the audio; empty if the engine reports none.

    They travel with the samples: trimming and mastering shift them, the cache keeps them, and
    the timeline maps them onto the displayed words (:mod:`narrate.pipeline.words`).
    """

    @property
    def frames(self) -> int:
        """Return the number of samples."""
        return len(self.pcm) // SAMPLE_WIDTH

    @property
    def duration(self) -> float:
        """Return the duration in seconds."""
        return self.frames / self.sample_rate


def marks_inside(marks: Iterable[tuple[int, str]], frames: int) -> tuple[WordMark, ...]:
    """Return (sample, word) pairs as WordMarks that ascend inside ``frames`` samples.

    What :attr:`Audio.words` promises, made true of what an engine reported (a mark past the
    end, or before the one preceding it, moves to the nearest place that keeps the promise).
    """
    words: list[WordMark] = []
    for at, word in marks:
        words.append(WordMark(min(max(at, words[-1].start if words else 0), frames - 1), word))
    return tuple(words)


def samples_to_ms(samples: int, rate: int = SAMPLE_RATE) -> int:
    """Return ``samples`` in whole milliseconds, rounding half up (integer arithmetic).

    The single source of every published time: chapters, cues and the page all use it.
    """
    return (samples * 1000 * 2 + rate) // (2 * rate)
