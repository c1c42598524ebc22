"""Assembly unit tests on the fake backend's speech-like audio: trim, master, limit, stitch.

The end-to-end tests judge the final MP3 with ffmpeg; these pin each step on its own, fast.
"""

from __future__ import annotations

import numpy as np
import pytest

from narrate.audio.chunk import encode_chunk, stitch
from narrate.audio.master import (
    ENCODER_LOUDNESS_LOSS_DB,
    LIMITER_MARGIN_DB,
    MAX_LIMITING_DB,
    finish,
    loudness_lufs,
    master,
    to_float,
    trim,
    true_peak_db,
)
from narrate.audio.mp3 import SAMPLES_PER_FRAME, count_frames
from narrate.pcm import SAMPLE_RATE
from narrate.settings.model import VoiceSettings
from narrate.synth.backends.base import Audio
from tests.fakes import FakeBackend

SENTENCES = [
    "ImageNet is a large-scale dataset of labeled images.",
    "Introduction.",
    "The challenge included tasks such as image classification and object detection.",
]


def speech(text: str) -> Audio:
    return FakeBackend().synthesise(text, VoiceSettings("fake", "en-us", 160))


def samples(audio: Audio) -> np.ndarray:
    return np.frombuffer(audio.pcm, dtype="<i2").astype(np.float64) / 32768.0


@pytest.mark.parametrize("text", SENTENCES)
def test_finish_reaches_the_loudness_target_under_the_true_peak_ceiling(text: str) -> None:
    # The fake's steady tones have no sharp peaks to shave, so limiting cannot make them louder:
    # a target they reach by gain alone (espeak-ng's speech reaches -16: tests/test_e2e.py).
    raw = speech(text)
    done = finish(raw, -24.0, -1.0)
    x = samples(done)
    assert done.sample_rate == SAMPLE_RATE
    # Aimed above the target by what LAME is measured to take away.
    assert loudness_lufs(x) == pytest.approx(-24.0 + ENCODER_LOUDNESS_LOSS_DB, abs=0.15)
    assert true_peak_db(x) <= -1.0 - LIMITER_MARGIN_DB + 0.1
    # The engine's own leading and trailing silence is gone (10 ms of fade kept each side).
    assert len(x) < len(samples(raw)) - 0.15 * SAMPLE_RATE


def test_finish_sets_one_level_whatever_the_input_level() -> None:
    raw = speech(SENTENCES[0])
    quiet = Audio(pcm=(samples(raw) * 0.1 * 32768).astype("<i2").tobytes(), sample_rate=22050)
    a, b = samples(finish(raw, -24.0, -1.0)), samples(finish(quiet, -24.0, -1.0))
    assert loudness_lufs(a) == pytest.approx(loudness_lufs(b), abs=0.15)


def test_trim_keeps_all_silence_whole_rather_than_dropping_a_sentence() -> None:
    silent = np.zeros(SAMPLE_RATE)
    assert len(trim(silent)) == SAMPLE_RATE


def test_other_sample_rates_are_converted() -> None:
    raw = speech(SENTENCES[1])
    x = samples(raw)
    at_16k = np.interp(np.arange(0, len(x), 22050 / 16000), np.arange(len(x)), x)
    audio = Audio(pcm=(at_16k * 32768).astype("<i2").tobytes(), sample_rate=16000)
    assert len(to_float(audio)) == pytest.approx(len(x), rel=0.01)


def syllables() -> np.ndarray:
    """Return loud and quiet syllables in turn: what a limiter working at syllable scale (its
    envelope ramps over ~20 ms) can level, as it levels espeak-ng's stressed syllables."""
    t = np.arange(int(0.2 * SAMPLE_RATE)) / SAMPLE_RATE
    parts = []
    for i, level in enumerate([1.0, 0.25] * 6):
        tone = np.sin(2 * np.pi * (150 + 10 * i) * t)
        parts += [0.9 * level * np.hanning(len(t)) * tone, np.zeros(int(0.05 * SAMPLE_RATE))]
    return np.concatenate(parts)


def test_master_limits_peaks_to_reach_the_target() -> None:
    x = syllables()
    plain = -12.0 - loudness_lufs(x)
    # Plain gain to -12 LUFS would put the true peak above the ceiling.
    assert true_peak_db(x) + plain > -1.0 - LIMITER_MARGIN_DB
    y, gain = master(x, -12.0, -1.0)
    assert loudness_lufs(y) == pytest.approx(-12.0, abs=0.15)
    assert true_peak_db(y) <= -1.0 - LIMITER_MARGIN_DB + 0.1
    assert gain > plain + 3  # the limiter took the loud syllables down so the gain could rise


def test_master_never_chases_an_unreachable_target() -> None:
    # No amount of limiting brings a steady tone to -10 LUFS under -3 dBTP: the gain stops at
    # MAX_LIMITING_DB past plain gain (it once ran away to +92 dB), the peak stays capped.
    x = samples(speech(SENTENCES[2]))
    y, gain = master(x, -10.0, -3.0)
    assert gain <= (-10.0 - loudness_lufs(x)) + MAX_LIMITING_DB + 1e-9
    assert true_peak_db(y) <= -3.0 - LIMITER_MARGIN_DB + 0.1


def test_stitch_places_the_sentence_between_exact_silences() -> None:
    for text, lead, pause in zip(SENTENCES, (0.5, 0.0, 0.15), (0.45, 1.0, 1.5), strict=True):
        audio = finish(speech(text), -16.0, -1.0)
        pcm, place = stitch(audio, lead, pause)
        assert place.start == round(lead * SAMPLE_RATE)
        assert place.end - place.start == audio.frames
        assert pcm[place.start * 2 : place.end * 2] == audio.pcm
        assert pcm[: place.start * 2] == b"\0\0" * place.start
        assert len(pcm) // 2 == place.end + round(pause * SAMPLE_RATE)
        assert pcm[place.end * 2 :] == b"\0\0" * round(pause * SAMPLE_RATE)


def test_a_chunk_is_whole_frames_with_the_speech_where_placed() -> None:
    audio = finish(speech(SENTENCES[0]), -16.0, -1.0)
    chunk = encode_chunk(audio, 0.5, 0.45, 64)
    assert chunk.pcm_samples % SAMPLES_PER_FRAME == 0
    assert chunk.pcm_samples >= chunk.placement.end
    # LAME emits ceil(n / 576) + 2 frames for n samples (measured; see tests/test_encode.py).
    assert chunk.frames == count_frames(chunk.mp3) == chunk.pcm_samples // SAMPLES_PER_FRAME + 2


def test_stitch_refuses_unfinished_audio() -> None:
    with pytest.raises(ValueError):
        stitch(Audio(pcm=b"\0\0" * 100, sample_rate=16000), 0.0, 0.1)
