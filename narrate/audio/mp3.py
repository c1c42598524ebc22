"""MP3 encoding of chapter chunks with the LAME library that the ``lameenc`` wheel ships.

Chapters are encoded separately and their frames concatenated. Each chunk starts from an empty bit
reservoir, so the joined stream is valid MP3; the joins fall in the silence between chapters, so
they are inaudible. No Xing/LAME info frame is written: decoders then apply no gapless trimming
and the decoded timeline is exactly the concatenation of every chunk's frames, which is what lets
chapter and sentence times be computed to the sample without decoding anything.
"""

from __future__ import annotations

import functools
from importlib.metadata import PackageNotFoundError, version

from narrate.errors import EnvironmentProblem

SAMPLES_PER_FRAME = 576
"""MPEG-2 Layer III (22.05 kHz) frames hold 576 samples."""
ENCODER_DELAY = 1105
"""Samples by which a chunk's audio is shifted in its decoded output (LAME 576 + decoder 529).

Measured: an impulse encoded by lameenc and decoded by ffmpeg lands 1105 samples later, in the
first chunk and in every later concatenated chunk alike (tests/test_encode.py holds this).
"""
LAME_QUALITY = 3
"""LAME's own default algorithm quality (-q 3): no worse than ``lame`` at the same bitrate."""

_BITRATES_MPEG2 = {1: 8, 2: 16, 3: 24, 4: 32, 5: 40, 6: 48, 7: 56, 8: 64,
                   9: 80, 10: 96, 11: 112, 12: 128, 13: 144, 14: 160}  # fmt: skip
_RATES_MPEG2 = {0: 22050, 1: 24000, 2: 16000}


@functools.cache  # planning asks once per sentence; installed versions do not change mid-run
def encoder_version() -> str:
    """Return the encoder identity that goes into cache keys; EnvironmentProblem if it is missing.

    Planning a build asks for this first, so a missing or broken encoder is reported before any
    sentence is synthesised, not after.
    """
    try:
        import lameenc  # noqa: F401 -- importable, not just installed: the build will need it

        return f"lameenc-{version('lameenc')}-q{LAME_QUALITY}"
    except (ImportError, PackageNotFoundError) as exc:
        raise EnvironmentProblem(
            f"the MP3 encoder (lameenc) is missing or broken ({exc}): run  pip install lameenc"
        ) from exc


def encode(pcm: bytes, sample_rate: int, bitrate: int) -> bytes:
    """Return MP3 frames (mono, CBR ``bitrate`` kb/s) for 16-bit mono PCM."""
    import lameenc

    enc = lameenc.Encoder()
    enc.set_bit_rate(bitrate)
    enc.set_in_sample_rate(sample_rate)
    enc.set_out_sample_rate(sample_rate)
    enc.set_channels(1)
    enc.set_quality(LAME_QUALITY)
    return bytes(enc.encode(pcm)) + bytes(enc.flush())


def count_frames(mp3: bytes) -> int:
    """Return the number of MPEG-2 Layer III frames in a bare frame stream.

    Raises ValueError if the bytes are not a clean sequence of 22.05/24/16 kHz Layer III frames,
    which is also how a damaged cached chunk is caught.
    """
    i = n = 0
    size = len(mp3)
    while i < size:
        if i + 4 > size:
            raise ValueError(f"truncated frame header at byte {i}")
        b1, b2 = mp3[i + 1], mp3[i + 2]
        if mp3[i] != 0xFF or (b1 & 0xFE) != 0xF2:  # sync, MPEG-2, Layer III
            raise ValueError(f"no MPEG-2 Layer III frame at byte {i}")
        kbps = _BITRATES_MPEG2.get(b2 >> 4)
        rate = _RATES_MPEG2.get((b2 >> 2) & 3)
        if kbps is None or rate is None:
            raise ValueError(f"bad frame header at byte {i}")
        length = 72 * kbps * 1000 // rate + ((b2 >> 1) & 1)
        if i + length > size:
            raise ValueError(f"truncated frame at byte {i}")
        i += length
        n += 1
    return n
