"""Text for the ear: sentence splitting, spoken-form normalisation and word counts (pure).

The displayed text is never changed: ``normalise`` returns a new string that a TTS engine
(espeak-ng by default) reads the way a person would. Every rule below was chosen by checking
espeak-ng's phonemes (``espeak-ng -q -x -v en-us "..."``); the comment on each rule says what
espeak does without it.

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
import unicodedata
from collections.abc import Callable, Mapping

__all__ = ["WORD_ACRONYMS", "normalise", "split_sentences", "word_count"]

# --------------------------------------------------------------------------------------------
# Shared vocabulary
# --------------------------------------------------------------------------------------------

#: All-capital words that are said as words, not spelled. Everything else in capitals is spelled
#: (espeak guesses: it says "ILSVRC" as "ilsvarc" but spells "GPU"). Site lexicons add more.
WORD_ACRONYMS: frozenset[str] = frozenset(
    {
        "AIDS", "ALGOL", "ASCII", "BASIC", "BERT", "CAPTCHA", "COBOL", "COVID", "DALL", "DARPA",
        "DENDRAL", "ELIZA", "ENIAC", "FIFA", "FORTRAN", "GAN", "GIF", "GLUE", "JPEG", "LASER",
        "LIDAR", "LISP", "MYCIN", "NAFTA", "NASA", "NATO", "NVIDIA", "OPEC", "PIN", "PROLOG",
        "RADAR", "RAM", "ROM", "SCUBA", "SIM", "SNARC", "SONAR", "UNESCO", "UNICEF", "UNIVAC",
        "YOLO",
    }
)  # fmt: skip

# An abbreviation's full stop never ends a sentence (lower-cased, without the final ".").
_ABBREV_ALWAYS = frozenset(
    {
        "dr", "mr", "mrs", "ms", "prof", "st", "mt", "sr", "gen", "col", "capt", "lt", "sgt",
        "rev", "hon", "vs", "v", "cf", "e.g", "i.e", "viz", "approx", "ca", "dept", "univ",
    }
)  # fmt: skip
# These end a sentence unless a number follows ("No. 5", "Fig. 3", "Dec. 2015", "c. 1950").
_ABBREV_BEFORE_NUMBER = frozenset(
    {
        "no", "nos", "fig", "figs", "vol", "vols", "p", "pp", "ch", "sec", "eq", "art", "op", "c",
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    }
)  # fmt: skip
_DOTTED_INITIALS = re.compile(r"(?:[A-Z]\.)+[A-Z]")  # "U.S", "J.R.R" (final dot excluded)

# A word character for boundary tests; combining marks count so "É" written as E + U+0301
# is one word.
_W = r"\w\u0300-\u036f"
_NOT_AFTER_WORD = rf"(?<![{_W}])"
_NOT_BEFORE_WORD = rf"(?![{_W}])"

# --------------------------------------------------------------------------------------------
# split_sentences
# --------------------------------------------------------------------------------------------

_OPENERS = "\"'“‘„([{«¡¿*"
_TERMINATOR = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’)\]}»]*(?=\s|\Z)")
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")
# Where an over-long sentence may be cut, best first: after "; ", ": ", ", " (or a spaced dash).
_SOFT_BREAKS = (re.compile(r";(?=\s)"), re.compile(r":(?=\s)"), re.compile(r"[,—–](?=\s)"))
_SPACE_RUN = re.compile(r"\s+")


def split_sentences(text: str, max_chars: int = 400) -> list[str]:
    """Split displayed prose into sentences, unchanged except surrounding whitespace trimmed."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, not {max_chars}")
    out: list[str] = []
    # A blank line always ends a sentence (a heading or list item without a full stop).
    for block in _BLANK_LINE.split(text):
        start = 0
        for m in _TERMINATOR.finditer(block):
            if _ends_sentence(block, m):
                out.extend(_fit(block[start : m.end()].strip(), max_chars))
                start = m.end()
        out.extend(_fit(block[start:].strip(), max_chars))
    return out


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
    if low in _ABBREV_ALWAYS:
        return False
    if low in _ABBREV_BEFORE_NUMBER and nxt.isdigit():
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


# --------------------------------------------------------------------------------------------
# normalise
# --------------------------------------------------------------------------------------------

_Rule = Callable[[str], str]

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
}  # fmt: skip
# Symbols (So) that stay: espeak reads them well, or a later rule turns them into words.
_KEEP_SYMBOLS = frozenset("©°")
# Invisible emoji glue: variation selectors, zero-width joiner, keycap, skin tones, tag letters.
_EMOJI_PARTS = re.compile("[\ufe00-\ufe0f\u200d\u20e3\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]")


def _clean_chars(text: str) -> str:
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


_NUM = r"[0-9]+(?:\.[0-9]+)?"
_MAGNITUDES = {"K": "thousand", "k": "thousand", "M": "million", "B": "billion",
               "bn": "billion", "T": "trillion"}  # fmt: skip
_MAG_SUFFIX = r"(?:bn|[KkMBT])"
_MAG_WORD = r"(?:thousand|million|billion|trillion)"
_CURRENCIES = {"$": ("dollar", "dollars", "cents"), "£": ("pound", "pounds", "pence"),
               "€": ("euro", "euros", "cents"), "¥": ("yen", "yen", "")}  # fmt: skip


def _sub(pattern: str, repl: str | Callable[[re.Match[str]], str], flags: int = 0) -> _Rule:
    """Return a rule that applies one compiled substitution."""
    rx = re.compile(pattern, flags)
    return lambda text: rx.sub(repl, text)


# Thousands separators go: espeak reads "20,000" and "20000" alike ("twenty thousand", checked
# with both en-us and en), but plain digits keep every later rule simple and avoid engines that
# pause at the comma. Only well-formed groups ("1,234,567"); "1,2" is a list, left alone.
_strip_thousands = _sub(
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
_ranges = _sub(
    rf"(?<![\w.,/\-–—])([$£€¥]?)({_NUM})(?:\s*[–—]\s*|-)([$£€¥]?)({_NUM})"
    rf"(?![\w\-–—]|[.,][0-9])",
    _range,
)


def _more_than(m: re.Match[str]) -> str:
    """Return "more than N <magnitude>" for "14M+", "14+ million" and "20000+"."""
    suffix, word = m.group("suffix"), m.group("word")
    mag = _MAGNITUDES[suffix] if suffix else word
    return f"more than {m.group('cur')}{m.group('num')}" + (f" {mag}" if mag else "")


# espeak says "14M+" as "fourteen em plus" and "20000+" as "twenty thousand plus".
_plus_numbers = _sub(
    rf"(?<![\w.])(?P<cur>[$£€¥]?)(?P<num>{_NUM})(?:(?P<suffix>{_MAG_SUFFIX})\+|\+\s*"
    rf"(?P<word>{_MAG_WORD})\b|\+)(?![\w+]|\s*[0-9])",
    _more_than,
)
# "1.2M" is "one point two em" to espeak.
_magnitudes = _sub(
    rf"(?<![\w.])([$£€¥]?{_NUM})({_MAG_SUFFIX}){_NOT_BEFORE_WORD}",
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
_currency = _sub(
    rf"(?P<cur>[$£€¥])\s?(?P<num>{_NUM})(?:(?P<join>\sto\s)[$£€¥]?(?P<upper>{_NUM}))?"
    rf"(?P<mag>\s{_MAG_WORD}\b)?",
    _money,
)
_percent = _sub(rf"(?<![0-9.])({_NUM})\s?%", r"\1 percent")
_degrees = _sub(
    r"\s?°\s?([CF])" + _NOT_BEFORE_WORD,
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
_decades = _sub(rf"{_NOT_AFTER_WORD}(?<![.,])(')?([0-9]{{2,4}})'?s{_NOT_BEFORE_WORD}", _decade)

_YEAR = r"1[1-9][0-9]{2}"
_YEAR_END = rf"(?![{_W}]|[.,][0-9])"
_MONTH_NAMES = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
)
_YEAR_CUE = (
    rf"(?i:in|since|from|until|till|by|between|during|circa|ca\.|c\.|early|late|mid|before|after"
    rf"|around|year|summer|winter|spring|autumn|fall)|{_MONTH_NAMES}"
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
_years_after_cue = _sub(
    rf"\b({_YEAR_CUE})(\s+|-)({_YEAR}){_YEAR_END}", lambda m: m[1] + m[2] + _year(m[3])
)
_year_pairs = _sub(
    rf"\b({_YEAR})(\s+(?:to|and|or|through|until|till)\s+)({_YEAR}){_YEAR_END}",
    lambda m: _year(m[1]) + m[2] + _year(m[3]),
)
_years_bracketed = _sub(rf"\(({_YEAR})\)", lambda m: f"({_year(m[1])})")
_year_alone = _sub(rf"\A\s*({_YEAR})\s*\Z", lambda m: _year(m[1]))

_MONTH_ABBREVS = {
    "Jan": "January", "Feb": "February", "Mar": "March", "Apr": "April", "Jun": "June",
    "Jul": "July", "Aug": "August", "Sep": "September", "Sept": "September", "Oct": "October",
    "Nov": "November", "Dec": "December",
}  # fmt: skip
_MONTH_ALT = "|".join(sorted(_MONTH_ABBREVS, key=len, reverse=True))
# espeak says "Dec 2015" as "deck". Only next to a number, so "Mar" and "Jan" as words stay.
_months = _sub(
    rf"\b({_MONTH_ALT})\.?(?=\s+[0-9])|(?<=[0-9] )({_MONTH_ALT})\.?{_NOT_BEFORE_WORD}",
    lambda m: _MONTH_ABBREVS[m[1] or m[2]],
)

_UNITS = {
    "km/h": "kilometres per hour", "km/hr": "kilometres per hour", "m/s": "metres per second",
    "km/s": "kilometres per second", "mi/h": "miles per hour", "ft/s": "feet per second",
    "kb/s": "kilobits per second", "Mb/s": "megabits per second", "Gb/s": "gigabits per second",
    "kB/s": "kilobytes per second", "MB/s": "megabytes per second", "GB/s": "gigabytes per second",
}  # fmt: skip
_units = _sub(
    _NOT_AFTER_WORD + "(" + "|".join(re.escape(u) for u in _UNITS) + ")" + _NOT_BEFORE_WORD,
    lambda m: _UNITS[m[1]],
)
_PER_WORDS = (
    r"(?:second|sec|minute|min|hour|hr|day|week|month|year|yr|annum|person|capita|head|unit"
    r"|image|token|page|user)s?\b"
)
_PER_WORD = re.compile(_PER_WORDS)
# "$5/month" (already "5 dollars/month") and "5/day" read "per".
_per = _sub(
    rf"(?:(?<=[0-9])|(?<=dollars)|(?<=dollar)|(?<=euros)|(?<=pounds)|(?<=cents)|(?<=yen))"
    rf"\s*/\s*(?={_PER_WORDS})",
    " per ",
)
_twenty_four_seven = _sub(r"\b24/7\b", "24 7")
_dates = _sub(r"\b([0-9]{1,4})/([0-9]{1,2})/([0-9]{1,4})\b", r"\1 \2 \3")
_fractions = _sub(r"\b([0-9]+)/([0-9]+)\b", r"\1 out of \2")
_not_applicable = _sub(r"\bN/A\b", "not applicable")


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
_word_slashes = _sub(r"(?<![\w/])[^\W\d_]+(?:/[^\W\d_]+)+(?![\w/])", _word_slash)
_other_slashes = _sub(r"/", " ")

_ampersand = _sub(r"&", " and ")  # spaces are tidied at the end
_plus_plus = _sub(rf"{_NOT_AFTER_WORD}([A-Za-z])\+\+", r"\1 plus plus")
_sharp = _sub(rf"{_NOT_AFTER_WORD}([CF])#", r"\1 sharp")
_number_sign = _sub(r"#(?=[0-9])", "number ")  # espeak: "hash one"
_hash = _sub(r"#", " ")  # a hashtag's "#" is not read
_plus = _sub(r"\+", " plus ")
_about = _sub(r"~\s*(?=[0-9])", "about ")  # "~5": espeak says "tilde"
_tilde = _sub(r"~", " ")
_percent_sign = _sub(r"%", " percent")
_degree_sign = _sub(r"°", " degrees")
_versus = _sub(rf"{_NOT_AFTER_WORD}vs\.?(?=\s)", "versus")  # espeak spells "vs" out

# A full stop after a title, an initial or "U.S" before a capital or number makes espeak end
# the clause ("Doctor. Smith"); without the stop it reads "Dr", "Mr", "St" correctly.
_TITLE_ALT = "|".join(
    sorted((a.capitalize() for a in _ABBREV_ALWAYS | _ABBREV_BEFORE_NUMBER if "." not in a),
           key=len, reverse=True)
)  # fmt: skip
_abbrev_stops = _sub(
    rf"(?<![\w.])((?:{_TITLE_ALT}|approx|ca|c|pp|p)|[A-Z]|(?:[A-Z]\.)+[A-Z])\.(?=\s+[A-Z0-9])",
    r"\1",
)

_ROMAN = re.compile(r"(?=[IVX])X{0,3}(?:IX|IV|V?I{0,3})")
_CAPS = re.compile(
    rf"{_NOT_AFTER_WORD}(?<!\w\.)(?P<caps>[A-Z]{{2,}})(?P<plural>s|'s)?{_NOT_BEFORE_WORD}"
    r"(?P<hyphen>-(?=[0-9]))?"
)
_SHOUT_WORDS = frozenset(
    "THE AND OF TO IN FOR ON WITH IS ARE WAS WERE BE BY FROM THIS THAT NOT BUT AS AN ALL HAS "
    "HAVE YOU YOUR WE OUR NEW NOW FREE HOW WHAT WHY WHEN WHO".split()
)
_LETTER_WORD = re.compile(r"[^\W\d_]+")


def _is_shouting(text: str) -> bool:
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


def _acronyms(text: str) -> str:
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


# espeak fuses "of a", "for a", "at a", "was a" into one word, so "of A.I" is read "ofa dot I".
# An invisible WORD JOINER (U+2060) before the "A" stops that and is otherwise ignored.
_A_INITIALISM = re.compile(rf"{_NOT_AFTER_WORD}(?<![.\u2060])(?=A\.[A-Z](?![a-z]))")


_space_before_punct = _sub(r"\s+([,.;:!?)\]])", r"\1")
_space_after_open = _sub(r"([(\[])\s+", r"\1")
_spaces = _sub(r"\s+", " ")

# Order matters: numbers are rewritten before symbols ("20,000+" needs its "+" and comma),
# magnitudes before currencies ("$5M"), and acronyms last so "14M" is not spelled.
_RULES: tuple[_Rule, ...] = (
    _strip_thousands,
    _ranges,
    _plus_numbers,
    _magnitudes,
    _currency,
    _percent,
    _degrees,
    _decades,
    _months,
    _year_pairs,
    _years_after_cue,
    _years_bracketed,
    _year_alone,
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
    _percent_sign,
    _degree_sign,
    _versus,
    _abbrev_stops,
)

# URLs and e-mail addresses are left as they are: the slash and symbol rules would garble them.
_PROTECTED = re.compile(
    r"(?:https?://|www\.)[^\s<>\"]*[^\s<>\".,;:!?)\]']|(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.]+"
)


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
        alternatives.append(_NOT_AFTER_WORD + body + _NOT_BEFORE_WORD)
    return re.compile("|".join(alternatives)) if alternatives else None


def _segments(text: str, lexicon: Mapping[str, str] | None) -> list[tuple[str, bool]]:
    """Return text as (piece, is_final) pairs: lexicon replacements and URLs are final."""
    pieces: list[tuple[str, bool]] = []
    pattern = _lexicon_pattern(tuple(lexicon)) if lexicon else None
    pos = 0
    if pattern is not None and lexicon is not None:
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
            out.append((m.group(), True))
            start = m.end()
        out.append((piece[start:], False))
    return out


def normalise(text: str, lexicon: Mapping[str, str] | None = None) -> str:
    """Return displayed text rewritten so a TTS engine says it right."""
    shouting = _is_shouting(text)
    spoken = []
    for piece, final in _segments(text, lexicon):
        if not final:
            piece = _clean_chars(piece)
            for rule in _RULES:
                piece = rule(piece)
            if not shouting:  # espeak reads a heading in capitals as words: leave it be
                piece = _acronyms(piece)
        spoken.append(piece)
    joined = _spaces("".join(spoken))
    return _space_after_open(_space_before_punct(joined)).strip()


# --------------------------------------------------------------------------------------------
# word_count
# --------------------------------------------------------------------------------------------

_SPOKEN_TOKEN = re.compile(r"[0-9]+(?:\.[0-9]+)?|[^\W\d_]+(?:'[^\W\d_]+)*|[^\W_]")


def _number_words(number: str) -> int:
    """Return how many words a number takes to say: "2009" -> 3 ("two thousand nine")."""
    whole, _, frac = number.partition(".")
    extra = 1 + len(frac) if frac else 0  # "point" and one word per digit
    if len(whole) > 15 or (len(whole) > 1 and whole.startswith("0")):
        return len(whole) + extra  # read digit by digit
    n = int(whole)
    if n == 0:
        return 1 + extra
    words = 0
    scale = 0
    while n:
        n, group = divmod(n, 1000)
        if group:
            words += (2 if group >= 100 else 0) + (1 if group % 100 else 0) + (1 if scale else 0)
        scale += 1
    return words + extra


def word_count(text: str) -> int:
    """Return how many words a listener hears when ``text`` is spoken."""
    count = 0
    for token in _SPOKEN_TOKEN.findall(normalise(text)):
        count += _number_words(token) if token[0] in "0123456789" else 1
    return count
