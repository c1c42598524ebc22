"""Helpers shared by the test modules: the repository root, the real CLI in a subprocess, sites.

Fixtures live in ``conftest.py``; plain functions live here so test modules can import them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from narrate.text import normalise

ROOT = Path(__file__).resolve().parent.parent
"""The repository's top folder (narrate.yaml, content/, tests/)."""
FAKES_RUNNER = ROOT / "tests" / "run_with_fakes.py"
"""A ``python -m narrate`` that registers the test fakes as backends first."""


def run_cli(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    fakes: bool = False,
    python_code: str | None = None,
    preexec_fn: Callable[[], None] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI (or ``python_code``) in a fresh interpreter, as a user would.

    ``fakes``: register the test fakes as backends (``tests/run_with_fakes.py``).
    """
    environ = {**os.environ, **(env or {})}
    environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (environ.get("PYTHONPATH", ""), str(ROOT)) if p
    )
    if python_code is not None:
        cmd = [sys.executable, "-c", python_code]
    elif fakes:
        cmd = [sys.executable, str(FAKES_RUNNER)]
    else:
        cmd = [sys.executable, "-m", "narrate"]
    return subprocess.run(
        [*cmd, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=environ,
        timeout=timeout,
        preexec_fn=preexec_fn,
    )


def run_cli_ok(
    *args: str, cwd: Path, env: dict[str, str] | None = None, fakes: bool = False
) -> subprocess.CompletedProcess[str]:
    """:func:`run_cli`, failing the test with the CLI's stderr unless it exits 0."""
    result = run_cli(*args, cwd=cwd, env=env, fakes=fakes)
    assert result.returncode == 0, result.stderr
    return result


@dataclass(frozen=True)
class Invoked:
    """What an in-process run of the CLI gave."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None
    """The exception the command raised, if any (``exit_code`` is then 1)."""


def invoke(
    args: Sequence[str],
    cwd: Path | None = None,
    *,
    input: str | None = None,
    terminal_width: int | None = None,
    catch_exceptions: bool = True,
) -> Invoked:
    """Run ``narrate ARGS`` in this process with typer's CliRunner, from ``cwd`` when given.

    In-process runs see backends registered by the test (``fake_backends`` in conftest.py);
    :func:`run_cli` is the subprocess equivalent. ``catch_exceptions=False`` lets an exception
    the command raised propagate, with its traceback, instead of becoming exit code 1.
    """
    from typer.testing import CliRunner

    from narrate import cli

    before = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(
            cli.app,
            list(args),
            input=input,
            terminal_width=terminal_width,
            catch_exceptions=catch_exceptions,
        )
    finally:
        os.chdir(before)
    return Invoked(result.exit_code, result.stdout, result.stderr, result.exception)


def copy_site(
    root: Path,
    slugs: Sequence[str] = ("imagenet",),
    *,
    articles: Mapping[str, str] | None = None,
    config_edits: Mapping[str, str] | None = None,
    config_extra: str = "",
) -> Path:
    """Make ``root`` a site: the repository's config and its articles ``slugs``; return it.

    ``articles``: more articles, slug to YAML text. ``config_edits``: replacements in the
    config's text (each must occur); ``config_extra`` is appended to it.
    """
    (root / "content").mkdir(parents=True, exist_ok=True)
    config = (ROOT / "narrate.yaml").read_text("utf-8")
    for old, new in (config_edits or {}).items():
        assert old in config, f"narrate.yaml has no {old!r}"
        config = config.replace(old, new)
    (root / "narrate.yaml").write_text(config + config_extra, "utf-8")
    for slug in slugs:
        shutil.copy(ROOT / "content" / f"{slug}.yaml", root / "content" / f"{slug}.yaml")
    for slug, text in (articles or {}).items():
        (root / "content" / f"{slug}.yaml").write_text(text, "utf-8")
    return root


def excerpt(slug: str, headings: Sequence[str]) -> str:
    """Return the repository's article ``slug`` cut to its opening and the sections ``headings``.

    The same title, summary and settings, and those sections' text exactly as the article has
    it: a smaller input for a test whose point does not need the whole article.
    """
    data = yaml.safe_load((ROOT / "content" / f"{slug}.yaml").read_text("utf-8"))
    sections = [s for s in data["sections"] if s["heading"] in headings]
    assert [s["heading"] for s in sections] == list(headings), "headings, in the article's order"
    text: str = yaml.safe_dump({**data, "sections": sections}, allow_unicode=True, sort_keys=False)
    return text


# Article text that is not markup, however much it looks like it (tests/test_web.py and
# tests/test_browser.py).
TRICKY_TITLE = "Markup <script>document.title='pwned'</script> & friends"
TRICKY_YAML = """\
format: 1
era: "Test <Era> & Co"
title: "Markup <script>document.title='pwned'</script> & friends"
event: "A <b>bold</b> event"
year: "2024"
people: ["Ada <Lovelace>", "Tom & Jerry"]
summary: "This summary has <script>alert(1)</script> and an ampersand & in it."
sections:
  - heading: "Q&A <i>time</i>"
    paragraphs:
      - "First sentence with <em>tags</em> & symbols. Second sentence is plain."
      - "A new paragraph with &amp; an entity."
"""


_SPOKEN_TOKEN = re.compile(r"[0-9]+(?:\.[0-9]+)?|[^\W\d_]+(?:'[^\W\d_]+)*|[^\W_]")


def _number_words(number: str) -> int:
    """Return how many words a number takes to say: "2009" -> 3 ("two thousand nine")."""
    whole, _, frac = number.partition(".")
    extra = 1 + len(frac) if frac else 0  # "point" and one word per digit
    if len(whole) > 15 or (len(whole) > 1 and whole.startswith("0")):
        return len(whole) + extra  # read digit by digit
    n = int(whole)
    if n == 0:
        return 1 + extra
    words = 0
    scale = 0
    while n:
        n, group = divmod(n, 1000)
        if group:
            words += (2 if group >= 100 else 0) + (1 if group % 100 else 0) + (1 if scale else 0)
        scale += 1
    return words + extra


def word_count(text: str) -> int:
    """Return how many words a listener hears when ``text`` is spoken (numbers said in full)."""
    count = 0
    for token in _SPOKEN_TOKEN.findall(normalise(text)):
        count += _number_words(token) if token[0] in "0123456789" else 1
    return count


def random_sentences(words: int, seed: int = 10_000) -> list[str]:
    """Return sentences of 8-24 words from a small vocabulary, ``words`` words in all.

    The long articles of the tests and the benchmarks: seeded, so every run reads the same."""
    import random

    rng = random.Random(seed)
    vocab = (
        "the dataset was created to provide a benchmark for vision algorithms and it has been "
        "used to train and evaluate many of the most successful models researchers"
    ).split()
    sentences, said = [], 0
    while said < words:
        n = min(rng.randint(8, 24), words - said)
        sentences.append(" ".join(rng.choices(vocab, k=n)).capitalize() + ".")
        said += n
    return sentences
