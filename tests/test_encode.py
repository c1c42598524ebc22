"""The encoder facts the timeline is computed from, checked against a real ffmpeg decode."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from narrate.audio.mp3 import ENCODER_DELAY, SAMPLES_PER_FRAME, count_frames, encode

SR = 22050


def _decode(mp3: bytes) -> np.ndarray:
    import imageio_ffmpeg

    out = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "mp3",
            "-i",
            "-",
            "-f",
            "s16le",
            "-ac",
            "1",
            "-ar",
            str(SR),
            "-",
        ],
        input=mp3,
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.float64)


def _click(n: int, at: int) -> bytes:
    x = np.zeros(n)
    t = np.arange(200)
    x[at : at + 200] = np.sin(2 * np.pi * 1000 * t / SR) * 20000 * np.hanning(200)
    return x.astype("<i2").tobytes()


def _where(y: np.ndarray, at: int) -> int:
    ref = np.frombuffer(_click(400, 100), dtype="<i2").astype(np.float64)
    c = np.correlate(y, ref, "valid")
    return int(np.argmax(c)) - (at - 100)


def test_decoded_length_is_whole_frames_and_matches_count() -> None:
    mp3 = encode(_click(SR, 5000), SR, 64)
    y = _decode(mp3)
    assert len(y) == count_frames(mp3) * SAMPLES_PER_FRAME
    assert len(y) >= SR + ENCODER_DELAY


def test_every_chunk_is_shifted_by_the_encoder_delay_when_concatenated() -> None:
    a = encode(_click(SR, 5000), SR, 64)
    b = encode(_click(SR // 2, 3000), SR, 64)
    y = _decode(a + b)
    split = count_frames(a) * SAMPLES_PER_FRAME
    assert len(y) == (count_frames(a) + count_frames(b)) * SAMPLES_PER_FRAME
    assert _where(y[:split], 5000) == ENCODER_DELAY
    second = y[split:]
    assert _where(second, 3000) == ENCODER_DELAY


def test_count_frames_rejects_damaged_streams() -> None:
    mp3 = encode(_click(SR, 100), SR, 64)
    with pytest.raises(ValueError):
        count_frames(mp3[:-10])
    with pytest.raises(ValueError):
        count_frames(b"\0" * 10 + mp3)
    assert count_frames(b"") == 0


@pytest.mark.parametrize("n", [576 * 39, 576 * 39 + 1, 22050, 576 * 38 - 1])
def test_lame_emits_ceil_n_over_576_plus_two_frames(n: int) -> None:
    # build._make_chunk relies on this to size chunks with the least padding.
    mp3 = encode(b"\0\0" * n, SR, 64)
    assert count_frames(mp3) == -(-n // SAMPLES_PER_FRAME) + 2
