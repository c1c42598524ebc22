"""`narrate lint`: list every token the voice may still say wrong, with the fix to paste."""

from __future__ import annotations

from typing import Annotated

import typer

from narrate.cli.common import ConfigOpt, ContentDir, JsonOpt, project
from narrate.errors import EXIT_FINDINGS, UsageError


def lint(
    slugs: Annotated[list[str] | None, typer.Argument(help="Article slugs.")] = None,
    all_articles: Annotated[bool, typer.Option("--all", help="Every article.")] = False,
    json_out: JsonOpt = False,
    content_dir: ContentDir = None,
    config: ConfigOpt = None,
) -> None:
    """List every token the voice may still say wrong.

    At FILE:LINE:COL, each with the fix to paste: leftover symbols, digits glued to letters,
    unknown acronyms and abbreviations, words from other languages with no lexicon entry, and
    web addresses. Exits 4 when it finds any.
    """
    from narrate.lint import lint_site, render

    if slugs and all_articles:
        raise UsageError("give article slugs or --all, not both")
    findings = lint_site(project(config, content_dir), slugs or None)
    typer.echo(render(findings, as_json=json_out), nl=False)
    if findings:
        raise typer.Exit(EXIT_FINDINGS)
