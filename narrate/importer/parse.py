"""Page text in, :class:`~narrate.content.model.Article` and :class:`Report` out.

The header gives era, title, event, year and people; the paragraph after the listen box is the
summary; the body (:mod:`narrate.importer.body`) gives the sections.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from narrate.content.model import Article, Paragraph, Section
from narrate.errors import ContentError
from narrate.importer.body import read_sections
from narrate.importer.lines import Line, drop_chrome, page_lines
from narrate.importer.report import Report, Unplaced
from narrate.importer.shapes import BYLINE, heading_shaped, is_date, known

_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "phd", "ph.d.", "et al."})


def parse_page(text: str, *, source: str = "the page") -> tuple[Article, Report]:
    """Parse a page's flattened text into an article (slug ``""``, lines 0) and a report.

    Raises ContentError naming what is missing when the page yields no title, summary or
    section; any other text gives a result.
    """
    report = Report()
    lines, box_at = drop_chrome(page_lines(text), report)
    head_lines, rest = _split_header(lines, box_at)
    header = _read_header(head_lines, report)
    body_from = 0
    if box_at is not None:
        body_from = max(0, box_at - len(head_lines))
    for ln in rest[:body_from]:
        report.unplaced.append(Unplaced(ln.no, ln.text, "between the header and the summary"))
    summary, body = _summary(rest[body_from:])
    sections = read_sections(body, report)
    title, summary_text = _complete(header.title, summary, sections, source)
    article = Article(
        slug="",
        title=title,
        summary=Paragraph(summary_text),
        sections=tuple(sections),
        era=header.era,
        event=header.event,
        year=header.year,
        people=header.people,
    )
    return article, report


def _complete(
    title: str | None, summary: str | None, sections: list[Section], source: str
) -> tuple[str, str]:
    """Return (title, summary); raise ContentError naming what is missing of those and sections."""
    missing = [
        what
        for what, ok in (
            ("no title (the line after the era badge)", title),
            ("no summary (the paragraph after the Listen to Article box)", summary),
            ("no sections (headings such as Introduction, each followed by text)", sections),
        )
        if not ok
    ]
    if missing or title is None or summary is None:
        raise ContentError(
            f"cannot import {source}: found {', '.join(missing)}; "
            "give the flattened text of a milestone page, or its HTML (`narrate import --help`)"
        )
    return title, summary


def _summary(body: list[Line]) -> tuple[str | None, list[Line]]:
    """Return the summary (the first line, unless it is a heading) and the lines after it."""
    if body and not known(body[0].text) and not (heading_shaped(body[0].text) and len(body) > 1):
        return body[0].text, body[1:]
    return None, body


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


def _read_header(lines: Sequence[Line], report: Report) -> _Header:
    """Assign era, title, event, year and people from the header lines."""
    h = _Header()
    rest: list[Line] = []
    for ln in lines:
        m = BYLINE.match(ln.text)
        if m and h.people == ():
            h.year = m["year"].strip() if m["year"] else h.year
            h.people = _people(m["people"])
        elif is_date(ln.text) and h.year is None:
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


def _split_header(lines: list[Line], box_at: int | None) -> tuple[list[Line], list[Line]]:
    """Return (header lines, the rest): the header ends at the byline or the listen box."""
    limit = box_at if box_at is not None else min(len(lines), 8)
    for i, ln in enumerate(lines[:limit]):
        if BYLINE.match(ln.text):
            return lines[: i + 1], lines[i + 1 :]
    if box_at is not None:
        return lines[:box_at], lines[box_at:]
    # No byline and no listen box: the header runs up to the first heading or sentence of prose.
    for i, ln in enumerate(lines[:limit]):
        if known(ln.text) or (ln.text[-1] in ".!?" and len(ln.text.split()) >= 6):
            return lines[:i], lines[i:]
    return lines[:1], lines[1:]
