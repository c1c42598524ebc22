"""`narrate embed` and `narrate preview`: the player for the article's page."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer

from narrate.cli.common import AudioDir, ConfigOpt, ContentDir, note, project, shown
from narrate.settings.model import Settings

BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="URL the audio folder is served under (empty: the files sit beside the page).",
        show_default=False,
    ),
]
SlugArg = Annotated[str, typer.Argument(help="Article slug (built with `narrate SLUG`).")]


def _narration(site: Settings, slug: str) -> Any:
    """Return the built article's narration (fails if `narrate SLUG` has not run)."""
    from narrate.pipeline import load_resolved
    from narrate.web.page import load_narration, paragraph_gap

    article, settings = load_resolved(site, slug)
    narration = load_narration(article, site.audio_dir, paragraph_gap(settings.pauses))
    return dataclasses.replace(narration, artwork=site.artwork or "")


def embed(
    slug: SlugArg,
    base_url: BaseUrlOpt = None,
    content_dir: ContentDir = None,
    audio_dir: AudioDir = None,
    config: ConfigOpt = None,
) -> None:
    """Print the article page's HTML fragment.

    Player, chapter list and live transcript, with the CSS and script inlined.

    --base-url defaults to site.base_url in the config.
    """
    from narrate.web.page import embed_fragment

    site = project(config, content_dir, audio_dir)
    narration = _narration(site, slug)
    url = site.base_url if base_url is None else base_url
    typer.echo(embed_fragment(narration, url), nl=False)


def preview(
    slug: SlugArg,
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
    from narrate.web.page import write_preview

    site = project(config, content_dir, audio_dir)
    page = write_preview(_narration(site, slug), site.audio_dir, base_url or "")
    typer.echo(f"wrote {shown(page)}", err=serve_)
    if serve_:
        _serve(site.audio_dir, port, page)


def _serve(folder: Path, port: int, page: Path) -> None:
    from narrate.web.server import serve, server_url

    def ready(server: Any) -> None:
        note(f"serving {folder} (Ctrl-C to stop)")
        typer.echo(server_url(server, page.name))

    serve(folder, port, ready)
