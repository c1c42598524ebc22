"""The README, the help texts and small cosmetics agree with what narrate does."""

from __future__ import annotations

from narrate import __version__
from narrate.commands import COMMANDS
from narrate.content.model import Article, Paragraph
from narrate.pipeline.plan import tags
from narrate.settings.effective import resolve
from narrate.settings.model import Settings
from tests.helpers import ROOT, invoke

MARK = "# The README's test command, verbatim:"


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    command = lines[lines.index(MARK) + 1]
    assert command.startswith("python3 -m venv .venv && ")
    readme = (ROOT / "README.md").read_text().splitlines()
    assert command in readme


def test_version() -> None:
    result = invoke(["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"narrate {__version__}\n"


def test_top_level_help_shows_every_command_description_whole() -> None:
    result = invoke(["--help"], terminal_width=80)
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:")[1].strip().splitlines()
    assert len(commands) == len(COMMANDS)
    for line in commands:
        assert not line.endswith("..."), line


def test_check_and_cache_help() -> None:
    out = invoke(["check", "--help"]).stdout
    for state in ("stale", "missing", "mismatched", "orphaned", "invalid"):
        assert state in out
    assert "Manage the sentence cache." in invoke(["cache", "--help"]).stdout


def test_id3_comment_reads_naturally() -> None:
    article = Article(
        slug="imagenet", title="ImageNet", summary=Paragraph("S"), sections=(),
        event="Dataset Created", year="2009 (June)",
    )  # fmt: skip
    comment = tags(article, resolve(Settings()))["comment"]
    assert comment == "Dataset Created (2009). Narrated by My Site."
    bare = Article(slug="x", title="Plain Title", summary=Paragraph("S"), sections=())
    assert tags(bare, resolve(Settings()))["comment"] == "Plain Title. Narrated by My Site."
