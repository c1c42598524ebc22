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

from narrate.chapters import clock
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


def _print_version(value: bool) -> None:
    if value:
        from narrate import __version__

        typer.echo(f"narrate {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Narrate articles offline (options that come before the command)."""


cache_app = typer.Typer(help="Manage the sentence cache.", no_args_is_help=True)
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
    # One line, always: a message may quote an editor's YAML key or text holding a line break.
    line = "\\n".join(message.splitlines())
    typer.echo(f"narrate: error: {line}", err=True)


def _fail(exc: BaseException) -> NoReturn:
    """Report an error as one line on stderr and exit with its status (traceback if debugging)."""
    if os.environ.get("NARRATE_DEBUG"):
        raise exc
    if isinstance(exc, KeyboardInterrupt):
        # "intact", not "unchanged": a Ctrl-C during the final renames is held until the new
        # set is complete (narrate.publish), so the files are the old set or the new, never a mix.
        _err("interrupted; the published files are intact and the cache is consistent")
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
    executor: Annotated[
        str,
        typer.Option(
            "--executor",
            help="Where sentences are synthesised: local (worker processes here) or dask "
            "(a Dask cluster; needs --scheduler and narrate[dask]).",
        ),
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            envvar="NARRATE_DASK_SCHEDULER",
            help="Dask scheduler address for --executor dask, e.g. tcp://10.0.0.5:8786.",
            show_default=False,
        ),
    ] = None,
    content_dir: ContentDir = None,
    audio_dir: AudioDir = None,
    config: ConfigOpt = None,
    cache_dir: CacheDir = None,
) -> None:
    """Build articles (short form: `narrate SLUG`)."""
    from narrate.build import BuildResult, plan
    from narrate.build import build as run_build
    from narrate.cache import Cache
    from narrate.executors import create as create_executor

    proj = _guard(lambda: Project(content_dir, audio_dir, config, cache_dir))
    names = _guard(lambda: proj.slugs(slugs or [], all_))
    log = _log(quiet or json_out)
    over = _voice_opts(backend, voice, rate)
    cache = Cache(proj.settings.cache_dir)
    results: list[BuildResult] = []
    failures: list[tuple[str, str]] = []
    ex = _guard(lambda: create_executor(executor, scheduler=scheduler, jobs=jobs))
    one_by_one = names
    if len(names) > 1 or executor != "local":
        # Many articles: one job stream over every stale article (see build_many).
        _build_many(proj, names, over, cache, ex, force, quiet, json_out, results, failures)
        one_by_one = []
    for slug in one_by_one:
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
    from narrate.web import refresh_preview

    for r in results:
        # A preview page written earlier shows the new times; the audio is already published,
        # so a preview that cannot be rewritten is reported, not counted as a failed build.
        try:
            refresh_preview(proj.settings, r.slug)
        except (NarrateError, OSError) as exc:
            _err(f"`{r.slug}`: the preview page was not refreshed: {exc}")
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


class _ProgressLine:
    """Progress on stderr: one line rewritten in place on a terminal, plain lines otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.every = 0.25 if self.tty else 1.0  # seconds between lines
        self.last = 0.0
        self.shown = False

    def __call__(self, p: Any) -> None:
        """Show ``p`` (a narrate.build.Progress), at most a few times a second."""
        import time

        now = time.monotonic()
        final = p.articles_done == p.articles
        if not self.enabled or (not final and now - self.last < self.every):
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

    def log(self, log: Callable[[str], None]) -> Callable[[str], None]:
        """Return ``log`` clearing the progress line first."""

        def logged(line: str) -> None:
            self.clear()
            log(line)

        return logged


def _build_many(
    proj: Project,
    names: list[str],
    over: dict[str, Any],
    cache: Any,
    ex: Any,
    force: bool,
    quiet: bool,
    json_out: bool,
    results: list[Any],
    failures: list[tuple[str, str]],
) -> None:
    """Plan every article, then build them all as one job stream on executor ``ex``."""
    from narrate.build import build_many, plan

    plans = []
    for slug in names:
        try:
            plans.append(plan(proj.load(slug), proj.settings, over))
        except NarrateError as exc:
            if len(names) == 1:
                _fail(exc)
            failures.append((slug, str(exc)))
            _err(str(exc))
    show = _ProgressLine(not (quiet or json_out))
    log = show.log(_log(quiet or json_out))
    try:
        for slug, outcome in build_many(
            plans, proj.audio_dir, cache, ex, force=force, log=log, progress=show
        ):
            show.clear()
            if isinstance(outcome, NarrateError):
                if len(names) == 1:
                    _fail(outcome)
                failures.append((slug, str(outcome)))
                _err(str(outcome))
                continue
            results.append(outcome)
            if not json_out and not quiet:
                typer.echo(_summary(outcome, proj.audio_dir))
    except (NarrateError, KeyboardInterrupt) as exc:
        show.clear()
        _fail(exc)
    finally:
        ex.close()


def _summary(r: Any, audio_dir: Path) -> str:
    where = audio_dir / f"{r.slug}.mp3"
    try:
        where = where.relative_to(Path.cwd())
    except ValueError:
        pass
    if r.status == "up to date":
        return (
            f"{r.slug}: up to date ({where}, {clock(r.duration)}, {r.chapters} chapters; "
            f"reused {r.reused} of {r.total} sentences) in {r.seconds:.2f} s"
        )
    return (
        f"{r.slug}: wrote {where} and 3 chapter/transcript files "
        f"({clock(r.duration)}, {r.chapters} chapters); synthesised {r.synthesised} of "
        f"{r.total} sentences, reused {r.reused}; encoded {r.chunks_reencoded} "
        f"sentence{'s' if r.chunks_reencoded != 1 else ''} in {r.chapters_reencoded} of "
        f"{r.chapters} chapters; {r.seconds:.2f} s"
    )


@app.command()
def script(
    slug: Annotated[str, typer.Argument(help="Article slug.")],
    content_dir: ContentDir = None,
    config: ConfigOpt = None,
) -> None:
    """Print exactly what will be said.

    Segment by segment, with chapter and pause marks: proof-read this.
    """
    from narrate.script import build_script, render

    proj = _guard(lambda: Project(content_dir, None, config))
    article = _guard(lambda: (proj.slugs([slug], False), proj.load(slug))[1])
    typer.echo(render(build_script(article, proj.settings)), nl=False)


@app.command()
def doctor(
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Show the engine and encoder in use, and test them.

    Which engine, engine version and encoder are in use, and a one-word self-test.
    """
    from narrate.doctor import report

    proj = _guard(lambda: Project(None, None, config))
    info, ok = _guard(lambda: report(proj.settings))
    if json_out:
        typer.echo(json.dumps(info, indent=2))
    else:
        width = max((len(k) for k in info), default=0)
        for k, v in info.items():
            typer.echo(f"{k + ':':<{width + 1}} {v}")
    if not ok:
        raise typer.Exit(EXIT_ERROR)


# --- status, check, clean, cache (issue 3) ---


def _states(
    content_dir: Path | None, audio_dir: Path | None, config: Path | None
) -> list[Any]:
    from narrate.site import status as site_status

    proj = _guard(lambda: Project(content_dir, audio_dir, config))
    return _guard(lambda: site_status(proj.settings))


def _print_states(states: list[Any], json_out: bool) -> None:
    if json_out:
        typer.echo(json.dumps([s.as_dict() for s in states], indent=2))
        return
    width = max((len(s.slug) for s in states), default=4)
    for s in states:
        typer.echo(f"{s.slug:<{width}}  {s.state:<10}  {s.reason}")
    if not states:
        typer.echo("no articles")


@app.command()
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
    _print_states(_states(content_dir, audio_dir, config), json_out)


@app.command()
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
    states = _states(content_dir, audio_dir, config)
    bad = [s for s in states if s.state != "fresh"]
    if bad or json_out:
        _print_states(bad if not json_out else states, json_out)
    if any(s.state == "invalid" for s in bad):
        raise typer.Exit(EXIT_ERROR)
    if bad:
        if not json_out:
            n = len(states)
            _err(f"{len(bad)} of {n} article{'s' if n != 1 else ''} "
                 f"need{'s' if len(bad) == 1 else ''} `narrate build --all` "
                 "(or `narrate clean` for orphaned outputs)")
        raise typer.Exit(EXIT_STALE)
    if not json_out:
        n = len(states)
        typer.echo(f"{n} article{'s are' if n != 1 else ' is'} up to date")


@app.command()
def clean(
    content_dir: ContentDir = None,
    audio_dir: AudioDir = None,
    config: ConfigOpt = None,
) -> None:
    """Remove outputs whose article no longer exists."""
    from narrate.site import clean as site_clean

    proj = _guard(lambda: Project(content_dir, audio_dir, config))
    removed = _guard(lambda: site_clean(proj.settings))
    for path in removed:
        typer.echo(f"removed {path}")
    typer.echo(f"removed {len(removed)} files")


@cache_app.command("prune")
def cache_prune(
    content_dir: ContentDir = None,
    config: ConfigOpt = None,
    cache_dir: CacheDir = None,
) -> None:
    """Delete cached sentences and chapters that no current article uses."""
    from narrate.cache import Cache
    from narrate.site import prune

    proj = _guard(lambda: Project(content_dir, None, config, cache_dir))
    files, freed = _guard(lambda: prune(proj.settings, Cache(proj.settings.cache_dir)))
    typer.echo(f"pruned {files} cache files, freed {freed / 1e6:.1f} MB "
               f"({proj.settings.cache_dir})")

# --- embed and preview (issue 4) ---

BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="URL the audio folder is served under (empty: the files sit beside the page).",
        show_default=False,
    ),
]


def _narration(proj: Project, slug: str) -> Any:
    """Return the built article's narration (fails if `narrate SLUG` has not run)."""
    from narrate.web import load_narration, paragraph_gap

    proj.slugs([slug], False)
    article = proj.load(slug)
    return load_narration(article, proj.audio_dir, paragraph_gap(proj.settings, article))


@app.command()
def embed(
    slug: Annotated[str, typer.Argument(help="Article slug (built with `narrate SLUG`).")],
    base_url: BaseUrlOpt = None,
    content_dir: ContentDir = None,
    audio_dir: AudioDir = None,
    config: ConfigOpt = None,
) -> None:
    """Print the article page's HTML fragment.

    Player, chapter list and live transcript, with the CSS and script inlined.

    --base-url defaults to site.base_url in the config.
    """
    from narrate.web import embed_fragment

    proj = _guard(lambda: Project(content_dir, audio_dir, config))
    narration = _guard(lambda: _narration(proj, slug))
    url = proj.settings.base_url if base_url is None else base_url
    typer.echo(embed_fragment(narration, url), nl=False)


@app.command()
def preview(
    slug: Annotated[str, typer.Argument(help="Article slug (built with `narrate SLUG`).")],
    serve_: Annotated[
        bool, typer.Option("--serve", help="Serve the audio folder on 127.0.0.1 and print the URL.")
    ] = False,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port for --serve (0: any free one).")
    ] = 8000,
    base_url: BaseUrlOpt = None,
    content_dir: ContentDir = None,
    audio_dir: AudioDir = None,
    config: ConfigOpt = None,
) -> None:
    """Write audio/SLUG.html, a page with the player.

    A standalone page to show or check the narration.

    The page sits beside the audio, so --base-url defaults to empty (relative links).
    """
    from narrate.web import serve, server_url, write_preview

    proj = _guard(lambda: Project(content_dir, audio_dir, config))
    narration = _guard(lambda: _narration(proj, slug))
    page = _guard(lambda: write_preview(narration, proj.audio_dir, base_url or ""))
    where = page
    try:
        where = page.relative_to(Path.cwd())
    except ValueError:
        pass
    typer.echo(f"wrote {where}", err=serve_)
    if serve_:

        def ready(server: Any) -> None:
            typer.echo(f"serving {proj.audio_dir} (Ctrl-C to stop)", err=True)
            typer.echo(server_url(server, page.name))

        _guard(lambda: serve(proj.audio_dir, port, ready))


# --- voices and say (issue 5) ---


@app.command()
def voices(
    backend: Annotated[
        str | None, typer.Option(help="Backend to list (default: the one in the config).")
    ] = None,
    json_out: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """List the voices a backend offers.

    The ids go in `voice:` in the config or after --voice.
    """
    from narrate import backends as registry
    from narrate.say import list_voices

    proj = _guard(lambda: Project(None, None, config))
    name = backend or proj.settings.voice.backend
    found = _guard(lambda: list_voices(name))
    if json_out:
        typer.echo(json.dumps([{"id": v.id, "name": v.name, "language": v.language}
                               for v in found], indent=2))
        return
    width = max((len(v.id) for v in found), default=0)
    lang = max((len(v.language or "-") for v in found), default=0)
    for v in found:
        typer.echo(f"{v.id:<{width}}  {v.language or '-':<{lang}}  {v.name}".rstrip())
    others = [n for n in registry.available() if n != name]
    typer.echo(f"{len(found)} {name} voices; other backends: {', '.join(others) or 'none'} "
               "(narrate voices --backend NAME)", err=True)


@app.command()
def say(
    text: Annotated[str, typer.Argument(help="The line to speak, as an article would show it.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="WAV file to write (default: a temporary file)."),
    ] = None,
    play_it: Annotated[
        bool | None,
        typer.Option("--play/--no-play",
                     help="Play the WAV (default: play when -o is not given and a player exists)."),
    ] = None,
    kind: Annotated[
        str, typer.Option(help="Speak with the voice of this segment kind (config `kinds:`).")
    ] = "paragraph",
    backend: Annotated[str | None, typer.Option(help="TTS backend (default from config).")] = None,
    voice: Annotated[str | None, typer.Option(help="Voice id (see `narrate voices`).")] = None,
    rate: Annotated[int | None, typer.Option(min=80, max=400, help="Words per minute.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Speak one line exactly as a build would.

    The same normalisation, lexicon, voice and loudness as a build.

    Prints the text the engine was given on stderr and the WAV file's path on stdout.
    """
    from narrate.errors import UsageError
    from narrate.settings_file import KINDS

    if kind not in KINDS:
        _fail(UsageError(f"--kind {kind!r} is not a segment kind; use one of {', '.join(KINDS)}"))
    from narrate import say as speech

    proj = _guard(lambda: Project(None, None, config))
    said = _guard(lambda: speech.say(proj.settings, text, kind=kind,
                                     overrides=_voice_opts(backend, voice, rate)))
    v = said.voice
    typer.echo(f"voice: {v.backend} {v.voice} at {v.rate} wpm", err=True)
    for line in said.spoken:
        typer.echo(f"spoken: {line}", err=True)
    path = _guard(lambda: speech.write_wav(said.audio, output))
    typer.echo(str(path))
    if play_it is False or (play_it is None and output is not None):
        return
    player = speech.find_player()
    if player is None:
        names = ", ".join(p[0] for p in speech.PLAYERS)
        typer.echo(f"no audio player found ({names}): open the WAV above yourself", err=True)
        if play_it:
            raise typer.Exit(EXIT_ERROR)
        return
    problem = speech.play(path, player)
    if problem:
        typer.echo(f"could not play it: {problem}", err=True)
        if play_it:
            raise typer.Exit(EXIT_ERROR)


# --- import (issue 7) ---


@app.command("import")
def import_page(
    page: Annotated[
        str, typer.Argument(help="The page's flattened text: a file, or - for standard input.")
    ],
    slug: Annotated[str, typer.Option("--slug", help="Article slug: writes content/SLUG.yaml.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the article if it already exists.")
    ] = False,
    content_dir: ContentDir = None,
    config: ConfigOpt = None,
) -> None:
    """Import a page's text as content/SLUG.yaml.

    Reports what was recognised and any line it could not place.
    """
    from narrate.content import validate_slug
    from narrate.importer import import_page as run_import
    from narrate.importer import read_page

    # COMMANDS is filled by main(); a CliRunner test calls the app directly.
    _guard(lambda: validate_slug(slug, reserved=COMMANDS or _command_names()))
    proj = _guard(lambda: Project(content_dir, None, config))
    result = _guard(
        lambda: run_import(
            read_page(page),
            slug,
            proj.content_dir,
            force=force,
            source="standard input" if page == "-" else Path(page).name,
        )
    )
    where = result.path
    try:
        where = where.relative_to(Path.cwd())
    except ValueError:
        pass
    a = result.article
    facts = ", ".join(x for x in (a.era, a.event, a.year, ", ".join(a.people)) if x)
    typer.echo(f"narrate: wrote {where}: {a.title}" + (f" ({facts})" if facts else ""), err=True)
    for line in result.report.lines():
        typer.echo(line, err=True)
    typer.echo(f"next: `narrate script {slug}` to proof-read, `narrate {slug}` to build", err=True)


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
