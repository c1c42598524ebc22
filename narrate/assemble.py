"""Stitch synthesised sentences into chapter audio: trim, pause, loudness, true-peak limit.

The only module that imports pydub. Loudness is set per chapter, so an edit in one chapter never
changes the gain (and so the encoded audio) of another: that is what lets a rebuild reuse the
encoded chunks of unchanged chapters.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from narrate.backends.base import Audio

with warnings.catch_warnings():
    # pydub warns at import when no ffmpeg is on PATH; we never ask it to decode or encode.
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment
    from pydub.silence import detect_leading_silence

SAMPLE_RATE = 22_050
"""Every chapter is assembled at this rate (espeak-ng and piper both produce it)."""
SILENCE_DBFS = -50.0
"""Below this an engine's leading/trailing output counts as silence and is trimmed."""
_TRIM_CHUNK_MS = 5
_LIMITER_OVERSAMPLE = 4
_LIMITER_HOLD_S = 0.020
ENCODER_LOUDNESS_LOSS_DB = 0.4
"""How much quieter limited speech measures after LAME encoding (-q 3, 64 kb/s, 22.05 kHz).

Measured with ffmpeg's ebur128 on mastered espeak-ng chapters: -16.0 LUFS in the PCM became
-16.4 to -16.5 in the MP3 (unlimited speech loses only 0.03). Mastering aims this much higher so
the published MP3 lands on the target; tests/test_e2e.py measures the MP3 itself.
"""
_BLOCK = 32
"""Limiter envelope resolution in samples (1.45 ms; its ramps last ~20 ms)."""
_MASTER_ROUNDS = 6
_LIMITER_MARGIN_DB = 1.0
"""Limit this far below the true-peak ceiling: MP3 encoding adds overshoot."""

Float = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Placement:
    """Where one segment's speech sits in a chapter's PCM, in samples."""

    start: int
    end: int


@dataclass(frozen=True)
class ChapterAudio:
    """A finished chapter: 16-bit mono PCM at SAMPLE_RATE plus where each sentence is."""

    pcm: bytes
    placements: tuple[Placement, ...]
    gain_db: float
    """Gain applied to reach the loudness target (before limiting)."""


def to_segment(audio: Audio) -> AudioSegment:
    """Return the engine's audio as a pydub segment at SAMPLE_RATE."""
    seg = AudioSegment(data=audio.pcm, sample_width=2, frame_rate=audio.sample_rate, channels=1)
    if audio.sample_rate != SAMPLE_RATE:
        seg = seg.set_frame_rate(SAMPLE_RATE)
    return seg


def trim(seg: AudioSegment) -> AudioSegment:
    """Return the speech with the engine's own leading and trailing silence removed."""
    lead = detect_leading_silence(seg, silence_threshold=SILENCE_DBFS, chunk_size=_TRIM_CHUNK_MS)
    tail = detect_leading_silence(
        seg.reverse(), silence_threshold=SILENCE_DBFS, chunk_size=_TRIM_CHUNK_MS
    )
    end = len(seg) - tail
    if end <= lead:  # all silence: keep it whole rather than drop a segment
        return seg
    return seg[lead:end]


def _silence(seconds: float) -> bytes:
    return b"\0\0" * max(0, round(seconds * SAMPLE_RATE))


def stitch(
    speech: Sequence[Audio], pauses: Sequence[float], lead: float
) -> tuple[AudioSegment, tuple[Placement, ...]]:
    """Join trimmed speech with ``lead`` seconds before and ``pauses[i]`` after segment i."""
    parts = [_silence(lead)]
    placements = []
    pos = len(parts[0]) // 2
    for audio, pause in zip(speech, pauses, strict=True):
        raw = trim(to_segment(audio)).raw_data
        placements.append(Placement(pos, pos + len(raw) // 2))
        parts.append(raw)
        parts.append(_silence(pause))
        pos += (len(raw) + len(parts[-1])) // 2
    # Join raw frames once: `+` in a loop copies everything each time (quadratic).
    joined = AudioSegment(data=b"".join(parts), sample_width=2, frame_rate=SAMPLE_RATE, channels=1)
    return joined, tuple(placements)


def _k_weighting() -> tuple[Float, Float, Float, Float]:
    """Return the BS.1770 K-weighting biquads (shelf b, a; high-pass b, a) for SAMPLE_RATE.

    The analogue prototypes of libebur128 (which ffmpeg's ebur128 filter shares), discretised
    for any rate, so our measurement agrees with the ffmpeg measurement of the final MP3.
    """
    fs = SAMPLE_RATE
    k = math.tan(math.pi * 1681.974450955533 / fs)
    q = 0.7071752369554196
    vh = 10 ** (3.999843853973347 / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf_b = np.array(
        [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]
    )
    shelf_a = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    k = math.tan(math.pi * 38.13547087602444 / fs)
    q = 0.5003270373238773
    a0 = 1 + k / q + k * k
    hp_b = np.array([1.0, -2.0, 1.0])
    hp_a = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0])
    return shelf_b, shelf_a, hp_b, hp_a


def _k_filter(x: Float) -> Float:
    """Return x through the K-weighting filter."""
    from scipy.signal import lfilter

    sb, sa, hb, ha = _k_weighting()
    return np.asarray(lfilter(hb, ha, lfilter(sb, sa, x)), dtype=np.float64)


def _gated(k: Float) -> float:
    """Return the gated integrated loudness of an already K-weighted signal."""
    hop = SAMPLE_RATE // 10  # 100 ms: blocks of 400 ms overlap by 75 %
    n = len(k) // hop
    if n < 4:
        return -math.inf
    power = np.square(k[: n * hop]).reshape(n, hop).mean(axis=1)
    blocks = (power[:-3] + power[1:-2] + power[2:-1] + power[3:]) / 4
    with np.errstate(divide="ignore"):
        level = -0.691 + 10 * np.log10(blocks)
    gated = blocks[level > -70.0]
    if not len(gated):
        return -math.inf
    relative = -0.691 + 10 * math.log10(float(gated.mean())) - 10.0
    gated = blocks[(level > -70.0) & (level > relative)]
    return -0.691 + 10 * math.log10(float(gated.mean()))


def loudness_lufs(x: Float) -> float:
    """Return the integrated loudness (ITU-R BS.1770-4, gated) of float samples in [-1, 1].

    Vectorised (pyloudnorm loops over blocks in Python, too slow for the gain search below).
    """
    return _gated(_k_filter(x))


def _peaks(x: Float) -> Float:
    """Return the true-peak magnitude of each block of _BLOCK samples (4x oversampled).

    A 48-tap interpolator (12 taps a phase) as BS.1770-4 Annex 2 suggests for true peak.
    """
    from scipy.signal import firwin, upfirdn

    up = _LIMITER_OVERSAMPLE
    taps = firwin(12 * up, 1.0 / up) * up
    over = np.abs(upfirdn(taps, x, up=up))
    delay = (len(taps) - 1) // 2
    over = over[delay : delay + len(x) * up]
    n = -(-len(x) // _BLOCK)
    pad = n * _BLOCK * up - len(over)
    if pad:
        over = np.concatenate([over, np.zeros(pad)])
    return np.asarray(over.reshape(n, _BLOCK * up).max(axis=1), dtype=np.float64)


def true_peak_db(x: Float) -> float:
    """Return the true peak (4x oversampled) in dBTP."""
    peak = float(_peaks(x).max()) if len(x) else 0.0
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def _envelope(peaks: Float, ceiling: float, n: int) -> Float:
    """Return a smooth per-sample gain envelope keeping block ``peaks`` under ``ceiling``.

    Look-ahead limiting without recursion, on blocks of _BLOCK samples: the needed gain per
    block goes through a minimum filter (hold) and a box filter of half its width, which keeps
    the envelope at or below the needed gain everywhere while ramping over ~20 ms; it is then
    held per block, as every block's value is already below its neighbours' needs.
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    if need.min() >= 1.0:
        return np.ones(n)
    hold = max(3, int(_LIMITER_HOLD_S * SAMPLE_RATE / _BLOCK) | 1)
    env = minimum_filter1d(need, size=2 * hold + 1, mode="nearest")
    env = np.minimum(uniform_filter1d(env, size=hold, mode="nearest"), need)
    # Linear ramps between block centres: never above either block's value, and no steps.
    centres = np.arange(len(env)) * _BLOCK + _BLOCK / 2
    return np.asarray(np.interp(np.arange(n), centres, env), dtype=np.float64)


def limit(x: Float, ceiling_db: float) -> Float:
    """Return x with its true peak held under ``ceiling_db`` by a smooth gain envelope."""
    if not len(x):
        return x
    return np.asarray(x * _envelope(_peaks(x), 10 ** (ceiling_db / 20), len(x)))


def master(x: Float, target_lufs: float, ceiling_db: float) -> tuple[Float, float]:
    """Return x at ``target_lufs`` with its true peak under ``ceiling_db``, and the gain used.

    Limiting lowers loudness (espeak's peaks sit ~20 dB above its loudness), so the gain is
    found by a secant search on loudness-after-limiting, which is smooth and increasing in it.
    Peaks scale with the gain, so they are computed once; the limiter's envelope ramps over
    tens of ms, so K-weighting commutes with it closely enough to filter only once.
    """
    if not len(x) or not np.any(x):
        return x, 0.0
    k = _k_filter(x)
    base = _gated(k)
    if not math.isfinite(base):
        return x, 0.0
    peaks = _peaks(x)
    ceiling = 10 ** ((ceiling_db - _LIMITER_MARGIN_DB) / 20)

    def loud(gain_db: float) -> float:
        g = 10 ** (gain_db / 20)
        return _gated(k * (g * _envelope(peaks * g, ceiling, len(x))))

    g0, l0 = target_lufs - base, 0.0
    l0 = loud(g0)
    g1 = g0 + (target_lufs - l0)
    for _ in range(_MASTER_ROUNDS):
        if abs(target_lufs - l0) <= 0.02:
            break
        l1 = loud(g1)
        step = (target_lufs - l1) * (g1 - g0) / (l1 - l0) if l1 != l0 else 0.0
        g0, l0 = g1, l1
        g1 = g1 + min(max(step, -6.0), 12.0)  # keep a wild step from overshooting
    g = 10 ** (g0 / 20)
    return x * g * _envelope(peaks * g, ceiling, len(x)), g0


def build_chapter(
    speech: Sequence[Audio],
    pauses: Sequence[float],
    lead: float,
    target_lufs: float,
    ceiling_db: float,
) -> ChapterAudio:
    """Return one chapter's finished PCM: stitched, at the loudness target, peak-limited."""
    joined, placements = stitch(speech, pauses, lead)
    x = np.frombuffer(joined.raw_data, dtype="<i2").astype(np.float64) / 32768.0
    y, gain = master(x, target_lufs + ENCODER_LOUDNESS_LOSS_DB, ceiling_db)
    pcm = np.clip(np.round(y * 32768.0), -32768, 32767).astype("<i2").tobytes()
    return ChapterAudio(pcm=pcm, placements=placements, gain_db=gain)
