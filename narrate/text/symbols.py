"""Symbols for the ear: typographic variants, pictographs, slashes, "&", "+", "#", "~", units.

espeak-ng reads most symbols by name ("slash", "hash", "tilde", "trade mark") and emoji by their
description ("brain"); a narrator says the word they stand for, or nothing.
"""

from __future__ import annotations

import re
import unicodedata

from narrate.text.rules import NOT_AFTER_WORD, NOT_BEFORE_WORD, Rule, sub

__all__ = ["SYMBOL_RULES", "clean_chars"]

_CHAR_MAP = {
    # Curly quotes make espeak pause as if for a clause; plain ones do not.
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "“": '"', "”": '"', "„": '"', "‟": '"',
    "″": '"', "«": '"', "»": '"',
    "…": "...",
    # Hyphen look-alikes, so ranges like "2007‑2009" (non-breaking hyphen) are found.
    "‐": "-", "‑": "-", "‒": "-", "−": "-",
    # Marks narrators do not read out (espeak says "trade mark", "registered", "bullet").
    "™": "", "®": "", "•": " ", "·": " ", "|": " ", "*": " ",
    "→": " to ", "⟶": " to ", "≈": "~",
    # Reserved for language marks (text/foreign.py): an article's own are plain brackets.
    "⟦": "[", "⟧": "]",
}  # fmt: skip
# Symbols (So) that stay: espeak reads them well, or a later rule turns them into words.
_KEEP_SYMBOLS = frozenset("©°^")  # "^" for powers ("mc^2"); a leftover one is dropped
# Invisible emoji glue: variation selectors, zero-width joiner, keycap, skin tones, tag letters.
_EMOJI_PARTS = re.compile("[\ufe00-\ufe0f\u200d\u20e3\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]")


def clean_chars(text: str) -> str:
    """Return text with pictographs, controls and typographic variants removed or made plain."""
    text = _EMOJI_PARTS.sub("", text)
    out = []
    for ch in text:
        if ch in _CHAR_MAP:
            out.append(_CHAR_MAP[ch])
        elif ch.isspace():
            out.append(" ")
        elif ch.isalnum() or ch in _KEEP_SYMBOLS:
            out.append(ch)
        elif unicodedata.category(ch) in ("So", "Sk", "Cc", "Cf", "Cs", "Co", "Cn"):
            # Emoji are read by name by espeak ("brain", "headphone"); controls are noise.
            # Alphanumerics are checked first, so an enclosed digit like U+1F100 survives.
            continue
        else:
            out.append(ch)
    return "".join(out)


_UNITS = {
    "km/h": "kilometres per hour", "km/hr": "kilometres per hour", "m/s": "metres per second",
    "km/s": "kilometres per second", "mi/h": "miles per hour", "ft/s": "feet per second",
    "kb/s": "kilobits per second", "Mb/s": "megabits per second", "Gb/s": "gigabits per second",
    "kB/s": "kilobytes per second", "MB/s": "megabytes per second", "GB/s": "gigabytes per second",
}  # fmt: skip
_units = sub(
    NOT_AFTER_WORD + "(" + "|".join(re.escape(u) for u in _UNITS) + ")" + NOT_BEFORE_WORD,
    lambda m: _UNITS[m[1]],
)
_PER_WORDS = (
    r"(?:second|sec|minute|min|hour|hr|day|week|month|year|yr|annum|person|capita|head|unit"
    r"|image|token|page|user)s?\b"
)
_PER_WORD = re.compile(_PER_WORDS)
# "$5/month" (already "5 dollars/month") and "5/day" read "per".
_per = sub(
    rf"(?:(?<=[0-9])|(?<=dollars)|(?<=dollar)|(?<=euros)|(?<=pounds)|(?<=cents)|(?<=yen))"
    rf"\s*/\s*(?={_PER_WORDS})",
    " per ",
)
_twenty_four_seven = sub(r"\b24/7\b", "24 7")
_dates = sub(r"\b([0-9]{1,4})/([0-9]{1,2})/([0-9]{1,4})\b", r"\1 \2 \3")
_fractions = sub(r"\b([0-9]+)/([0-9]+)\b", r"\1 out of \2")
_not_applicable = sub(r"\bN/A\b", "not applicable")


def _word_slash(m: re.Match[str]) -> str:
    """Return "his/her" as "his or her", "and/or" as "and or", "TCP/IP" as "TCP IP"."""
    parts = m.group().split("/")
    if len(parts) == 2 and parts[0].endswith("s") and _PER_WORD.fullmatch(parts[1]):
        return f"{parts[0]} per {parts[1]}"  # "images/second", "meals/day"; not "night/day"
    if all(p.isupper() for p in parts):
        return " ".join(parts)
    if [p.lower() for p in parts] == ["and", "or"]:
        return " ".join(parts)
    return " or ".join(parts)


# espeak reads "/" as "slash" everywhere.
_word_slashes = sub(r"(?<![\w/])[^\W\d_]+(?:/[^\W\d_]+)+(?![\w/])", _word_slash)
_other_slashes = sub(r"/", " ")

_ampersand = sub(r"&", " and ")  # spaces are tidied at the end
_plus_plus = sub(rf"{NOT_AFTER_WORD}([A-Za-z])\+\+", r"\1 plus plus")
_sharp = sub(rf"{NOT_AFTER_WORD}([CF])#", r"\1 sharp")
_number_sign = sub(r"#(?=[0-9])", "number ")  # espeak: "hash one"
_hash = sub(r"#", " ")  # a hashtag's "#" is not read
_plus = sub(r"\+", " plus ")
_about = sub(r"~\s*(?=[0-9])", "about ")  # "~5": espeak says "tilde"
_tilde = sub(r"~", " ")
_caret = sub(r"\^", " ")
_percent_sign = sub(r"%", " percent")
_degree_sign = sub(r"°", " degrees")
_versus = sub(rf"{NOT_AFTER_WORD}vs\.?(?=\s)", "versus")  # espeak spells "vs" out

SYMBOL_RULES: tuple[Rule, ...] = (
    _units,
    _per,
    _twenty_four_seven,
    _dates,
    _fractions,
    _not_applicable,
    _word_slashes,
    _other_slashes,
    _ampersand,
    _plus_plus,
    _sharp,
    _number_sign,
    _hash,
    _plus,
    _about,
    _tilde,
    _caret,
    _percent_sign,
    _degree_sign,
    _versus,
)
"""In order: units and "per" before other slashes, "C++" and "C#" before "+" and "#"."""
