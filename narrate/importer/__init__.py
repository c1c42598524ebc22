"""Import a milestone page, flattened to text, as an article in the content format.

A page as a reader sees it (``../shared/seeds/*.txt``) is lines of text: page chrome, a
header (era badge, title, event, "2009By Fei-Fei Li, Jia Deng"), the "Listen to Article" box,
a one-paragraph summary, then headed sections holding paragraphs, quotes (quote / author /
context lines), timelines (date line / event line) and lists.

:func:`parse_page` turns that text into an :class:`~narrate.content.model.Article` and a
:class:`Report` of what it recognised and what it could not place. It is pure and, for any text,
returns or raises a :class:`~narrate.errors.NarrateError`. :func:`to_yaml` writes an article in
the documented format (with ``yaml.safe_dump``); :func:`write_article` checks that the file reads
back as the same article before it replaces anything.

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

The modules, in the order a page goes through them: :mod:`~narrate.importer.lines` (the page's
lines, chrome dropped), :mod:`~narrate.importer.shapes` (what a line looks like),
:mod:`~narrate.importer.parse` (header and summary) with :mod:`~narrate.importer.body`
(sections), :mod:`~narrate.importer.report` (what was recognised) and
:mod:`~narrate.importer.write` (the YAML file).
"""

from __future__ import annotations

from narrate.importer.parse import parse_page
from narrate.importer.report import Report, Unplaced
from narrate.importer.write import (
    ImportResult,
    content_of,
    import_page,
    read_page,
    to_yaml,
    write_article,
)

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
