"""Shapes of a line: what a heading, a date, a quote, an author, a list entry looks like.

Each test looks at one cleaned line of text; which slot a line fills depends on its neighbours too,
and that is decided by the header and body readers.
"""

from __future__ import annotations

import re

from narrate.text.vocab import MONTH_ABBREVIATIONS, MONTHS

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

# Words left in lower case by Title Case.
_SMALL_WORDS = frozenset(
    "a an and as at but by for from in into nor of on onto or over per the to via vs vs. with"
    " than up de da di du la le van von der den".split()
)
# Headings that announce a list even when it has a single entry or its entries end in a stop.
_LIST_HINTS = ("fact", "highlight", "takeaway", "did you know", "trivia", "at a glance")

# A month written out or abbreviated ("December", "Dec", "Dec.", "Sept"); longest first, so the
# alternation prefers "September" to "Sep" as a greedy match would.
_MONTH_WORDS = sorted({*MONTHS, *MONTH_ABBREVIATIONS}, key=lambda w: (-len(w), w))
_MONTH = rf"(?:{'|'.join(_MONTH_WORDS)})\.?"
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
DATED_EVENT = re.compile(rf"(?P<date>{_DATE})\s*(?::\s|\s[-–—]\s)\s*(?P<event>\S.*)\Z", re.I)
""""DATE: event" (or "DATE – event") on one line."""
BYLINE = re.compile(rf"(?:(?P<year>{_DATE})\s*(?:[·•|,–—-]\s*)?)?By\s+(?P<people>\S.*)\Z")
"""The header's "2009By Fei-Fei Li, Jia Deng"."""

_QUOTE_PAIRS = (('"', '"'), ("“", "”"), ("„", "“"), ("«", "»"))
OPENING_MARKS = '"“„«'
"""Marks a quotation opens with."""
_INLINE_QUOTE = re.compile(
    r"(?P<open>[\"“„«])(?P<text>.+)(?P<close>[\"”“»])\s*[—–-]+\s*(?P<author>\S.*)\Z"
)
BULLET = re.compile(r"(?:[•·▪▸►‣◦●○■□✓✔✗★☆→*-]|\d{1,2}[.)])\s+(?=\S)")
"""The bullet or number that starts a list entry."""
DASH_PREFIX = re.compile(r"[—–~-]+\s*")
"""The dash before an author's name ("— Fei-Fei Li")."""
_NAME_ENDINGS = frozenset({"al.", "jr.", "sr.", "inc.", "ltd.", "co.", "corp.", "ph.d."})
# A full stop, "!" or "?" (with closing marks) followed by a capital: more than one sentence.
_INNER_SENTENCE = re.compile(r"[.!?][\"'”’)]*\s+[\"“(]?[A-Z]")
TERMINAL = ".!?:;"
"""Characters that end a sentence (or introduce what follows)."""

# Limits that keep "short line" honest.
_HEADING_CHARS, _HEADING_WORDS = 60, 8
ITEM_CHARS = 160
_AUTHOR_CHARS, _AUTHOR_WORDS = 80, 12
CONTEXT_CHARS = 200


def known(text: str) -> bool:
    """Return whether ``text`` is one of :data:`KNOWN_HEADINGS` (in any case)."""
    return text.lower() in _KNOWN


def is_date(text: str) -> bool:
    """Return whether the line is only a date ("2007", "Dec 2015", "2012 (September)")."""
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


def heading_shaped(text: str) -> bool:
    """Return whether a line looks like a heading: short Title Case, no final stop or comma."""
    words = text.split()
    return (
        0 < len(text) <= _HEADING_CHARS
        and 0 < len(words) <= _HEADING_WORDS
        and (text[0].isupper() or text[0].isdigit())
        and text[-1] not in ".,;:!"
        and any(ch.isalpha() for ch in text)
        and not is_date(text)
        and _title_case(text)
    )


def quote_text(text: str) -> str | None:
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


def inline_quote(text: str) -> tuple[str, str] | None:
    """Return (quotation, author) of '"Quote." — Author' on one line; else None."""
    m = _INLINE_QUOTE.match(text)
    if not m:
        return None
    quoted = quote_text(f"{m['open']}{m['text']}{m['close']}")
    author = m["author"].strip()
    if quoted is None or not author_shaped(author):
        return None
    return quoted, author


def author_shaped(text: str) -> bool:
    """Return whether a line can be who said a quote: a short name, no sentence."""
    words = text.split()
    if not (0 < len(text) <= _AUTHOR_CHARS and 0 < len(words) <= _AUTHOR_WORDS):
        return False
    if text[0] in OPENING_MARKS or not any(ch.isalpha() for ch in text) or is_date(text):
        return False
    if not any(ch.isupper() for ch in text):
        return False
    # "Vaswani et al.", "Martin Luther King Jr." and "Aidan N." end in a stop; sentences too.
    return text[-1] not in TERMINAL or (
        words[-1].lower() in _NAME_ENDINGS or re.fullmatch(r"[A-Z]\.", words[-1]) is not None
    )


def single_sentence(text: str) -> bool:
    """Return whether ``text`` holds no sentence break."""
    return _INNER_SENTENCE.search(text) is None


def item_shaped(text: str) -> bool:
    """Return whether a line reads as a list entry: short, one sentence, no final stop."""
    return len(text) <= ITEM_CHARS and text[-1] not in TERMINAL and single_sentence(text)


def list_hinted(heading: str) -> bool:
    """Return whether a heading announces a list ("Fun Facts", "Key Highlights")."""
    low = heading.lower()
    return any(h in low for h in _LIST_HINTS)
