"""Import a milestone page, flattened to text, as an article in the content format.

A page as a reader sees it (``../shared/seeds/*.txt``) is lines of text: page chrome, a
header (era badge, title, event, "2009By Fei-Fei Li, Jia Deng"), the "Listen to Article" box,
a one-paragraph summary, then headed sections holding paragraphs, quotes (quote / author /
context lines), timelines (date line / event line) and lists.

:func:`parse_page` turns that text into an :class:`~narrate.article.Article` and a
:class:`Report` of what it recognised and what it could not place. It is pure and, for any text,
returns or raises a :class:`~narrate.errors.NarrateError`. :func:`to_yaml` writes an article in
the documented format; :func:`write_article` checks that the file reads back as the same article
before it replaces anything.

How a line is placed, in order:

- chrome ("Skip to main content", "Listen to Article", the badge emoji, the image alt text, ...) is
  dropped, and everything after "Explore More Milestones" is the page footer;
- a known heading (the ImageNet page's ten) always starts a section; any other short Title Case
  line without a final full stop starts one when content follows it, unless it fills a slot (the
  author or context of a quote, the event of a date) or continues a list of similar lines;
- a line in quote marks followed by a name is a quote; the next single-sentence line is its context;
- a line that is only a date ("2007", "2007-2009", "Dec 2015", "2012 (September)") takes the next
  line as its event; "DATE: event" on one line is an entry too;
- bulleted lines, and runs of two or more short lines without a final full stop, are list items;
- every other line is a paragraph.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from narrate.article import Article, Block, ListItem, Paragraph, Quote, Section, TimelineEntry
from narrate.content import FORMAT_VERSION, SUFFIX, load_article
from narrate.errors import ContentError, NarrateError, OutputError, UsageError

__all__ = [
    "ImportResult",
    "Report",
    "Unplaced",
    "content_of",
    "import_page",
    "parse_page",
    "read_page",
    "to_yaml",
    "write_article",
]

# --------------------------------------------------------------------------------------------
# Vocabulary of the page
# --------------------------------------------------------------------------------------------

KNOWN_HEADINGS: tuple[str, ...] = (
    "Introduction",
    "Historical Context",
    "Technical Details",
    "Notable Quotes",
    "Cultural Impact",
    "Contemporary Reactions",
    "Timeline of Events",
    "Legacy",
    "Impact on AI",
    "Fun Facts",
)
"""Headings of the site's article template: always headings, wherever they appear."""

_KNOWN = {h.lower() for h in KNOWN_HEADINGS}

# Chrome compared case-insensitively after the leading emoji is removed ("🎧 Listen to Article").
_CHROME = frozenset({"skip to main content", "listen to article", "audio narration available"})
_LISTEN_BOX = frozenset({"listen to article", "audio narration available"})
_FOOTER = "explore more milestones"
_ALT_TEXT = re.compile(r".{1,200}? visualization: ")
_ALT_END = re.compile(r"Historic AI milestone from \S{1,20}\Z")

# Words left in lower case by Title Case.
_SMALL_WORDS = frozenset(
    "a an and as at but by for from in into nor of on onto or over per the to via vs vs. with"
    " than up de da di du la le van von der den".split()
)
# Headings that announce a list even when it has a single entry or its entries end in a stop.
_LIST_HINTS = ("fact", "highlight", "takeaway", "did you know", "trivia", "at a glance")

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_YEAR = r"(?:\d{4}s?|'\d{2}s)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_PART = r"(?:Early|Mid|Late|Spring|Summer|Autumn|Fall|Winter|Q[1-4]|H[12])"
_POINT = (
    rf"(?:(?:c\.|ca\.|circa|~)\s*)?(?:{_PART}[\s-]+)?"
    rf"(?:{_MONTH}\s*[-–—]\s*{_MONTH}\s+{_YEAR}"  # Jan-Mar 2013
    rf"|{_MONTH}\s+{_DAY},?\s+{_YEAR}"  # June 23, 1960
    rf"|{_DAY}\s+{_MONTH}\s+{_YEAR}"  # 23 June 1960
    rf"|{_MONTH}\s+{_YEAR}"  # Dec 2015
    rf"|\d{{4}}-\d{{2}}(?:-\d{{2}})?"  # 2012-09-30
    rf"|{_YEAR}(?:\s*\([A-Za-z][A-Za-z .]{{0,20}}\))?)"  # 2012, 1980s, 2012 (September)
)
_END = rf"(?:{_POINT}|\d{{2}}|{_MONTH}|present|today|now)"
_DATE = rf"{_POINT}(?:\s*(?:[-–—/]|to)\s*{_END})?"
_DATE_LINE = re.compile(rf"{_DATE}\Z", re.IGNORECASE)
_DATED_EVENT = re.compile(rf"(?P<date>{_DATE})\s*(?::\s|\s[-–—]\s)\s*(?P<event>\S.*)\Z", re.I)
_BYLINE = re.compile(rf"(?:(?P<year>{_DATE})\s*(?:[·•|,–—-]\s*)?)?By\s+(?P<people>\S.*)\Z")

_QUOTE_PAIRS = (('"', '"'), ("“", "”"), ("„", "“"), ("«", "»"))
_OPENING_MARKS = '"“„«'
_INLINE_QUOTE = re.compile(
    r"(?P<open>[\"“„«])(?P<text>.+)(?P<close>[\"”“»])\s*[—–-]+\s*(?P<author>\S.*)\Z"
)
_BULLET = re.compile(r"(?:[•·▪▸►‣◦●○■□✓✔✗★☆→*-]|\d{1,2}[.)])\s+(?=\S)")
_DASH_PREFIX = re.compile(r"[—–~-]+\s*")
_NAME_ENDINGS = frozenset({"al.", "jr.", "sr.", "inc.", "ltd.", "co.", "corp.", "ph.d."})
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "phd", "ph.d.", "et al."})
# A full stop, "!" or "?" (with closing marks) followed by a capital: more than one sentence.
_INNER_SENTENCE = re.compile(r"[.!?][\"'”’)]*\s+[\"“(]?[A-Z]")
_TERMINAL = ".!?:;"

# Characters YAML refuses in a file (PyYAML's reader); a page never displays them anyway.
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)

# Limits that keep "short line" honest.
_HEADING_CHARS, _HEADING_WORDS = 60, 8
_ITEM_CHARS = 160
_AUTHOR_CHARS, _AUTHOR_WORDS = 80, 12
_CONTEXT_CHARS = 200


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unplaced:
    """A line of the page that carries text but fits nowhere in the article."""

    line: int
    """1-based line number in the page."""
    text: str
    """The line as displayed."""
    why: str
    """Where it was found, e.g. "between the summary and the first heading"."""


@dataclass
class Report:
    """What :func:`parse_page` recognised, and what it left out."""

    headings: list[str] = field(default_factory=list)
    """Section headings, in page order."""
    paragraphs: int = 0
    """Paragraphs in sections (the summary not counted)."""
    quotes: int = 0
    """Quotes, each with author (and context when the page gives one)."""
    timeline: int = 0
    """Timeline entries (date and event)."""
    items: int = 0
    """List items."""
    unplaced: list[Unplaced] = field(default_factory=list)
    """Lines with text that are not in the article."""
    notes: list[str] = field(default_factory=list)
    """Other things an editor should know (reordered blocks, a dropped page footer)."""
    chrome: int = 0
    """Lines of page chrome dropped (navigation, badges, the listen box, the image alt text)."""

    def recognised(self) -> str:
        """Return the one-line count: "recognised: 10 sections, 1 quote, ...", paragraphs last."""
        parts = [
            _count(len(self.headings), "section"),
            _count(self.quotes, "quote"),
            _count(self.timeline, "timeline entry", "timeline entries"),
            _count(self.items, "list item"),
            _count(self.paragraphs, "paragraph"),
        ]
        return "recognised: " + ", ".join(parts)

    def lines(self) -> list[str]:
        """Return the report as lines for a terminal."""
        out = [self.recognised()]
        if self.headings:
            out.append("sections: " + ", ".join(self.headings))
        if self.unplaced:
            out.append(
                f"could not place {_count(len(self.unplaced), 'line')} "
                "(left out of the article; add them by hand if they belong):"
            )
            out += [f"  page line {u.line} ({u.why}): {u.text}" for u in self.unplaced]
        else:
            out.append("could not place: nothing")
        if self.chrome:
            out.append(f"left out as page chrome: {_count(self.chrome, 'line')}")
        out += [f"note: {n}" for n in self.notes]
        return out


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# --------------------------------------------------------------------------------------------
# Lines
# --------------------------------------------------------------------------------------------


@dataclass
class _Line:
    no: int
    """1-based line number in the page."""
    text: str
    """Whitespace collapsed, as the content loader collapses it."""
    badge: bool = False
    """It followed an emoji (the era badge), on the same line or the one before."""


def _clean(text: str) -> str:
    """Return displayed text: unprintable characters removed, whitespace runs as one space."""
    return " ".join(_NOT_PRINTABLE.sub("", text.replace("\t", " ")).split())


def _is_decor(ch: str) -> bool:
    """Return whether ``ch`` is an emoji, symbol or invisible glue rather than a letter or digit."""
    return unicodedata.category(ch) in ("So", "Sk", "Cf", "Mn", "Me", "Zs", "Co", "Cn")


def _strip_decor(text: str) -> str:
    """Return ``text`` without leading emoji ("🧠Deep Learning Era" -> "Deep Learning Era")."""
    i = 0
    while i < len(text) and (_is_decor(text[i]) or text[i].isspace()):
        i += 1
    return text[i:]


def _is_decoration(text: str) -> bool:
    """Return whether a line has no letter or digit at all (an emoji, a rule, a bullet)."""
    return not any(ch.isalnum() for ch in text)


def _page_lines(text: str) -> list[_Line]:
    """Return the non-blank lines, cleaned; a wrapped paragraph's lines are joined."""
    out: list[_Line] = []
    blank = True
    for no, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        line = _clean(raw)
        if not line:
            blank = True
            continue
        prev = out[-1] if out else None
        if (
            prev is not None
            and not blank
            and len(prev.text) >= 50
            and prev.text[-1] not in _TERMINAL + "\"'”’)"
            and line[0].islower()
        ):
            # A hard-wrapped paragraph: a long line cut mid-sentence, continued in lower case.
            prev.text = f"{prev.text} {line}"
        else:
            out.append(_Line(no, line))
        blank = False
    return out


# --------------------------------------------------------------------------------------------
# Shapes of a line
# --------------------------------------------------------------------------------------------


def _known(text: str) -> bool:
    return text.lower() in _KNOWN


def _is_date(text: str) -> bool:
    return len(text) <= 40 and _DATE_LINE.match(text) is not None


def _title_case(text: str) -> bool:
    words = text.split()
    for i, word in enumerate(words):
        core = word.strip("()[]'\"“”‘’,&/:-–—")
        if not core or not core[0].isalpha():
            continue
        if core[0].isupper() or any(c.isupper() for c in core[1:]):  # "AlexNet", "iPhone"
            continue
        if i > 0 and core.lower() in _SMALL_WORDS:
            continue
        return False
    return True


def _heading_shaped(text: str) -> bool:
    """Return whether a line looks like a heading: short Title Case, no final stop or comma."""
    words = text.split()
    return (
        0 < len(text) <= _HEADING_CHARS
        and 0 < len(words) <= _HEADING_WORDS
        and (text[0].isupper() or text[0].isdigit())
        and text[-1] not in ".,;:!"
        and any(ch.isalpha() for ch in text)
        and not _is_date(text)
        and _title_case(text)
    )


def _quote_text(text: str) -> str | None:
    """Return the quotation of a line wholly in quote marks, without them; else None."""
    for open_mark, close_mark in _QUOTE_PAIRS:
        if len(text) > 2 and text.startswith(open_mark) and text.endswith(close_mark):
            inner = text[1:-1].strip()
            if inner and not any(
                inner.startswith(o) and inner.endswith(c) and len(inner) > 1
                for o, c in (('"', '"'), ("“", "”"))
            ):
                return inner
    return None


def _inline_quote(text: str) -> tuple[str, str] | None:
    """Return (quotation, author) of '"Quote." — Author' on one line; else None."""
    m = _INLINE_QUOTE.match(text)
    if not m:
        return None
    quoted = _quote_text(f"{m['open']}{m['text']}{m['close']}")
    author = m["author"].strip()
    if quoted is None or not _author_shaped(author):
        return None
    return quoted, author


def _author_shaped(text: str) -> bool:
    """Return whether a line can be who said a quote: a short name, no sentence."""
    words = text.split()
    if not (0 < len(text) <= _AUTHOR_CHARS and 0 < len(words) <= _AUTHOR_WORDS):
        return False
    if text[0] in _OPENING_MARKS or not any(ch.isalpha() for ch in text) or _is_date(text):
        return False
    if not any(ch.isupper() for ch in text):
        return False
    # "Vaswani et al.", "Martin Luther King Jr." and "Aidan N." end in a stop; sentences too.
    return text[-1] not in _TERMINAL or (
        words[-1].lower() in _NAME_ENDINGS or re.fullmatch(r"[A-Z]\.", words[-1]) is not None
    )


def _single_sentence(text: str) -> bool:
    return _INNER_SENTENCE.search(text) is None


def _item_shaped(text: str) -> bool:
    """Return whether a line reads as a list entry: short, one sentence, no final stop."""
    return len(text) <= _ITEM_CHARS and text[-1] not in _TERMINAL and _single_sentence(text)


def _list_hinted(heading: str) -> bool:
    low = heading.lower()
    return any(h in low for h in _LIST_HINTS)


# --------------------------------------------------------------------------------------------
# The header
# --------------------------------------------------------------------------------------------


@dataclass
class _Header:
    era: str | None = None
    title: str | None = None
    event: str | None = None
    year: str | None = None
    people: tuple[str, ...] = ()


def _people(text: str) -> tuple[str, ...]:
    """Split "Fei-Fei Li, Jia Deng" (or "A and B", "A & B") into names; "Jr." stays attached."""
    parts = [p.strip() for p in re.split(r",\s*|\s+and\s+|\s*&\s*", text) if p.strip()]
    names: list[str] = []
    for part in parts:
        if names and part.lower() in _SUFFIXES:
            names[-1] = (
                f"{names[-1]}, {part}" if part.lower() != "et al." else f"{names[-1]} {part}"
            )
        else:
            names.append(part)
    return tuple(names)


def _read_header(lines: Sequence[_Line], report: Report) -> _Header:
    """Assign era, title, event, year and people from the header lines."""
    h = _Header()
    rest: list[_Line] = []
    for ln in lines:
        m = _BYLINE.match(ln.text)
        if m and h.people == ():
            h.year = m["year"].strip() if m["year"] else h.year
            h.people = _people(m["people"])
        elif _is_date(ln.text) and h.year is None:
            h.year = ln.text
        else:
            rest.append(ln)
    era_at = next((i for i, ln in enumerate(rest) if ln.badge), None)
    if era_at is None and rest and re.search(r"\bEra\Z", rest[0].text) and len(rest) > 1:
        era_at = 0
    if era_at is None and len(rest) >= 3:
        era_at = len(rest) - 3
    if era_at is not None:
        for ln in rest[:era_at]:
            report.unplaced.append(Unplaced(ln.no, ln.text, "in the page header, before the era"))
        h.era = rest[era_at].text
        rest = rest[era_at + 1 :]
    if rest:
        h.title = rest[0].text
    if len(rest) > 1:
        h.event = rest[1].text
    for ln in rest[2:]:
        report.unplaced.append(Unplaced(ln.no, ln.text, "in the page header"))
    return h


def _split_header(lines: list[_Line], box_at: int | None) -> tuple[list[_Line], list[_Line]]:
    """Return (header lines, the rest): the header ends at the byline or the listen box."""
    limit = box_at if box_at is not None else min(len(lines), 8)
    for i, ln in enumerate(lines[:limit]):
        if _BYLINE.match(ln.text):
            return lines[: i + 1], lines[i + 1 :]
    if box_at is not None:
        return lines[:box_at], lines[box_at:]
    # No byline and no listen box: the header runs up to the first heading or sentence of prose.
    for i, ln in enumerate(lines[:limit]):
        if _known(ln.text) or (ln.text[-1] in ".!?" and len(ln.text.split()) >= 6):
            return lines[:i], lines[i:]
    return lines[:1], lines[1:]


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


@dataclass
class _Section:
    heading: str
    line: int
    blocks: list[Block] = field(default_factory=list)
    shaped: list[bool] = field(default_factory=list)
    """Per block: whether its line looked like a heading (a list of names continues)."""


@dataclass
class _Text:
    """A line of prose or a list entry, decided once the whole run of lines is known."""

    text: str
    bullet: bool


class _Body:
    """The state machine that places body lines into sections."""

    def __init__(self, lines: list[_Line], report: Report) -> None:
        self.lines = lines
        self.report = report
        self.sections: list[_Section] = []
        self.pending: list[tuple[_Text, bool]] = []

    def at(self, i: int) -> _Line | None:
        return self.lines[i] if 0 <= i < len(self.lines) else None

    def is_heading(self, i: int) -> bool:
        ln = self.lines[i]
        if _known(ln.text):
            return True
        if not _heading_shaped(ln.text):
            return False
        nxt = self.at(i + 1)
        if nxt is None or _known(nxt.text):
            return False  # a heading is followed by content
        cur = self.sections[-1] if self.sections else None
        if cur is not None and not cur.blocks and not self.pending:
            return False  # the section above would be left empty: this is its content
        if _heading_shaped(nxt.text):
            # A run of Title Case lines (names under "Key Figures") continues a list.
            last_shaped = (
                self.pending[-1][1] if self.pending else bool(cur and cur.shaped[-1:] == [True])
            )
            return not last_shaped
        return True

    def context_at(self, j: int) -> bool:
        """Return whether line ``j`` is the context line of the quote before it."""
        ln = self.at(j)
        if ln is None or _known(ln.text) or _is_date(ln.text) or _DATED_EVENT.match(ln.text):
            return False
        t = ln.text
        if t[0] in _OPENING_MARKS and (_quote_text(t) or _inline_quote(t)):
            return False
        if len(t) > _CONTEXT_CHARS or not _single_sentence(t):
            return False
        if _heading_shaped(t):
            nxt = self.at(j + 1)
            # A Title Case line followed by prose or a timeline is the next section's heading.
            if nxt is not None and not _known(nxt.text) and not _heading_shaped(nxt.text):
                if not (nxt.text[0] in _OPENING_MARKS and _quote_text(nxt.text)):
                    return False
        return True

    def add(self, block: Block) -> None:
        """Add a quote or timeline entry, after deciding the text lines before it."""
        self.flush()
        cur = self.sections[-1]
        cur.blocks.append(block)
        cur.shaped.append(False)

    def flush(self) -> None:
        """Decide the pending text lines: runs of list-like lines are items, the rest paragraphs."""
        if not self.pending or not self.sections:
            self.pending = []
            return
        cur = self.sections[-1]
        texts = self.pending
        self.pending = []
        hinted = _list_hinted(cur.heading)
        itemish = [
            t.bullet
            or _item_shaped(t.text)
            or (hinted and len(t.text) <= _ITEM_CHARS and _single_sentence(t.text))
            for t, _ in texts
        ]
        for k, (t, shaped) in enumerate(texts):
            neighbours = (k > 0 and itemish[k - 1]) or (k + 1 < len(texts) and itemish[k + 1])
            block: Block
            if t.bullet or (itemish[k] and (neighbours or hinted)):
                block = ListItem(t.text)
            else:
                block = Paragraph(t.text)
            cur.blocks.append(block)
            cur.shaped.append(shaped)

    def run(self) -> list[_Section]:
        i = 0
        n = len(self.lines)
        while i < n:
            ln = self.lines[i]
            if self.is_heading(i):
                self.flush()
                self.sections.append(_Section(ln.text, ln.no))
                i += 1
                continue
            if not self.sections:
                self.report.unplaced.append(
                    Unplaced(ln.no, ln.text, "between the summary and the first heading")
                )
                i += 1
                continue
            i = self.place(i)
        self.flush()
        return self.sections

    def place(self, i: int) -> int:
        """Place the content line ``i`` (and the lines it claims); return the next index."""
        ln = self.lines[i]
        t = ln.text
        inline = _inline_quote(t) if t[0] in _OPENING_MARKS else None
        quoted = inline[0] if inline else (_quote_text(t) if t[0] in _OPENING_MARKS else None)
        if quoted is not None:
            author = inline[1] if inline else None
            j = i + 1
            nxt = self.at(j)
            if author is None and nxt is not None and not _known(nxt.text):
                name = (
                    _DASH_PREFIX.sub("", nxt.text, count=1) if nxt.text[0] in "—–~-" else nxt.text
                )
                if name and _author_shaped(name) and not _quote_text(name):
                    author, j = name, j + 1
            if author is not None:
                context = None
                if self.context_at(j):
                    context = self.lines[j].text
                    j += 1
                self.add(Quote(quoted, author, context))
                self.report.quotes += 1
                return j
            # No one to attribute it to: the line stays prose, marks and all.
        if _is_date(t):
            nxt = self.at(i + 1)
            if nxt is not None and not _known(nxt.text) and not _is_date(nxt.text):
                self.add(TimelineEntry(t, nxt.text))
                self.report.timeline += 1
                return i + 2
            self.report.unplaced.append(Unplaced(ln.no, t, "a date with no event after it"))
            return i + 1
        m = _DATED_EVENT.match(t)
        if m and len(t) <= _CONTEXT_CHARS:
            self.add(TimelineEntry(m["date"].strip(), m["event"].strip()))
            self.report.timeline += 1
            return i + 1
        b = _BULLET.match(t)
        if b:
            self.pending.append((_Text(t[b.end() :], True), False))
        else:
            self.pending.append((_Text(t, False), _heading_shaped(t)))
        return i + 1


def _finish(sec: _Section, report: Report) -> Section | None:
    """Return the section with each kind of block in one run (the format's rule), or None."""
    if not sec.blocks:
        report.unplaced.append(Unplaced(sec.line, sec.heading, "a heading with nothing under it"))
        return None
    kinds: list[type] = []
    groups: dict[type, list[Block]] = {}
    previous: type | None = None
    moved: set[str] = set()
    for block in sec.blocks:
        kind = type(block)
        if kind not in groups:
            kinds.append(kind)
            groups[kind] = []
        elif kind is not previous:
            moved.add(_KIND_NAMES[kind])
        groups[kind].append(block)
        previous = kind
    for name in sorted(moved):
        report.notes.append(
            f"section {sec.heading!r}: later {name} were moved up to join the first ones "
            "(a section narrates each kind of content once); split the section by hand to "
            "keep the page's order"
        )
    blocks = tuple(b for kind in kinds for b in groups[kind])
    for b in blocks:
        if isinstance(b, Paragraph):
            report.paragraphs += 1
        elif isinstance(b, ListItem):
            report.items += 1
    report.headings.append(sec.heading)
    return Section(sec.heading, blocks)


_KIND_NAMES: dict[type, str] = {
    Paragraph: "paragraphs",
    Quote: "quotes",
    TimelineEntry: "timeline entries",
    ListItem: "list items",
}


# --------------------------------------------------------------------------------------------
# parse_page
# --------------------------------------------------------------------------------------------


def _drop_chrome(lines: list[_Line], report: Report) -> tuple[list[_Line], int | None]:
    """Return the lines without chrome or footer, and where the listen box was (or None)."""
    kept: list[_Line] = []
    box_at: int | None = None
    badge = False
    seen_heading = False
    for k, ln in enumerate(lines):
        if _is_decoration(ln.text):
            report.chrome += 1
            badge = True
            continue
        bare = _strip_decor(ln.text)
        key = bare.lower()
        if key == _FOOTER:
            report.chrome += 1
            footer = lines[k + 1 :]
            if footer:
                report.notes.append(
                    f"left out {_count(len(footer), 'line')} of page footer after "
                    "'Explore More Milestones' (links to other milestones)"
                )
            break
        if _ALT_TEXT.match(bare) and (not seen_heading or _ALT_END.search(bare)):
            report.chrome += 1
            continue
        seen_heading = seen_heading or _known(bare)
        if key in _CHROME:
            report.chrome += 1
            if key in _LISTEN_BOX and box_at is None:
                box_at = len(kept)
            continue
        # The era badge: an emoji glued to the text, or alone on the line above it.
        ln.badge = (bare != ln.text or badge) and box_at is None
        ln.text = bare
        badge = False
        kept.append(ln)
    return kept, box_at


def parse_page(text: str, *, source: str = "the page") -> tuple[Article, Report]:
    """Parse a page's flattened text into an article (slug ``""``, lines 0) and a report.

    Raises ContentError naming what is missing when the page yields no title, summary or
    section; any other text gives a result.
    """
    report = Report()
    lines, box_at = _drop_chrome(_page_lines(text), report)
    head_lines, rest = _split_header(lines, box_at)
    header = _read_header(head_lines, report)
    body_from = 0
    if box_at is not None:
        body_from = max(0, box_at - len(head_lines))
    for ln in rest[:body_from]:
        report.unplaced.append(Unplaced(ln.no, ln.text, "between the header and the summary"))
    body = rest[body_from:]
    summary: str | None = None
    if body and not _known(body[0].text) and not (_heading_shaped(body[0].text) and len(body) > 1):
        summary = body[0].text
        body = body[1:]
    sections = [s for sec in _Body(body, report).run() if (s := _finish(sec, report))]
    missing = [
        what
        for what, ok in (
            ("no title (the line after the era badge)", header.title),
            ("no summary (the paragraph after the Listen to Article box)", summary),
            ("no sections (headings such as Introduction, each followed by text)", sections),
        )
        if not ok
    ]
    if missing or header.title is None or summary is None:
        raise ContentError(
            f"cannot import {source}: found {', '.join(missing)}; "
            "give the flattened text of a milestone page (see docs/content-format.md)"
        )
    article = Article(
        slug="",
        title=header.title,
        summary=Paragraph(summary),
        sections=tuple(sections),
        era=header.era,
        event=header.event,
        year=header.year,
        people=header.people,
    )
    return article, report


# --------------------------------------------------------------------------------------------
# Writing YAML
# --------------------------------------------------------------------------------------------

_STR_TAG = "tag:yaml.org,2002:str"
# PyYAML's stubs leave ``resolve`` untyped; it returns the tag a plain scalar would get.
_resolve: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = (
    yaml.resolver.Resolver().resolve
)
_INDICATORS = "-?:,[]{}#&*!|>'\"%@`"


def _plain_ok(text: str, flow: bool = False) -> bool:
    """Return whether ``text`` can be written as a plain (unquoted) YAML scalar."""
    return (
        text != ""
        and text == text.strip()
        and text[0] not in _INDICATORS
        and ": " not in text
        and " #" not in text
        and not text.endswith(":")
        and "\n" not in text
        and not _NOT_PRINTABLE.search(text)
        and not (flow and any(c in text for c in ",[]{}"))
        and _resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG
    )


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _quoted(text: str) -> str:
    """Return ``text`` as a double-quoted YAML scalar."""
    body = text.replace("\\", "\\\\").replace('"', '\\"')
    body = _NOT_PRINTABLE.sub(lambda m: _escape(m.group()), body)
    body = re.sub("[\x85\u2028\u2029\n\r\t]", lambda m: _escape(m.group()), body)
    return f'"{body}"'


def _scalar(text: str, *, flow: bool = False, quote: bool = False) -> str:
    return text if not quote and _plain_ok(text, flow) else _quoted(text)


def _entry(pairs: Sequence[tuple[str, str | None, bool]], indent: str) -> Iterator[str]:
    """Yield a list entry ``- key: value`` with further keys aligned under the first."""
    first = True
    for key, value, quote in pairs:
        if value is None:
            continue
        lead = f"{indent}- " if first else f"{indent}  "
        yield f"{lead}{key}: {_scalar(value, quote=quote)}"
        first = False


def _text_entry(text: str, say: str | None, indent: str) -> Iterator[str]:
    if say is None:
        yield f"{indent}- {_scalar(text)}"
    else:
        yield from _entry((("text", text, False), ("say", say, False)), indent)


def _block_lines(kind: type, blocks: Sequence[Block]) -> Iterator[str]:
    ind = "      "
    yield f"    {_KEYS[kind]}:"
    for b in blocks:
        if isinstance(b, Quote):
            yield from _entry(
                (("text", b.text, False), ("author", b.author, False),
                 ("context", b.context, False), ("say", b.say, False)),
                ind,
            )  # fmt: skip
        elif isinstance(b, TimelineEntry):
            # A date written as digits is quoted, so YAML cannot read it as a number.
            dated = b.date[:1].isdigit()
            yield from _entry(
                (("date", b.date, dated), ("event", b.event, False), ("say", b.say, False)), ind
            )
        elif isinstance(b, (Paragraph, ListItem)):
            yield from _text_entry(b.text, b.say, ind)


_KEYS: dict[type, str] = {
    Paragraph: "paragraphs",
    Quote: "quotes",
    TimelineEntry: "timeline",
    ListItem: "items",
}


def _people_lines(people: tuple[str, ...]) -> list[str]:
    flow = "people: [" + ", ".join(_scalar(p, flow=True) for p in people) + "]"
    if len(flow) <= 100:
        return [flow]
    return ["people:", *(f"  - {_scalar(p)}" for p in people)]


def to_yaml(
    article: Article, *, source: str | None = None, unplaced: Sequence[Unplaced] = ()
) -> str:
    """Return the article as a content file: ``format: 1`` first, one line per text.

    Writes the fields an import produces (not ``settings``). Each section's blocks must come in
    one run per kind, as :func:`parse_page` makes them; ValueError otherwise.
    """
    out = [f"format: {FORMAT_VERSION}"]
    origin = f" from {' '.join(source.split())}" if source else ""
    title = " ".join(article.title.split())
    out.append(f"# {title}: imported{origin} by `narrate import`, text as on the page.")
    out.append(
        f"# Check what will be said with `narrate script {article.slug or 'SLUG'}`. "
        "Format: docs/content-format.md"
    )
    for u in unplaced:
        out.append(f"# Not imported (page line {u.line}, {u.why}): {u.text}")
    out.append("")
    for key in ("era", "title", "event", "year"):
        value = getattr(article, key)
        if value is not None:
            out.append(f"{key}: {_scalar(value, quote=key == 'year' and value[:1].isdigit())}")
    if article.people:
        out += _people_lines(article.people)
    out.append("")
    s = article.summary
    if s.say is None:
        out.append(f"summary: {_scalar(s.text)}")
    else:
        out += ["summary:", f"  text: {_scalar(s.text)}", f"  say: {_scalar(s.say)}"]
    out += ["", "sections:"]
    for n, sec in enumerate(article.sections):
        if n:
            out.append("")
        out.append(f"  - heading: {_scalar(sec.heading)}")
        runs: list[tuple[type, list[Block]]] = []
        for b in sec.blocks:
            if runs and runs[-1][0] is type(b):
                runs[-1][1].append(b)
            elif any(kind is type(b) for kind, _ in runs):
                raise ValueError(
                    f"section {sec.heading!r}: {_KEYS[type(b)]} come in more than one run"
                )
            else:
                runs.append((type(b), [b]))
        for kind, blocks in runs:
            out += _block_lines(kind, blocks)
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Reading the page, writing the article
# --------------------------------------------------------------------------------------------


def content_of(article: Article) -> Article:
    """Return ``article`` with every source line number set to 0, to compare content alone."""

    def bare(block: Block) -> Block:
        return dataclasses.replace(block, line=0)

    return dataclasses.replace(
        article,
        summary=dataclasses.replace(article.summary, line=0),
        sections=tuple(
            Section(s.heading, tuple(bare(b) for b in s.blocks), 0) for s in article.sections
        ),
    )


def read_page(where: str) -> str:
    """Return the text of the page at path ``where`` (``-``: standard input), UTF-8."""
    try:
        data = sys.stdin.buffer.read() if where == "-" else Path(where).read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"no page at {where}; give the path of a text file, or - for stdin"
        ) from None
    except IsADirectoryError:
        raise UsageError(f"{where} is a folder; give the path of the page's text file") from None
    except OSError as exc:
        raise NarrateError(f"cannot read {where}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ContentError(
            f"not valid UTF-8: byte 0x{data[exc.start : exc.start + 1].hex()} at byte offset "
            f"{exc.start}; save the page as UTF-8 text",
            path="<stdin>" if where == "-" else where,
            line=line,
        ) from None


def write_article(
    article: Article,
    path: Path,
    *,
    force: bool = False,
    source: str | None = None,
    unplaced: Sequence[Unplaced] = (),
) -> Article:
    """Write ``article`` to ``path`` atomically, once it reads back as the same article.

    Refuses to replace an existing file unless ``force``. Returns the article as loaded.
    """
    if path.exists() and not force:
        raise UsageError(
            f"{path} already exists; pass --force to replace it, or choose another --slug"
        )
    text = to_yaml(article, source=source, unplaced=unplaced)
    slug = path.name.removesuffix(SUFFIX)
    with tempfile.TemporaryDirectory(prefix="narrate-import-") as tmp:
        check = Path(tmp) / path.name
        check.write_text(text, encoding="utf-8")
        try:
            loaded = load_article(check)
        except ContentError as exc:
            raise ContentError(
                f"the imported article would not load ({exc.detail}); this is a bug in "
                "narrate import: please report it with the page",
                path=path,
                line=exc.line,
                column=exc.column,
                field=exc.field,
            ) from None
    if content_of(loaded) != content_of(dataclasses.replace(article, slug=slug)):
        raise NarrateError(
            f"{path}: the written article does not read back as the page; this is a bug in "
            "narrate import: please report it with the page"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            with open(part, "x", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            if path.exists() and not force:
                raise UsageError(f"{path} appeared while importing; pass --force to replace it")
            os.replace(part, path)
        finally:
            part.unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return dataclasses.replace(loaded, source=str(path))


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_page` did."""

    path: Path
    """The article file written."""
    article: Article
    """The article as loaded back from that file."""
    report: Report
    """What was recognised and what could not be placed."""


def import_page(
    text: str, slug: str, content_dir: Path, *, force: bool = False, source: str | None = None
) -> ImportResult:
    """Parse a page and write it as ``content_dir/SLUG.yaml``; the slug must be validated."""
    path = content_dir / f"{slug}{SUFFIX}"
    if path.exists() and not force:
        raise UsageError(
            f"{path} already exists; pass --force to replace it, or choose another --slug"
        )
    article, report = parse_page(text, source=source or "the page")
    loaded = write_article(
        dataclasses.replace(article, slug=slug),
        path,
        force=force,
        source=source,
        unplaced=report.unplaced,
    )
    return ImportResult(path, loaded, report)
