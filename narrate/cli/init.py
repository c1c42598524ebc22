"""`narrate init [DIR]`: start a site: a commented narrate.yaml and an example article."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from narrate.cli.common import note, shown


def init(
    folder: Annotated[
        Path, typer.Argument(help="Folder to start the site in (made if missing).")
    ] = Path("."),
) -> None:
    """Start a site here: narrate.yaml and an example article.

    Writes a commented narrate.yaml with neutral defaults and content/example.yaml; never
    overwrites a file.
    """
    from narrate.project_init import EXAMPLE_SLUG, init_site

    result = init_site(folder.resolve())
    note(f"narrate: wrote {shown(result.config)} and {shown(result.article)}")
    there = "" if folder.resolve() == Path.cwd() else f"in {shown(folder.resolve())}, "
    steps = f"`narrate script {EXAMPLE_SLUG}` to proof-read, `narrate {EXAMPLE_SLUG}` to build"
    note(f"next: {there}{steps}")
