"""Sentence splitting of displayed prose (pure): one spoken segment per sentence.

An abbreviation's or an initial's full stop does not end a sentence ("Dr. Smith", "J. Smith",
"No. 5"), and an over-long sentence is cut at its gentlest breaks so no engine call is too long.
The displayed text is never changed, only cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from narrate.text.vocab import ABBREV_ALWAYS, ABBREV_BEFORE_NUMBER

__all__ = ["iter_sentences", "split_sentences"]

_DOTTED_INITIALS = re.compile(r"(?:[A-Z]\.)+[A-Z]")  # "U.S", "J.R.R" (final dot excluded)
_OPENERS = "\"'“‘„([{«¡¿*"
_TERMINATOR = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’)\]}»]*(?=\s|\Z)")
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")
# Where an over-long sentence may be cut, best first: after "; ", ": ", ", " (or a spaced dash).
_SOFT_BREAKS = (re.compile(r";(?=\s)"), re.compile(r":(?=\s)"), re.compile(r"[,—–](?=\s)"))
_SPACE_RUN = re.compile(r"\s+")


def split_sentences(text: str, max_chars: int = 400) -> list[str]:
    """Split displayed prose into sentences, unchanged except surrounding whitespace trimmed."""
    return list(iter_sentences(text, max_chars))


def iter_sentences(text: str, max_chars: int = 400) -> Iterator[str]:
    """Yield the sentences :func:`split_sentences` returns, one at a time.

    Lazily, so a caller that only counts (the loader's limit on sentences) can stop early.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, not {max_chars}")
    # A blank line always ends a sentence (a heading or list item without a full stop).
    for block in _BLANK_LINE.split(text):
        start = 0
        for m in _TERMINATOR.finditer(block):
            if _ends_sentence(block, m):
                yield from _fit(block[start : m.end()].strip(), max_chars)
                start = m.end()
        yield from _fit(block[start:].strip(), max_chars)


def _ends_sentence(block: str, m: re.Match[str]) -> bool:
    """Return whether the terminator ``m`` ends a sentence (not an abbreviation or initial)."""
    j = m.end()
    while j < len(block) and (block[j].isspace() or block[j] in _OPENERS):
        j += 1
    if j == len(block):
        return True
    nxt = block[j]
    # A lower-case continuation is the strongest signal: "e.g. the", '"Why?" she asked'.
    if nxt.islower():
        return False
    if m.group().rstrip("\"'”’)]}»") != ".":
        return True  # "!", "?", "..." before a capital
    k = m.start()
    while k > 0 and not block[k - 1].isspace():
        k -= 1
    token = block[k : m.start()].lstrip(_OPENERS)
    low = token.lower()
    if low in ABBREV_ALWAYS:
        return False
    if low in ABBREV_BEFORE_NUMBER and nxt.isdigit():
        return False
    # "J. Smith", "U.S. Army", "J.R.R. Tolkien". A sentence ending in "A.I." then runs on:
    # a missed pause is less harmful than a name cut in two.
    return not (re.fullmatch(r"[A-Z]", token) or _DOTTED_INITIALS.fullmatch(token))


def _fit(sentence: str, max_chars: int) -> list[str]:
    """Return ``sentence`` cut at the gentlest breaks so that no piece exceeds ``max_chars``."""
    if not sentence:
        return []
    return _cut(sentence, 0, max_chars)


def _cut(s: str, level: int, max_chars: int) -> list[str]:
    """Return ``s`` in pieces of at most ``max_chars``, cutting at break ``level`` or finer."""
    if len(s) <= max_chars:
        return [s]
    if level == len(_SOFT_BREAKS) + 1:
        # One "word" longer than the limit (a URL, a run of digits): cut it; never drop text.
        return [s[i : i + max_chars] for i in range(0, len(s), max_chars)]
    if level < len(_SOFT_BREAKS):
        cuts = [m.end() for m in _SOFT_BREAKS[level].finditer(s)]
    else:
        cuts = [m.start() for m in _SPACE_RUN.finditer(s)]
    spans = []
    for a, b in zip([0, *cuts], [*cuts, len(s)], strict=True):
        piece = s[a:b]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            spans.append((a + lead, a + lead + len(stripped)))
    if len(spans) <= 1:
        return _cut(s, level + 1, max_chars)
    out: list[str] = []
    # Greedy packing keeps pieces as long as allowed, so as few cuts as possible are audible.
    cur_a, cur_b = spans[0]
    for a, b in spans[1:]:
        if b - cur_a <= max_chars:
            cur_b = b
        else:
            out.extend(_cut(s[cur_a:cur_b], level + 1, max_chars))
            cur_a, cur_b = a, b
    out.extend(_cut(s[cur_a:cur_b], level + 1, max_chars))
    return out
