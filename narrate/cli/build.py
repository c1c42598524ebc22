"""`narrate build` (and its short form `narrate SLUG`): parse, call the pipeline, print."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from narrate.cli.common import (
    AudioDir,
    BackendOpt,
    CacheDir,
    ConfigOpt,
    ContentDir,
    JsonOpt,
    RateOpt,
    VoiceOpt,
    err,
    note,
    project,
    shown,
)
from narrate.commands import closest_command
from narrate.errors import EXIT_ERROR, NarrateError, UnknownArticleError, UsageError
from narrate.outputs.chapters import clock
from narrate.settings.model import Settings, VoiceOverride

if TYPE_CHECKING:  # the pipeline loads only when a command needs it, not for --help
    from narrate.pipeline import BuildResult, Progress

ExecutorOpt = Annotated[
    str,
    typer.Option(
        "--executor",
        help="Where sentences are synthesised: local (worker processes here) or dask "
        "(a Dask cluster; needs --scheduler and narrate[dask]).",
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        envvar="NARRATE_DASK_SCHEDULER",
        help="Dask scheduler address for --executor dask, e.g. tcp://10.0.0.5:8786.",
        show_default=False,
    ),
]


def build(
    slugs: Annotated[list[str] | None, typer.Argument(help="Article slugs (file stems).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Build every article.")] = False,
    backend: BackendOpt = None,
    voice: VoiceOpt = None,
    rate: RateOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Ignore the cache; rebuild all.")] = False,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")] = False,
    json_out: JsonOpt = False,
    executor: ExecutorOpt = "local",
    scheduler: SchedulerOpt = None,
    content_dir: ContentDir = None,
    audio_dir: AudioDir = None,
    config: ConfigOpt = None,
    cache_dir: CacheDir = None,
) -> None:
    """Build articles (short form: `narrate SLUG`)."""
    from narrate.pipeline import BuildOptions, build_articles

    site = project(config, content_dir, audio_dir, cache_dir)
    names = _names(site, slugs or [], all_)
    options = BuildOptions(
        force=force, jobs=jobs, executor=executor, scheduler=scheduler,
        voice=VoiceOverride(backend=backend, voice=voice, rate=rate),
    )  # fmt: skip
    show = _ProgressLine(not (quiet or json_out))
    results: list[BuildResult] = []
    failures: list[tuple[str, str]] = []
    for slug, outcome in build_articles(
        site, names, options, log=show.log(quiet or json_out), progress=show
    ):
        show.clear()
        if isinstance(outcome, NarrateError):
            if len(names) == 1:
                raise _with_hint(outcome, slug)
            failures.append((slug, str(outcome)))
            err(str(_with_hint(outcome, slug)))  # one failing article does not stop the others
            continue
        results.append(outcome)
        for warning in outcome.warnings:
            err(warning)
        if not (json_out or quiet):
            typer.echo(summary(outcome, site.audio_dir))
    if json_out:
        typer.echo(json.dumps({
            "results": [r.as_dict() for r in results],
            "failed": [{"slug": s, "error": e} for s, e in failures],
        }, indent=2))  # fmt: skip
    if failures:
        if not json_out:
            n = len(names)
            err(f"{len(failures)} of {n} articles failed: " + ", ".join(s for s, _ in failures))
        raise typer.Exit(EXIT_ERROR)


def _names(site: Settings, slugs: list[str], all_: bool) -> list[str]:
    """Return the slugs to build: those named, or every article with ``--all``."""
    from narrate.content.load import list_articles

    if all_:
        found = list_articles(site.content_dir)
        if not found:
            raise NarrateError(f"no articles in {site.content_dir} (expected SLUG.yaml files)")
        return found
    if not slugs:
        raise UsageError("name an article (narrate SLUG) or use --all")
    return slugs


def _with_hint(exc: NarrateError, slug: str) -> NarrateError:
    """Add "did you mean the command ..." to an unknown article that is a command's typo."""
    command = closest_command(slug)
    if isinstance(exc, UnknownArticleError) and command:
        return UnknownArticleError(f"{exc}. Did you mean the command `narrate {command}`?")
    return exc


def summary(r: BuildResult, audio_dir: Path) -> str:
    """Return the line printed for one article's result."""
    where = shown(audio_dir / f"{r.slug}.mp3")
    if r.status == "up to date":
        return (
            f"{r.slug}: up to date ({where}, {clock(r.duration)}, {r.chapters} chapters; "
            f"reused {r.reused} of {r.total} sentences) in {r.seconds:.2f} s"
        )
    return (
        f"{r.slug}: wrote {where} and 4 chapter/transcript files "
        f"({clock(r.duration)}, {r.chapters} chapters); synthesised {r.synthesised} of "
        f"{r.total} sentences, reused {r.reused}; encoded {r.chunks_reencoded} "
        f"sentence{'s' if r.chunks_reencoded != 1 else ''} in {r.chapters_reencoded} of "
        f"{r.chapters} chapters; {r.seconds:.2f} s"
    )


class _ProgressLine:
    """Progress on stderr: one line rewritten in place on a terminal, plain lines otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.every = 0.25 if self.tty else 1.0  # seconds between lines
        self.last = time.monotonic()  # the first line after a moment: quick runs show one
        self.shown = False

    def __call__(self, p: Progress) -> None:
        """Show ``p`` (only while sentences are being made), at most a few times a second."""
        now = time.monotonic()
        final = p.articles_done == p.articles
        if not self.enabled or not p.sentences or (not final and now - self.last < self.every):
            return
        self.last = now
        line = (
            f"progress: {p.articles_done}/{p.articles} articles, "
            f"{p.sentences_done}/{p.sentences} sentences"
        )
        if p.elapsed > 0 and p.sentences_done:
            line += f", {p.sentences_done / p.elapsed:.1f} sentences/s"
        eta = p.eta
        line += f", ETA {clock(eta)}" if eta is not None else ""
        if self.tty:
            typer.echo(f"\r\033[K{line}", err=True, nl=final)
            self.shown = not final
        else:
            typer.echo(line, err=True)

    def clear(self) -> None:
        """Remove the line being rewritten, so other output starts on a clean line."""
        if self.shown:
            typer.echo("\r\033[K", err=True, nl=False)
            self.shown = False

    def log(self, quiet: bool) -> Callable[[str], None]:
        """Return the build's log: lines on stderr (none when quiet), clearing progress first."""

        def logged(line: str) -> None:
            if not quiet:
                self.clear()
                note(line)

        return logged
