"""The article page's player: an HTML fragment, a standalone preview page and a preview server.

Everything comes from the published outputs (``SLUG.chapters.json``, ``SLUG.transcript.vtt``,
the MP3's size) and the article's header fields. :func:`embed_fragment` and
:func:`preview_page` are pure and return strings; every piece of article text is HTML-escaped,
because content is text, never markup. The fragment's style and script live in
``narrate/assets/`` and are inlined, so a page needs nothing else.

Deep links: ``#t=83.5``, ``#t=1:23.5`` or ``?t=83.5`` on the page seeks the first narration there
on load; ``#narrate-SLUG-CUEID`` seeks to that sentence.

The times written into the fragment are a fallback: its script re-reads them from the published
chapter and transcript tracks when they load, so a fragment pasted before a rebuild still seeks
to the right places. File URLs carry ``?v=`` and the first hex digits of the MP3's sha256, so a
browser or CDN never pairs an old MP3 with new tracks.
"""

from __future__ import annotations

import email.utils
import html
import json
import os
import re
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, unquote, urlsplit

from narrate import publish as pub
from narrate.article import Article
from narrate.chapters import Chapter, Cue, clock, parse_vtt, to_ms
from narrate.config import Settings
from narrate.errors import NarrateError, OutputError

PREVIEW_SUFFIX = ".html"
"""The preview page is ``SLUG.html`` beside the article's outputs."""
DEFAULT_PORT = 8000
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

    @property
    def duration(self) -> float:
        """Return the length in seconds (the end of the last chapter)."""
        return self.chapters[-1].end_ms / 1000 if self.chapters else 0.0


def _not_built(slug: str, what: str) -> NarrateError:
    return NarrateError(f"`{slug}` has not been built ({what}): run `narrate {slug}` first")


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


def paragraph_gap(settings: Settings, article: Article) -> float | None:
    """Return the silence that marks a paragraph break for this article's pauses, or None."""
    pauses = settings.with_overrides(article.settings).pauses
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
    """Read an article's published chapters and transcript; fail if it has not been built."""
    slug = article.slug
    for suffix in pub.OUTPUTS:
        path = pub.output_path(audio_dir, slug, suffix)
        if not path.is_file():
            raise _not_built(slug, f"{path} is missing")
    mp3 = pub.output_path(audio_dir, slug, pub.MP3)
    return Narration(
        slug=slug,
        title=article.title,
        summary=article.summary.text,
        era=article.era,
        event=article.event,
        year=article.year,
        people=article.people,
        chapters=_read_chapters(pub.output_path(audio_dir, slug, pub.CHAPTERS_JSON), slug),
        cues=_read_cues(pub.output_path(audio_dir, slug, pub.TRANSCRIPT_VTT), slug),
        mp3_bytes=mp3.stat().st_size,
        paragraph_gap=gap,
        version=mp3_version(audio_dir, slug),
    )


# ---------------------------------------------------------------------------------------------
# HTML (pure)


def _asset(name: str) -> str:
    return files("narrate").joinpath("assets", name).read_text("utf-8")


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _iso_duration(seconds: float) -> str:
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return "PT" + (f"{h}H" if h else "") + (f"{m}M" if h or m else "") + f"{s}S"


def _secs(ms: int) -> str:
    return repr(ms / 1000)


def _megabytes(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def asset_url(base_url: str, name: str, version: str = "") -> str:
    """Return the URL of a published file under ``base_url`` (relative when it is empty), with
    ``?v=version`` when one is given."""
    name = quote(name) + (f"?v={quote(version)}" if version else "")
    return f"{base_url.rstrip('/')}/{name}" if base_url else name


def _transcript(n: Narration) -> str:
    """Render the transcript: one part per chapter, its heading cue apart, paragraphs by pauses."""
    parts: list[str] = []
    cues = list(n.cues)
    i = 0
    for number, chapter in enumerate(n.chapters):
        last = number == len(n.chapters) - 1
        mine: list[Cue] = []
        while i < len(cues) and (last or cues[i].start_ms < chapter.end_ms):
            mine.append(cues[i])
            i += 1
        if not mine:
            continue
        lines = [f'<div class="narrate-part" data-chapter="{number + 1}">']
        if mine[0].text == chapter.title:
            lines.append(f'<p class="narrate-part-title">{_cue(n.slug, mine[0])}</p>')
            mine = mine[1:]
        paragraph: list[str] = []
        previous: Cue | None = None
        for cue in mine:
            gap = (cue.start_ms - previous.end_ms) / 1000 if previous else 0.0
            if paragraph and n.paragraph_gap is not None and gap >= n.paragraph_gap:
                lines.append("<p>" + " ".join(paragraph) + "</p>")
                paragraph = []
            paragraph.append(_cue(n.slug, cue))
            previous = cue
        if paragraph:
            lines.append("<p>" + " ".join(paragraph) + "</p>")
        lines.append("</div>")
        parts.append("\n".join(lines))
    return "\n".join(parts)


def _cue(slug: str, cue: Cue) -> str:
    text = _e(cue.text).replace("\n", "<br>")
    return (
        f'<span id="narrate-{_e(slug)}-{_e(cue.id)}" data-cue="{_e(cue.id)}" '
        f'data-start="{_secs(cue.start_ms)}" data-end="{_secs(cue.end_ms)}">{text}</span>'
    )


def _chapter_list(n: Narration) -> str:
    items = []
    for number, chapter in enumerate(n.chapters, start=1):
        start = chapter.start_ms / 1000
        items.append(
            f'<li><button type="button" disabled data-start="{_secs(chapter.start_ms)}" '
            f'data-end="{_secs(chapter.end_ms)}">'
            f'<span class="narrate-n" aria-hidden="true">{number}</span>'
            f'<span class="narrate-title">{_e(chapter.title)}</span> '
            f'<time datetime="{_iso_duration(start)}">{clock(start)}</time></button></li>'
        )
    return "\n".join(items)


def embed_fragment(n: Narration, base_url: str = "", lang: str = "en") -> str:
    """Return the HTML fragment for the article page: player, chapter list and transcript."""
    slug, title = n.slug, _e(n.title)
    mp3 = _e(asset_url(base_url, f"{slug}{pub.MP3}", n.version))
    chapters_vtt = _e(asset_url(base_url, f"{slug}{pub.CHAPTERS_VTT}", n.version))
    transcript_vtt = _e(asset_url(base_url, f"{slug}{pub.TRANSCRIPT_VTT}", n.version))
    count = len(n.chapters)
    summary = f"{clock(n.duration)} · {count} chapter{'s' if count != 1 else ''}"
    parts = [
        f'<section class="narrate" data-narrate="{_e(slug)}" lang="{_e(lang)}" '
        f'aria-label="Listen to the article: {title}">',
        f"<style>\n{_asset('narrate.css').strip()}\n</style>",
        f'<p class="narrate-head"><strong>Listen to this article</strong> '
        f"<span data-narrate-summary>{summary}</span></p>",
        f'<audio controls preload="metadata" src="{mp3}" aria-label="Narration of {title}">',
        f'<track kind="chapters" src="{chapters_vtt}" srclang="{_e(lang)}" '
        f'label="Chapters" default>',
        f'<track kind="captions" src="{transcript_vtt}" srclang="{_e(lang)}" label="Transcript">',
        f'<a href="{mp3}">Download the narration (MP3, {_megabytes(n.mp3_bytes)})</a>',
        "</audio>",
        '<nav class="narrate-chapters" data-narrate-chapters aria-label="Chapters">',
        '<p class="narrate-label" aria-hidden="true">Chapters</p>',
        "<ol>",
        _chapter_list(n),
        "</ol>",
        "</nav>",
        '<p class="narrate-label" aria-hidden="true">Transcript</p>',
        '<div class="narrate-transcript" data-narrate-transcript role="region" '
        'aria-label="Transcript" tabindex="0">',
        _transcript(n),
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


def write_preview(n: Narration, audio_dir: Path, base_url: str = "") -> Path:
    """Write ``SLUG.html`` into the audio folder atomically and return its path."""
    target = pub.output_path(audio_dir, n.slug, PREVIEW_SUFFIX)
    data = preview_page(n, base_url).encode("utf-8")
    try:
        if target.read_bytes() == data:
            return target  # unchanged: leave the file (and its mtime) alone
    except OSError:
        pass
    try:
        tmp = pub._write_temp(target, data)
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"could not write {target}: {exc.strerror or exc}") from exc
    return target


def refresh_preview(settings: Settings, slug: str) -> Path | None:
    """Rewrite ``SLUG.html`` from the current outputs if a preview was written; else do nothing.

    Call it after a build: the page keeps the base URL it was written with. Returns the page's
    path, or None when the article has no preview. Raises NarrateError (the article or its
    outputs cannot be read) or OutputError (the page cannot be written).
    """
    from narrate.content import load_article

    target = pub.output_path(settings.audio_dir, slug, PREVIEW_SUFFIX)
    try:
        old = target.read_text("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        old = ""  # unreadable: write it anew
    match = _BASE_META.search(old)
    base_url = html.unescape(match.group(1)) if match else ""
    article = load_article(settings.content_dir / f"{slug}.yaml")
    narration = load_narration(article, settings.audio_dir, paragraph_gap(settings, article))
    return write_preview(narration, settings.audio_dir, base_url)


# ---------------------------------------------------------------------------------------------
# Serving


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_TYPES = {
    ".mp3": "audio/mpeg",
    ".vtt": "text/vtt; charset=utf-8",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """Return the (first, last) bytes of a single-range header; None to ignore it; False if
    it cannot be satisfied (416)."""
    match = _RANGE.match(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return None  # several ranges or another unit: serve the whole file (RFC 9110 allows it)
    first_s, last_s = match.groups()
    if not first_s:  # a suffix: the last N bytes
        n = int(last_s)
        if n == 0 or size == 0:
            return False
        return max(0, size - n), size - 1
    first = int(first_s)
    last = int(last_s) if last_s else size - 1
    if last_s and last < first:
        return None
    if first >= size:
        return False
    return first, min(last, size - 1)


class RangeRequestHandler(SimpleHTTPRequestHandler):
    """Static files with byte ranges (206, Content-Range), as media seeking needs."""

    protocol_version = "HTTP/1.1"
    _remaining: int | None = None

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        """Return the MIME type, with the ones narrate's outputs need."""
        name = os.fspath(path)
        if name.endswith(pub.CHAPTERS_JSON):
            return "application/json+chapters"
        return _TYPES.get(os.path.splitext(name)[1].lower()) or super().guess_type(name)

    def end_headers(self) -> None:
        """Announce range support and stop caching of files that a rebuild replaces."""
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def send_head(self) -> Any:
        """Answer a Range request with 206 and the slice; anything else as usual.

        Dot-files (narrate's locks, temporary files) are never served: 404.
        """
        self._remaining = None
        if any(part.startswith(".") for part in unquote(urlsplit(self.path).path).split("/")):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        header = self.headers.get("Range")
        path = self.translate_path(self.path)
        if header is None or not os.path.isfile(path) or self.path.endswith("/"):
            return super().send_head()
        try:
            f = open(path, "rb")  # closed by the base class after copyfile
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        try:
            st = os.fstat(f.fileno())
            modified = email.utils.formatdate(st.st_mtime, usegmt=True)
            if_range = self.headers.get("If-Range")
            span = parse_range(header, st.st_size)
            if span is None or (if_range is not None and if_range != modified):
                f.close()
                return super().send_head()
            if span is False:
                f.close()
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.send_header("Content-Range", f"bytes */{st.st_size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            assert isinstance(span, tuple)
            first, last = span
            self.send_response(HTTPStatus.PARTIAL_CONTENT)
            self.send_header("Content-Type", self.guess_type(path))
            self.send_header("Content-Range", f"bytes {first}-{last}/{st.st_size}")
            self.send_header("Content-Length", str(last - first + 1))
            self.send_header("Last-Modified", modified)
            self.end_headers()
            f.seek(first)
            self._remaining = last - first + 1
            return f
        except BaseException:
            f.close()
            raise

    def copyfile(self, source: IO[bytes], outputfile: IO[bytes]) -> None:  # type: ignore[override]
        """Copy the requested slice (or the whole file)."""
        remaining = self._remaining
        if remaining is None:
            shutil.copyfileobj(source, outputfile)
            return
        while remaining > 0:
            block = source.read(min(64 * 1024, remaining))
            if not block:
                break
            outputfile.write(block)
            remaining -= len(block)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: a preview server's request log is noise."""


class PreviewServer(ThreadingHTTPServer):
    """A threading HTTP server that takes a browser dropping a connection calmly."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore connections the browser closed (it does so whenever the player seeks)."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def make_server(folder: Path, port: int = DEFAULT_PORT, host: str = "127.0.0.1") -> PreviewServer:
    """Return a server for ``folder`` on ``host:port`` (0 picks a free port); not yet serving."""
    if not folder.is_dir():
        raise NarrateError(f"cannot serve {folder}: it is not a folder")
    handler = partial(RangeRequestHandler, directory=str(folder))
    try:
        return PreviewServer((host, port), handler)
    except OSError as exc:
        raise NarrateError(
            f"cannot serve on {host}:{port}: {exc.strerror or exc}; choose another with --port"
        ) from exc


def server_url(server: ThreadingHTTPServer, path: str = "") -> str:
    """Return the http:// URL of ``path`` on a server made by :func:`make_server`."""
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}/{quote(path)}"


@contextmanager
def serving(folder: Path, port: int = 0) -> Iterator[ThreadingHTTPServer]:
    """Serve ``folder`` on 127.0.0.1 in a background thread for the duration of the block."""
    server = make_server(folder, port)
    thread = threading.Thread(target=server.serve_forever, name="narrate-serve", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def serve(
    folder: Path,
    port: int = DEFAULT_PORT,
    on_ready: Callable[[ThreadingHTTPServer], None] | None = None,
) -> None:
    """Serve ``folder`` on 127.0.0.1 until interrupted; ``on_ready`` runs once it listens."""
    with make_server(folder, port) as server:
        if on_ready is not None:
            on_ready(server)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass  # Ctrl-C is how a preview server is stopped, not an error
