"""Abbreviations and acronyms for the ear: "Dr." without its stop, "GPU" spelled, "NASA" said.

espeak-ng guesses whether to spell a word in capitals ("ILSVRC" becomes "ilsvarc") and ends the
clause at an abbreviation's full stop ("Doctor. Smith"); these rules decide instead.
"""

from __future__ import annotations

import re

from narrate.text.rules import NOT_AFTER_WORD, NOT_BEFORE_WORD, sub
from narrate.text.vocab import ABBREV_ALWAYS, ABBREV_BEFORE_NUMBER, WORD_ACRONYMS

__all__ = ["abbrev_stops", "is_shouting", "spell_acronyms"]

# A full stop after a title, an initial or "U.S" before a capital or number makes espeak end
# the clause ("Doctor. Smith"); without the stop it reads "Dr", "Mr", "St" correctly.
_TITLE_ALT = "|".join(
    sorted((a.capitalize() for a in ABBREV_ALWAYS | ABBREV_BEFORE_NUMBER if "." not in a),
           key=len, reverse=True)
)  # fmt: skip
abbrev_stops = sub(
    rf"(?<![\w.])((?:{_TITLE_ALT}|approx|ca|c|pp|p)|[A-Z]|(?:[A-Z]\.)+[A-Z])\.(?=\s+[A-Z0-9])",
    r"\1",
)

_ROMAN = re.compile(r"(?=[IVX])X{0,3}(?:IX|IV|V?I{0,3})")
_CAPS = re.compile(
    rf"{NOT_AFTER_WORD}(?<!\w\.)(?P<caps>[A-Z]{{2,}})(?P<plural>s|'s)?{NOT_BEFORE_WORD}"
    r"(?P<hyphen>-(?=[0-9]))?"
)
_SHOUT_WORDS = frozenset(
    "THE AND OF TO IN FOR ON WITH IS ARE WAS WERE BE BY FROM THIS THAT NOT BUT AS AN ALL HAS "
    "HAVE YOU YOUR WE OUR NEW NOW FREE HOW WHAT WHY WHEN WHO".split()
)
_LETTER_WORD = re.compile(r"[^\W\d_]+")

# espeak fuses "of a", "for a", "at a", "was a" into one word, so "of A.I" is read "ofa dot I".
# An invisible WORD JOINER (U+2060) before the "A" stops that and is otherwise ignored.
_A_INITIALISM = re.compile(rf"{NOT_AFTER_WORD}(?<![.\u2060])(?=A\.[A-Z](?![a-z]))")


def is_shouting(text: str) -> bool:
    """Return whether capitals are emphasis (a heading in capitals), not acronyms."""
    words = _LETTER_WORD.findall(text)
    caps = [len(w) > 1 and w.isupper() and w not in WORD_ACRONYMS for w in words]
    if any(c and (w in _SHOUT_WORDS or len(w) >= 8) for w, c in zip(words, caps, strict=True)):
        return True
    # Two long capital words side by side ("FINAL RESULTS") are a heading, not acronyms.
    return any(
        caps[i] and caps[i + 1] and len(words[i]) >= 4 and len(words[i + 1]) >= 4
        for i in range(len(words) - 1)
    )


def spell_acronyms(text: str) -> str:
    """Return text with spelled acronyms written "I.L.S.V.R.C" so espeak says each letter."""

    # Dotted, with no final dot: "I L S V R C" makes espeak say "A" as "uh" ("A I" -> "uh eye")
    # and a final dot before a capital ends the clause; "A.I model" is read "ay eye model".
    def spell(m: re.Match[str]) -> str:
        caps = m.group("caps")
        if caps in WORD_ACRONYMS:
            return m.group()
        # "World War II", "Henry VIII": a Roman numeral after a capitalised word stays.
        if _ROMAN.fullmatch(caps) and not m.group("plural"):
            before = text[max(0, m.start() - 64) : m.start()].split()
            if before and before[-1][:1].isupper():
                return m.group()
        plural = "'s" if m.group("plural") else ""
        return ".".join(caps) + plural + (" " if m.group("hyphen") else "")

    return _A_INITIALISM.sub("\u2060", _CAPS.sub(spell, text))
