"""Tokens of technical and historical articles: references, dates, units, formulas.

Each rule says what espeak-ng does without it (checked with ``narrate say --phonemes``). These
rules run before the number rules (:mod:`narrate.text.numbers`), so "pp. 1735-1780" is said
"pages 1735 to 1780" (counts, not years) and "15.11.1997" is a date, not a decimal.
"""

from __future__ import annotations

import re

from narrate.text.rules import NOT_AFTER_WORD, NOT_BEFORE_WORD, Rule, sub
from narrate.text.vocab import ABBREVIATIONS, MONTHS, UNITS

__all__ = ["TECHNICAL_RULES", "year"]

_ORDINALS = ("first", "second", "third", "fourth")


def year(y: str) -> str:
    """Return a year as the number rules say it: "1998" -> "19 98"; 20xx and x0xx stay."""
    if len(y) == 4 and y[:2] != "20" and y[2] != "0" and y[0] == "1":
        return f"{y[:2]} {y[2:]}"
    return y


def _month(n: str) -> str | None:
    k = int(n)
    return MONTHS[k - 1] if 1 <= k <= 12 else None


def _day_ok(n: str) -> bool:
    return 1 <= int(n) <= 31


# --- abbreviations with a full stop ------------------------------------------------------------
# espeak says "c. 2015" as "see twenty fifteen", "Vol. 9" as "vol nine", "No. 8" as "no eight",
# "pp." as "pee pee", and ends the clause at the stop. The table (vocab.ABBREVIATIONS) gives
# each its words and whether it needs a number after it ("No. 8", never "No. I").
def _abbreviation(m: re.Match[str]) -> str:
    key = m.group("abbr")
    words, before_number = ABBREVIATIONS[key]
    if before_number and not m.group("num"):
        return m.group()
    return words + m.group("gap") + (m.group("num") or "")


# "2nd ed." is an edition; "(ed.)" after a name, an editor (the table).
_edition = sub(r"\b([0-9]+(?:st|nd|rd|th))\s+ed\.", r"\1 edition")
_ABBR_ALT = "|".join(re.escape(k) for k in sorted(ABBREVIATIONS, key=len, reverse=True))
_abbreviations = sub(
    rf"(?<![\w.])(?P<abbr>{_ABBR_ALT})\.(?P<gap>\s*)(?P<num>[0-9]+(?:[-–][0-9]+)?)?"
    r"(?![\w])",
    _abbreviation,
)

# --- dates ------------------------------------------------------------------------------------


def _iso(m: re.Match[str]) -> str:
    month = _month(m["m"])
    if month is None or not _day_ok(m["d"]):
        return m.group()
    return f"{month} {int(m['d'])}, {year(m['y'])}"


# espeak says "1997-11-15" as "nineteen hundred ninety-seven dash eleven dash fifteen".
_iso_dates = sub(
    r"(?<![\w.,/-])(?P<y>1[0-9]{3}|20[0-9]{2})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})(?![\w-]|\.[0-9])",
    _iso,
)


def _dotted(m: re.Match[str]) -> str:
    month = _month(m["m"])
    if month is None or not _day_ok(m["d"]):
        return m.group()
    return f"{int(m['d'])} {month} {year(m['y'])}"


# "15.11.1997" is "fifteen point one one point one nine nine seven" to espeak.
_dotted_dates = sub(
    r"(?<![\w.,])(?P<d>[0-9]{1,2})\.(?P<m>[0-9]{1,2})\.(?P<y>1[0-9]{3}|20[0-9]{2})(?![\w]|\.[0-9])",
    _dotted,
)


def _slashed(m: re.Match[str]) -> str:
    a, b, y = m["a"], m["b"], m["y"]
    if a is None:  # "11/1997": a month and a year
        month = _month(b)
        return f"{month} {year(y)}" if month else m.group()
    if _month(a) and _day_ok(b):  # en-us reads month first: "12/25/2020"
        return f"{_month(a)} {int(b)}, {year(y)}"
    if _month(b) and _day_ok(a):  # "25/12/2020" can only be day first
        return f"{int(a)} {_month(b)} {year(y)}"
    return m.group()


# espeak says "11/1997" as "eleven slash ..." (and the fraction rule made it "11 out of 1997").
_slashed_dates = sub(
    r"(?<![\w./])(?:(?P<a>[0-9]{1,2})/)?(?P<b>[0-9]{1,2})/(?P<y>1[0-9]{3}|20[0-9]{2})(?![\w/])",
    _slashed,
)


def _quarter(m: re.Match[str]) -> str:
    the = "" if m["the"] else "the "
    return f"{m['the'] or ''}{the}{_ORDINALS[int(m['q']) - 1]} quarter of {year(m['y'])}"


# "Q3 1997" is "queue three" to espeak.
_quarters = sub(
    rf"(?P<the>\b[Tt]he\s+)?{NOT_AFTER_WORD}Q(?P<q>[1-4])\s+(?P<y>1[0-9]{{3}}|20[0-9]{{2}})"
    rf"{NOT_BEFORE_WORD}",
    _quarter,
)
# "mid-1990s", "late-'80s": espeak runs "mid" into the number; a space keeps both words.
_decade_prefix = sub(r"\b(mid|late|early)-(?=(?:'|’)?[0-9])", r"\1 ")

# --- numbers glued to units; multipliers and dimensions ---------------------------------------


def _unit(m: re.Match[str]) -> str:
    one, many = UNITS[m["unit"]]
    number = m["num"]
    return f"{number} {one if number == '1' else many}"


_UNIT_ALT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
# espeak says "3GB" as "three gee bee", "2.4GHz" as "two point four gee aitch zed".
_units = sub(rf"(?<![\w.])(?P<num>[0-9]+(?:\.[0-9]+)?)\s?(?P<unit>{_UNIT_ALT})(?![\w/])", _unit)
# "224x224", "3×3×64": espeak says "two hundred twenty-four ex two hundred twenty-four".
_dimensions = sub(
    r"(?<![\w.])[0-9]+(?:\.[0-9]+)?(?:\s?[x×]\s?[0-9]+(?:\.[0-9]+)?)+(?![\w.])",
    lambda m: re.sub(r"\s?[x×]\s?", " by ", m.group()),
)
# "10x faster", "1.5×": "ten ex" to espeak. Not hexadecimal ("0x1F").
_multipliers = sub(r"(?<![\w.])(?!0x[0-9A-Fa-f])([0-9]+(?:\.[0-9]+)?)[x×](?![\w])", r"\1 times")

# --- signs and simple formulas ----------------------------------------------------------------
_FORMULA_SYMBOLS = {
    "±": " plus or minus ", "≤": " less than or equal to ", "≥": " greater than or equal to ",
    "≠": " is not equal to ", "÷": " divided by ", "×": " times ", "√": " the square root of ",
    "=": " equals ", "<": " less than ", ">": " greater than ",
}  # fmt: skip
_arrow = sub(r"\s*(?:->|=>)\s*", " to ")
_powers = sub(
    r"\^\s*([0-9]+|[a-z])(?![\w])",
    lambda m: {"2": " squared", "3": " cubed"}.get(m[1], f" to the power of {m[1]}"),
)
_formula_symbols = sub(
    "|".join(re.escape(s) for s in _FORMULA_SYMBOLS), lambda m: _FORMULA_SYMBOLS[m.group()]
)

TECHNICAL_RULES: tuple[Rule, ...] = (
    _iso_dates,
    _dotted_dates,
    _slashed_dates,
    _quarters,
    _decade_prefix,
    _edition,
    _abbreviations,
    _units,
    _dimensions,
    _multipliers,
    _arrow,
    _powers,
    _formula_symbols,
)
"""In order: dates before abbreviations ("No. 15.11.1997" is rare, a date's dots are not),
dimensions before multipliers ("3x3" before "3x"), powers before other symbols."""
