"""The backend registry and voices (issue 5): plugins, lazy imports, per-kind voices, say.

A third-party backend is a package that only declares a ``narrate.backends`` entry point:
``tests/plugin/narrate-echo-backend`` is installed into a temporary folder and the real CLI finds
it there. The fake backend is registered by the tests alone; users never see it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from narrate import backends, cli
from narrate.assemble import finish
from narrate.chapters import parse_vtt
from narrate.config import VoiceSettings
from narrate.content import load_article
from narrate.script import build_script
from narrate.settings_file import load_settings
from narrate.tags import read_chapters
from tests.audio_checks import SR, decode, onset_after, window_levels
from tests.fakes import FakeBackend, SlowBackend

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "tests" / "plugin" / "narrate-echo-backend"
SLUG = "imagenet"
ENGINE_MODULES = ("pyttsx3", "piper", "onnxruntime", "espeakng_loader", "narrate_echo")


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, python_code: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI (or ``python_code``) in a fresh interpreter, as a user would."""
    environ = {**os.environ, **(env or {})}
    environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (environ.get("PYTHONPATH", ""), str(ROOT)) if p
    )
    cmd = [sys.executable, "-c", python_code] if python_code else [sys.executable, "-m", "narrate"]
    return subprocess.run(
        [*cmd, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=environ,
        timeout=300,
    )


def make_site(root: Path, config_edits: dict[str, str] | None = None, extra: str = "") -> Path:
    """Copy the repository's config and content into ``root``, editing the config text."""
    (root / "content").mkdir(parents=True)
    shutil.copy(ROOT / "content" / f"{SLUG}.yaml", root / "content" / f"{SLUG}.yaml")
    cfg = (ROOT / "narrate.yaml").read_text()
    for old, new in (config_edits or {}).items():
        assert old in cfg, old
        cfg = cfg.replace(old, new)
    (root / "narrate.yaml").write_text(cfg + extra)
    return root


def correlation(x: np.ndarray, ref: np.ndarray, max_lag: int = 441) -> float:
    """Return the peak normalised cross-correlation of ``ref`` within the first lags of ``x``."""
    from scipy.signal import correlate

    n = len(ref)
    x = x[: n + 2 * max_lag]
    if len(x) < n:
        return 0.0
    dots = correlate(x, ref, mode="valid", method="fft")
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
    site = make_site(tmp_path / "site")
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
def fakes() -> Iterator[None]:
    backends.register("fake", FakeBackend)
    backends.register("fake-b", SlowBackend)  # same cache token as "fake": a worst case
    cli.COMMANDS = cli._command_names()
    yield
    backends.unregister("fake")
    backends.unregister("fake-b")


def build(*args: str) -> str:
    """Build the article with the real CLI in-process; return its summary line."""
    result = CliRunner().invoke(cli.app, ["build", SLUG, *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_quotes_come_out_in_their_own_voice(
    fakes: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(
        tmp_path,
        {"backend: pyttsx3": "backend: fake"},
        extra="\nkinds:\n  quote: {voice: fake-high, rate: 150}\n",
    )
    monkeypatch.chdir(site)
    monkeypatch.delenv("NARRATE_CACHE_DIR", raising=False)
    out = build()
    assert "synthesised" in out
    settings = load_settings(site)
    script = build_script(load_article(site / "content" / f"{SLUG}.yaml"), settings)
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
    site = make_site(tmp_path)
    monkeypatch.chdir(site)
    monkeypatch.delenv("NARRATE_CACHE_DIR", raising=False)
    monkeypatch.setenv("NARRATE_FAKE_DELAY", "0")
    script = build_script(load_article(site / "content" / f"{SLUG}.yaml"), load_settings(site))
    n = len(script.segments)
    out = build("--backend", "fake")
    assert f"synthesised {n} of {n} sentences" in out
    # fake-b returns the very same cache token as fake: only the backend's name tells them apart.
    out = build("--backend", "fake-b")
    assert f"synthesised {n} of {n} sentences" in out
    # Going back reuses the first backend's own sentences: switching does not evict them.
    out = build("--backend", "fake")
    assert f"synthesised 0 of {n} sentences" in out


# --- say ------------------------------------------------------------------------------------


def test_say_speaks_the_normalised_line_through_the_lexicon(
    fakes: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(tmp_path, {"backend: pyttsx3": "backend: fake"})
    monkeypatch.chdir(site)
    out_wav = tmp_path / "line.wav"
    result = CliRunner().invoke(
        cli.app, ["say", "Fei-Fei Li built ILSVRC in 2007–2009.", "-o", str(out_wav)]
    )
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


def test_say_uses_the_voice_of_a_segment_kind(
    fakes: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = make_site(
        tmp_path, {"backend: pyttsx3": "backend: fake"}, extra="\nkinds:\n  quote: {voice: q}\n"
    )
    monkeypatch.chdir(site)
    result = CliRunner().invoke(cli.app, ["say", "Hello there.", "--kind", "quote", "--no-play"])
    assert result.exit_code == 0, result.stderr
    assert "voice: fake q at 160 wpm" in result.stderr
    path = Path(result.stdout.strip())
    try:
        assert path.suffix == ".wav" and path.stat().st_size > 10_000
    finally:
        path.unlink()
