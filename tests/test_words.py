"""Word times: the engine's marks mapped to displayed words, carried to the published files.

Pure rules first (alignment, trim shift, the two transcript formats, the cache's check); then
a build with the marking fake, whose words are bursts at known samples, judged on the decoded
MP3; then the real espeak-ng engine, judged against speech onsets.
"""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from narrate.audio.master import finish, shift_words
from narrate.outputs.chapters import (
    Cue,
    displayed_words,
    parse_vtt,
    transcript_json,
    transcript_vtt,
)
from narrate.pcm import SAMPLE_RATE, Audio, WordMark
from narrate.pipeline.cache import Cache
from narrate.pipeline.words import word_starts
from narrate.settings.model import VoiceSettings
from tests.audio_checks import decode
from tests.helpers import copy_site, run_cli_ok


def marks(*pairs: tuple[int, str]) -> tuple[WordMark, ...]:
    return tuple(WordMark(at, text) for at, text in pairs)


# ---------------------------------------------------------------------------------------------
# Said words -> displayed words


def test_words_said_as_written_take_their_own_marks() -> None:
    said = marks((0, "Deep"), (900, "learning"), (2000, "won"))
    assert word_starts("Deep learning won.", said, 3000) == (0, 900, 2000)


def test_a_number_said_in_words_starts_with_the_first_of_them() -> None:
    said = marks((0, "In"), (300, "two"), (700, "thousand"), (1500, "nine"), (2000, "it"))
    assert word_starts("In 2009, it", said, 2500) == (0, 300, 2000)


def test_a_word_the_engine_split_takes_the_start_of_its_first_part() -> None:
    said = marks((0, "Image"), (500, "Net"), (900, "won"))
    assert word_starts("ImageNet won", said, 1200) == (0, 900)


def test_letters_said_one_by_one_and_a_split_word_each_find_their_run() -> None:
    said = marks(
        (0, "The"), *((100 * i, c) for i, c in enumerate("ILSVRC", 1)), (700, "Image"),
        (800, "Net"), (900, "Large"),
    )  # fmt: skip
    assert word_starts("The ILSVRC (ImageNet Large", said, 1000) == (0, 100, 700, 900)


def test_words_said_before_the_first_displayed_one_belong_to_it() -> None:
    # The timeline's "2007: ImageNet project" is said "In 2007, ImageNet project".
    said = marks((0, "In"), (150, "2007"), (900, "Image"), (1000, "Net"), (1300, "project"))
    assert word_starts("2007: ImageNet project", said, 2000) == (0, 900, 1300)


def test_words_without_a_mark_share_the_stretch_between_the_marks_around_them() -> None:
    # espeak-ng says "has been" but marks neither: they lie between "that" and "instrumental".
    said = marks((0, "that"), (11_612, "instrumental"))
    got = word_starts("that has been instrumental", said, 20_000)
    assert got[0] == 0 and got[3] == 11_612
    assert 0 < got[1] < got[2] < 11_612
    # by characters (that=5, has=4, been=5 of 14): has at 5/14, been at 9/14 of the stretch
    assert got[1:3] == (11_612 * 5 // 14, 11_612 * 9 // 14)


def test_unmarked_words_at_the_end_are_spread_up_to_the_end_of_the_audio() -> None:
    assert word_starts("one two three", marks((0, "one")), 1400) == (0, 400, 800)


def test_no_marks_means_no_word_times() -> None:
    assert word_starts("Estimated by the page.", (), 5000) == ()


@given(
    st.lists(st.sampled_from(["a", "bb", "2009", "—", "ImageNet", "x-y", "the"]), min_size=1),
    st.lists(st.tuples(st.integers(0, 50_000), st.sampled_from(["a", "bb", "two", "Net", "q"]))),
    st.integers(1, 60_000),
)
def test_every_displayed_word_gets_one_start_in_order_inside_the_audio(
    shown: list[str], said: list[tuple[int, str]], frames: int
) -> None:
    ordered = marks(*sorted((min(at, frames - 1), w) for at, w in said))
    got = word_starts(" ".join(shown), ordered, frames)
    if not ordered:
        assert got == ()
        return
    assert len(got) == len(shown)
    assert list(got) == sorted(got)
    assert 0 <= got[0] and got[-1] < max(frames, ordered[-1].start + 1)


# ---------------------------------------------------------------------------------------------
# Marks move with the audio


def test_marks_move_with_the_trim_and_convert_to_the_working_rate() -> None:
    made = marks((0, "a"), (4410, "b"), (44_100, "c"))  # at 44.1 kHz: 0, 0.1 s, 1 s
    shifted = shift_words(made, 44_100, start=1000, frames=20_000)
    assert [w.start for w in shifted] == [0, 2205 - 1000, 19_999]
    assert [w.text for w in shifted] == ["a", "b", "c"]


def test_mastering_keeps_each_mark_on_its_sound() -> None:
    quiet, tone = np.zeros(4410), 0.3 * np.sin(np.arange(2205) * 0.2)
    x = np.concatenate([quiet, tone, quiet, tone, quiet])
    pcm = np.round(x * 32767).astype("<i2").tobytes()
    audio = Audio(pcm, SAMPLE_RATE, marks((4410, "one"), (4410 + 2205 + 4410, "two")))
    done = finish(audio, -16.0, -1.0)
    y = np.frombuffer(done.pcm, dtype="<i2")
    for mark in done.words:  # each mark still opens a tone: silent before, loud after
        assert np.abs(y[mark.start : mark.start + 200]).max() > 1000
        assert np.abs(y[max(0, mark.start - 200) : mark.start]).max() < 100


# ---------------------------------------------------------------------------------------------
# The published formats

CUES = [
    Cue("s-1", 1_000, 3_000, "Dataset created, 2009", (1_000, 1_500, 1_500)),
    Cue("s-2", 3_500, 4_000, "Estimated words here"),
]


def test_the_vtt_carries_an_inline_timestamp_before_each_timed_word_after_the_first() -> None:
    text = transcript_vtt(CUES)
    assert "Dataset <00:00:01.500>created, 2009\n" in text  # same ms as before: none
    assert "Estimated words here\n" in text
    back = parse_vtt(text)
    assert [c.text for c in back] == [c.text for c in CUES]
    assert back[0].words == (1_000, 1_500) and back[1].words == ()


def test_the_json_transcript_has_a_segment_per_timed_word_and_per_untimed_sentence() -> None:
    data = json.loads(transcript_json(CUES))
    assert data["version"] == "1.0.0"
    assert [(s["startTime"], s["endTime"], s["body"]) for s in data["segments"]] == [
        (1.0, 1.5, "Dataset"),
        (1.5, 1.5, "created,"),
        (1.5, 3.0, "2009"),
        (3.5, 4.0, "Estimated words here"),
    ]


# ---------------------------------------------------------------------------------------------
# The cache keeps them, and refuses marks that cannot be


def test_the_cache_keeps_the_marks_with_the_audio(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    audio = Audio(b"\1\0" * 300, SAMPLE_RATE, marks((0, "one"), (120, "two")))
    cache.put_audio("k" * 64, audio)
    assert cache.get_audio("k" * 64) == audio


@pytest.mark.parametrize("bad", [[(200, "a"), (100, "b")], [(0, "a"), (300, "b")]])
def test_marks_out_of_order_or_outside_the_audio_are_never_stored(
    tmp_path: Path, bad: list[tuple[int, str]]
) -> None:
    cache = Cache(tmp_path / "cache")
    with pytest.raises(Exception, match="word mark at sample"):
        cache.put_audio("k" * 64, Audio(b"\1\0" * 300, SAMPLE_RATE, marks(*bad)))
    assert cache.get_audio("k" * 64) is None


# ---------------------------------------------------------------------------------------------
# A whole build with the marking fake: every word's time is its burst in the decoded MP3


def _loud_windows(x: np.ndarray, window: int = 55) -> np.ndarray:
    """Return the indices of the 2.5 ms windows of ``x`` above -40 dBFS."""
    n = len(x) // window
    rms = np.sqrt(np.mean(np.square(x[: n * window]).reshape(n, window), axis=1))
    return np.nonzero(rms > 0.01)[0]


def _onset(loud: np.ndarray, after: float, window: int = 55) -> float:
    """Return the start (s) of the first loud window at or after ``after``."""
    i = int(np.searchsorted(loud, int(after * SAMPLE_RATE) // window))
    return float(loud[i]) * window / SAMPLE_RATE


@pytest.mark.slow
def test_a_build_publishes_each_words_start_where_it_sounds(tmp_path: Path) -> None:
    site = copy_site(tmp_path / "site")
    run_cli_ok("imagenet", "--backend", "fake-words", cwd=site, fakes=True)
    audio = site / "audio"
    segments = json.loads((audio / "imagenet.transcript.json").read_text("utf-8"))["segments"]
    cues = parse_vtt((audio / "imagenet.transcript.vtt").read_text("utf-8"))
    assert [s["body"] for s in segments] == [w for c in cues for w in displayed_words(c.text)]
    loud = _loud_windows(decode(audio / "imagenet.mp3"))
    # A burst starts at its mark and swells (a 40 ms attack), so the level crosses the
    # threshold a few ms after the mark, never before; an encoder delay or a frame would
    # be 50 or 26 ms off.
    errors = [_onset(loud, s["startTime"] - 0.03) - s["startTime"] for s in segments]
    assert all(0 <= e <= 0.010 for e in errors), "a word's time is off its burst"
    record = json.loads((audio / "imagenet.build.json").read_text("utf-8"))
    assert record["timed_sentences"] == len(cues)
    # The page gets them exact: no sentence is estimated.
    fragment = run_cli_ok("embed", "imagenet", cwd=site, fakes=True).stdout
    assert re.search(r"<span [^>]*data-word-estimated", fragment) is None
    assert len(re.findall(r"data-w=", fragment)) == sum(
        1 for c in cues if len(displayed_words(c.text)) > 1
    )


# ---------------------------------------------------------------------------------------------
# The real engine


def _speech_onsets(audio: Audio) -> list[int]:
    """Return samples where sound starts after at least 50 ms of quiet (5 ms windows)."""
    x = np.frombuffer(audio.pcm, dtype="<i2").astype(float) / 32768
    win = 110
    n = len(x) // win
    loud = 20 * np.log10(np.sqrt(np.mean(x[: n * win].reshape(n, win) ** 2, axis=1)) + 1e-9) > -40
    found, quiet = [], 0
    for i, is_loud in enumerate(loud):
        if is_loud and quiet >= 10:
            found.append(i * win)
        quiet = 0 if is_loud else quiet + 1
    return found


@pytest.mark.e2e
def test_espeak_ng_marks_each_word_where_its_sound_starts() -> None:
    from narrate.synth.backends.pyttsx3 import Pyttsx3Backend

    text = "Alpha. Bravo. Delta. Echo. Mango. Zebra. Lima. Oscar."
    audio = Pyttsx3Backend().synthesise(text, VoiceSettings(voice="en-us", rate=175))
    assert [w.text for w in audio.words] == re.findall(r"\w+", text)
    onsets = _speech_onsets(audio)
    # every word after the first follows a full stop's pause: its onset is plain to see
    errors = [min(abs(w.start - o) for o in onsets) / SAMPLE_RATE for w in audio.words[1:]]
    assert statistics.median(errors) <= 0.020 and max(errors) <= 0.060, errors


@pytest.mark.e2e
def test_espeak_ng_marks_a_number_once_however_many_words_it_says_for_it() -> None:
    from narrate.synth.backends.pyttsx3 import Pyttsx3Backend

    text = "Created between 2007 and 2009, ImageNet became big."
    audio = Pyttsx3Backend().synthesise(text, VoiceSettings(voice="en-us", rate=175))
    said = [w.text for w in audio.words]
    assert said == ["Created", "between", "2007", "and", "2009", "Image", "Net", "became", "big"]
    shown = word_starts(text, audio.words, audio.frames)
    assert shown[5] == audio.words[5].start  # ImageNet: where "Image" begins


@pytest.mark.e2e
def test_espeak_ng_marks_arrive_through_the_forked_engine_and_in_process_alike() -> None:
    code = """
        import json, os
        from narrate.settings.model import VoiceSettings
        from narrate.synth.backends.pyttsx3 import Pyttsx3Backend
        v = VoiceSettings(voice="en-us", rate=175)
        forked = Pyttsx3Backend().synthesise("Ships sail at dawn, Jürgen said.", v)
        os.environ["NARRATE_ENGINE_FORK"] = "0"
        here = Pyttsx3Backend().synthesise("Ships sail at dawn, Jürgen said.", v)
        print(json.dumps([[w.text for w in a.words] for a in (forked, here)]))
    """
    from tests.test_pyttsx3_backend import run_python

    result = run_python(code)
    assert result.returncode == 0, result.stderr
    forked, here = json.loads(result.stdout)
    assert forked == here == ["Ships", "sail", "at", "dawn", "Jürgen", "said"]


def test_a_number_espeak_ng_expands_is_one_mark_at_its_place() -> None:
    from narrate.synth.backends.espeak_words import words_of

    given = "In 2009, ImageNet"
    events = [(0, 1, 2), (2952, 4, 4), (7400, 5, 4), (17089, 5, 4), (29559, 10, 5), (36471, 15, 3)]
    assert words_of(given, events) == [(0, "In"), (2952, "2009"), (29559, "Image"), (36471, "Net")]


def test_the_forked_engines_marks_survive_the_pipe_or_fail_in_one_line() -> None:
    from narrate.errors import BackendError
    from narrate.synth.backends.espeak_words import pack, unpack

    marks = [(0, "Jürgen"), (4000, "said")]
    assert unpack(pack(b"RIFF....", marks)) == (b"RIFF....", marks)
    with pytest.raises(BackendError, match="damaged word marks"):
        unpack(b"\0\0\0\0\0\0\0\x05[[1," + b"RIFF")
