"""The spoken form of displayed text (pure): what a TTS engine is asked to say.

The displayed text is never changed: ``normalise`` returns a new string that a TTS engine
(espeak-ng by default) reads the way a person would. Every rule was chosen by checking espeak-ng's
phonemes (``espeak-ng -q -x -v en-us "..."``); the comment on each rule (in ``numbers``,
``symbols`` and ``abbreviations``) says what espeak does without it.

Invariant (tested with hypothesis): ``normalise`` never raises and never drops a word. Precisely:
the case-folded alphanumeric characters of the input, after lexicon substitution, form a
subsequence of the case-folded alphanumeric characters of the output, except that (a) a decade
such as "1990s" or "'90s" becomes words ("nineteen nineties") and (b) the letter of a magnitude
suffix such as the K in "5K" becomes a word ("5 thousand"). Expansions only add characters
("14M+" -> "more than 14 million") and digits may be regrouped ("20,000" -> "20000",
"1998" -> "19 98"); nothing is deleted except symbols, pictographs and separators.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from narrate.text.abbreviations import abbrev_stops, is_shouting, spell_acronyms
from narrate.text.foreign import fold
from narrate.text.numbers import NUMBER_RULES
from narrate.text.rules import NOT_AFTER_WORD, NOT_BEFORE_WORD, Rule, sub
from narrate.text.symbols import SYMBOL_RULES, clean_chars
from narrate.text.technical import TECHNICAL_RULES
from narrate.text.vocab import NAMES, SPOKEN_ACRONYMS
from narrate.text.web import WEB_ADDRESS, speak_address

__all__ = ["is_silent", "normalise"]

# Order matters: references, dates and units first ("pp. 1735-1780" are pages, not years),
# numbers before symbols ("20,000+" needs its "+" and comma), and acronyms last (in
# ``normalise``) so "14M" is not spelled.
_RULES: tuple[Rule, ...] = (*TECHNICAL_RULES, *NUMBER_RULES, *SYMBOL_RULES, abbrev_stops)
_BUILTIN_LEXICON = {**NAMES, **SPOKEN_ACRONYMS}

_space_before_punct = sub(r"\s+([,.;:!?)\]])", r"\1")
_space_after_open = sub(r"([(\[])\s+", r"\1")
_spaces = sub(r"\s+", " ")

# URLs, e-mail addresses and domains are said as a person would ("github dot com slash x"),
# and that is final: the slash and symbol rules would garble them.
_PROTECTED = WEB_ADDRESS


@functools.lru_cache(maxsize=64)
def _lexicon_pattern(keys: tuple[str, ...]) -> re.Pattern[str] | None:
    """Return one pattern matching any lexicon key as a whole word, longest key first."""
    alternatives = []
    for key in sorted(keys, key=lambda k: (-len(k), k)):
        parts = key.split()
        if not parts:
            continue
        # Any run of whitespace in the text matches a space in the key ("Fei-Fei\nLi").
        body = r"\s+".join(re.escape(p) for p in parts)
        # Never inside another word, whatever the key ends with: "C++" does not match "C++11".
        alternatives.append(NOT_AFTER_WORD + body + NOT_BEFORE_WORD)
    return re.compile("|".join(alternatives)) if alternatives else None


def _segments(text: str, lexicon: Mapping[str, str] | None) -> list[tuple[str, bool]]:
    """Return text as (piece, is_final) pairs: lexicon replacements and URLs are final."""
    pieces: list[tuple[str, bool]] = []
    lexicon = {**_BUILTIN_LEXICON, **(lexicon or {})}
    pattern = _lexicon_pattern(tuple(lexicon))
    pos = 0
    if pattern is not None:
        by_space = {" ".join(k.split()): v for k, v in lexicon.items()}
        for m in pattern.finditer(text):
            pieces.append((text[pos : m.start()], False))
            pieces.append((by_space[" ".join(m.group().split())], True))
            pos = m.end()
    pieces.append((text[pos:], False))
    out: list[tuple[str, bool]] = []
    for piece, final in pieces:
        if final:
            out.append((piece, True))
            continue
        start = 0
        for m in _PROTECTED.finditer(piece):
            out.append((piece[start : m.start()], False))
            out.append((speak_address(m.group()), True))
            start = m.end()
        out.append((piece[start:], False))
    return out


def normalise(text: str, lexicon: Mapping[str, str] | None = None) -> str:
    """Return displayed text rewritten so a TTS engine says it right."""
    shouting = is_shouting(text)
    spoken = []
    for piece, final in _segments(text, lexicon):
        if not final:
            piece = fold(clean_chars(piece))
            for rule in _RULES:
                piece = rule(piece)
            if not shouting:  # espeak reads a heading in capitals as words: leave it be
                piece = spell_acronyms(piece)
        spoken.append(piece)
    joined = _spaces("".join(spoken))
    return _space_after_open(_space_before_punct(joined)).strip()


def is_silent(text: str) -> bool:
    """Return whether ``text`` says nothing aloud: no letter or digit survives normalisation.

    Emoji, symbols such as "|" or "™", zero-width and private-use characters are all dropped,
    and an engine asked to say nothing fails, so such a text needs words or a spoken form.
    """
    if any(ch.isalnum() for ch in text):
        return False  # normalise never drops a letter or digit (the invariant above)
    return not any(ch.isalnum() for ch in normalise(text, {}))
