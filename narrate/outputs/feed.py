"""The podcast feed: ``audio/feed.xml``, RSS 2.0 with the iTunes and Podcasting 2.0 namespaces.

Every article whose outputs match their build record is an episode; any other is left out (and
named, with the reason). Nothing in the feed comes from the clock: an episode's ``pubDate`` is
the article's own ``date:`` (or, without one, 1 January of the first four-digit year in its
``year:``; with neither, the item has no ``pubDate``), so a fresh clone that rebuilds ``audio/``
writes the same feed. Its ``guid`` is a UUIDv5 of the slug alone, so it never changes for an
article (renaming the slug makes a new episode). The enclosure and the chapter and transcript
URLs end in ``?v=`` and the start of the MP3's sha256, as the embed fragment's do, so a podcast
app refetches them when the audio changes. The file is replaced in one rename, and left alone
(not even its mtime changes) when the new feed is byte-identical.
"""

from __future__ import annotations

import datetime
import email.utils
import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from narrate.errors import NarrateError, UsageError
from narrate.files import write_atomic
from narrate.outputs.publish import (
    CHAPTERS_JSON,
    MP3,
    TRANSCRIPT_JSON,
    TRANSCRIPT_VTT,
    output_path,
    outputs_intact,
    read_record,
)
from narrate.settings.model import CONFIG_NAME, Settings

__all__ = ["FEED", "Episode", "FeedResult", "feed_url", "refresh_feed", "render", "write_feed"]

FEED = "feed.xml"
"""The feed's name in the audio folder."""
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
"""The Podcasting 2.0 namespace for ``podcast:guid`` (UUIDv5 of the feed URL, no scheme)."""
EPISODE_GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://narrate.invalid/episode")
"""narrate's namespace for episode GUIDs (UUIDv5 of the slug)."""
VERSION_LENGTH = 12
"""Hex digits of the MP3's sha256 in ``?v=`` (as in the embed fragment)."""
CHAPTERS_TYPE = "application/json+chapters"
TRANSCRIPT_TYPE = "text/vtt"
TRANSCRIPT_JSON_TYPE = "application/json"

for _prefix, _uri in (("itunes", ITUNES_NS), ("podcast", PODCAST_NS), ("atom", ATOM_NS)):
    ET.register_namespace(_prefix, _uri)


@dataclass(frozen=True)
class Episode:
    """A built article, as the feed lists it."""

    slug: str
    title: str
    description: str
    date: datetime.date | None
    mp3_bytes: int
    sha256: str
    duration: float

    @property
    def guid(self) -> str:
        """Return the episode's GUID: the same for the article forever."""
        return str(uuid.uuid5(EPISODE_GUID_NAMESPACE, self.slug))


@dataclass
class FeedResult:
    """What :func:`write_feed` did."""

    path: Path
    episodes: list[Episode]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """Articles left out, with the reason (not built, outputs edited, a content error)."""
    changed: bool = True
    """False when the feed was already byte-identical (the file was not touched)."""


def feed_url(site: Settings) -> str:
    """Return the feed's absolute URL; UsageError when ``site.base_url`` is not absolute."""
    base = site.base_url.strip()
    if not re.match(r"https?://[^/\s]+", base):
        got = f"it is {base!r}" if base else "it is empty"
        raise UsageError(
            f"the feed needs site.base_url in {CONFIG_NAME}, the absolute URL the audio folder "
            f"is served under (e.g. https://example.org/audio/); {got}"
        )
    return base.rstrip("/") + "/" + FEED


def _url(site: Settings, name: str, version: str = "") -> str:
    from urllib.parse import quote

    query = f"?v={version}" if version else ""
    return site.base_url.strip().rstrip("/") + "/" + quote(name) + query


def publication_date(date: str | None, year: str | None) -> datetime.date | None:
    """Return an article's date: its ``date:``, else 1 January of its ``year:``, else None."""
    if date:
        return datetime.date.fromisoformat(date)
    found = re.search(r"(?<!\d)(\d{4})(?!\d)", year or "")
    return datetime.date(int(found.group(1)), 1, 1) if found else None


def _episode(site: Settings, slug: str) -> Episode | str:
    """Return the built article ``slug`` as an episode, or why it is left out."""
    from narrate.commands import RESERVED
    from narrate.content.load import find_article, load_article

    record = read_record(site.audio_dir, slug)
    if record is None:
        return "not built (run `narrate " + slug + "`)"
    broken = outputs_intact(site.audio_dir, slug, record)
    if broken is not None:
        return broken
    try:
        article = load_article(find_article(site.content_dir, slug, RESERVED))
    except NarrateError as exc:
        return str(exc)
    mp3 = output_path(site.audio_dir, slug, MP3)
    return Episode(
        slug=slug,
        title=article.title,
        description=article.summary.text,
        date=publication_date(article.date, article.year),
        mp3_bytes=mp3.stat().st_size,
        sha256=str(record["outputs"][mp3.name]),
        duration=float(record.get("duration", 0.0)),
    )


def collect(site: Settings) -> tuple[list[Episode], list[tuple[str, str]]]:
    """Return the episodes (newest first, then by slug) and the articles left out."""
    from narrate.content.load import list_articles

    episodes: list[Episode] = []
    skipped: list[tuple[str, str]] = []
    for slug in list_articles(site.content_dir):
        got = _episode(site, slug)
        if isinstance(got, Episode):
            episodes.append(got)
        else:
            skipped.append((slug, got))
    episodes.sort(key=lambda e: e.slug)
    episodes.sort(key=lambda e: e.date or datetime.date.min, reverse=True)
    return episodes, skipped


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrib)
    if text is not None:
        el.text = text
    return el


def _channel(site: Settings, rss: ET.Element) -> ET.Element:
    f = site.feed
    url = feed_url(site)
    title = f.title or site.site_name
    ch = _sub(rss, "channel")
    _sub(ch, "title", title)
    _sub(ch, "link", f.link or site.base_url.strip())
    _sub(ch, "description", f.description or f"Narrated articles from {title}.")
    _sub(ch, "language", f.language)
    _sub(ch, "generator", "narrate")
    _sub(ch, f"{{{ATOM_NS}}}link", href=url, rel="self", type="application/rss+xml")
    _sub(ch, f"{{{ITUNES_NS}}}author", f.author or site.id3_artist)
    if f.image:
        image = f.image if re.match(r"https?://", f.image) else _url(site, f.image)
        _sub(ch, f"{{{ITUNES_NS}}}image", href=image)
    if f.category:
        ET.SubElement(ch, f"{{{ITUNES_NS}}}category", {"text": f.category})
    _sub(ch, f"{{{ITUNES_NS}}}explicit", "true" if f.explicit else "false")
    _sub(ch, f"{{{ITUNES_NS}}}type", "episodic")
    guid = uuid.uuid5(PODCAST_GUID_NAMESPACE, re.sub(r"^[a-zA-Z]+://", "", url).rstrip("/"))
    _sub(ch, f"{{{PODCAST_NS}}}guid", str(guid))
    return ch


def _duration(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _item(site: Settings, ch: ET.Element, e: Episode) -> None:
    v = e.sha256[:VERSION_LENGTH]
    item = _sub(ch, "item")
    _sub(item, "title", e.title)
    _sub(item, "description", e.description)
    _sub(item, "guid", e.guid, isPermaLink="false")
    if e.date is not None:
        moment = datetime.datetime.combine(e.date, datetime.time(), datetime.timezone.utc)
        _sub(item, "pubDate", email.utils.format_datetime(moment))
    _sub(
        item, "enclosure", url=_url(site, e.slug + MP3, v), length=str(e.mp3_bytes),
        type="audio/mpeg",
    )  # fmt: skip
    _sub(item, f"{{{ITUNES_NS}}}title", e.title)
    _sub(item, f"{{{ITUNES_NS}}}duration", _duration(e.duration))
    _sub(item, f"{{{ITUNES_NS}}}episodeType", "full")
    _sub(item, f"{{{PODCAST_NS}}}chapters", url=_url(site, e.slug + CHAPTERS_JSON, v),
         type=CHAPTERS_TYPE)  # fmt: skip
    # Both transcripts: apps that follow word by word take the JSON one (one segment a word).
    for name, kind in ((TRANSCRIPT_VTT, TRANSCRIPT_TYPE), (TRANSCRIPT_JSON, TRANSCRIPT_JSON_TYPE)):
        _sub(item, f"{{{PODCAST_NS}}}transcript", url=_url(site, e.slug + name, v), type=kind,
             language=site.feed.language)  # fmt: skip


def render(site: Settings, episodes: list[Episode]) -> bytes:
    """Return the feed's bytes for ``episodes`` (deterministic: the same input, the same bytes)."""
    rss = ET.Element("rss", version="2.0")
    ch = _channel(site, rss)
    for e in episodes:
        _item(site, ch, e)
    ET.indent(rss)
    data: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def write_feed(site: Settings) -> FeedResult:
    """Write ``audio/feed.xml`` from every intact build; untouched when nothing changed."""
    from filelock import FileLock

    path = site.audio_dir / FEED
    feed_url(site)  # refuse a missing base_url before reading anything
    site.audio_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(site.audio_dir / f".{FEED}.lock")):
        episodes, skipped = collect(site)
        data = render(site, episodes)
        try:
            same = path.is_file() and path.read_bytes() == data
        except OSError:
            same = False
        if not same:
            write_atomic(path, data)
    return FeedResult(path, episodes, skipped, changed=not same)


def refresh_feed(site: Settings) -> FeedResult | None:
    """Rewrite the feed after a build when one exists (a site that never ran ``feed`` has none)."""
    if not (site.audio_dir / FEED).is_file():
        return None
    return write_feed(site)
