"""What an import recognised and what it left out, as counts and lines for a terminal."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    """What :func:`~narrate.importer.parse_page` recognised, and what it left out."""

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
            count(len(self.headings), "section"),
            count(self.quotes, "quote"),
            count(self.timeline, "timeline entry", "timeline entries"),
            count(self.items, "list item"),
            count(self.paragraphs, "paragraph"),
        ]
        return "recognised: " + ", ".join(parts)

    def lines(self) -> list[str]:
        """Return the report as lines for a terminal."""
        out = [self.recognised()]
        if self.headings:
            out.append("sections: " + ", ".join(self.headings))
        if self.unplaced:
            out.append(
                f"could not place {count(len(self.unplaced), 'line')} "
                "(left out of the article; add them by hand if they belong):"
            )
            out += [f"  page line {u.line} ({u.why}): {u.text}" for u in self.unplaced]
        else:
            out.append("could not place: nothing")
        if self.chrome:
            out.append(f"left out as page chrome: {count(self.chrome, 'line')}")
        out += [f"note: {n}" for n in self.notes]
        return out


def count(n: int, one: str, many: str | None = None) -> str:
    """Return "1 line" or "3 lines" (``many`` when the plural is not ``one`` + "s")."""
    return f"{n} {one if n == 1 else (many or one + 's')}"
