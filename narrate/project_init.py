"""`narrate init`: a new site in a folder: a commented narrate.yaml and an example article.

The defaults are neutral (no site name of this repository's); nothing is overwritten: if either
file exists, nothing is written at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from narrate.errors import OutputError
from narrate.files import write_atomic
from narrate.settings.model import CONFIG_NAME

__all__ = ["CONFIG_TEMPLATE", "EXAMPLE_ARTICLE", "EXAMPLE_SLUG", "InitResult", "init_site"]

EXAMPLE_SLUG = "example"

CONFIG_TEMPLATE = """\
# narrate's site config. Every field is optional; the values below are the defaults.
# `narrate COMMAND --help` describes each command.
narrate: 1

site:
  name: My Site              # the MP3's ID3 artist and album (unless artist:/album: are set)
  base_url: ""               # URL the audio folder is served under, e.g. https://example.org/audio/
                             # (empty: files sit beside the page; `narrate feed` needs it set)

paths:
  content: content           # articles: content/SLUG.yaml
  audio: audio               # outputs: audio/SLUG.mp3, chapters, transcript
  cache: .cache/narrate      # synthesised sentences (NARRATE_CACHE_DIR overrides this)

voice:
  backend: pyttsx3           # `narrate voices` lists what a backend offers
  voice: en-us
  rate: 160                  # words per minute

pauses:                      # seconds of silence
  sentence: 0.45
  paragraph: 1.0
  heading: 0.8
  chapter: 2.2
  start: 0.5
  end: 1.5

loudness:
  integrated_lufs: -16
  true_peak_db: -1

mp3:
  bitrate: 64

# The podcast feed (`narrate feed` writes audio/feed.xml); empty texts fall back to site:.
feed:
  title: ""                  # default: site.name
  description: ""
  language: en
  author: ""                 # default: site.name
  image: ""                  # cover art: a URL, or a file name in the audio folder
  category: ""               # an Apple Podcasts category, e.g. Technology
  explicit: false

# Words the voice gets wrong: displayed word or phrase -> how to say it, e.g.
# lexicon:
#   Nginx: engine x
"""

EXAMPLE_ARTICLE = """\
# An example article: run `narrate script example` to read what will be said, and
# `narrate example` to build audio/example.mp3. Copy this file to start your own.
format: 1
title: Getting Started
date: 2025-01-15             # publication date (the podcast feed's date); never spoken
summary: >-
  This is an example article. Each section below becomes a chapter of the narration.
sections:
  - heading: How It Works
    paragraphs:
      - Every paragraph is read sentence by sentence. Edit one sentence and build again.
      - text: The config lives in narrate.yaml.
        say: The config lives in narrate dot yaml.
    quotes:
      - text: Simplicity is prerequisite for reliability.
        author: Edsger Dijkstra
        context: writing about software
  - heading: What Comes Next
    timeline:
      - date: January 2025
        event: The first article is written in the content folder.
      - date: February 2025
        event: It is built, and listened to.
    items:
      - Chapters for every section
      - A transcript for every sentence
"""


@dataclass(frozen=True)
class InitResult:
    """The files :func:`init_site` wrote."""

    config: Path
    article: Path


def init_site(folder: Path) -> InitResult:
    """Write ``folder/narrate.yaml`` and ``folder/content/example.yaml``; refuse to overwrite."""
    config = folder / CONFIG_NAME
    article = folder / "content" / f"{EXAMPLE_SLUG}.yaml"
    for path in (config, article):
        if path.exists() or path.is_symlink():
            raise OutputError(
                f"{path} already exists; narrate init never overwrites a file. "
                "Remove it, or run `narrate init` in another folder"
            )
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is not a folder; give a folder to start the site in")
    try:
        write_atomic(config, CONFIG_TEMPLATE.encode("utf-8"))
        write_atomic(article, EXAMPLE_ARTICLE.encode("utf-8"))
    except OSError as exc:
        raise OutputError.writing(
            exc, str(folder), outcome="remove what was written and retry"
        ) from exc
    return InitResult(config, article)
