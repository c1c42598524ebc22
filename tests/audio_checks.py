"""Measurements on real outputs: decode with ffmpeg, loudness with ffmpeg's ebur128, onsets."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np

SR = 22050
ONSET_WINDOW_S = 0.020
ONSET_DBFS = -38.0


def ffmpeg() -> str:
    """Return the ffmpeg that imageio-ffmpeg ships."""
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def decode(path: Path) -> np.ndarray:
    """Return the decoded samples of an audio file as floats in [-1, 1] at 22.05 kHz mono."""
    out = subprocess.run(
        [ffmpeg(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(SR), "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.float64) / 32768.0


def ebur128(path: Path) -> tuple[float, float]:
    """Return (integrated LUFS, true peak dBTP) as ffmpeg's ebur128=peak=true measures them."""
    err = subprocess.run(
        [ffmpeg(), "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=peak=true",
         "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    summary = err[err.rindex("Summary:") :]
    lufs = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = float(re.search(r"Peak:\s+(-?[\d.inf]+) dBFS", summary).group(1))  # type: ignore[union-attr]
    return lufs, peak


def window_levels(x: np.ndarray) -> np.ndarray:
    """Return the RMS level in dBFS of consecutive 20 ms windows from the start of the file."""
    w = int(SR * ONSET_WINDOW_S)
    n = len(x) // w
    rms = np.sqrt(np.mean(np.square(x[: n * w]).reshape(n, w), axis=1))
    with np.errstate(divide="ignore"):
        levels: np.ndarray = 20 * np.log10(np.maximum(rms, 1e-12))
    return levels


def onset_after(levels: np.ndarray, t: float) -> float:
    """Return the start (s) of the first 20 ms window at or after ``t`` louder than -38 dBFS."""
    i = max(0, int(t / ONSET_WINDOW_S))
    loud = np.nonzero(levels[i:] > ONSET_DBFS)[0]
    if not len(loud):
        return float("inf")
    return (i + int(loud[0])) * ONSET_WINDOW_S
