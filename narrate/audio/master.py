"""From engine output to a finished sentence: trim, then master (loudness, true peak).

Every sentence is mastered on its own (loudness to the target, true peak under the ceiling), so
its finished audio depends on nothing else in the article: it is cached, and an edit re-masters
only the new sentences. Chunks are then plain concatenations of finished sentences and exact
silences (:mod:`narrate.audio.chunk`), which is what lets a rebuild reuse unchanged ones.

The signal processing is plain numpy (no scipy: importing it costs more than mastering an
edited paragraph).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt

from narrate.audio.segments import segment
from narrate.pcm import SAMPLE_RATE, Audio, WordMark, marks_inside

"""Every sentence is mastered and every chapter assembled at this rate."""
SILENCE_DBFS = -50.0
"""Below this (RMS over 5 ms) an engine's leading and trailing output is trimmed."""
ENCODER_LOUDNESS_LOSS_DB = 0.4
"""How much quieter limited speech measures after LAME encoding (-q 3, 64 kb/s, 22.05 kHz).

Measured with ffmpeg's ebur128 on mastered espeak-ng speech: -16.0 LUFS in the PCM became -16.4
to -16.5 in the MP3 (unlimited speech loses only 0.03). Mastering aims this much higher so the
published MP3 lands on the target; tests/test_e2e.py measures the MP3 itself.
"""
LIMITER_MARGIN_DB = 1.5
"""Limit this far below the true-peak ceiling: MP3 encoding adds overshoot."""
MAX_LIMITING_DB = 12.0
"""At most this much gain beyond plain gain: espeak-ng needs ~6-9 dB of limiting to reach -16
LUFS under -1 dBTP; a signal that would need more (no sharp peaks) stays at the best reachable."""

_TRIM_WINDOW = SAMPLE_RATE // 200  # 5 ms
_EDGE_S = 0.010  # keep this much of the engine's fade on each side of the speech
_OVERSAMPLE = 4
"""True peak is estimated at 4x, as BS.1770-4 does (2x was tried: the MP3 then peaked at -0.9)."""
_BLOCK = 32
"""Limiter envelope resolution in samples (1.45 ms; its ramps last ~20 ms)."""
_HOLD_BLOCKS = int(0.020 * SAMPLE_RATE / _BLOCK) | 1
_ROUNDS = 8

Float = npt.NDArray[np.float64]


# Trimming -------------------------------------------------------------------------------------


def to_float(audio: Audio) -> Float:
    """Return the audio as float samples in [-1, 1] at SAMPLE_RATE."""
    if audio.sample_rate != SAMPLE_RATE:
        pcm = segment(audio.pcm, audio.sample_rate).set_frame_rate(SAMPLE_RATE).raw_data
    else:
        pcm = audio.pcm
    return np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0


def trim(x: Float) -> Float:
    """Return the speech with the engine's own leading and trailing silence removed."""
    start, end = speech_bounds(x)
    return x[start:end]


def speech_bounds(x: Float) -> tuple[int, int]:
    """Return where :func:`trim` cuts: the first and past-the-last sample it keeps."""
    n = len(x) // _TRIM_WINDOW
    if n == 0:
        return 0, len(x)
    rms = np.sqrt(np.mean(np.square(x[: n * _TRIM_WINDOW]).reshape(n, _TRIM_WINDOW), axis=1))
    loud = np.nonzero(rms > 10 ** (SILENCE_DBFS / 20))[0]
    if not len(loud):
        return 0, len(x)  # all silence: keep it whole rather than drop a sentence
    edge = int(_EDGE_S * SAMPLE_RATE)
    start = max(0, int(loud[0]) * _TRIM_WINDOW - edge)
    end = min(len(x), (int(loud[-1]) + 1) * _TRIM_WINDOW + edge)
    return start, end


def shift_words(
    words: tuple[WordMark, ...], rate: int, start: int, frames: int
) -> tuple[WordMark, ...]:
    """Return word marks made at ``rate`` as offsets into the trimmed audio (at SAMPLE_RATE).

    ``start`` is where the trim began and ``frames`` how many samples it kept: a word that
    began in the trimmed-off silence starts at 0, one past the end at the last sample.
    """
    return marks_inside(((w.start * SAMPLE_RATE // rate - start, w.text) for w in words), frames)


# Loudness (ITU-R BS.1770-4) -------------------------------------------------------------------


def _biquads() -> list[tuple[tuple[float, float, float], tuple[float, float, float]]]:
    """Return the K-weighting biquads (shelf, high-pass) as (b, a) for SAMPLE_RATE.

    The analogue prototypes of libebur128 (which ffmpeg's ebur128 filter shares), discretised
    for any rate, so this measurement agrees with ffmpeg's measurement of the final MP3.
    """
    fs = SAMPLE_RATE
    k = math.tan(math.pi * 1681.974450955533 / fs)
    q = 0.7071752369554196
    vh = 10 ** (3.999843853973347 / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = ((vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0)
    shelf_a = (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0)
    k = math.tan(math.pi * 38.13547087602444 / fs)
    q = 0.5003270373238773
    a0 = 1 + k / q + k * k
    hp = (1.0, -2.0, 1.0)
    hp_a = (1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0)
    return [(shelf, shelf_a), (hp, hp_a)]


@functools.lru_cache(maxsize=1)
def _k_impulse() -> Float:
    """Return the K-weighting chain's impulse response, long enough to have died away."""
    n = 1 << 13  # 0.37 s: the 38 Hz high-pass has decayed below 1e-6 by then
    y = [0.0] * n
    y[0] = 1.0
    for (b0, b1, b2), (_, a1, a2) in _biquads():
        x, y = y, [0.0] * n
        x1 = x2 = y1 = y2 = 0.0
        for i in range(n):
            v = b0 * x[i] + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
            x2, x1, y2, y1 = x1, x[i], y1, v
            y[i] = v
    return np.asarray(y, dtype=np.float64)


def _fft_size(n: int) -> int:
    """Return the smallest 2^a * 3^b * 5^c >= n (fast for FFTs, up to 2x smaller than 2^k)."""
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < n:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best


def _k_filter(x: Float) -> Float:
    """Return x through the K-weighting filter (FFT convolution with its impulse response)."""
    h = _k_impulse()
    size = _fft_size(len(x) + len(h) - 1)
    y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)
    return np.asarray(y[: len(x)], dtype=np.float64)


def _gated(powers: Float) -> float:
    """Return the gated loudness from the mean square of consecutive 100 ms hops."""
    n = len(powers)
    if n == 0:
        return -math.inf
    if n < 4:  # shorter than one 400 ms block: measure what there is
        blocks = np.array([powers.mean()])
    else:
        blocks = (powers[:-3] + powers[1:-2] + powers[2:-1] + powers[3:]) / 4
    with np.errstate(divide="ignore"):
        level = -0.691 + 10 * np.log10(blocks)
    gated = blocks[level > -70.0]
    if not len(gated):
        return -math.inf
    relative = -0.691 + 10 * math.log10(float(gated.mean())) - 10.0
    gated = blocks[(level > -70.0) & (level > relative)]
    return -0.691 + 10 * math.log10(float(gated.mean()))


_HOP = SAMPLE_RATE // 10  # 100 ms: 400 ms blocks overlapping by 75 %


def _hop_powers(k: Float) -> Float:
    n = max(1, len(k) // _HOP) if len(k) >= _HOP else 0
    if n == 0:
        return np.array([float(np.mean(np.square(k)))]) if len(k) else np.zeros(0)
    return np.asarray(np.square(k[: n * _HOP]).reshape(n, _HOP).mean(axis=1))


def loudness_lufs(x: Float) -> float:
    """Return the integrated loudness (ITU-R BS.1770-4, gated) of float samples in [-1, 1]."""
    return _gated(_hop_powers(_k_filter(x)))


# True peak and limiting ----------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _interpolator() -> Float:
    """Return an interpolation filter with 12 taps a phase (as BS.1770-4 Annex 2 uses)."""
    taps = 12 * _OVERSAMPLE
    t = (np.arange(taps) - (taps - 1) / 2) / _OVERSAMPLE
    return np.asarray(np.sinc(t) * np.kaiser(taps, 5.0), dtype=np.float64)


def _block_peaks(x: Float) -> Float:
    """Return the true-peak magnitude (4x oversampled) of each block of _BLOCK samples."""
    h = _interpolator()
    n = len(x)
    peak = np.abs(x)
    for phase in range(1, _OVERSAMPLE):
        taps = h[phase::_OVERSAMPLE]
        y = np.convolve(x, taps)
        delay = (len(taps) - 1) // 2
        peak = np.maximum(peak, np.abs(y[delay : delay + n]))
    blocks = -(-n // _BLOCK)
    padded = np.zeros(blocks * _BLOCK)
    padded[:n] = peak
    return np.asarray(padded.reshape(blocks, _BLOCK).max(axis=1))


def true_peak_db(x: Float) -> float:
    """Return the true peak (4x oversampled) in dBTP."""
    peak = float(_block_peaks(x).max()) if len(x) else 0.0
    return 20 * math.log10(peak) if peak > 0 else -math.inf


def _block_envelope(peaks: Float, ceiling: float) -> Float:
    """Return a smooth per-block gain keeping block ``peaks`` under ``ceiling``.

    Look-ahead limiting without recursion: the needed gain goes through a minimum filter (hold)
    and a box filter of half its width, which keeps it at or below the need everywhere while
    ramping over ~20 ms.
    """
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    if need.min() >= 1.0:
        return need
    h = _HOLD_BLOCKS
    padded = np.pad(need, h, mode="edge")
    held = np.lib.stride_tricks.sliding_window_view(padded, 2 * h + 1).min(axis=1)
    c = np.concatenate([[0.0], np.cumsum(np.pad(held, h // 2, mode="edge"))])
    smooth = (c[h:] - c[:-h])[: len(need)] / h
    return np.asarray(np.minimum(smooth, need))


def _expand(env: Float, n: int) -> Float:
    """Return a per-sample envelope: linear ramps between block centres (never above either)."""
    centres = np.arange(len(env)) * _BLOCK + _BLOCK / 2
    return np.asarray(np.interp(np.arange(n), centres, env))


def master(x: Float, target_lufs: float, ceiling_db: float) -> tuple[Float, float]:
    """Return x at ``target_lufs`` with its true peak under ``ceiling_db``, and the gain used.

    Limiting lowers loudness (espeak's peaks sit ~20 dB above its loudness), so the gain is
    found by a secant search on loudness-after-limiting. Peaks scale with the gain and the
    envelope is smooth at block scale, so each round works on block energies only.
    """
    if not len(x) or not np.any(x):
        return x, 0.0
    k = _k_filter(x)
    base = _gated(_hop_powers(k))
    if not math.isfinite(base):
        return x, 0.0
    peaks = _block_peaks(x)
    blocks = len(peaks)
    energy = np.zeros(blocks * _BLOCK)
    energy[: len(k)] = np.square(k)
    block_energy = energy.reshape(blocks, _BLOCK).sum(axis=1)
    per_hop = _HOP // _BLOCK  # hops of 68 blocks (98.7 ms): close enough to 100 ms for a search
    ceiling = 10 ** ((ceiling_db - LIMITER_MARGIN_DB) / 20)

    def loud(gain_db: float) -> float:
        g = 10 ** (gain_db / 20)
        e = block_energy * np.square(g * _block_envelope(peaks * g, ceiling))
        m = len(e) // per_hop
        if m == 0:
            return _gated(np.array([e.sum() / len(x)]))
        return _gated(e[: m * per_hop].reshape(m, per_hop).sum(axis=1) / (per_hop * _BLOCK))

    g0 = target_lufs - base
    # Limiting can only add so much loudness: a signal without sharp peaks (a steady tone) has
    # nothing to shave, and chasing the target would raise its quiet parts without bound.
    # Never push more than MAX_LIMITING_DB past plain gain; below that, the best reachable.
    cap = g0 + MAX_LIMITING_DB
    l0 = loud(g0)
    g1 = min(cap, g0 + (target_lufs - l0))
    for _ in range(_ROUNDS):
        if abs(target_lufs - l0) <= 0.02 or g1 == g0:
            break
        l1 = loud(g1)
        step = (target_lufs - l1) * (g1 - g0) / (l1 - l0) if l1 != l0 else 0.0
        g0, l0 = g1, l1
        g1 = min(cap, g1 + min(max(step, -6.0), 12.0))  # no wild step, never past the cap
    g = 10 ** (g0 / 20)
    return x * g * _expand(_block_envelope(peaks * g, ceiling), len(x)), g0


def finish(audio: Audio, target_lufs: float, ceiling_db: float) -> Audio:
    """Return one sentence trimmed and mastered, as 16-bit PCM at SAMPLE_RATE.

    Its word marks move with the trim (mastering changes levels, never times)."""
    x = to_float(audio)
    start, end = speech_bounds(x)
    y, _ = master(x[start:end], target_lufs + ENCODER_LOUDNESS_LOSS_DB, ceiling_db)
    pcm = np.clip(np.round(y * 32768.0), -32768, 32767).astype("<i2").tobytes()
    words = shift_words(audio.words, audio.sample_rate, start, end - start)
    return Audio(pcm=pcm, sample_rate=SAMPLE_RATE, words=words)
