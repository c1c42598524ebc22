"""The article page's player: an HTML fragment and a standalone preview page.

Everything comes from the published outputs (``SLUG.chapters.json``, ``SLUG.transcript.vtt``,
the MP3's size) and the article's header fields. :func:`embed_fragment` and
:func:`preview_page` are pure and return strings; every piece of article text is HTML-escaped,
because content is text, never markup. The fragment's style and script live in
``narrate/web/assets/`` and are inlined, so a page needs nothing else.

Deep links: ``#t=83.5``, ``#t=1:23.5`` or ``?t=83.5`` on the page seeks the first narration there
on load; ``#narrate-SLUG-CUEID`` seeks to that sentence.

The times written into the fragment are a fallback: its script re-reads them from the published
chapter and transcript tracks when they load, so a fragment pasted before a rebuild still seeks
to the right places. File URLs carry ``?v=`` and the first hex digits of the MP3's sha256, so a
browser or CDN never pairs an old MP3 with new tracks. Only a set that matches its build record
is read: a truncated or edited file is refused, with the command that rebuilds it.

The preview server lives in :mod:`narrate.web.server`; its names still import from here.
"""

from __future__ import annotations

import html
import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from narrate.content.model import Article
from narrate.errors import NarrateError, OutputError
from narrate.files import write_atomic
from narrate.outputs import publish as pub
from narrate.outputs.chapters import Chapter, Cue, clock, parse_vtt, to_ms
from narrate.outputs.tags import read_tags
from narrate.settings.model import Pauses
from narrate.web import words
from narrate.web.markup import asset_url, chapter_list, controls, megabytes, root_tag, transcript
from narrate.web.markup import escape as _e

__all__ = [
    "PREVIEW_SUFFIX",
    "VERSION_LENGTH",
    "Narration",
    "asset_url",
    "clock",
    "embed_fragment",
    "load_narration",
    "mp3_version",
    "paragraph_gap",
    "preview_page",
    "refresh_preview",
    "write_preview",
]
_MOVED = frozenset(
    "DEFAULT_PORT PreviewServer RangeRequestHandler make_server parse_range serve server_url "
    "serving".split()
)
"""Names that moved to :mod:`narrate.web.server`; still importable from here."""

PREVIEW_SUFFIX = ".html"
"""The preview page is ``SLUG.html`` beside the article's outputs."""
VERSION_LENGTH = 12
"""Hex digits of the MP3's sha256 in the ``?v=`` of the fragment's file URLs."""
_BASE_META = re.compile(r'<meta name="narrate-base-url" content="([^"]*)">')


@dataclass(frozen=True)
class Narration:
    """A built article as the page sees it: header fields, chapters and sentence cues."""

    slug: str
    title: str
    summary: str
    era: str | None
    event: str | None
    year: str | None
    people: tuple[str, ...]
    chapters: tuple[Chapter, ...]
    """From ``SLUG.chapters.json``, in milliseconds."""
    cues: tuple[Cue, ...]
    """One per spoken sentence (headings included), from ``SLUG.transcript.vtt``."""
    mp3_bytes: int
    """Size of the MP3 (shown beside the download link)."""
    paragraph_gap: float | None = None
    """A silence at least this long (seconds) between two sentences starts a new paragraph of
    the transcript; None keeps each chapter one paragraph."""
    version: str = ""
    """Cache-busting token for the file URLs (``?v=``): the start of the MP3's sha256; empty
    leaves the URLs bare."""
    word_starts: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    """Cue id -> its words' starts (ms) from the JSON transcript; other cues get estimates."""
    artist: str = ""
    """Shown by the lock screen (Media Session): the MP3's artist tag, the site's name."""
    album: str = ""
    artwork: str = ""
    """URL of an image for the lock screen; empty for none."""

    @property
    def duration(self) -> float:
        """Return the length in seconds (the end of the last chapter)."""
        return self.chapters[-1].end_ms / 1000 if self.chapters else 0.0


def __getattr__(name: str) -> Any:
    """Return a name that moved to :mod:`narrate.web.server` (imported only when asked for)."""
    if name in _MOVED:
        from narrate.web import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _not_built(slug: str, what: str) -> NarrateError:
    return NarrateError(f"`{slug}` has not been built ({what}): run `narrate {slug}` first")


def _rebuild(slug: str, why: str) -> NarrateError:
    return NarrateError(
        f"the published files of `{slug}` cannot be used: {why}; rebuild them with `narrate {slug}`"
    )


def _verified_mp3_digest(audio_dir: Path, slug: str) -> str:
    """Return the MP3's sha256 once every output matches the build record; else fail."""
    record = pub.read_record(audio_dir, slug)
    outputs = record.get("outputs") if record is not None else None
    if record is None or not isinstance(outputs, dict):
        where = pub.output_path(audio_dir, slug, pub.RECORD)
        raise _rebuild(slug, f"its build record {where} is missing or damaged")
    broken = pub.outputs_intact(audio_dir, slug, record)
    if broken:
        raise _rebuild(slug, broken)
    return str(outputs[f"{slug}{pub.MP3}"])


def _read_chapters(path: Path, slug: str) -> tuple[Chapter, ...]:
    try:
        data = json.loads(path.read_text("utf-8"))
        chapters = tuple(
            Chapter(str(c["title"]), to_ms(float(c["startTime"])), to_ms(float(c["endTime"])))
            for c in data["chapters"]
        )
    except FileNotFoundError:
        raise _not_built(slug, f"{path} is missing") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise NarrateError(
            f"{path} is not a JSON chapters file narrate wrote ({exc}); "
            f"rebuild it with `narrate {slug} --force`"
        ) from exc
    if not chapters:
        raise NarrateError(f"{path} lists no chapters; rebuild with `narrate {slug} --force`")
    return chapters


def _read_cues(path: Path, slug: str) -> tuple[Cue, ...]:
    try:
        return tuple(parse_vtt(path.read_text("utf-8")))
    except FileNotFoundError:
        raise _not_built(slug, f"{path} is missing") from None
    except (OSError, ValueError) as exc:
        raise NarrateError(f"{path}: {exc}; rebuild it with `narrate {slug} --force`") from exc


def paragraph_gap(pauses: Pauses) -> float | None:
    """Return the silence that marks a paragraph break for an article's pauses, or None."""
    if pauses.paragraph - pauses.sentence < 0.2:
        return None  # too close to tell apart on the timeline
    return (pauses.sentence + pauses.paragraph) / 2


def mp3_version(audio_dir: Path, slug: str) -> str:
    """Return the start of the MP3's sha256: from the build record, else the manifest, else the
    file itself (a published MP3 always has one)."""
    name = f"{slug}{pub.MP3}"
    record = pub.read_record(audio_dir, slug) or {}
    outputs = record.get("outputs")
    digest = outputs.get(name) if isinstance(outputs, dict) else None
    if not isinstance(digest, str):
        try:
            manifest = json.loads((audio_dir / pub.MANIFEST).read_text("utf-8"))
            digest = manifest["articles"][slug]["sha256"]
        except (OSError, ValueError, KeyError, TypeError):
            digest = None
    if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
        digest = pub.sha256_file(audio_dir / name) or ""
    return digest[:VERSION_LENGTH]


def load_narration(article: Article, audio_dir: Path, gap: float | None = None) -> Narration:
    """Read an article's published chapters and transcript; fail if it has not been built, or
    if its files do not match their build record (a truncated, edited or half-published set)."""
    slug = article.slug
    for suffix in pub.OUTPUTS:
        path = pub.output_path(audio_dir, slug, suffix)
        if not path.is_file():
            raise _not_built(slug, f"{path} is missing")
    digest = _verified_mp3_digest(audio_dir, slug)
    mp3 = pub.output_path(audio_dir, slug, pub.MP3)
    cues = _read_cues(pub.output_path(audio_dir, slug, pub.TRANSCRIPT_VTT), slug)
    segments = words.read_segments(pub.output_path(audio_dir, slug, pub.TRANSCRIPT_JSON))
    tags = read_tags(mp3)
    return Narration(
        slug=slug,
        title=article.title,
        summary=article.summary.text,
        era=article.era,
        event=article.event,
        year=article.year,
        people=article.people,
        chapters=_read_chapters(pub.output_path(audio_dir, slug, pub.CHAPTERS_JSON), slug),
        cues=cues,
        mp3_bytes=mp3.stat().st_size,
        paragraph_gap=gap,
        version=digest[:VERSION_LENGTH],
        word_starts=words.from_segments(cues, segments) if segments else {},
        artist=tags.get("artist", ""),
        album=tags.get("album", ""),
    )


# ---------------------------------------------------------------------------------------------
# HTML (pure)


def _asset(name: str) -> str:
    """Return an asset's text, its comments and indentation dropped (it is pasted on every page).

    The assets keep to what this needs: no ``/*`` or `` // `` inside a string or a regex."""
    text = files("narrate.web").joinpath("assets", name).read_text("utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    if name.endswith(".js"):
        text = re.sub(r"(?m)^[ \t]*//.*\n|[ \t]+// .*$", "", text)
    return re.sub(r"\n\s*", "\n", text).strip()


def embed_fragment(n: Narration, base_url: str = "", lang: str = "en") -> str:
    """Return the HTML fragment for the article page: player, chapter list and transcript."""
    slug, title = n.slug, _e(n.title)
    mp3 = _e(asset_url(base_url, f"{slug}{pub.MP3}", n.version))
    chapters_vtt = _e(asset_url(base_url, f"{slug}{pub.CHAPTERS_VTT}", n.version))
    transcript_vtt = _e(asset_url(base_url, f"{slug}{pub.TRANSCRIPT_VTT}", n.version))
    count = len(n.chapters)
    summary = f"{clock(n.duration)} · {count} chapter{'s' if count != 1 else ''}"
    parts = [
        root_tag(n, lang),
        f"<style>\n{_asset('narrate.css').strip()}\n</style>",
        f'<div class="narrate-head"><h2>Listen to this article</h2> '
        f"<span data-narrate-summary>{summary}</span></div>",
        f'<audio controls preload="metadata" src="{mp3}" aria-label="Narration of {title}">',
        f'<track kind="chapters" src="{chapters_vtt}" srclang="{_e(lang)}" '
        f'label="Chapters" default>',
        f'<track kind="captions" src="{transcript_vtt}" srclang="{_e(lang)}" label="Transcript">',
        f'<a href="{mp3}">Download the narration (MP3, {megabytes(n.mp3_bytes)})</a>',
        "</audio>",
        controls(n, mp3),
        '<nav class="narrate-chapters" data-narrate-chapters aria-label="Chapters">',
        '<h3 class="narrate-label">Chapters</h3>',
        "<ol>",
        chapter_list(n),
        "</ol>",
        "</nav>",
        '<h3 class="narrate-label">Transcript</h3>',
        '<div class="narrate-transcript" data-narrate-transcript role="region" '
        'aria-label="Transcript" tabindex="0">',
        transcript(n),
        "</div>",
        f"<script>\n{_asset('narrate.js').strip()}\n</script>",
        "</section>",
    ]
    return "\n".join(parts) + "\n"


def preview_page(n: Narration, base_url: str = "", lang: str = "en") -> str:
    """Return a standalone HTML page showing the article's header and its narration fragment."""
    facts = []
    if n.event:
        facts.append(f"<li><b>{_e(n.event)}</b></li>")
    if n.year:
        facts.append(f"<li>{_e(n.year)}</li>")
    if n.people:
        facts.append(f"<li>{_e(', '.join(n.people))}</li>")
    era = f'<p class="era">{_e(n.era)}</p>' if n.era else ""
    parts = [
        "<!doctype html>",
        f'<html lang="{_e(lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(n.title)} · narration preview</title>",
        '<link rel="icon" href="data:,">',
        f'<meta name="narrate-base-url" content="{_e(base_url)}">',
        f"<style>\n{_asset('preview.css').strip()}\n</style>",
        "</head>",
        "<body>",
        "<main>",
        "<header>",
        era,
        f"<h1>{_e(n.title)}</h1>",
        f'<ul class="facts">{"".join(facts)}</ul>' if facts else "",
        f'<p class="lede">{_e(n.summary)}</p>',
        "</header>",
        embed_fragment(n, base_url, lang).rstrip("\n"),
        "</main>",
        f"<footer>Preview of the narration of <code>{_e(n.slug)}</code> made by narrate. "
        "Link to a moment with <code>#t=SECONDS</code>.</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _in_the_way(target: Path, mode: int) -> OutputError:
    what = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "not a file"
    return OutputError(
        f"cannot write the preview page {target}: {what} is in its place; "
        "remove it (or move it aside) and run again"
    )


def _existing_page(target: Path) -> bytes | None:
    """Return the bytes of the page at ``target`` (empty if unreadable), None if there is none.

    Raises OutputError if a folder, a FIFO or a device sits there: no page can replace it, and
    reading a FIFO would wait forever (hence the non-blocking open, checked before any read).
    """
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError:
        return b""  # unreadable: it is written anew
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _in_the_way(target, mode)
    with os.fdopen(fd, "rb") as f:
        try:
            return f.read()
        except OSError:
            return b""


def write_preview(n: Narration, audio_dir: Path, base_url: str = "") -> Path:
    """Write ``SLUG.html`` into the audio folder atomically and return its path.

    Raises OutputError when it cannot: a folder or FIFO in the way, a full disk, no permission.
    """
    target = pub.output_path(audio_dir, n.slug, PREVIEW_SUFFIX)
    data = preview_page(n, base_url).encode("utf-8")
    if _existing_page(target) == data:
        return target  # unchanged: leave the file (and its mtime) alone
    try:
        write_atomic(target, data)
    except OSError as exc:
        raise OutputError.writing(
            exc, f"the preview page {target}", outcome="the published audio was not changed"
        ) from exc
    return target


def refresh_preview(audio_dir: Path, article: Article, pauses: Pauses) -> Path | None:
    """Rewrite ``SLUG.html`` from the current outputs if a preview was written; else do nothing.

    Call it after a build, with the article's effective pauses: the page keeps the base URL it
    was written with. Returns the page's path, or None when the article has no preview. Raises
    NarrateError (the outputs cannot be read) or OutputError (the page cannot be written).
    """
    slug = article.slug
    target = pub.output_path(audio_dir, slug, PREVIEW_SUFFIX)
    page = _existing_page(target)
    if page is None:
        return None
    old = page.decode("utf-8", "replace")  # unreadable bytes only lose the base URL
    match = _BASE_META.search(old)
    base_url = html.unescape(match.group(1)) if match else ""
    narration = load_narration(article, audio_dir, paragraph_gap(pauses))
    return write_preview(narration, audio_dir, base_url)
