"""The command line: parse options, call the library, turn its errors into one-line messages.

Exit statuses: 0 success; 1 content or runtime error; 2 usage error; 3 (``check``) some outputs
are stale or missing; 130 interrupted (Ctrl-C). ``NARRATE_DEBUG=1`` shows the traceback of an
error instead.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from narrate.errors import NarrateError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_STALE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

app = typer.Typer(
    name="narrate",
    help="Narrate articles offline: content/SLUG.yaml in, audio/SLUG.mp3 with chapters out.\n\n"
    "Short form: `narrate SLUG [options]` is `narrate build SLUG [options]`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
cache_app = typer.Typer(help="Inspect and prune the segment cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")

T = TypeVar("T")

ContentDir = Annotated[
    Path | None, typer.Option("--content-dir", help="Folder of article YAML files.")
]
AudioDir = Annotated[Path | None, typer.Option("--audio-dir", help="Folder the outputs go to.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Site config file (default: nearest narrate.yaml).")
]
CacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir", help="Segment cache folder (or NARRATE_CACHE_DIR).", show_default=False
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]


def _err(message: str) -> None:
    typer.echo(f"narrate: error: {message}", err=True)


def _fail(exc: BaseException) -> NoReturn:
    """Report an error as one line on stderr and exit with its status (traceback if debugging)."""
    if os.environ.get("NARRATE_DEBUG"):
        raise exc
    if isinstance(exc, KeyboardInterrupt):
        _err("interrupted; published files are unchanged and the cache is consistent")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    assert isinstance(exc, NarrateError)
    _err(str(exc))
    raise typer.Exit(exc.exit_code) from None


def _guard(fn: Callable[[], T]) -> T:
    """Run ``fn``; map narrate's errors to a message and exit status, no traceback."""
    try:
        return fn()
    except (NarrateError, KeyboardInterrupt) as exc:
        _fail(exc)


class Project:
    """Settings and paths resolved from the command line, the config file and the environment."""

    def __init__(
        self,
        content_dir: Path | None = None,
        audio_dir: Path | None = None,
        config: Path | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        import dataclasses

        from narrate.settings_file import find_root, load_settings

        root = find_root(Path.cwd()) if config is None else config.resolve().parent
        s = load_settings(root, config)
        over: dict[str, Any] = {}
        if content_dir is not None:
            over["content_dir"] = content_dir.resolve()
        if audio_dir is not None:
            over["audio_dir"] = audio_dir.resolve()
        if cache_dir is not None:
            over["cache_dir"] = cache_dir.resolve()
        self.settings = dataclasses.replace(s, **over)

    @property
    def content_dir(self) -> Path:
        """Return the content folder."""
        return self.settings.content_dir

    @property
    def audio_dir(self) -> Path:
        """Return the audio folder."""
        return self.settings.audio_dir

    def slugs(self, slugs: list[str], all_: bool) -> list[str]:
        """Return the slugs to work on, validated (all articles with ``--all``)."""
        from narrate.content import find_article, list_articles, validate_slug

        if all_:
            found = list_articles(self.content_dir)
            if not found:
                raise NarrateError(f"no articles in {self.content_dir} (expected SLUG.yaml files)")
            return found
        if not slugs:
            from narrate.errors import UsageError

            raise UsageError("name an article (narrate SLUG) or use --all")
        for slug in slugs:
            validate_slug(slug, reserved=COMMANDS)
            find_article(self.content_dir, slug, reserved=COMMANDS)
        return slugs

    def load(self, slug: str) -> Any:
        """Return the validated article for ``slug``."""
        from narrate.content import find_article, load_article

        return load_article(find_article(self.content_dir, slug, reserved=COMMANDS))


def _log(quiet: bool) -> Callable[[str], None]:
    def log(line: str) -> None:
        if not quiet:
            typer.echo(line, err=True)

    return log


def _voice_opts(backend: str | None, voice: str | None, rate: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if backend:
        out["backend"] = backend
    if voice:
        out["voice"] = voice
    if rate is not None:
        out["rate"] = rate
    return out


def _clock(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


@app.command()
def build(
    slugs: Annotated[list[str] | None, typer.Argument(help="Article slugs (file stems).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Build every article.")] = False,
    backend: Annotated[str | None, typer.Option(help="TTS backend (default from config).")] = None,
    voice: Annotated[str | None, typer.Option(help="Voice id (see `narrate voices`).")] = None,
    rate: Annotated[int | None, typer.Option(min=80, max=400, help="Words per minute.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Ignore the cache; rebuild all.")] = False,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")] = False,
    json_out: JsonOpt = False,
    content_dir: ContentDir = None,
    audio_dir: AudioDir = None,
    config: ConfigOpt = None,
    cache_dir: CacheDir = None,
) -> None:
    """Build the narration of articles (short form: `narrate SLUG`)."""
    from narrate.build import BuildResult, plan
    from narrate.build import build as run_build
    from narrate.cache import Cache

    proj = _guard(lambda: Project(content_dir, audio_dir, config, cache_dir))
    names = _guard(lambda: proj.slugs(slugs or [], all_))
    log = _log(quiet or json_out)
    over = _voice_opts(backend, voice, rate)
    cache = Cache(proj.settings.cache_dir)
    results: list[BuildResult] = []
    failures: list[tuple[str, str]] = []
    for slug in names:
        try:
            p = plan(proj.load(slug), proj.settings, over)
            r = run_build(p, proj.audio_dir, cache, force=force, jobs=jobs, log=log)
        except NarrateError as exc:
            if len(names) == 1:
                _fail(exc)
            # One failing article does not stop the others; they are listed at the end.
            failures.append((slug, str(exc)))
            _err(str(exc))
            continue
        except KeyboardInterrupt as exc:
            _fail(exc)
        results.append(r)
        if not json_out and not quiet:
            typer.echo(_summary(r, proj.audio_dir))
    if json_out:
        typer.echo(
            json.dumps(
                {
                    "results": [r.as_dict() for r in results],
                    "failed": [{"slug": s, "error": e} for s, e in failures],
                },
                indent=2,
            )
        )
    if failures:
        if not json_out:
            _err(
                f"{len(failures)} of {len(names)} articles failed: "
                + ", ".join(s for s, _ in failures)
            )
        raise typer.Exit(EXIT_ERROR)


def _summary(r: Any, audio_dir: Path) -> str:
    where = audio_dir / f"{r.slug}.mp3"
    try:
        where = where.relative_to(Path.cwd())
    except ValueError:
        pass
    if r.status == "up to date":
        return (
            f"{r.slug}: up to date ({where}, {_clock(r.duration)}, {r.chapters} chapters; "
            f"reused {r.reused} of {r.total} sentences) in {r.seconds:.2f} s"
        )
    return (
        f"{r.slug}: wrote {where} and 3 chapter/transcript files "
        f"({_clock(r.duration)}, {r.chapters} chapters); synthesised {r.synthesised} of "
        f"{r.total} sentences, reused {r.reused}; re-encoded {r.chapters_reencoded} of "
        f"{r.chapters} chapters in {r.seconds:.2f} s"
    )


@app.command()
def script(
    slug: Annotated[str, typer.Argument(help="Article slug.")],
    content_dir: ContentDir = None,
    config: ConfigOpt = None,
) -> None:
    """Print what will be said, segment by segment, with chapter and pause marks."""
    from narrate.script import build_script, render

    proj = _guard(lambda: Project(content_dir, None, config))
    article = _guard(lambda: (proj.slugs([slug], False), proj.load(slug))[1])
    typer.echo(render(build_script(article, proj.settings)), nl=False)


@app.command()
def doctor(
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Say which engine, version and encoder are in use, and check they work."""
    from narrate.doctor import report

    proj = _guard(lambda: Project(None, None, config))
    info, ok = _guard(lambda: report(proj.settings))
    if json_out:
        typer.echo(json.dumps(info, indent=2))
    else:
        for k, v in info.items():
            typer.echo(f"{k:>18}: {v}")
    if not ok:
        raise typer.Exit(EXIT_ERROR)


# --- status, check, clean, cache (issue 3) ---

# --- embed and preview (issue 4) ---

# --- voices and say (issue 5) ---

# --- import (issue 7) ---


COMMANDS: frozenset[str] = frozenset()  # filled below, once every command is registered


def _command_names() -> frozenset[str]:
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    names |= {g.name for g in app.registered_groups if g.name}
    return frozenset(n.replace("_", "-") for n in names if n)


def _route(argv: list[str]) -> list[str]:
    """Rewrite the short form `narrate SLUG ...` / `narrate --all ...` to `narrate build ...`."""
    if not argv:
        return argv
    first = argv[0]
    if first in ("-h", "--help"):
        return argv
    if first == "--all" or not first.startswith("-"):
        if first not in COMMANDS:
            return ["build", *argv]
    return argv


def main() -> None:
    """Entry point of the `narrate` console script."""
    global COMMANDS
    COMMANDS = _command_names()
    args = _route(sys.argv[1:])
    try:
        app(args=args, prog_name="narrate")
    except NarrateError as exc:  # raised outside a command's guard
        if os.environ.get("NARRATE_DEBUG"):
            raise
        _err(str(exc))
        sys.exit(exc.exit_code)
