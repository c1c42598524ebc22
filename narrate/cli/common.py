"""What every command shares: option types, the project's settings, printing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from narrate.settings.model import Settings

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
BackendOpt = Annotated[str | None, typer.Option(help="TTS backend (default from config).")]
VoiceOpt = Annotated[str | None, typer.Option(help="Voice id (see `narrate voices`).")]
RateOpt = Annotated[int | None, typer.Option(min=80, max=400, help="Words per minute.")]


def project(
    config: Path | None = None,
    content_dir: Path | None = None,
    audio_dir: Path | None = None,
    cache_dir: Path | None = None,
) -> Settings:
    """Return the site settings: the config file, then the folders given on the command line."""
    from narrate.settings.load import load_project

    return load_project(config, content_dir=content_dir, audio_dir=audio_dir, cache_dir=cache_dir)


def err(message: str) -> None:
    """Print ``narrate: error: MESSAGE`` on stderr, always as one line."""
    # A message may quote an editor's YAML key or text holding a line break.
    line = "\\n".join(message.splitlines())
    typer.echo(f"narrate: error: {line}", err=True)


def note(line: str) -> None:
    """Print a line for the user on stderr."""
    typer.echo(line, err=True)


def shown(path: Path) -> Path:
    """Return ``path`` relative to the current folder when it is inside it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path
