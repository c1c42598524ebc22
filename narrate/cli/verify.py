"""`narrate verify SLUG`: transcribe the published MP3 sentence by sentence and score it."""

from __future__ import annotations

from typing import Annotated

import typer

from narrate.cli.common import AudioDir, ConfigOpt, ContentDir, JsonOpt, project
from narrate.errors import EXIT_FINDINGS


def verify(
    slug: Annotated[str, typer.Argument(help="Article slug (built: audio/SLUG.mp3).")],
    threshold: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Exit 4 when the article's recall is below this."),
    ] = 0.75,
    worst: Annotated[
        int, typer.Option(min=0, help="How many of the worst sentences to show.")
    ] = 10,
    margin: Annotated[
        float, typer.Option(min=0.0, max=2.0, help="Seconds kept around each sentence's cut.")
    ] = 0.15,
    json_out: JsonOpt = False,
    content_dir: ContentDir = None,
    audio_dir: AudioDir = None,
    config: ConfigOpt = None,
) -> None:
    """Check the published MP3 by ear (offline Whisper).

    Cuts the MP3 at each sentence's cue times, transcribes each cut with Whisper tiny.en and
    reports the recall of the spoken words, the worst sentences with what was heard, and each
    chapter heading heard at its marker. Exits 4 below --threshold. Needs narrate[verify].
    """
    from narrate import verify as check

    site = project(config, content_dir, audio_dir)
    report = check.verify(site, slug, threshold=threshold, margin=margin)
    typer.echo(check.render(report, worst=worst, as_json=json_out), nl=False)
    if not report.passed:
        raise typer.Exit(EXIT_FINDINGS)
