"""`narrate feed`: write audio/feed.xml, the podcast feed of every built article."""

from __future__ import annotations

import typer

from narrate.cli.common import AudioDir, ConfigOpt, ContentDir, note, project, shown


def feed(
    content_dir: ContentDir = None,
    audio_dir: AudioDir = None,
    config: ConfigOpt = None,
) -> None:
    """Write audio/feed.xml, the podcast feed.

    RSS 2.0 with the iTunes and Podcasting 2.0 tags, one episode per article whose outputs
    match their build record. Needs site.base_url (absolute); channel fields come from the
    config's feed: section. Once the feed exists, every build keeps it current.
    """
    from narrate.outputs.feed import write_feed

    result = write_feed(project(config, content_dir, audio_dir))
    verb = "wrote" if result.changed else "unchanged:"
    n = len(result.episodes)
    typer.echo(f"{verb} {shown(result.path)} ({n} episode{'' if n == 1 else 's'})")
    for slug, reason in result.skipped:
        note(f"left out `{slug}`: {reason}")
