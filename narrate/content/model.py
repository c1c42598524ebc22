"""The validated article model: what ``content.load_article`` returns and ``script`` consumes.

Every text-bearing node keeps its displayed text, an optional spoken override (``say``) and the
1-based source line, so later errors can point an editor at the right place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from narrate.settings.model import Overrides


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of prose (also used for the summary and one-line sections)."""

    text: str
    """Displayed text, exactly as on the page."""
    say: str | None = None
    """What to speak instead of ``text`` (pronunciation fixes, expansions); None speaks ``text``."""
    line: int = 0
    """Source line in the YAML file (0 when built in code)."""


@dataclass(frozen=True)
class Quote:
    """A quotation with who said it and in what context."""

    text: str
    """The quotation as displayed, without surrounding quote marks."""
    author: str
    """Who said it."""
    context: str | None = None
    """When or why it was said, as displayed under the quote."""
    say: str | None = None
    """Spoken override for the quotation text."""
    line: int = 0


@dataclass(frozen=True)
class TimelineEntry:
    """One dated event on a timeline."""

    date: str
    """The date as displayed: "2007", "2007-2009", "Dec 2015", "2012 (September)"."""
    event: str
    """What happened, as displayed."""
    say: str | None = None
    """Spoken override for the whole entry (date included)."""
    line: int = 0


@dataclass(frozen=True)
class ListItem:
    """One item of a bulleted list (e.g. Fun Facts)."""

    text: str
    say: str | None = None
    line: int = 0


Block = Paragraph | Quote | TimelineEntry | ListItem


@dataclass(frozen=True)
class Section:
    """A headed section; its blocks are narrated in order."""

    heading: str
    """The heading as displayed; also the chapter title."""
    blocks: tuple[Block, ...]
    line: int = 0


@dataclass(frozen=True)
class Article:
    """One article page, validated."""

    slug: str
    """File stem of the article (``imagenet`` for ``content/imagenet.yaml``)."""
    title: str
    summary: Paragraph
    sections: tuple[Section, ...]
    era: str | None = None
    event: str | None = None
    year: str | None = None
    people: tuple[str, ...] = ()
    date: str | None = None
    """Publication date, ``YYYY-MM-DD`` (the feed's pubDate); never spoken."""
    settings: Overrides = field(default_factory=Overrides, compare=False, hash=False)
    """The article's ``settings:`` (applied by :func:`narrate.settings.effective.resolve`)."""
    source: str = field(default="", compare=False)
    """Path of the YAML file it was read from (for messages)."""
