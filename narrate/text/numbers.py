"""Numbers for the ear: thousands, ranges, "14M+", money, percentages, decades, years, months.

Each rule says what espeak-ng does without it (checked with ``espeak-ng -q -x -v en-us "..."``).
"""

from __future__ import annotations

import re

from narrate.text.rules import NOT_AFTER_WORD, NOT_BEFORE_WORD, Rule, W, sub
from narrate.text.vocab import MONTH_ABBREVIATIONS, MONTH_NAMES_RE

__all__ = ["NUMBER_RULES"]

_NUM = r"[0-9]+(?:\.[0-9]+)?"
_MAGNITUDES = {"K": "thousand", "k": "thousand", "M": "million", "B": "billion",
               "bn": "billion", "T": "trillion"}  # fmt: skip
_MAG_SUFFIX = r"(?:bn|[KkMBT])"
_MAG_WORD = r"(?:thousand|million|billion|trillion)"
_CURRENCIES = {"$": ("dollar", "dollars", "cents"), "£": ("pound", "pounds", "pence"),
               "€": ("euro", "euros", "cents"), "¥": ("yen", "yen", "")}  # fmt: skip


# Thousands separators go: espeak reads "20,000" and "20000" alike ("twenty thousand", checked
# with both en-us and en), but plain digits keep every later rule simple and avoid engines that
# pause at the comma. Only well-formed groups ("1,234,567"); "1,2" is a list, left alone.
_strip_thousands = sub(
    r"(?<![0-9.,])[0-9]{1,3}(?:,[0-9]{3})+(?![0-9]|,[0-9])",
    lambda m: m.group().replace(",", ""),
)


def _range(m: re.Match[str]) -> str:
    """Return "A to B" for a numeric range; "2007-09" becomes "2007 to 2009"."""
    a, b = m.group(2), m.group(4)
    if len(a) == 4 and len(b) == 2 and a.isdigit() and b.isdigit() and a[:2] + b > a:
        b = a[:2] + b  # "2007 to 09" would be said "oh nine"
    return f"{m.group(1)}{a} to {m.group(3)}{b}"


# espeak says "2007-2009" as "two thousand seven dash two thousand nine" and runs an en-dash
# range together with no word at all. Chains like dates "2020-01-15" are not ranges.
_ranges = sub(
    rf"(?<![\w.,/\-–—])([$£€¥]?)({_NUM})(?:\s*[–—]\s*|-)([$£€¥]?)({_NUM})"
    rf"(?![\w\-–—]|[.,][0-9])",
    _range,
)


def _more_than(m: re.Match[str]) -> str:
    """Return "more than N <magnitude>" for "14M+", "14+ million" and "20000+"."""
    suffix, word = m.group("suffix"), m.group("word")
    mag = _MAGNITUDES[suffix] if suffix else word
    return f"more than {m.group('cur')}{m.group('num')}" + (f" {mag}" if mag else "")


# espeak says "14M+" as "fourteen em plus" and "20000+" as "twenty thousand plus". Not after
# "1,000," (a malformed grouping, left as written).
_plus_numbers = sub(
    rf"(?<![\w.])(?<![0-9],)(?P<cur>[$£€¥]?)(?P<num>{_NUM})"
    rf"(?:(?P<suffix>{_MAG_SUFFIX})\+|\+\s*(?P<word>{_MAG_WORD})\b|\+)(?![\w+]|\s*[0-9])",
    _more_than,
)
# "1.2M" is "one point two em" to espeak.
_magnitudes = sub(
    rf"(?<![\w.])([$£€¥]?{_NUM})({_MAG_SUFFIX}){NOT_BEFORE_WORD}",
    lambda m: f"{m.group(1)} {_MAGNITUDES[m.group(2)]}",
)


def _money(m: re.Match[str]) -> str:
    """Return the amount with its unit after it: "$5" -> "5 dollars"."""
    one, many, cents = _CURRENCIES[m.group("cur")]
    amount, upper, mag = m.group("num"), m.group("upper"), m.group("mag")
    if upper:
        return f"{amount}{m.group('join')}{upper}{mag or ''} {many}"
    if mag:
        return f"{amount}{mag} {many}"
    whole, _, frac = amount.partition(".")
    if len(frac) == 2 and cents:
        # "five point nine nine dollars" is how espeak reads "5.99 dollars".
        unit = one if whole == "1" else many
        return f"{whole} {unit} and {frac} {cents}"
    return f"{amount} {one if amount == '1' else many}"


# espeak reads "$5" as "dollar five".
_currency = sub(
    rf"(?P<cur>[$£€¥])\s?(?P<num>{_NUM})(?:(?P<join>\sto\s)[$£€¥]?(?P<upper>{_NUM}))?"
    rf"(?P<mag>\s{_MAG_WORD}\b)?",
    _money,
)
_percent = sub(rf"(?<![0-9.])({_NUM})\s?%", r"\1 percent")
_degrees = sub(
    r"\s?°\s?([CF])" + NOT_BEFORE_WORD,
    lambda m: " degrees " + ("Celsius" if m.group(1) == "C" else "Fahrenheit"),
)

_TENS_PLURAL = ("", "tens", "twenties", "thirties", "forties", "fifties", "sixties",
                "seventies", "eighties", "nineties")  # fmt: skip
_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen")  # fmt: skip
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def _below_100(n: int) -> str:
    """Return n (0-99) in words: 21 -> "twenty-one"."""
    if n < 20:
        return _ONES[n]
    return _TENS[n // 10] + (f"-{_ONES[n % 10]}" if n % 10 else "")


def _decade(m: re.Match[str]) -> str:
    """Return a decade in words ("1990s" -> "nineteen nineties"), or the match unchanged."""
    digits = m.group(2)
    n = int(digits)
    if len(digits) == 2 and n % 10 == 0 and n:
        return _TENS_PLURAL[n // 10]
    if len(digits) == 3 and n % 100 == 0:
        return "hundreds" if n == 100 else f"{_ONES[n // 100]} hundreds"
    if len(digits) == 4 and n % 1000 == 0:
        return "thousands" if n == 1000 else f"{_ONES[n // 1000]} thousands"
    if len(digits) == 4 and 1000 <= n <= 2099 and n % 10 == 0:
        century, decade = divmod(n // 10, 10)
        tail = "hundreds" if decade == 0 else _TENS_PLURAL[decade]
        return f"{_below_100(century)} {tail}"
    return m.group()


# espeak says "the 2010s" as "two thousand ten z" and "1990s" as "nineteen hundred ninety z".
_decades = sub(rf"{NOT_AFTER_WORD}(?<![.,])(')?([0-9]{{2,4}})'?s{NOT_BEFORE_WORD}", _decade)

_YEAR = r"1[1-9][0-9]{2}"
_YEAR_END = rf"(?![{W}]|[.,][0-9])"
_MONTH_NAMES = MONTH_NAMES_RE
_YEAR_CUE = (
    # "by" after a number is a dimension ("224 by 224"), not a year's cue.
    rf"(?i:in|since|from|until|till|(?<![0-9] )by|between|during|circa|ca\.|c\.|early|late|mid"
    rf"|before|after|around|year|summer|winter|spring|autumn|fall)|{_MONTH_NAMES}"
)


def _year(y: str) -> str:
    """Return a year said in pairs: "1998" -> "19 98"."""
    if y[2] == "0":
        # "nineteen hundred", "nineteen hundred five" are fine; "19 05" would be "zero five".
        return y
    return f"{y[:2]} {y[2:]}"


# espeak reads 1100-1999 as counts ("nineteen hundred ninety-eight"). A count of 1998 images is
# said that way too, so only numbers that are plainly years are regrouped: after a cue word,
# in a pair of years, in brackets, or standing alone (a timeline date). 20xx is fine as it is.
_years_after_cue = sub(
    rf"\b({_YEAR_CUE})(\s+|-)({_YEAR}){_YEAR_END}", lambda m: m[1] + m[2] + _year(m[3])
)
# Page, volume and issue numbers are counts: "pages 1735 to 1780" (from "pp. 1735-1780").
_year_pairs = sub(
    rf"(?<!pages )(?<!page )(?<!volumes )(?<!numbers )\b({_YEAR})"
    rf"(\s+(?:to|and|or|through|until|till)\s+)({_YEAR}){_YEAR_END}",
    lambda m: _year(m[1]) + m[2] + _year(m[3]),
)
_years_bracketed = sub(rf"\(({_YEAR})\)", lambda m: f"({_year(m[1])})")
_year_alone = sub(rf"\A\s*({_YEAR})\s*\Z", lambda m: _year(m[1]))

_MONTH_ABBREVS = MONTH_ABBREVIATIONS
_MONTH_ALT = "|".join(sorted(_MONTH_ABBREVS, key=len, reverse=True))
# espeak says "Dec 2015" as "deck". Only next to a number, so "Mar" and "Jan" as words stay.
_months = sub(
    rf"\b({_MONTH_ALT})\.?(?=\s+[0-9])|(?<=[0-9] )({_MONTH_ALT})\.?{NOT_BEFORE_WORD}",
    lambda m: _MONTH_ABBREVS[m[1] or m[2]],
)

# "February 14, 1946": the year after a day of a month is a year.
_month_day_year = sub(
    rf"\b({_MONTH_NAMES})(\s+[0-9]{{1,2}},?\s+)({_YEAR}){_YEAR_END}",
    lambda m: m[1] + m[2] + _year(m[3]),
)


NUMBER_RULES: tuple[Rule, ...] = (
    _strip_thousands,
    _ranges,
    _plus_numbers,
    _magnitudes,
    _currency,
    _percent,
    _degrees,
    _decades,
    _months,
    _month_day_year,
    _year_pairs,
    _years_after_cue,
    _years_bracketed,
    _year_alone,
)
"""In order: thousands separators go before ranges and "+" ("20,000+"), magnitudes before
currencies ("$5M")."""
