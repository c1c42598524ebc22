"""The README, the help texts and small cosmetics agree with what narrate does."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from narrate import __version__, cli
from narrate.article import Article, Paragraph
from narrate.build import _tags
from narrate.config import Settings

ROOT = Path(__file__).resolve().parent.parent
MARK = "# The README's test command, verbatim:"


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    command = lines[lines.index(MARK) + 1]
    assert command.startswith("python3 -m venv .venv && ")
    readme = (ROOT / "README.md").read_text().splitlines()
    assert command in readme


def test_version() -> None:
    result = CliRunner().invoke(cli.app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"narrate {__version__}\n"


def test_top_level_help_shows_every_command_description_whole() -> None:
    result = CliRunner().invoke(cli.app, ["--help"], terminal_width=80)
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:")[1].strip().splitlines()
    assert len(commands) == len(cli._command_names())
    for line in commands:
        assert not line.endswith("..."), line


def test_check_and_cache_help() -> None:
    out = CliRunner().invoke(cli.app, ["check", "--help"]).stdout
    for state in ("stale", "missing", "mismatched", "orphaned", "invalid"):
        assert state in out
    assert "Manage the sentence cache." in CliRunner().invoke(cli.app, ["cache", "--help"]).stdout


def test_id3_comment_reads_naturally() -> None:
    article = Article(
        slug="imagenet", title="ImageNet", summary=Paragraph("S"), sections=(),
        event="Dataset Created", year="2009 (June)",
    )  # fmt: skip
    comment = _tags(article, Settings())["comment"]
    assert comment == "Dataset Created (2009). Narrated by AI Milestones."
    bare = Article(slug="x", title="Plain Title", summary=Paragraph("S"), sections=())
    assert _tags(bare, Settings())["comment"] == "Plain Title. Narrated by AI Milestones."
