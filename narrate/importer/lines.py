"""The page as lines: cleaned, a hard-wrapped paragraph joined, and the page chrome dropped.

Chrome is what the site shows around every article: "Skip to main content", the badge emoji, the
"Listen to Article" box, the image's alt text, and the footer after "Explore More Milestones".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from narrate.importer.report import Report, count
from narrate.importer.shapes import TERMINAL, known

# Chrome compared case-insensitively after the leading emoji is removed ("🎧 Listen to Article").
_CHROME = frozenset({"skip to main content", "listen to article", "audio narration available"})
_LISTEN_BOX = frozenset({"listen to article", "audio narration available"})
_FOOTER = "explore more milestones"
_ALT_TEXT = re.compile(r".{1,200}? visualization: ")
_ALT_END = re.compile(r"Historic AI milestone from \S{1,20}\Z")

# Characters YAML refuses in a file (PyYAML's reader); a page never displays them anyway.
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


@dataclass
class Line:
    """A non-blank line of the page."""

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


def page_lines(text: str) -> list[Line]:
    """Return the non-blank lines, cleaned; a wrapped paragraph's lines are joined."""
    out: list[Line] = []
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
            and prev.text[-1] not in TERMINAL + "\"'”’)"
            and line[0].islower()
        ):
            # A hard-wrapped paragraph: a long line cut mid-sentence, continued in lower case.
            prev.text = f"{prev.text} {line}"
        else:
            out.append(Line(no, line))
        blank = False
    return out


def drop_chrome(lines: list[Line], report: Report) -> tuple[list[Line], int | None]:
    """Return the lines without chrome or footer, and where the listen box was (or None)."""
    kept: list[Line] = []
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
            _note_footer(len(lines) - k - 1, report)
            break
        if _ALT_TEXT.match(bare) and (not seen_heading or _ALT_END.search(bare)):
            report.chrome += 1
            continue
        seen_heading = seen_heading or known(bare)
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


def _note_footer(lines: int, report: Report) -> None:
    if lines:
        report.notes.append(
            f"left out {count(lines, 'line')} of page footer after "
            "'Explore More Milestones' (links to other milestones)"
        )
