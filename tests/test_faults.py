"""Every way a run can go wrong gives one line on stderr, a documented exit status, and leaves the
published files byte-identical.

Content and slug errors run in-process through typer's CliRunner. Faults run the real CLI in a
subprocess, as a user would, because a traceback printed by a worker process would not show in
CliRunner's output: a missing engine or encoder (made unimportable through ``PYTHONPATH``), an
engine that hangs, crashes or returns nothing (the fakes of ``tests/fakes.py``, registered by
``tests/run_with_fakes.py``), a full disk (a file-size limit, and a real full filesystem where
the test may mount one), Ctrl-C, ``kill -9`` and two runs at once (the real engine).
"""

from __future__ import annotations

import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from narrate import cli as narrate_cli
from narrate.outputs import publish as pub
from narrate.outputs.chapters import parse_vtt
from narrate.pipeline.cache import Cache
from tests.audio_checks import SR, decode
from tests.helpers import random_sentences
from tests.test_content import KEYS, SHAPES, YAML_CHARS

ROOT = Path(__file__).resolve().parent.parent
HELPER = Path(__file__).resolve().parent / "run_with_fakes.py"
SLUG = "imagenet"

SLOW_FIXTURES = ("built_site",)
"""Real-engine (or cluster) builds: every test using one is marked slow (tests/conftest.py)."""
PREFIX = "narrate: error: "


# --- helpers --------------------------------------------------------------------------------


def one_line(stderr: str) -> str:
    """Return the error message of a failed run, checking it is one line and no traceback."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(PREFIX), stderr
    return lines[0][len(PREFIX) :]


def published(audio: Path) -> dict[str, bytes]:
    """Return every published file of the audio folder (not the dot-files) by name."""
    if not audio.is_dir():
        return {}
    return {
        p.name: p.read_bytes()
        for p in sorted(audio.iterdir())
        if p.is_file() and not p.name.startswith(".")
    }


def leftovers(*folders: Path) -> list[Path]:
    """Return temporary files (``*.part``, ``*.tmp``) left anywhere under ``folders``."""
    return [
        p
        for folder in folders
        if folder.is_dir()
        for p in folder.rglob("*")
        if p.name.endswith((".part", ".tmp"))
    ]


def cache_files(site: Path) -> dict[str, int]:
    """Return the cache's files and sizes (to show a run did no work)."""
    base = site / ".cache"
    return {str(p.relative_to(base)): p.stat().st_size for p in base.rglob("*") if p.is_file()}


def cache_is_consistent(site: Path) -> int:
    """Check every cached sentence and chapter reads back valid; return how many there are."""
    cache = Cache(site / ".cache" / "narrate")
    n = 0
    for key, path in cache.entries():
        if path.parent.parent.name == "sentence":
            assert cache.get_audio(key) is not None, path
        else:
            assert cache.get_chunk(key) is not None, path
        n += 1
    return n


def assert_consistent_set(audio: Path, slug: str = SLUG) -> dict[str, object]:
    """Check the four outputs match their build record byte for byte; return the record."""
    record = pub.read_record(audio, slug)
    assert record is not None
    assert pub.outputs_intact(audio, slug, record) is None
    return record


def narrate(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    fakes: bool = False,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess (with the test fakes registered when ``fakes``)."""
    cmd = [sys.executable, str(HELPER)] if fakes else [sys.executable, "-m", "narrate"]
    return subprocess.run(
        [*cmd, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        timeout=300,
        preexec_fn=preexec_fn,
    )


def default_sigint() -> None:
    """Give a child Ctrl-C's default action even if this process ignores it (nohup, CI)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """Start the real CLI in its own process group (so a Ctrl-C can reach it and its workers)."""
    return subprocess.Popen(
        [sys.executable, "-m", "narrate", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        # An ignored SIGINT would be inherited, and the Ctrl-C tests would wait in vain.
        preexec_fn=default_sigint,
    )


def extend_article(site: Path, sentences: int, seed: int = 1) -> None:
    """Append a section of ``sentences`` new sentences to the ImageNet article (an edit)."""
    rng = random.Random(seed)
    vocab = (
        "images labels dataset network vision model research benchmark training error layers "
        "features category object scene annotation workers hierarchy challenge accuracy"
    ).split()
    paragraphs = []
    for _ in range(0, sentences, 10):
        paragraphs.append(
            " ".join("The " + " ".join(rng.choices(vocab, k=9)) + "." for _ in range(10))
        )
    path = site / "content" / f"{SLUG}.yaml"
    extra = "  - heading: Appendix\n    paragraphs:\n"
    extra += "".join(f"      - {p}\n" for p in paragraphs)
    path.write_text(path.read_text("utf-8").rstrip("\n") + "\n\n" + extra, "utf-8")


def seg_count(site: Path) -> int:
    base = site / ".cache" / "narrate" / "sentence"
    return sum(1 for _ in base.glob("*/*.entry")) if base.is_dir() else 0


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


# --- sites ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's site with the ImageNet article built by the real engine."""
    site = tmp_path_factory.mktemp("built")
    shutil.copy(ROOT / "narrate.yaml", site / "narrate.yaml")
    shutil.copytree(ROOT / "content", site / "content")
    result = narrate(SLUG, "-q", cwd=site)
    assert result.returncode == 0, result.stderr
    return site


@pytest.fixture
def site(built_site: Path, tmp_path: Path) -> Path:
    """A private copy of the built site (outputs, cache and all), so a test may break it."""
    copy = tmp_path / "site"
    shutil.copytree(built_site, copy)
    return copy


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run the CLI in-process; ``narrate.cli.main()`` would fill COMMANDS, so do it here."""
    monkeypatch.delenv("NARRATE_DEBUG", raising=False)
    runner = CliRunner()

    def run(*args: str) -> Result:
        result = runner.invoke(narrate_cli.app, list(args))
        # A traceback would surface here as an exception other than the exit.
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        return result

    return run


# --- 1. content errors ----------------------------------------------------------------------

SECTION = "format: 1\ntitle: T\nsummary: S\nsections:\n  - heading: H\n"

CONTENT_ERRORS = [
    # (id, file bytes, the exact message after the path)
    (
        "malformed YAML",
        b"format: 1\ntitle: a: b\n",
        ":2:9: invalid YAML: mapping values are not allowed here; check the indentation, and put "
        "text that contains ': ' or ' #', or starts with one of [ ] { } & * ! | > ' \" % @ `, "
        "in quotes",
    ),
    (
        "empty file",
        b"",
        ": the file is empty; an article starts with `format: 1` "
        "(`narrate init` writes an example)",
    ),
    (
        "not UTF-8",
        b"format: 1\ntitle: Caf\xe9\n",
        ":2:11: not valid UTF-8: byte 0xe9 at byte offset 20; save the file as UTF-8",
    ),
    (
        "unknown key",
        b"format: 1\ntitel: T\n",
        ":2:1: titel: unknown field `titel`; did you mean `title`? allowed here: date, era, "
        "event, format, people, sections, settings, summary, title, year",
    ),
    (
        "wrong type",
        b"format: 1\ntitle: [a, b]\n",
        ":2:8: title: expected text (title), got a list",
    ),
    (
        "missing title",
        b"format: 1\nsummary: S\nsections:\n  - {heading: H, items: [a]}\n",
        ":1:1: title: missing; add `title:` here",
    ),
    (
        "empty section",
        SECTION.encode(),
        ":5:5: sections[0]: section 'H' has no content; add paragraphs:, quotes:, timeline: "
        "or items:",
    ),
    (
        "quote without text",
        (SECTION + "    quotes:\n      - author: Fei-Fei Li\n").encode(),
        ":7:9: sections[0].quotes[0].text: missing; add `text:` here",
    ),
    (
        "object tag",
        b"format: 1\ntitle: !!python/object/apply:os.system [echo hi]\n",
        ":2:8: title: the tag !!python/object/apply:os.system is not allowed; content is data, "
        "remove the tag",
    ),
]


@pytest.mark.parametrize(
    ("data", "expected"),
    [pytest.param(data, expected, id=name) for name, data, expected in CONTENT_ERRORS],
)
def test_content_error_is_one_line_naming_file_line_field_and_fix(
    site: Path,
    cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    data: bytes,
    expected: str,
) -> None:
    monkeypatch.chdir(site)
    path = site / "content" / "x.yaml"
    path.write_bytes(data)
    before = published(site / "audio")
    for command in ("script", "build"):
        result = cli(command, "x")
        assert result.exit_code == 1
        assert result.stdout == ""
        assert one_line(result.stderr) == f"{path}{expected}"
    assert published(site / "audio") == before
    assert not (site / "audio" / "x.mp3").exists()


@pytest.mark.e2e
@pytest.mark.slow
def test_a_quarter_hour_paragraph_is_narrated_whole(tmp_path: Path) -> None:
    """A quarter of an hour of speech in one paragraph: nothing truncated, nothing timed out.

    2,500 words with the real engine (10,000 took 80 s of the suite for the same proof: the
    splitting of longer paragraphs is tested without audio in tests/test_speech.py).
    """
    sentences = random_sentences(2_500)
    paragraph = " ".join(sentences)
    shutil.copy(ROOT / "narrate.yaml", tmp_path / "narrate.yaml")
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "long.yaml").write_text(
        "format: 1\ntitle: Long\nsummary: One very long paragraph.\n"
        f"sections:\n  - heading: All of it\n    paragraphs:\n      - {paragraph}\n",
        "utf-8",
    )
    result = narrate("long", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    audio = tmp_path / "audio"
    cues = parse_vtt((audio / "long.transcript.vtt").read_text("utf-8"))
    shown = [c.text for c in cues]
    # The transcript holds the title, summary and heading, then the paragraph, every word.
    assert " ".join(shown[3:]) == paragraph
    assert len(" ".join(shown[3:]).split()) == 2_500
    minutes = len(decode(audio / "long.mp3")) / SR / 60
    assert minutes >= 12.5, minutes  # 2,500 words at 160 wpm is 15.6 minutes of speech
    assert cues[-1].end_ms / 60_000 <= minutes


# --- 5. property: arbitrary YAML through the CLI ------------------------------------------

CLI_FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

VALID_TEXT = st.text(
    st.characters(exclude_categories=["Cs"]), min_size=1, max_size=60
)  # any Unicode but lone surrogates (which no file can hold)


@st.composite
def articles(draw: st.DrawFn) -> str:
    """A well-formed article whose every text is arbitrary Unicode: reaches script and speech."""
    doc = {
        "format": 1,
        "title": draw(VALID_TEXT),
        "summary": draw(VALID_TEXT),
        "sections": [
            {
                "heading": draw(VALID_TEXT),
                "paragraphs": draw(st.lists(VALID_TEXT, min_size=1, max_size=3)),
                "quotes": [{"text": draw(VALID_TEXT), "author": draw(VALID_TEXT)}],
            }
        ],
    }
    return yaml.safe_dump(doc, allow_unicode=draw(st.booleans()))


ANY_YAML = st.one_of(
    st.dictionaries(KEYS, SHAPES, max_size=8).map(
        lambda d: yaml.safe_dump({"format": 1, **d}, allow_unicode=True)
    ),
    st.text(YAML_CHARS, max_size=120),
    st.text(max_size=200),
    articles(),
)


@CLI_FUZZ
@given(text=ANY_YAML)
# A key with a line break once made a two-line message.
@example(
    text='format: 1\ntitle: T\nsummary: S\nsections:\n  - {heading: H, "par\\nagraphs": [a]}\n'
)
@example(text='format: 1\n"sum\u2028mary": 1\n')
@pytest.mark.slow
def test_any_yaml_through_narrate_script_exits_0_or_1_with_one_line(
    tmp_path: Path,
    cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    text: str,
) -> None:
    (tmp_path / "content").mkdir(exist_ok=True)
    shutil.copy(ROOT / "narrate.yaml", tmp_path / "narrate.yaml")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "content" / "x.yaml").write_text(text, "utf-8", errors="surrogatepass")
    result = cli("script", "x")
    assert result.exit_code in (0, 1), (result.exit_code, result.stderr)
    if result.exit_code == 0:
        assert result.stderr == "" and result.stdout.startswith("# ")
    else:
        assert result.stdout == ""
        assert one_line(result.stderr).startswith(str(tmp_path / "content" / "x.yaml"))


# --- 2. slugs -------------------------------------------------------------------------------

SLUG_ERRORS = [
    (
        "../imagenet",
        "give the article's slug, not a path or file name; for `../imagenet` give `imagenet`; "
        "a slug is lowercase letters, digits and hyphens, starting with a letter or digit",
    ),
    (
        "content/imagenet.yaml",
        "give the article's slug, not a path or file name; for `content/imagenet.yaml` give "
        "`imagenet`; a slug is lowercase letters, digits and hyphens, starting with a letter or "
        "digit",
    ),
    (
        "/etc/passwd",
        "give the article's slug, not a path or file name; for `/etc/passwd` give `passwd`; "
        "a slug is lowercase letters, digits and hyphens, starting with a letter or digit",
    ),
    (
        "ImageNet",
        "`ImageNet` is not a valid article slug: a slug is lowercase letters, digits and "
        "hyphens, starting with a letter or digit; did you mean `imagenet`?",
    ),
    (
        "image net",
        "`image net` is not a valid article slug: a slug is lowercase letters, digits and "
        "hyphens, starting with a letter or digit; did you mean `image-net`?",
    ),
    (
        "Ímagenet",
        "`Ímagenet` is not a valid article slug: a slug is lowercase letters, digits and "
        "hyphens, starting with a letter or digit; did you mean `imagenet`?",
    ),
    (
        "status",
        "`status` is a narrate command name, so it cannot name an article; rename "
        "content/status.yaml",
    ),
]


@pytest.mark.parametrize(("slug", "expected"), SLUG_ERRORS)
def test_bad_slug_is_refused_with_exit_2(
    site: Path,
    cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
    slug: str,
    expected: str,
) -> None:
    monkeypatch.chdir(site)
    before = published(site / "audio")
    for command in ("build", "script"):
        result = cli(command, slug)
        assert result.exit_code == 2
        assert one_line(result.stderr) == expected
    assert published(site / "audio") == before


def test_unknown_slug_lists_the_articles_and_a_close_match(
    site: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(site)
    (site / "content" / "alexnet.yaml").write_text(
        "format: 1\ntitle: AlexNet\nsummary: S\nsections:\n  - {heading: H, items: [a]}\n"
    )
    result = cli("build", "imagenett")
    assert result.exit_code == 2
    assert one_line(result.stderr) == (
        f"no article `imagenett` in {site / 'content'}. Did you mean `imagenet`? "
        "Available: alexnet, imagenet"
    )


# --- 3. faults: the environment -------------------------------------------------------------


def shim(folder: Path, module: str, body: str) -> dict[str, str]:
    """Return an environment in which ``import module`` runs ``body`` instead."""
    folder.mkdir(exist_ok=True)
    (folder / f"{module}.py").write_text(body)
    return {"PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])}


MISSING = 'raise ImportError("No module named {0!r}", name="{0}")\n'


@pytest.mark.parametrize(
    ("module", "body", "expected"),
    [
        pytest.param(
            "espeakng_loader",
            MISSING.format("espeakng_loader"),
            "the bundled espeak-ng is missing: run  pip install espeakng-loader  (or set "
            "NARRATE_ESPEAK=system to use the system library)",
            id="espeak library package missing",
        ),
        pytest.param(
            "espeakng_loader",
            "def get_library_path():\n    return '/nonexistent/libespeak-ng.so.1'\n"
            "def get_data_path():\n    return '/nonexistent'\n",
            "the bundled espeak-ng library /nonexistent/libespeak-ng.so.1 is missing: "
            "reinstall espeakng-loader",
            id="espeak library file missing",
        ),
        pytest.param(
            "lameenc",
            MISSING.format("lameenc"),
            "the MP3 encoder (lameenc) is missing or broken (No module named 'lameenc'): run  "
            "pip install lameenc",
            id="encoder missing",
        ),
    ],
)
def test_missing_engine_or_encoder_is_reported_before_any_work(
    site: Path, tmp_path: Path, module: str, body: str, expected: str
) -> None:
    extend_article(site, 10)  # an edit, so there would be work to do
    before, cached = published(site / "audio"), cache_files(site)
    result = narrate(SLUG, cwd=site, env=shim(tmp_path / "shim", module, body))
    assert result.returncode == 1
    # Not even the "synthesising" progress line: the problem was found before any work.
    assert one_line(result.stderr) == expected
    assert published(site / "audio") == before
    assert cache_files(site) == cached


def test_incomplete_espeak_data_is_reported_before_any_work(site: Path, tmp_path: Path) -> None:
    import espeakng_loader

    empty = tmp_path / "data"
    empty.mkdir()
    body = (
        f"def get_library_path():\n    return {str(espeakng_loader.get_library_path())!r}\n"
        f"def get_data_path():\n    return {str(empty)!r}\n"
    )
    extend_article(site, 10)
    before, cached = published(site / "audio"), cache_files(site)
    result = narrate(SLUG, cwd=site, env=shim(tmp_path / "shim", "espeakng_loader", body))
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"espeak-ng data folder {empty} is incomplete (missing phontab, phondata, phonindex, "
        "voices): reinstall espeakng-loader"
    )
    assert published(site / "audio") == before
    assert cache_files(site) == cached


def test_unknown_voice_is_refused_before_any_synthesis(site: Path) -> None:
    extend_article(site, 10)  # an edit, so there would be work to do
    before, cached = published(site / "audio"), cache_files(site)
    result = narrate(SLUG, "--voice", "en-uss", cwd=site)
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        "the pyttsx3 backend has no voice `en-uss` (given with --voice); did you mean `en-us`? "
        "run `narrate voices` to list its voices"
    )
    config = site / "narrate.yaml"
    config.write_text(config.read_text().replace("voice: en-us", "voice: en-us+f33"))
    result = narrate(SLUG, cwd=site)
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        "the pyttsx3 backend has no voice `en-us+f33` (set in narrate.yaml); did you mean "
        "`en-us+f3`? run `narrate voices` to list its voices"
    )
    assert published(site / "audio") == before
    assert cache_files(site) == cached


# --- 3. faults: the engine ------------------------------------------------------------------

FAULTS = """\
format: 1
title: Faults
summary: An article for fault tests.
settings:
  lexicon:
    stall: {marker}
sections:
  - heading: One
    paragraphs:
      - Fine words here.
"""
BAD_SENTENCE = "      - This sentence will stall now.\n"
"""Line 11 of the article; the lexicon makes the fake engine see the marker in it."""


@pytest.fixture
def fault_site(tmp_path: Path) -> Path:
    site = tmp_path / "faults"
    (site / "content").mkdir(parents=True)
    shutil.copy(ROOT / "narrate.yaml", site / "narrate.yaml")
    return site


@pytest.mark.parametrize(
    ("backend", "marker", "reason"),
    [
        (
            "hang",
            "HANG",
            "engine timed out after 0.4 s, again on a retry in a fresh process",
        ),
        ("empty", "EMPTY", "engine returned no audio, again on a retry in a fresh process"),
        (
            "crash",
            "CRASH",
            "engine process exited with status 3, again on a retry in a fresh process",
        ),
    ],
)
@pytest.mark.slow
def test_engine_fault_names_the_sentence_after_a_retry(
    fault_site: Path, backend: str, marker: str, reason: str
) -> None:
    article = fault_site / "content" / "faults.yaml"
    article.write_text(FAULTS.format(marker=marker))
    env = {"NARRATE_TIMEOUT_SCALE": "0.02"}
    first = narrate("build", "faults", "--backend", backend, cwd=fault_site, env=env, fakes=True)
    assert first.returncode == 0, first.stderr
    before = published(fault_site / "audio")
    article.write_text(FAULTS.format(marker=marker) + BAD_SENTENCE)
    result = narrate(
        "build", "faults", "--backend", backend, "-q", cwd=fault_site, env=env, fakes=True
    )
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"faults, chapter 'One', line 11 ('This sentence will stall now.'): {reason}"
    )
    assert published(fault_site / "audio") == before
    assert not leftovers(fault_site)


def test_engine_that_fails_once_succeeds_on_the_retry(fault_site: Path, tmp_path: Path) -> None:
    (fault_site / "content" / "faults.yaml").write_text(FAULTS.format(marker="HANG") + BAD_SENTENCE)
    env = {"NARRATE_TIMEOUT_SCALE": "0.02", "NARRATE_FAKE_STATE": str(tmp_path)}
    result = narrate(
        "build", "faults", "--backend", "fail-once", cwd=fault_site, env=env, fakes=True
    )
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.glob("*.tried")), "the marked sentence was never attempted"
    assert_consistent_set(fault_site / "audio", "faults")


# --- 3. faults: the disk --------------------------------------------------------------------


def file_size_limit(limit: int) -> Callable[[], None]:
    """Return a preexec_fn making writes past ``limit`` bytes fail (EFBIG), like a full disk."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


FULL = "the disk is full (or a quota or file-size limit was reached); free some space and run again"


def test_full_disk_while_publishing_leaves_the_published_files(site: Path) -> None:
    extend_article(site, 10)
    before = published(site / "audio")
    # Room for each sentence and chapter in the cache, not for the 2.5 MB MP3.
    result = narrate(SLUG, "-q", cwd=site, preexec_fn=file_size_limit(1_000_000))
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"cannot write to the audio folder {site / 'audio'}: {FULL}; "
        "the published files were not changed"
    )
    assert published(site / "audio") == before
    assert not leftovers(site / "audio", site / ".cache")
    cache_is_consistent(site)
    again = narrate(SLUG, "-q", cwd=site)
    assert again.returncode == 0, again.stderr
    assert_consistent_set(site / "audio")


def test_full_disk_while_caching_leaves_the_published_files(site: Path) -> None:
    extend_article(site, 10)
    before = published(site / "audio")
    result = narrate(SLUG, "-q", cwd=site, preexec_fn=file_size_limit(4096))
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"cannot write to the cache {site / '.cache' / 'narrate'}: {FULL}; "
        "the published files were not changed"
    )
    assert published(site / "audio") == before
    assert not leftovers(site / "audio", site / ".cache")
    cache_is_consistent(site)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MB filesystem (tmpfs), where the test may mount one; skipped elsewhere."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root): " + mounted.stderr.decode())
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=True)


def test_real_full_disk_enospc_leaves_the_published_files(site: Path, small_disk: Path) -> None:
    audio = small_disk / "audio"
    shutil.copytree(site / "audio", audio)  # 2.6 MB published on a 4 MB disk
    extend_article(site, 10)
    before = published(audio)
    result = narrate(SLUG, "-q", "--audio-dir", str(audio), cwd=site)
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"cannot write to the audio folder {audio}: {FULL}; the published files were not changed"
    )
    assert published(audio) == before
    assert not leftovers(small_disk)


def test_file_in_place_of_the_audio_folder(site: Path) -> None:
    shutil.rmtree(site / "audio")
    (site / "audio").write_bytes(b"not a folder")
    result = narrate(SLUG, cwd=site)
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"cannot write to the audio folder {site / 'audio'}: a file is in the way; "
        "remove it or set another folder with --audio-dir"
    )
    assert (site / "audio").read_bytes() == b"not a folder"


def test_file_in_place_of_a_parent_of_the_audio_folder(site: Path) -> None:
    (site / "blocker").write_bytes(b"x")
    target = site / "blocker" / "audio"
    result = narrate(SLUG, "--audio-dir", str(target), cwd=site)
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"cannot write to the audio folder {target}: Not a directory; check that it is a "
        "writable folder and run again; the published files were not changed"
    )


# --- 3. faults: Ctrl-C, kill -9, two runs -----------------------------------------------------


def test_ctrl_c_mid_synthesis_stops_cleanly(site: Path) -> None:
    extend_article(site, 150)
    before = published(site / "audio")
    segs = seg_count(site)
    proc = start(SLUG, "-q", cwd=site)
    wait_for(lambda: seg_count(site) >= segs + 3)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends: the CLI and its workers
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert one_line(err) == (
        "interrupted; the published files are unchanged and the cache is consistent"
    )
    assert published(site / "audio") == before
    assert not leftovers(site / "audio", site / ".cache")
    cache_is_consistent(site)
    kept = seg_count(site)
    again = narrate(SLUG, cwd=site)
    assert again.returncode == 0, again.stderr
    assert_consistent_set(site / "audio")
    # The sentences finished before the interrupt were kept: the next run made only the rest.
    made = re.search(r"synthesised (\d+) of", again.stdout)
    assert made is not None, again.stdout
    assert kept > segs and int(made[1]) == seg_count(site) - kept


def test_ctrl_c_while_workers_start_prints_one_line(site: Path) -> None:
    extend_article(site, 150)
    before = published(site / "audio")
    proc = start(SLUG, cwd=site)
    assert proc.stderr is not None
    first = proc.stderr.readline()
    assert "synthesising" in first  # the workers are being started now
    time.sleep(0.15)  # they are importing their modules
    os.killpg(proc.pid, signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert one_line(rest) == (
        "interrupted; the published files are unchanged and the cache is consistent"
    )
    assert published(site / "audio") == before


def _processes_in(folder: Path) -> list[int]:
    """Return the pids of processes whose working folder is ``folder`` (workers included)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")) == folder:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_kill_9_mid_build_then_the_next_run_recovers(site: Path) -> None:
    extend_article(site, 150)
    before = published(site / "audio")
    segs = seg_count(site)
    proc = start(SLUG, "-q", cwd=site)
    wait_for(lambda: seg_count(site) >= segs + 3)
    proc.kill()  # kill -9 of the CLI alone; its workers notice and exit on their own
    proc.wait(timeout=10)
    wait_for(lambda: not _processes_in(site), timeout=10)
    assert published(site / "audio") == before
    # What a kill during publishing leaves: a temporary output beside its target.
    (site / "audio" / f".{SLUG}.mp3.x1y2z3.part").write_bytes(b"half an mp3")
    result = narrate(SLUG, "-q", cwd=site)
    assert result.returncode == 0, result.stderr
    assert not leftovers(site / "audio")
    record = assert_consistent_set(site / "audio")
    samples = decode(site / "audio" / f"{SLUG}.mp3")
    assert abs(len(samples) / SR - float(record["duration"])) < 0.05  # type: ignore[arg-type]
    status = narrate("status", cwd=site)
    assert status.stdout.split()[:2] == [SLUG, "fresh"]


def test_two_runs_at_once_wait_for_each_other(site: Path) -> None:
    extend_article(site, 150)
    first = start(SLUG, cwd=site)
    second = start(SLUG, cwd=site)
    results = [p.communicate(timeout=300) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], results
    built = [err for out, err in results if out.startswith(f"{SLUG}: wrote ")]
    waited = [err for out, err in results if out.startswith(f"{SLUG}: up to date ")]
    assert len(built) == len(waited) == 1, results
    # The second run waited for the first, said so, then found its work done.
    assert f"{SLUG}: waiting for another narrate run that is building it" in waited[0]
    assert "synthesising" not in waited[0]
    assert_consistent_set(site / "audio")
    manifest = json.loads((site / "audio" / "manifest.json").read_text())
    assert manifest["articles"][SLUG]["sha256"] == pub.sha256_file(site / "audio" / f"{SLUG}.mp3")


def test_a_run_that_cannot_get_the_lock_refuses_clearly(tmp_path: Path) -> None:
    from narrate.errors import LockedError

    audio = tmp_path / "audio"
    with pub.article_lock(audio, SLUG):
        with pytest.raises(LockedError) as info:
            with pub.article_lock(audio, SLUG, wait=0.1):
                pass
    assert str(info.value) == (
        f"another narrate run is building `imagenet` (lock {audio / '.imagenet.lock'}); "
        "wait for it to finish and run again"
    )
