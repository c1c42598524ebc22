"""`narrate status`, `check`, `clean` and `cache prune`: the whole site at a glance."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from narrate.cli.common import AudioDir, CacheDir, ConfigOpt, ContentDir, JsonOpt, err, project
from narrate.errors import EXIT_ERROR, EXIT_STALE, EXIT_USAGE

if TYPE_CHECKING:  # the pipeline loads only when a command needs it
    from narrate.site import ArticleState


def _print_states(states: list[ArticleState], json_out: bool) -> None:
    if json_out:
        typer.echo(json.dumps([s.as_dict() for s in states], indent=2))
        return
    width = max((len(s.slug) for s in states), default=4)
    for s in states:
        typer.echo(f"{s.slug:<{width}}  {s.state:<10}  {s.reason}")
    if not states:
        typer.echo("no articles")


def status(
    json_out: JsonOpt = False,
    content_dir: ContentDir = None,
    audio_dir: AudioDir = None,
    config: ConfigOpt = None,
) -> None:
    """List every article's state, with the reason.

    fresh, stale, missing, mismatched (outputs disagree with their build record), orphaned
    (outputs whose article is gone) or invalid (the article cannot be read).
    """
    from narrate.site import status as site_status

    _print_states(site_status(project(config, content_dir, audio_dir)), json_out)


def check(
    json_out: JsonOpt = False,
    content_dir: ContentDir = None,
    audio_dir: AudioDir = None,
    config: ConfigOpt = None,
) -> None:
    """Exit 0 if every article is fresh (for CI).

    Exit 3 if any is stale, missing, mismatched or orphaned; 1 if any is invalid.
    Needs no cache and no engine.
    """
    from narrate.site import status as site_status

    states = site_status(project(config, content_dir, audio_dir))
    bad = [s for s in states if s.state != "fresh"]
    if bad or json_out:
        _print_states(bad if not json_out else states, json_out)
    n = len(states)
    if any(s.state == "invalid" for s in bad):
        raise typer.Exit(EXIT_ERROR)
    if bad:
        if not json_out:
            err(f"{len(bad)} of {n} article{'s' if n != 1 else ''} "
                f"need{'s' if len(bad) == 1 else ''} `narrate build --all` "
                "(or `narrate clean` for orphaned outputs)")  # fmt: skip
        raise typer.Exit(EXIT_STALE)
    if not json_out:
        typer.echo(f"{n} article{'s are' if n != 1 else ' is'} up to date")


def clean(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be removed; remove nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Remove without asking.")] = False,
    content_dir: ContentDir = None,
    audio_dir: AudioDir = None,
    config: ConfigOpt = None,
) -> None:
    """Remove outputs whose article no longer exists.

    Only outputs whose article is gone from the content folder they were built from (their build
    record names it). Asks before removing on a terminal; with no terminal, needs --yes (without
    it, lists what it would remove and exits 2).
    """
    from narrate.site import orphans, remove

    site = project(config, content_dir, audio_dir)
    found = orphans(site)
    if dry_run or not yes:
        for o in found:
            for path in o.files:
                typer.echo(f"would remove {path} ({o.reason})")
    if not found:
        typer.echo("nothing to remove")
        return
    files = sum(len(o.files) for o in found)
    if dry_run:
        typer.echo(f"would remove {files} files of {len(found)} articles")
        return
    if not yes:
        if not sys.stdin.isatty():
            err(f"not removing {files} files without confirmation: run `narrate clean --yes`")
            raise typer.Exit(EXIT_USAGE)
        if not typer.confirm(f"remove {files} files of {len(found)} articles?", default=False):
            typer.echo("nothing removed")
            return
    removed = remove(site, found)
    for path in removed:
        typer.echo(f"removed {path}")
    typer.echo(f"removed {len(removed)} files")


cache_app = typer.Typer(help="Manage the sentence cache.", no_args_is_help=True)


@cache_app.command("prune")
def cache_prune(
    content_dir: ContentDir = None,
    config: ConfigOpt = None,
    cache_dir: CacheDir = None,
) -> None:
    """Delete cached sentences and chunks that no current article uses."""
    from narrate.pipeline.cache import Cache
    from narrate.site import prune

    site = project(config, content_dir, cache_dir=cache_dir)
    files, freed = prune(site, Cache(site.cache_dir))
    typer.echo(f"pruned {files} cache files, freed {freed / 1e6:.1f} MB ({site.cache_dir})")
