"""Articles: find them by slug and load ``content/SLUG.yaml`` into a validated :class:`Article`.

The format is described for editors in ``docs/content-format.md``; this module is its only reader.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Collection
from pathlib import Path
from typing import Any

from narrate.article import Article, Block, ListItem, Paragraph, Quote, Section, TimelineEntry
from narrate.config import CONFIG_NAME
from narrate.errors import ContentError, UnknownArticleError, UsageError
from narrate.settings_file import parse_overrides
from narrate.yamlread import Fields, Node, load

FORMAT_VERSION = 1
"""The article format this narrate reads (the ``format:`` key)."""

SUFFIX = ".yaml"

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*\Z")

_TOP_KEYS = ("format", "title", "era", "event", "year", "people", "summary", "settings", "sections")
_BLOCK_KEYS = ("paragraphs", "quotes", "timeline", "items")
_SECTION_KEYS = ("heading", *_BLOCK_KEYS)
_BLOCKS_WHAT = "paragraphs:, quotes:, timeline: or items:"
# Single quotes are left alone: a quotation may start with an elision ('Tis) and end with a
# possessive apostrophe.
_QUOTE_MARKS = (('"', '"'), ("\u201c", "\u201d"))


def _suggest_slug(name: str) -> str:
    """Return the nearest valid slug to ``name`` (for messages)."""
    # Accents off first, so "Ímagenet" suggests "imagenet" rather than "magenet".
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def validate_slug(slug: str, reserved: Collection[str]) -> str:
    """Return ``slug`` if it is a valid article name; else raise UsageError saying what is."""
    rule = "a slug is lowercase letters, digits and hyphens, starting with a letter or digit"
    if not slug:
        raise UsageError(f"no article given; {rule} (e.g. imagenet)")
    if "/" in slug or "\\" in slug or "." in slug or slug.startswith("~"):
        stem = slug.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        stem = stem[: -len(SUFFIX)] if stem.endswith(SUFFIX) else stem
        guess = _suggest_slug(stem)
        hint = f"; for `{slug}` give `{guess}`" if guess and _SLUG.match(guess) else ""
        raise UsageError(f"give the article's slug, not a path or file name{hint}; {rule}")
    if not _SLUG.match(slug):
        guess = _suggest_slug(slug)
        hint = f"; did you mean `{guess}`?" if guess and _SLUG.match(guess) else ""
        raise UsageError(f"`{slug}` is not a valid article slug: {rule}{hint}")
    if slug in reserved:
        raise UsageError(
            f"`{slug}` is a narrate command name, so it cannot name an article; "
            f"rename content/{slug}{SUFFIX}"
        )
    return slug


def list_articles(content_dir: Path) -> list[str]:
    """Return the sorted slugs of the ``*.yaml`` files in ``content_dir`` (none if missing)."""
    if not content_dir.is_dir():
        return []
    # Dot-files are editor backups and lock files, never articles.
    return sorted(
        p.stem for p in content_dir.glob("*" + SUFFIX) if p.is_file() and not p.name.startswith(".")
    )


def find_article(content_dir: Path, slug: str, reserved: Collection[str]) -> Path:
    """Return the path of the article ``slug``; UnknownArticleError lists the available ones."""
    validate_slug(slug, reserved)
    path = content_dir / f"{slug}{SUFFIX}"
    if path.is_file():
        return path
    if (content_dir / f"{slug}.yml").is_file():
        raise UnknownArticleError(
            f"found {content_dir / (slug + '.yml')}; articles end in {SUFFIX}: rename it"
        )
    if not content_dir.is_dir():
        raise UnknownArticleError(
            f"no content folder at {content_dir}; create it and add {slug}{SUFFIX}, "
            f"or set paths.content in {CONFIG_NAME}"
        )
    available = list_articles(content_dir)
    if not available:
        raise UnknownArticleError(
            f"no article `{slug}`: {content_dir} has no *{SUFFIX} articles yet "
            "(see docs/content-format.md)"
        )
    close = difflib.get_close_matches(slug, available, n=1, cutoff=0.6)
    hint = f" Did you mean `{close[0]}`?" if close else ""
    raise UnknownArticleError(
        f"no article `{slug}` in {content_dir}.{hint} Available: {', '.join(available)}"
    )


def _optional(fields: Fields, key: str, what: str) -> str | None:
    """Return an optional text field, or None when the key is absent."""
    return fields[key].text(what=what, optional=True) if key in fields else None


def _paragraph(node: Node, what: str) -> Paragraph:
    """Read text, or ``{text:, say:}``, as a Paragraph."""
    if node.is_mapping():
        fields = node.mapping(("text", "say"), what="text: and say:")
        say = _optional(fields, "say", "spoken form")
        return Paragraph(fields["text"].text(what=what), say, node.line)
    if not node.is_scalar():
        node.fail(f"expected {what} (or text: and say:), got {node.kind}")
    return Paragraph(node.text(what=what), None, node.line)


def _quote(node: Node) -> Quote:
    fields = node.mapping(
        ("text", "author", "context", "say"),
        what="text:, author: and optionally context: and say:",
    )
    text = fields["text"].text(what="quotation")
    for open_mark, close_mark in _QUOTE_MARKS:
        if len(text) > 1 and text.startswith(open_mark) and text.endswith(close_mark):
            # The page adds the marks; kept in the data they would be doubled on display.
            fields["text"].fail("leave out the surrounding quote marks; the page adds them")
    return Quote(
        text=text,
        author=fields["author"].text(what="name of who said it"),
        context=_optional(fields, "context", "context"),
        say=_optional(fields, "say", "spoken form"),
        line=node.line,
    )


def _timeline_entry(node: Node) -> TimelineEntry:
    fields = node.mapping(
        ("date", "event", "say"),
        what="date:, event: and optionally say:",
    )
    return TimelineEntry(
        date=fields["date"].text(what="date as displayed"),
        event=fields["event"].text(what="event"),
        say=_optional(fields, "say", "spoken form"),
        line=node.line,
    )


def _section(node: Node) -> Section:
    fields = node.mapping(_SECTION_KEYS, what="heading: and " + _BLOCKS_WHAT)
    heading = fields["heading"].text(what="section heading")
    blocks: list[Block] = []
    # Blocks are narrated in the order their keys appear, so an editor controls the order by
    # moving a key, with no extra ordering field to keep in sync.
    for key, value in fields.items():
        if key == "paragraphs":
            blocks.extend(
                _paragraph(item, "paragraph text") for item in value.sequence(what="paragraphs")
            )
        elif key == "quotes":
            blocks.extend(_quote(item) for item in value.sequence(what="quotes"))
        elif key == "timeline":
            blocks.extend(
                _timeline_entry(item)
                for item in value.sequence(what="timeline entries (date: and event:)")
            )
        elif key == "items":
            for item in value.sequence(what="list items"):
                p = _paragraph(item, "list item text")
                blocks.append(ListItem(p.text, p.say, p.line))
    if not blocks:
        node.fail(f"section {heading!r} has no content; add {_BLOCKS_WHAT}")
    return Section(heading=heading, blocks=tuple(blocks), line=node.line)


def _article(root: Node, slug: str) -> Article:
    """Validate a checked article document."""
    if not root.is_mapping():
        root.fail(f"expected an article (format:, title:, summary:, sections:), got {root.kind}")
    keys = [str(k.value) for k, _ in root.raw.value]
    if "format" not in keys and "narrate" in keys:
        root.fail(
            f"this is narrate's site config ({CONFIG_NAME}), not an article; "
            f"articles start with `format: {FORMAT_VERSION}`"
        )
    if "format" not in keys:
        root.fail(f"missing; add `format: {FORMAT_VERSION}` as the first line", field="format")
    # The version is checked before anything else: a newer format may use keys this one lacks.
    version = root.mapping(None)["format"]
    version.version(FORMAT_VERSION, "article format")
    fields = root.mapping(_TOP_KEYS, what="article fields")
    # Fields are validated in file order, so the first error reported is the first in the file;
    # required fields that are absent are reported after that.
    values: dict[str, Any] = {}
    for key, node in fields.items():
        if key in ("title", "era", "event"):
            values[key] = node.text(what=key, optional=key != "title")
        elif key == "year":
            values[key] = node.text(what="year as displayed", optional=True)
        elif key == "people":
            names = node.sequence(what="names", single=True, optional=True)
            values[key] = tuple(p.text(what="person's name") for p in names)
        elif key == "summary":
            values[key] = _paragraph(node, "summary")
        elif key == "settings":
            values[key] = parse_overrides(node)
        elif key == "sections":
            items = node.sequence(what="sections (heading: and content)")
            values[key] = tuple(_section(item) for item in items)
    for key in ("title", "summary", "sections"):
        fields[key]  # noqa: B018 -- raises the "missing" error for an absent required field
    return Article(slug=slug, source=str(root.file), **values)


def load_article(path: Path) -> Article:
    """Read and validate one article file; raise ContentError naming file:line:col and field."""
    slug = path.stem
    if not _SLUG.match(slug) or not path.name.endswith(SUFFIX):
        guess = _suggest_slug(slug) or "article"
        raise ContentError(
            f"article files are named SLUG{SUFFIX} (lowercase letters, digits, hyphens); "
            f"rename it to {guess}{SUFFIX}",
            path=path,
        )
    root = load(
        path,
        empty_hint=f"an article starts with `format: {FORMAT_VERSION}`; see docs/content-format.md",
    )
    return _article(root, slug)
