"""Articles: find them by slug and load ``content/SLUG.yaml`` into a validated :class:`Article`.

The format is described for editors in ``docs/content-format.md``; this module is its only reader.
Besides the format's rules, loading refuses what would otherwise fail only in the engine, during
a build: a text that says nothing aloud (emoji only, "|", zero-width characters), and an article
of more than MAX_SENTENCES sentences. So ``narrate script``, ``status`` and ``check`` report it.
"""

from __future__ import annotations

import difflib
import os
import re
import unicodedata
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from narrate.content.model import Article, Block, ListItem, Paragraph, Quote, Section, TimelineEntry
from narrate.errors import ContentError, UnknownArticleError, UsageError
from narrate.settings.load import parse_overrides
from narrate.settings.model import CONFIG_NAME
from narrate.text import is_silent, iter_sentences
from narrate.text.characters import shown
from narrate.yamlread import NULL, Fields, Node, load

FORMAT_VERSION = 1
"""The article format this narrate reads (the ``format:`` key)."""

SUFFIX = ".yaml"

MAX_SENTENCES = 20_000
"""The most sentences (spoken segments) an article may have, some 17 hours of narration. A
longer one is refused when it is loaded, before any work; ``load_article(path, max_sentences=N)``
sets another limit."""

MAX_SLUG_LENGTH = 200
"""The longest slug. It names files (``audio/.SLUG.transcript.vtt.XXXXXXXX.part``) that must fit
the file system's limit on a name (NAME_MAX, 255 bytes on most), which may make it shorter."""
_SLUG_FILE_ROOM = 48
"""Characters the longest file named after a slug adds to the slug."""

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*\Z")

_TOP_KEYS: tuple[str, ...] = ("format", "title", "era", "event", "year", "date", "people")
_TOP_KEYS += ("summary", "settings", "sections")
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


def _max_slug_length() -> int:
    """Return the longest slug whose files this system can name (NAME_MAX where known)."""
    try:
        name_max = os.pathconf(".", "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # not POSIX, or no limit reported
        return MAX_SLUG_LENGTH
    return max(1, min(MAX_SLUG_LENGTH, name_max - _SLUG_FILE_ROOM))


def validate_slug(slug: str, reserved: Collection[str]) -> str:
    """Return ``slug`` if it is a valid article name; else raise UsageError saying what is."""
    rule = "a slug is lowercase letters, digits and hyphens, starting with a letter or digit"
    if not slug:
        raise UsageError(f"no article given; {rule} (e.g. imagenet)")
    longest = _max_slug_length()
    if len(slug) > longest:
        # Checked first: opening a longer name fails with ENAMETOOLONG, not "no such article".
        raise UsageError(
            f"the article slug is {len(slug)} characters long; a slug is at most {longest} "
            "(it names the article's files); use a shorter one"
        )
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
    from narrate.content.markdown import SUFFIX as MD
    from narrate.content.markdown import is_draft

    found = [p for s in (SUFFIX, MD) for p in content_dir.glob("*" + s)]
    # A Markdown draft (`draft: true`) is left out until it is published.
    return sorted(
        {p.stem for p in found if p.is_file() and not p.name.startswith(".")}
        - {p.stem for p in found if p.suffix == MD and is_draft(p)}
    )


def find_article(content_dir: Path, slug: str, reserved: Collection[str]) -> Path:
    """Return the path of the article ``slug``; UnknownArticleError lists the available ones."""
    validate_slug(slug, reserved)
    path = content_dir / f"{slug}{SUFFIX}"
    md = content_dir / f"{slug}.md"
    if path.is_file() and md.is_file():
        raise UsageError(f"both {path} and {md} exist; an article is one file: remove one")
    if path.is_file() or md.is_file():
        return path if path.is_file() else md
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
            f"no article `{slug}`: {content_dir} has no *{SUFFIX} or *.md articles yet "
            "(`narrate init` writes an example)"
        )
    close = difflib.get_close_matches(slug, available, n=1, cutoff=0.6)
    hint = f" Did you mean `{close[0]}`?" if close else ""
    raise UnknownArticleError(
        f"no article `{slug}` in {content_dir}.{hint} Available: {', '.join(available)}"
    )


_IN_WORDS = "write it in words"
_OR_SAY = "write it in words, or give what to say with `text:` and `say:`"
_ENTRY_SAY = "write it in words, or give what to say for the entry with `say:`"


def _quote_hint(node: Node, what: str, written: str) -> None:
    """Refuse a one-key mapping such as ``- Note: ...``, which was meant as text."""
    pairs = node.raw.value
    if len(pairs) != 1 or str(pairs[0][0].value) in ("text", "say"):
        return
    key_raw, value_raw = pairs[0]
    if not isinstance(value_raw.value, str):  # a list or mapping: not text with ": " in it
        return
    key = str(key_raw.value)
    text = shown(f"{key}: {'' if value_raw.tag == NULL else value_raw.value}".strip())
    text = text.replace('"', '\\"')
    Node(key_raw, node.file, node.key_path(key), node.error).fail(
        f"unknown field `{shown(key)}`; allowed here: say, text. YAML reads text with `: ` in "
        f'it as a field; if this is the {what}, put it in quotes: {written}"{text}"'
    )


class _Reader:
    """Validates one article document; counts its sentences and refuses silent texts."""

    def __init__(self, max_sentences: int) -> None:
        self.max_sentences = max_sentences
        self.sentences = 0

    def count(self, node: Node) -> None:
        """Count one spoken segment, refusing the article once it has too many."""
        self.sentences += 1
        if self.sentences > self.max_sentences:
            node.fail(
                f"the article has more than {self.max_sentences:,} sentences, more than narrate "
                "narrates as one; split it into several articles"
            )

    def heard(self, node: Node, text: str, fix: str, *, sentence: int = 0) -> str:
        """Return ``text``, refusing it (at its field) if it says nothing aloud."""
        if is_silent(text):
            quoted = f'"{shown(text)}"'
            which = f"sentence {sentence}, {quoted}," if sentence else quoted
            node.fail(
                f"{which} says nothing aloud (no letter or digit is left once emoji and symbols "
                f"are dropped); {fix}"
            )
        return text

    def spoken(self, node: Node, what: str, *, optional: bool = False) -> str:
        """Return a text field that is spoken as written (a title, a heading, a name)."""
        return self.heard(node, node.text(what=what, optional=optional), _IN_WORDS)

    def prose(self, node: Node, text: str, fix: str) -> None:
        """Count and check ``text`` sentence by sentence, as the script will speak it."""
        single = True
        for n, sentence in enumerate(iter_sentences(text), 1):
            self.count(node)
            single = single and n == 1 and sentence == text
            self.heard(node, sentence, fix, sentence=0 if single else n)

    def say(self, fields: Fields) -> str | None:
        """Return the ``say:`` field (spoken as one segment), or None when it is absent."""
        if "say" not in fields:
            return None
        self.count(fields["say"])
        text = fields["say"].text(what="spoken form", optional=True)
        return self.heard(fields["say"], text, "write in words what to say")

    def paragraph(
        self, node: Node, what: str, *, split: bool = True, written: str = "- "
    ) -> Paragraph:
        """Read text, or ``{text:, say:}``, as a Paragraph (spoken sentence by sentence)."""
        if node.is_mapping():
            _quote_hint(node, what, written)
            fields = node.mapping(("text", "say"), what="text: and say:")
            say = self.say(fields)
            text_node = fields["text"]
        elif node.is_scalar():
            say, text_node = None, node
        else:
            node.fail(f"expected {what} (or text: and say:), got {node.kind}")
        text = text_node.text(what=what)
        if say is None and split:
            self.prose(text_node, text, _OR_SAY)
        elif say is None:
            self.count(text_node)
            self.heard(text_node, text, _OR_SAY)
        return Paragraph(text, say, node.line)

    def quote(self, node: Node) -> Quote:
        fields = node.mapping(
            ("text", "author", "context", "say"),
            what="text:, author: and optionally context: and say:",
        )
        text = fields["text"].text(what="quotation")
        for open_mark, close_mark in _QUOTE_MARKS:
            if len(text) > 1 and text.startswith(open_mark) and text.endswith(close_mark):
                # The page adds the marks; kept in the data they would be doubled on display.
                fields["text"].fail("leave out the surrounding quote marks; the page adds them")
        self.count(node)  # "Ada Lovelace, in a letter, said:"
        author = self.spoken(fields["author"], "name of who said it")
        context = (
            self.spoken(fields["context"], "context", optional=True)
            if "context" in fields
            else None
        )
        say = self.say(fields)
        if say is None:
            self.prose(fields["text"], text, _OR_SAY)
        return Quote(text=text, author=author, context=context, say=say, line=node.line)

    def timeline_entry(self, node: Node) -> TimelineEntry:
        fields = node.mapping(
            ("date", "event", "say"),
            what="date:, event: and optionally say:",
        )
        date = fields["date"].text(what="date as displayed")
        event = fields["event"].text(what="event")
        say = self.say(fields)
        if say is None:
            self.count(node)
            self.heard(fields["date"], date, _ENTRY_SAY)
            self.heard(fields["event"], event, _ENTRY_SAY)
        return TimelineEntry(date=date, event=event, say=say, line=node.line)

    def section(self, node: Node) -> Section:
        fields = node.mapping(_SECTION_KEYS, what="heading: and " + _BLOCKS_WHAT)
        self.count(fields["heading"])
        heading = self.spoken(fields["heading"], "section heading")
        blocks: list[Block] = []
        # Blocks are narrated in the order their keys appear, so an editor controls the order
        # by moving a key, with no extra ordering field to keep in sync.
        for key, value in fields.items():
            if key == "paragraphs":
                items = value.sequence(what="paragraphs")
                blocks.extend(self.paragraph(item, "paragraph text") for item in items)
            elif key == "quotes":
                blocks.extend(self.quote(item) for item in value.sequence(what="quotes"))
            elif key == "timeline":
                items = value.sequence(what="timeline entries (date: and event:)")
                blocks.extend(self.timeline_entry(item) for item in items)
            elif key == "items":
                for item in value.sequence(what="list items"):
                    p = self.paragraph(item, "list item text", split=False)
                    blocks.append(ListItem(p.text, p.say, p.line))
        if not blocks:
            node.fail(f"section {heading!r} has no content; add {_BLOCKS_WHAT}")
        return Section(heading=heading, blocks=tuple(blocks), line=node.line)

    def article(self, root: Node, slug: str) -> Article:
        """Validate a checked article document."""
        _check_head(root)
        fields = root.mapping(_TOP_KEYS, what="article fields")
        # Fields are validated in file order, so the first error reported is the first in the
        # file; required fields that are absent are reported after that.
        values: dict[str, Any] = {}
        for key, node in fields.items():
            if key == "title":
                self.count(node)
                values[key] = self.spoken(node, key)
            elif key == "era":  # shown on the page, never spoken
                values[key] = node.text(what=key, optional=True)
            elif key == "date":  # the feed's pubDate, never spoken
                values[key] = parse_date(node)
            elif key in ("event", "year"):
                values[key] = self.spoken(
                    node, "year as displayed" if key == "year" else key, optional=True
                )
            elif key == "people":
                names = node.sequence(what="names", single=True, optional=True)
                values[key] = tuple(self.spoken(p, "person's name") for p in names)
            elif key == "summary":
                values[key] = self.paragraph(node, "summary", written="summary: ")
            elif key == "settings":
                values[key] = parse_overrides(node)
            elif key == "sections":
                items = node.sequence(what="sections (heading: and content)")
                values[key] = tuple(self.section(item) for item in items)
        for key in ("title", "summary", "sections"):
            fields[key]  # noqa: B018 -- raises the "missing" error for an absent required field
        return Article(slug=slug, source=str(root.file), **values)


def parse_date(node: Node) -> str:
    """Return a ``date:`` as ``YYYY-MM-DD`` (a time after it is allowed and dropped)."""
    import datetime

    text = node.text(what="date (YYYY-MM-DD)")
    try:
        if not re.match(r"\d{4}-\d\d-\d\d([T ]\S+)?\Z", text):
            raise ValueError(text)
        return datetime.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        node.fail(f"`{shown(text)}` is not a date; write it as YYYY-MM-DD, e.g. 2009-06-20")


def _check_head(root: Node) -> None:
    """Refuse a document that is not an article of this format, before reading any field."""
    what = "an article (format:, title:, summary:, sections:)"
    other = f"this is narrate's site config ({CONFIG_NAME}), not an article; "
    other += f"articles start with `format: {FORMAT_VERSION}`"
    keys = root.document_keys(what, own="format", other="narrate", not_this=other)
    if "format" not in keys:
        root.fail(f"missing; add `format: {FORMAT_VERSION}` as the first line", field="format")
    # The version is checked before anything else: a newer format may use keys this one lacks.
    root.mapping(None)["format"].version(FORMAT_VERSION, "article format")


def load_article(
    path: Path, *, max_sentences: int = MAX_SENTENCES, markdown: Mapping[str, Any] | None = None
) -> Article:
    """Read and validate one article file; raise ContentError naming file:line:col and field.

    An article of more than ``max_sentences`` spoken segments is refused (see MAX_SENTENCES).
    ``content/SLUG.md`` is read by :mod:`narrate.content.markdown` (``markdown``: the site's
    non-prose policy).
    """
    slug = path.stem
    if path.suffix == ".md" and _SLUG.match(slug):
        from narrate.content.markdown import load_markdown, policy_of

        return load_markdown(path, max_sentences=max_sentences, policy=policy_of(markdown))
    if not _SLUG.match(slug) or not path.name.endswith(SUFFIX):
        guess = _suggest_slug(slug) or "article"
        raise ContentError(
            f"article files are named SLUG{SUFFIX} (lowercase letters, digits, hyphens); "
            f"rename it to {guess}{SUFFIX}",
            path=path,
        )
    root = load(
        path,
        empty_hint=f"an article starts with `format: {FORMAT_VERSION}` "
        "(`narrate init` writes an example)",
    )
    return _Reader(max_sentences).article(root, slug)
