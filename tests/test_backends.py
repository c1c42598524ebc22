"""The backend registry and voices (issue 5): plugins, lazy imports, per-kind voices, say.

A third-party backend is a package that only declares a ``narrate.synth.backends`` entry point:
``tests/plugin/narrate-echo-backend`` is installed into a temporary folder and the real CLI finds
it there. The fake backend is registered by the tests alone; users never see it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from narrate.audio.master import finish
from narrate.content.load import load_article
from narrate.outputs.chapters import parse_vtt
from narrate.script import build_script
from narrate.settings.effective import resolve
from narrate.settings.load import load_settings
from narrate.settings.model import VoiceSettings
from narrate.synth import backends
from tests.audio_checks import SR, decode, onset_after, window_levels
from tests.fakes import FakeBackend, SlowBackend
from tests.helpers import ROOT, copy_site, excerpt, invoke, run_cli
from tests.id3_read import read_chapters

PLUGIN = ROOT / "tests" / "plugin" / "narrate-echo-backend"
SLUG = "imagenet"
ENGINE_MODULES = ("pyttsx3", "piper", "onnxruntime", "espeakng_loader", "narrate_echo")
SHORT = {SLUG: excerpt(SLUG, ("Introduction", "Notable Quotes", "Impact on AI"))}
"""The article cut to paragraphs and a quote in three chapters: all that a build here needs."""


def correlation(x: np.ndarray, ref: np.ndarray, max_lag: int = 441) -> float:
    """Return the peak normalised cross-correlation of ``ref`` within the first lags of ``x``."""
    n = len(ref)
    x = x[: n + 2 * max_lag]
    if len(x) < n:
        return 0.0
    # dots[k] = sum(x[k : k + n] * ref), k = 0 .. len(x) - n, through the FFT (a power of two
    # at least len(x) + n - 1 long, so nothing wraps around and the transform is fast).
    size = 1 << (len(x) + n - 2).bit_length()
    spectrum = np.fft.rfft(x, size) * np.fft.rfft(ref[::-1], size)
    dots = np.fft.irfft(spectrum, size)[n - 1 : len(x)]
    energy = np.concatenate([[0.0], np.cumsum(x**2)])
    window = np.sqrt(np.maximum(energy[n:] - energy[:-n], 1e-20))
    return float(np.max(dots / (window * np.sqrt(np.sum(ref**2)))))


# --- the registry, without engines -------------------------------------------------------------


def test_help_imports_no_engine(tmp_path: Path) -> None:
    code = (
        "import sys, runpy\n"
        "sys.argv = ['narrate'] + sys.argv[1:]\n"
        "try:\n"
        "    runpy.run_module('narrate', run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        f"loaded = sorted(m for m in {ENGINE_MODULES!r} if m in sys.modules)\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )
    for args in (["--help"], ["say", "--help"], ["voices", "--help"], ["build", "--help"]):
        result = run_cli(*args, cwd=tmp_path, python_code=code)
        assert result.returncode == 0, result.stderr
        assert "LOADED []" in result.stderr, (args, result.stderr)


def test_the_fake_backend_is_not_offered_to_users(tmp_path: Path) -> None:
    result = run_cli("voices", "--backend", "fake", cwd=tmp_path)
    assert result.returncode == 1
    assert "unknown backend 'fake'" in result.stderr
    assert "pyttsx3" in result.stderr and "piper" in result.stderr


def test_a_missing_extra_is_answered_with_the_pip_command(tmp_path: Path) -> None:
    # Hide piper as if the extra were not installed (None in sys.modules blocks an import).
    code = (
        "import sys\nsys.modules['piper'] = None\n"
        "sys.argv = ['narrate', 'voices', '--backend', 'piper']\n"
        "from narrate.cli import main\nmain()\n"
    )
    result = run_cli(cwd=tmp_path, python_code=code)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "narrate: error: backend 'piper' needs extra packages (piper): "
        "run  pip install 'narrate[piper]'"
    )


def test_unknown_voice_kind_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("say", "Hello.", "--kind", "footnote", cwd=tmp_path)
    assert result.returncode == 2
    assert "--kind 'footnote' is not a segment kind" in result.stderr


# --- a third-party backend: a package that only declares an entry point -------------------------


@pytest.fixture(scope="module")
def echo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Install the echo plugin into a temporary folder with pip (offline, no build tools)."""
    target = tmp_path_factory.mktemp("plugins")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--no-build-isolation", "--target", str(target), str(PLUGIN)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (target / "narrate_echo" / "__init__.py").is_file()
    return target


def test_a_plugin_is_found_through_its_entry_point(echo_path: Path, tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(echo_path)}
    result = run_cli("voices", "--backend", "echo", "--json", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"id": "echo-low", "name": "Echo Low (150 Hz)", "language": "en"},
        {"id": "echo-high", "name": "Echo High (300 Hz)", "language": "en"},
    ]
    listed = run_cli("voices", "--backend", "piper", cwd=tmp_path, env=env)
    assert "echo" in listed.stderr  # among "other backends"


def test_a_plugin_builds_an_article_with_chapters(echo_path: Path, tmp_path: Path) -> None:
    site = copy_site(tmp_path / "site", (), articles=SHORT)
    env = {"PYTHONPATH": str(echo_path)}
    result = run_cli(SLUG, "--backend", "echo", "--voice", "echo-high", cwd=site, env=env)
    assert result.returncode == 0, result.stderr
    audio = site / "audio"
    for suffix in (".mp3", ".chapters.json", ".chapters.vtt", ".transcript.vtt"):
        assert (audio / f"{SLUG}{suffix}").stat().st_size > 0
    article = load_article(site / "content" / f"{SLUG}.yaml")
    chapters = read_chapters(audio / f"{SLUG}.mp3")
    assert [c.title for c in chapters] == [article.title] + [s.heading for s in article.sections]
    js = json.loads((audio / f"{SLUG}.chapters.json").read_text())
    assert [round(c["startTime"] * 1000) for c in js["chapters"]] == [c.start_ms for c in chapters]
    samples = decode(audio / f"{SLUG}.mp3")
    levels = window_levels(samples)
    for ch in chapters[1:]:
        start = ch.start_ms / 1000
        assert start <= onset_after(levels, start - 1.0) <= start + 0.3, ch.title
    # The plugin speaks at 24 kHz; the build converted it: a 300 Hz tone, not 275.6 Hz.
    cue = parse_vtt((audio / f"{SLUG}.transcript.vtt").read_text())[3]
    x = samples[int(cue.start_ms * SR / 1000) : int(cue.end_ms * SR / 1000)]
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    assert abs(np.argmax(spectrum) * SR / len(x) - 300) < 3


# --- voices per segment kind, and switching backends (fake backend, real CLI in-process) -------


@pytest.fixture()
def fakes(fake_backends: None) -> Iterator[None]:
    backends.register("fake-b", SlowBackend)  # same cache token as "fake": a worst case
    yield
    backends.unregister("fake-b")


def build(site: Path, *args: str) -> str:
    """Build the article with the real CLI in-process; return its summary line."""
    result = invoke(["build", SLUG, *args], cwd=site)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_quotes_come_out_in_their_own_voice(
    fakes: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = copy_site(
        tmp_path,
        (),
        articles=SHORT,
        config_edits={"backend: pyttsx3": "backend: fake"},
        config_extra="\nkinds:\n  quote: {voice: fake-high, rate: 150}\n",
    )
    monkeypatch.delenv("NARRATE_CACHE_DIR", raising=False)
    out = build(site)
    assert "synthesised" in out
    settings = load_settings(site)
    article = load_article(site / "content" / f"{SLUG}.yaml")
    script = build_script(article, resolve(settings, article.settings))
    by_id = {seg.id: seg for seg in script.segments}
    quotes = [seg for seg in script.segments if seg.kind == "quote"]
    assert quotes and all(q.voice == VoiceSettings("fake", "fake-high", 150) for q in quotes)
    samples = decode(site / "audio" / f"{SLUG}.mp3")
    cues = parse_vtt((site / "audio" / f"{SLUG}.transcript.vtt").read_text())
    loud = settings.loudness
    checked = 0
    for cue in cues:
        seg = by_id[cue.id]
        if seg.kind not in ("quote", "paragraph") or checked > 12:
            continue
        # The published audio under the cue matches this voice's rendering, not the other's.
        other_voice = "en-us" if seg.kind == "quote" else "fake-high"
        other = VoiceSettings("fake", other_voice, seg.voice.rate)
        mine, theirs = (
            np.frombuffer(finish(FakeBackend().synthesise(seg.spoken, v),
                                 loud.integrated_lufs, loud.true_peak_db).pcm, "<i2") / 32768.0
            for v in (seg.voice, other)
        )  # fmt: skip
        start = max(0, int(cue.start_ms * SR / 1000) - 441)
        x = samples[start : start + len(mine) + 2 * 441]
        assert correlation(x, mine) > 0.9, cue.text
        assert correlation(x, theirs[: len(mine)]) < 0.5, cue.text
        checked += 1
    assert checked > 3


def test_switching_backend_never_reuses_the_other_backends_audio(
    fakes: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = copy_site(tmp_path, (), articles=SHORT)
    monkeypatch.delenv("NARRATE_CACHE_DIR", raising=False)
    monkeypatch.setenv("NARRATE_FAKE_DELAY", "0")
    article = load_article(site / "content" / f"{SLUG}.yaml")
    script = build_script(article, resolve(load_settings(site), article.settings))
    n = len(script.segments)
    out = build(site, "--backend", "fake")
    assert f"synthesised {n} of {n} sentences" in out
    # fake-b returns the very same cache token as fake: only the backend's name tells them apart.
    out = build(site, "--backend", "fake-b")
    assert f"synthesised {n} of {n} sentences" in out
    # Going back reuses the first backend's own sentences: switching does not evict them.
    out = build(site, "--backend", "fake")
    assert f"synthesised 0 of {n} sentences" in out


# --- say ------------------------------------------------------------------------------------


def test_say_speaks_the_normalised_line_through_the_lexicon(fakes: None, tmp_path: Path) -> None:
    site = copy_site(tmp_path, config_edits={"backend: pyttsx3": "backend: fake"})
    out_wav = tmp_path / "line.wav"
    result = invoke(["say", "Fei-Fei Li built ILSVRC in 2007–2009.", "-o", str(out_wav)], site)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(out_wav)
    spoken = "Fei-Fei Lee built I L S V R C in 2007 to 2009."
    assert f"spoken: {spoken}" in result.stderr
    assert "voice: fake en-us at 160 wpm" in result.stderr
    with wave.open(str(out_wav), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2") / 32768.0
    # The engine's audio for exactly that text, mastered as a build masters it.
    loud = load_settings(site).loudness
    ref = np.frombuffer(
        finish(FakeBackend().synthesise(spoken, VoiceSettings("fake", "en-us", 160)),
               loud.integrated_lufs, loud.true_peak_db).pcm, "<i2") / 32768.0  # fmt: skip
    assert correlation(x, ref, max_lag=int(0.3 * SR)) > 0.99
    assert abs(len(x) / SR - (0.2 + len(ref) / SR + 1.5)) < 0.05  # lead, speech, end pause


def test_say_uses_the_voice_of_a_segment_kind(fakes: None, tmp_path: Path) -> None:
    site = copy_site(
        tmp_path,
        config_edits={"backend: pyttsx3": "backend: fake"},
        config_extra="\nkinds:\n  quote: {voice: q}\n",
    )
    result = invoke(["say", "Hello there.", "--kind", "quote", "--no-play"], site)
    assert result.exit_code == 0, result.stderr
    assert "voice: fake q at 160 wpm" in result.stderr
    path = Path(result.stdout.strip())
    try:
        assert path.suffix == ".wav" and path.stat().st_size > 10_000
    finally:
        path.unlink()
