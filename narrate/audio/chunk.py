"""A finished sentence with its silences, stitched (pydub) and encoded to whole MP3 frames.

Every sentence is encoded on its own with the pause after it, so each join between chunks falls
in silence and an edit re-encodes only what it changed. The timeline is computed, not measured:
LAME emits ``ceil(n / 576) + 2`` frames for ``n`` samples and shifts the audio by exactly
:data:`~narrate.audio.mp3.ENCODER_DELAY` samples (both measured, held by tests).
"""

from __future__ import annotations

from dataclasses import dataclass

from narrate.audio.mp3 import SAMPLES_PER_FRAME, count_frames, encode
from narrate.audio.segments import segment
from narrate.pcm import SAMPLE_RATE, Audio, WordMark

__all__ = ["EncodedChunk", "Placement", "encode_chunk", "stitch"]


@dataclass(frozen=True)
class Placement:
    """Where one sentence's speech sits in a chunk's PCM, in samples."""

    start: int
    end: int


@dataclass(frozen=True)
class EncodedChunk:
    """Whole MP3 frames and where the speech lies in them."""

    mp3: bytes
    frames: int
    pcm_samples: int
    """Samples encoded (a whole number of frames of them)."""
    placement: Placement
    words: tuple[WordMark, ...] = ()
    """The sentence's word marks, as offsets from ``placement.start``."""


def _silence(seconds: float) -> bytes:
    return b"\0\0" * max(0, round(seconds * SAMPLE_RATE))


def stitch(sentence: Audio, lead: float, pause: float) -> tuple[bytes, Placement]:
    """Join ``lead`` seconds of silence, a finished sentence and ``pause`` seconds of silence.

    Returns 16-bit PCM and where the sentence sits in it.
    """
    if sentence.sample_rate != SAMPLE_RATE:
        raise ValueError("stitch takes finished sentences (see narrate.audio.master.finish)")
    parts = [
        segment(_silence(lead), SAMPLE_RATE),
        segment(sentence.pcm, SAMPLE_RATE),
        segment(_silence(pause), SAMPLE_RATE),
    ]
    start = len(parts[0].raw_data) // 2
    # Join raw frames once: `+` in a loop copies everything each time (quadratic).
    joined = parts[0]._spawn(b"".join(p.raw_data for p in parts))
    return bytes(joined.raw_data), Placement(start, start + sentence.frames)


def encode_chunk(sentence: Audio, lead: float, pause: float, bitrate: int) -> EncodedChunk:
    """Stitch a sentence with its silences and encode it, sized to whole MP3 frames."""
    pcm, placement = stitch(sentence, lead, pause)
    # A whole number of frames leaves the least padding (47 samples). Only the trailing silence
    # moves, by at most half a frame (13 ms), so pauses stay as the config sets them.
    n = len(pcm) // 2
    frames = round(n / SAMPLES_PER_FRAME)
    fit = max(placement.end, frames * SAMPLES_PER_FRAME)
    pcm = pcm[: fit * 2] + b"\0\0" * (fit - n)
    mp3 = encode(pcm, SAMPLE_RATE, bitrate)
    return EncodedChunk(mp3, count_frames(mp3), fit, placement, sentence.words)
