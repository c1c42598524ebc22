"""Single-purpose commands: `script`, `doctor`, `voices`, `say` and `import`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from narrate.cli.common import (
    BackendOpt,
    ConfigOpt,
    ContentDir,
    JsonOpt,
    RateOpt,
    VoiceOpt,
    note,
    project,
    shown,
)
from narrate.errors import EXIT_ERROR, UsageError
from narrate.settings.model import Kind, Settings, VoiceOverride


def script(
    slug: Annotated[str, typer.Argument(help="Article slug.")],
    content_dir: ContentDir = None,
    config: ConfigOpt = None,
) -> None:
    """Print exactly what will be said.

    Segment by segment, with chapter and pause marks: proof-read this.
    """
    from narrate.pipeline import load_resolved
    from narrate.script import build_script, render

    article, settings = load_resolved(project(config, content_dir), slug)
    typer.echo(render(build_script(article, settings)), nl=False)


def doctor(json_out: JsonOpt = False, config: ConfigOpt = None) -> None:
    """Show the engine and encoder in use, and test them.

    Which engine, engine version and encoder are in use, and a one-word self-test.
    """
    from narrate.doctor import report

    info, ok = report(project(config))
    if json_out:
        typer.echo(json.dumps(info, indent=2))
    else:
        width = max((len(k) for k in info), default=0)
        for k, v in info.items():
            typer.echo(f"{k + ':':<{width + 1}} {v}")
    if not ok:
        raise typer.Exit(EXIT_ERROR)


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
    from narrate.say import list_voices
    from narrate.synth import backends as registry

    name = backend or project(config).voice.backend
    found = list_voices(name)
    if json_out:
        rows = [{"id": v.id, "name": v.name, "language": v.language} for v in found]
        typer.echo(json.dumps(rows, indent=2))
        return
    width = max((len(v.id) for v in found), default=0)
    lang = max((len(v.language or "-") for v in found), default=0)
    for v in found:
        typer.echo(f"{v.id:<{width}}  {v.language or '-':<{lang}}  {v.name}".rstrip())
    others = ", ".join(n for n in registry.available() if n != name) or "none"
    note(f"{len(found)} {name} voices; other backends: {others} (narrate voices --backend NAME)")


def say(
    text: Annotated[str, typer.Argument(help="The line to speak, as an article would show it.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="WAV file to write (default: a temporary file)."),
    ] = None,
    play_it: Annotated[
        bool | None,
        typer.Option(
            "--play/--no-play",
            help="Play the WAV (default: play when -o is not given and a player exists).",
        ),
    ] = None,
    kind: Annotated[
        str, typer.Option(help="Speak with the voice of this segment kind (config `kinds:`).")
    ] = "paragraph",
    phonemes: Annotated[
        bool,
        typer.Option(
            "--phonemes",
            help="Print the bundled espeak-ng's phonemes (IPA) for the line instead of speaking.",
        ),
    ] = False,
    backend: BackendOpt = None,
    voice: VoiceOpt = None,
    rate: RateOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Speak one line exactly as a build would.

    The same normalisation, lexicon, voice and loudness as a build.

    Prints the text the engine was given on stderr and the WAV file's path on stdout.
    """
    from narrate import say as speech

    kinds = [k.value for k in Kind]
    if kind not in kinds:
        raise UsageError(f"--kind {kind!r} is not a segment kind; use one of {', '.join(kinds)}")
    over = VoiceOverride(backend=backend, voice=voice, rate=rate)
    if phonemes:
        _print_phonemes(project(config), text, Kind(kind), over)
        return
    said = speech.say(project(config), text, kind=Kind(kind), overrides=over)
    v = said.voice
    note(f"voice: {v.backend} {v.voice} at {v.rate} wpm")
    for line in said.spoken:
        note(f"spoken: {line}")
    path = speech.write_wav(said.audio, output)
    typer.echo(str(path))
    if play_it is False or (play_it is None and output is not None):
        return
    _play(path, strict=bool(play_it))


def _print_phonemes(site: Settings, text: str, kind: Kind, over: VoiceOverride) -> None:
    """Print each sentence's IPA, from the bundled espeak-ng run in a child process."""
    from narrate.lint import phonemes
    from narrate.settings.effective import resolve
    from narrate.text import normalise, split_sentences

    s = resolve(site, cli=over)
    v = s.voice_for(kind)
    # Piper speaks through espeak-ng's phonemes too; its voices are no espeak-ng voice names.
    espeak_voice = v.voice if v.backend == "pyttsx3" else "en-us"
    spoken = [normalise(x, s.lexicon) for x in split_sentences(text.strip())]
    if not any(x.strip() for x in spoken):
        raise UsageError('nothing to say: give a line of text, e.g. narrate say --phonemes "Li"')
    for line in spoken:
        note(f"spoken: {line}")
    for ipa in phonemes(spoken, espeak_voice):
        typer.echo(ipa)


def _play(path: Path, *, strict: bool) -> None:
    from narrate import say

    player = say.find_player()
    if player is None:
        names = ", ".join(p[0] for p in say.PLAYERS)
        note(f"no audio player found ({names}): open the WAV above yourself")
        if strict:
            raise typer.Exit(EXIT_ERROR)
        return
    problem = say.play(path, player)
    if problem:
        note(f"could not play it: {problem}; the file is at {path}")
        if strict:
            raise typer.Exit(EXIT_ERROR)


def import_page(
    page: Annotated[
        str,
        typer.Argument(
            help="The page: a saved HTML page, or its flattened text; a file, or - for stdin."
        ),
    ],
    slug: Annotated[
        str | None,
        typer.Option(
            "--slug", help="Article slug: writes content/SLUG.yaml (default: the file's name)."
        ),
    ] = None,
    selector: Annotated[
        str | None,
        typer.Option(
            "--selector", help="CSS selector of an HTML page's article (default: article, main)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the article if it already exists.")
    ] = False,
    content_dir: ContentDir = None,
    config: ConfigOpt = None,
) -> None:
    """Import a page's text as content/SLUG.yaml.

    A saved HTML page (or HTML on stdin) is read with an HTML parser: the article element,
    without navigation, footer, asides, scripts or a "Listen to Article" box. Reports what was
    recognised and any line it could not place.
    """
    from narrate.commands import RESERVED
    from narrate.content.load import validate_slug
    from narrate.importer import import_page as run_import
    from narrate.importer import read_page
    from narrate.importer.html import html_lines, looks_like_html

    if slug is None:
        if page == "-":
            raise UsageError("give the article's slug with --slug when the page comes from stdin")
        slug = Path(page).stem
    validate_slug(slug, reserved=RESERVED)
    site = project(config, content_dir)
    source = "standard input" if page == "-" else Path(page).name
    text = read_page(page)
    if Path(page).suffix.lower() in (".html", ".htm") or looks_like_html(text):
        text = html_lines(text, selector)
    elif selector is not None:
        raise UsageError("--selector applies to an HTML page; this page is plain text")
    result = run_import(text, slug, site.content_dir, force=force, source=source)
    a = result.article
    facts = ", ".join(x for x in (a.era, a.event, a.year, ", ".join(a.people)) if x)
    note(f"narrate: wrote {shown(result.path)}: {a.title}" + (f" ({facts})" if facts else ""))
    for line in result.report.lines():
        note(line)
    note(f"next: `narrate script {slug}` to proof-read, `narrate {slug}` to build")
