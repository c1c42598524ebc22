"""The body of the page: headed sections holding paragraphs, quotes, timelines and lists.

:func:`read_sections` places each line after the summary into a section, then gives each section
one run of blocks per kind, as the content format wants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from narrate.content.model import Block, ListItem, Paragraph, Quote, Section, TimelineEntry
from narrate.importer.lines import Line
from narrate.importer.report import Report, Unplaced
from narrate.importer.shapes import (
    BULLET,
    CONTEXT_CHARS,
    DASH_PREFIX,
    DATED_EVENT,
    ITEM_CHARS,
    OPENING_MARKS,
    author_shaped,
    heading_shaped,
    inline_quote,
    is_date,
    item_shaped,
    known,
    list_hinted,
    quote_text,
    single_sentence,
)


def read_sections(lines: list[Line], report: Report) -> list[Section]:
    """Return the sections of the body lines; what fits nowhere goes to ``report.unplaced``."""
    return [s for sec in _Body(lines, report).run() if (s := _finish(sec, report))]


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

    def __init__(self, lines: list[Line], report: Report) -> None:
        self.lines = lines
        self.report = report
        self.sections: list[_Section] = []
        self.pending: list[tuple[_Text, bool]] = []

    def at(self, i: int) -> Line | None:
        return self.lines[i] if 0 <= i < len(self.lines) else None

    def is_heading(self, i: int) -> bool:
        ln = self.lines[i]
        if known(ln.text):
            return True
        if not heading_shaped(ln.text):
            return False
        nxt = self.at(i + 1)
        if nxt is None or known(nxt.text):
            return False  # a heading is followed by content
        cur = self.sections[-1] if self.sections else None
        if cur is not None and not cur.blocks and not self.pending:
            return False  # the section above would be left empty: this is its content
        if heading_shaped(nxt.text):
            # A run of Title Case lines (names under "Key Figures") continues a list.
            last_shaped = (
                self.pending[-1][1] if self.pending else bool(cur and cur.shaped[-1:] == [True])
            )
            return not last_shaped
        return True

    def author_at(self, j: int) -> str | None:
        """Return who said the quote before line ``j``, if line ``j`` names them."""
        ln = self.at(j)
        if ln is None or known(ln.text):
            return None
        name = DASH_PREFIX.sub("", ln.text, count=1) if ln.text[0] in "—–~-" else ln.text
        return name if name and author_shaped(name) and not quote_text(name) else None

    def context_at(self, j: int) -> bool:
        """Return whether line ``j`` is the context line of the quote before it."""
        ln = self.at(j)
        if ln is None or known(ln.text) or is_date(ln.text) or DATED_EVENT.match(ln.text):
            return False
        t = ln.text
        if t[0] in OPENING_MARKS and (quote_text(t) or inline_quote(t)):
            return False
        if len(t) > CONTEXT_CHARS or not single_sentence(t):
            return False
        if heading_shaped(t):
            nxt = self.at(j + 1)
            # A Title Case line followed by prose or a timeline is the next section's heading.
            if nxt is not None and not known(nxt.text) and not heading_shaped(nxt.text):
                if not (nxt.text[0] in OPENING_MARKS and quote_text(nxt.text)):
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
        hinted = list_hinted(cur.heading)
        itemish = [
            t.bullet
            or item_shaped(t.text)
            or (hinted and len(t.text) <= ITEM_CHARS and single_sentence(t.text))
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
        for claim in (self.quote, self.dated):
            after = claim(i)
            if after is not None:
                return after
        t = self.lines[i].text
        b = BULLET.match(t)
        if b:
            self.pending.append((_Text(t[b.end() :], True), False))
        else:
            self.pending.append((_Text(t, False), heading_shaped(t)))
        return i + 1

    def quote(self, i: int) -> int | None:
        """Place a quote at line ``i`` with its author and context; None if it is not one."""
        t = self.lines[i].text
        if t[0] not in OPENING_MARKS:
            return None
        inline = inline_quote(t)
        quoted = inline[0] if inline else quote_text(t)
        if quoted is None:
            return None
        j = i + 1
        author = inline[1] if inline else self.author_at(j)
        if author is None:
            return None  # No one to attribute it to: the line stays prose, marks and all.
        if not inline:
            j += 1
        context = None
        if self.context_at(j):
            context = self.lines[j].text
            j += 1
        self.add(Quote(quoted, author, context))
        self.report.quotes += 1
        return j

    def dated(self, i: int) -> int | None:
        """Place a timeline entry at line ``i`` (a date line and its event); None if none."""
        ln = self.lines[i]
        t = ln.text
        if is_date(t):
            nxt = self.at(i + 1)
            if nxt is None or known(nxt.text) or is_date(nxt.text):
                self.report.unplaced.append(Unplaced(ln.no, t, "a date with no event after it"))
                return i + 1
            entry, after = TimelineEntry(t, nxt.text), i + 2
        elif (m := DATED_EVENT.match(t)) and len(t) <= CONTEXT_CHARS:
            entry, after = TimelineEntry(m["date"].strip(), m["event"].strip()), i + 1
        else:
            return None
        self.add(entry)
        self.report.timeline += 1
        return after


_KIND_NAMES: dict[type, str] = {
    Paragraph: "paragraphs",
    Quote: "quotes",
    TimelineEntry: "timeline entries",
    ListItem: "list items",
}


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
