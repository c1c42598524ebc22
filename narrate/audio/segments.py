"""pydub, imported quietly: the user chose it for the stitch; it never decodes or encodes here."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # pydub warns at import when no ffmpeg is on PATH; we never ask it to decode or encode.
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment

__all__ = ["AudioSegment", "segment"]


def segment(pcm: bytes, rate: int) -> AudioSegment:
    """Return 16-bit mono PCM at ``rate`` as a pydub AudioSegment."""
    return AudioSegment(data=pcm, sample_width=2, frame_rate=rate, channels=1)
