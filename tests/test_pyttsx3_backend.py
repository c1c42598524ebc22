"""The pyttsx3/espeak-ng backend: engine-free checks, then the real engine (``e2e``)."""

from __future__ import annotations

import ctypes.util
import json
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from narrate.errors import BackendError, EnvironmentProblem
from narrate.settings.model import VoiceSettings
from narrate.synth.backends.base import Audio, Backend
from narrate.synth.backends.pyttsx3 import Pyttsx3Backend, _check_duration, engine_info
from tests.helpers import ROOT, run_cli

SENTENCES = [
    "ImageNet is a large-scale dataset of labeled images.",
    "The images were collected from the internet and annotated by human workers.",
]


def words(text: str) -> int:
    return len(text.split())


def rms_dbfs(audio: Audio) -> float:
    x = np.frombuffer(audio.pcm, dtype="<i2").astype(float) / 32768
    return float(20 * np.log10(np.sqrt(np.mean(x**2)) + 1e-12))


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (espeak-ng's state is per process)."""
    return run_cli(cwd=ROOT, env=env, python_code=textwrap.dedent(code), timeout=60)


@pytest.fixture(scope="module")
def backend() -> Iterator[Pyttsx3Backend]:
    b = Pyttsx3Backend()
    yield b
    b.close()


# --- without synthesis ----------------------------------------------------------------------


def test_satisfies_the_protocol() -> None:
    assert isinstance(Pyttsx3Backend(), Backend)
    assert Pyttsx3Backend.name == "pyttsx3"


def test_cache_token_covers_engine_library_voice_and_rate() -> None:
    b = Pyttsx3Backend()
    token = b.cache_token(VoiceSettings())
    assert "pyttsx3 2.99" in token
    assert "espeak-ng 1.52.0" in token
    assert "bundled espeakng-loader 0.2.4" in token
    assert "voice en-us" in token and "rate 160" in token and "word gap 2" in token
    assert b.cache_token(VoiceSettings(rate=161)) != token
    assert b.cache_token(VoiceSettings(voice="en")) != token


def test_constructing_and_cache_token_start_no_engine() -> None:
    # The worker pool's parent makes cache tokens: that must not start espeak-ng (its thread
    # would be inherited by anything forked later) nor import pyttsx3's driver.
    result = run_python(
        """
        import os, sys
        from narrate.synth.backends.pyttsx3 import Pyttsx3Backend
        from narrate.settings.model import VoiceSettings
        Pyttsx3Backend().cache_token(VoiceSettings())
        print(len(os.listdir("/proc/self/task")), "pyttsx3.drivers._espeak" in sys.modules)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "False"]


def test_unknown_engine_switch_is_an_environment_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NARRATE_ESPEAK", "homebrew")
    with pytest.raises(EnvironmentProblem, match="NARRATE_ESPEAK='homebrew'"):
        Pyttsx3Backend()


def test_missing_system_library_says_what_to_install() -> None:
    result = run_python(
        """
        import narrate.synth.backends.espeak as lib
        import narrate.synth.backends.pyttsx3 as m
        from narrate.settings.model import VoiceSettings
        from narrate.errors import EnvironmentProblem
        lib.SYSTEM_SONAME = "libespeak-ng-not-here.so.1"  # as on a machine without libespeak-ng1
        try:
            m.Pyttsx3Backend().cache_token(VoiceSettings())
        except EnvironmentProblem as exc:
            print(exc)
        """,
        NARRATE_ESPEAK="system",
    )
    assert result.returncode == 0, result.stderr
    assert "apt-get install libespeak-ng1" in result.stdout
    assert "unset NARRATE_ESPEAK" in result.stdout


def test_incomplete_data_folder_is_reported_instead_of_exiting(tmp_path: Path) -> None:
    # Without the check espeak_Initialize() calls exit(1): the process would vanish silently.
    result = run_python(
        f"""
        import espeakng_loader
        espeakng_loader.get_data_path = lambda: {str(tmp_path)!r}
        from narrate.synth.backends.pyttsx3 import Pyttsx3Backend
        from narrate.settings.model import VoiceSettings
        from narrate.errors import EnvironmentProblem
        try:
            Pyttsx3Backend().synthesise("Hello.", VoiceSettings())
        except EnvironmentProblem as exc:
            print(exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "incomplete" in result.stdout and "phontab" in result.stdout


@pytest.mark.parametrize("text", ["", " ", "\n\t "])
def test_blank_text_is_refused(text: str) -> None:
    with pytest.raises(BackendError, match="nothing to speak"):
        Pyttsx3Backend().synthesise(text, VoiceSettings())


@pytest.mark.parametrize("rate", [79, 451])
def test_rate_outside_espeak_range_is_refused(rate: int) -> None:
    # espeak-ng would silently clamp it.
    with pytest.raises(BackendError, match="outside espeak-ng's range"):
        Pyttsx3Backend().synthesise("Hello.", VoiceSettings(rate=rate))


def test_truncated_audio_is_caught() -> None:
    text = " ".join(["word"] * 20)  # ~7.5 s at 160 wpm
    _check_duration(Audio(b"\0\0" * 22050 * 7, 22050), text, 160)
    with pytest.raises(BackendError, match="truncated"):
        _check_duration(Audio(b"\0\0" * 22050 * 2, 22050), text, 160)


# --- the real engine ------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("text", SENTENCES)
def test_speaks_a_sentence(
    backend: Pyttsx3Backend, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    audio = backend.synthesise(text, VoiceSettings())
    assert audio.sample_rate == 22050
    nominal = words(text) * 60 / 160
    assert 0.7 * nominal <= audio.duration <= 1.5 * nominal + 0.5  # + espeak's end pause
    assert rms_dbfs(audio) > -35
    # pyttsx3 prints "Audio saved to ..."; narrate's stdout is for command output.
    assert capsys.readouterr().out == ""


@pytest.mark.e2e
def test_slower_rate_gives_longer_audio(backend: Pyttsx3Backend) -> None:
    slow = backend.synthesise(SENTENCES[1], VoiceSettings(rate=120))
    fast = backend.synthesise(SENTENCES[1], VoiceSettings(rate=220))
    assert slow.duration > 1.5 * fast.duration  # 220/120 = 1.83 for the speech itself


@pytest.mark.e2e
def test_the_word_gap_parts_every_word(
    backend: Pyttsx3Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from narrate.synth.backends import pyttsx3

    text = "one two three four five six seven eight nine ten eleven twelve"
    gapped = backend.synthesise(text, VoiceSettings())  # forked: the child reads the constant
    monkeypatch.setattr(pyttsx3, "WORD_GAP", 0)
    plain = backend.synthesise(text, VoiceSettings())
    per_gap = (gapped.duration - plain.duration) / 11
    assert 0.02 <= per_gap <= 0.1, per_gap  # measured 64 ms at 160 wpm
    assert len(gapped.words) == len(plain.words) == 12


@pytest.mark.e2e
def test_voice_changes_the_sound(backend: Pyttsx3Backend) -> None:
    american = backend.synthesise(SENTENCES[0], VoiceSettings(voice="en-us"))
    british = backend.synthesise(SENTENCES[0], VoiceSettings(voice="en"))  # espeak's default
    assert american.pcm != british.pcm
    assert american.duration != british.duration


@pytest.mark.e2e
def test_settings_alternating_every_call_are_all_applied(backend: Pyttsx3Backend) -> None:
    # The espeak_Cancel race dropped queued rate changes and cut files short under load.
    durations: dict[int, list[float]] = {120: [], 220: []}
    for i in range(12):
        rate = (120, 220)[i % 2]
        durations[rate].append(backend.synthesise(SENTENCES[1], VoiceSettings(rate=rate)).duration)
    for values in durations.values():
        assert max(values) - min(values) < 0.01 * min(values)
    assert min(durations[120]) > 1.5 * max(durations[220])


@pytest.mark.e2e
def test_unknown_voice_names_it_and_a_close_match(backend: Pyttsx3Backend) -> None:
    with pytest.raises(BackendError, match=r"unknown pyttsx3 voice 'en-uss'.*'en-us'"):
        backend.synthesise("Hello.", VoiceSettings(voice="en-uss"))


@pytest.mark.e2e
def test_voice_variants(backend: Pyttsx3Backend) -> None:
    assert backend.synthesise("Hello.", VoiceSettings(voice="en-us+f3")).frames > 0
    with pytest.raises(BackendError, match=r"variant 'F3'.*'en-us\+f3'"):
        backend.synthesise("Hello.", VoiceSettings(voice="en-us+F3"))


@pytest.mark.e2e
def test_voices(backend: Pyttsx3Backend) -> None:
    voices = {v.id: v for v in backend.voices()}
    assert voices["en-us"].name == "English (America)"
    assert voices["en-us"].language == "en-us"
    assert "en" in voices


@pytest.mark.e2e
def test_synthesis_writes_no_file() -> None:
    # pyttsx3 loops forever when it cannot save its WAV file (a full disk, a missing folder):
    # the audio stays in memory, so even a file-size limit of 0 bytes cannot hang the engine.
    result = run_python(
        """
        import resource, signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        from narrate.synth.backends.pyttsx3 import Pyttsx3Backend
        from narrate.settings.model import VoiceSettings
        print(Pyttsx3Backend().synthesise("Hello with no disk.", VoiceSettings()).frames)
        """
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 22050 // 2


@pytest.mark.e2e
def test_engine_info() -> None:
    info = engine_info()
    assert info["library"] == "bundled"
    assert info["espeak-ng version"] == "1.52.0"
    assert info["pyttsx3 version"] == "2.99"
    assert Path(info["library path"]).is_file()
    assert (Path(info["data path"]) / "phontab").is_file()


@pytest.mark.e2e
@pytest.mark.skipif(ctypes.util.find_library("espeak-ng") is None, reason="no system espeak-ng")
def test_system_library_opt_in() -> None:
    result = run_python(
        """
        import json
        from narrate.synth.backends.pyttsx3 import Pyttsx3Backend, engine_info
        from narrate.settings.model import VoiceSettings
        b = Pyttsx3Backend()
        audio = b.synthesise("Hello from the system library.", VoiceSettings())
        print(json.dumps([engine_info(), b.cache_token(VoiceSettings()), audio.duration]))
        """,
        NARRATE_ESPEAK="system",
    )
    assert result.returncode == 0, result.stderr
    info, token, duration = json.loads(result.stdout)
    assert info["library"] == "system"
    assert "(system)" in token and token != Pyttsx3Backend().cache_token(VoiceSettings())
    assert duration > 1.0
