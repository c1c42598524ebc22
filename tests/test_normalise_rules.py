"""Rule by rule: technical and historical tokens (narrate/text/technical.py, web.py, foreign.py).

Each class has examples and, where a property holds, a hypothesis property with a fixed budget.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from narrate.text import normalise
from narrate.text.foreign import fold, foreign_words
from narrate.text.technical import year
from narrate.text.vocab import MONTHS, UNITS
from narrate.text.web import speak_address

RULE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        # abbreviations with a full stop
        ("c. 2015", "circa 2015"),
        ("c. 1950", "circa 19 50"),
        ("ca. 1850 it", "circa 18 50 it"),
        ("Vol. 9, No. 8", "volume 9, number 8"),
        ("pp. 1735-1780", "pages 1735 to 1780"),
        ("p. 12", "page 12"),
        ("Fig. 3 shows", "figure 3 shows"),
        ("Eq. 2 and Eqs. 3-4", "equation 2 and equations 3 to 4"),
        ("Smith (ed.), 1990", "Smith (editor), 1990"),
        ("Smith and Jones (eds.)", "Smith and Jones (editors)"),
        ("the 2nd ed. of", "the 2nd edition of"),
        ("Krizhevsky et al., 2012", "Krizhevsky et al., 2012"),
        ("e.g. a cat, i.e. a pet", "for example a cat, that is a pet"),
        ("them vs. us", "them versus us"),
        ("approx. 5 hours", "approximately 5 hours"),
        ("a No. I", "a No I"),
        ("no. 7", "number 7"),
        # page and volume references are counts, never years
        ("pp. 1100-1999", "pages 1100 to 1999"),
        ("on pages 1735-1780", "on pages 1735 to 1780"),
        # dates
        ("on 1997-11-15", "on November 15, 19 97"),
        ("2001-02-30", "February 30, 2001"),
        ("1997-13-15", "1997-13-15"),  # no month 13: left as written
        ("in 11/1997", "in November 19 97"),
        ("12/25/2020", "December 25, 2020"),
        ("25/12/2020", "25 December 2020"),
        ("15.11.1997", "15 November 19 97"),
        ("In Q3 1997", "In the third quarter of 19 97"),
        ("the Q1 2001 results", "the first quarter of 2001 results"),
        ("Nov. 1997", "November 19 97"),
        ("the mid-1990s", "the mid nineteen nineties"),
        ("the late-'80s", "the late eighties"),
        ("mid-1997", "mid 19 97"),
        # units, multipliers, dimensions
        ("3GB", "3 gigabytes"),
        ("1 GB", "1 gigabyte"),
        ("2.4GHz", "2.4 gigahertz"),
        ("7nm", "7 nanometres"),
        ("16 TFLOPS", "16 teraflops"),
        ("60 fps", "60 frames per second"),
        ("500 MB/s", "500 megabytes per second"),
        ("10x faster", "10 times faster"),
        ("1.5× the cost", "1.5 times the cost"),
        ("224x224 pixels", "224 by 224 pixels"),
        ("3×3×64", "3 by 3 by 64"),
        ("20×20 images", "20 by 20 images"),
        ("0x1F", "0x1F"),
        ("x86", "x86"),
        ("$5M", "5 million dollars"),
        # ordinals and decimals: espeak reads these right ("forty-third", "fifteen point three")
        ("his 43rd birthday", "his 43rd birthday"),
        ("the 21st century", "the 21st century"),
        ("15.3 percent", "15.3 percent"),
        # signs and formulas
        ("E = mc^2", "E equals mc squared"),
        ("2^10", "2 to the power of 10"),
        ("a < b and c > d", "a less than b and c greater than d"),
        ("x ≤ 3 ≠ y", "x less than or equal to 3 is not equal to y"),
        ("±5", "plus or minus 5"),
        ("a -> b", "a to b"),
        ("-40 degrees", "-40 degrees"),  # espeak says "minus forty"
        # acronyms said, spelled or neither
        ("CUDA and NASA", "CUDA and NASA"),
        ("IEEE", "I triple E"),
        ("AAAI-86", "triple A I-86"),
        ("GPUs and TPUs", "G.P.U's and T.P.U's"),
        # web addresses
        ("see https://github.com/openai/gpt-2", "see github dot com slash openai slash gpt-2"),
        ("www.image-net.org.", "image-net dot org."),
        ("at arxiv.org/abs/1706.03762.", "at arxiv dot org slash abs slash 1706 dot 03762."),
        ("mail fei@stanford.edu.", "mail fei at stanford dot edu."),
        ("Python.org and e.g. this", "Python dot org and for example this"),
        # names from other languages
        ("Jürgen Schmidhuber", "Jurgen Schmidhuber"),
        ("München", "Munchen"),
        ("Łukasz Kaiser", "Wookash Kaiser"),
        ("Gödel, Erdős and Poincaré", "Godel, Erdos and Poincare"),
    ],
)  # fmt: skip
def test_rule(text: str, spoken: str) -> None:
    assert normalise(text) == spoken


def test_lexicon_overrides_folding_and_builtin_names() -> None:
    assert normalise("Jürgen", {"Jürgen": "Yurgen"}) == "Yurgen"
    assert normalise("Łukasz", {"Łukasz": "Lukash"}) == "Lukash"


# --- properties --------------------------------------------------------------------------------

_DATES = st.dates(dt.date(1100, 1, 1), dt.date(2099, 12, 31))


@RULE
@given(d=_DATES)
def test_iso_dates_are_month_day_year(d: dt.date) -> None:
    y = f"{d.year:04d}"
    assert normalise(f"on {y}-{d.month:02d}-{d.day:02d}") == (
        f"on {MONTHS[d.month - 1]} {d.day}, {year(y)}"
    )


@RULE
@given(d=_DATES)
def test_dotted_dates_are_day_month_year(d: dt.date) -> None:
    y = f"{d.year:04d}"
    assert normalise(f"{d.day}.{d.month}.{y}") == f"{d.day} {MONTHS[d.month - 1]} {year(y)}"


@RULE
@given(month=st.integers(1, 12), y=st.integers(1100, 2099))
def test_month_slash_year(month: int, y: int) -> None:
    assert normalise(f"{month}/{y}") == f"{MONTHS[month - 1]} {year(str(y))}"


@RULE
@given(q=st.integers(1, 4), y=st.integers(1100, 2099))
def test_quarters(q: int, y: int) -> None:
    spoken = normalise(f"in Q{q} {y}")
    ordinal = ("first", "second", "third", "fourth")[q - 1]
    assert spoken == f"in the {ordinal} quarter of {year(str(y))}"


@RULE
@given(a=st.integers(1, 9999), span=st.integers(0, 9999))
def test_page_ranges_are_counts(a: int, span: int) -> None:
    # Never regrouped as years ("17 35"), whatever the numbers; "1700-10" is 1700 to 1710.
    b = a + span
    assert normalise(f"pp. {a}-{b}") == f"pages {a} to {b}"
    assert normalise("pp. 1700-10") == "pages 1700 to 1710"


@RULE
@given(n=st.integers(0, 10**6), unit=st.sampled_from(sorted(UNITS)), gap=st.sampled_from(["", " "]))
def test_units(n: int, unit: str, gap: str) -> None:
    one, many = UNITS[unit]
    assert normalise(f"{n}{gap}{unit} used") == f"{n} {one if n == 1 else many} used"


@RULE
@given(dims=st.lists(st.integers(1, 4096), min_size=2, max_size=4), sep=st.sampled_from("x×"))
def test_dimensions(dims: list[int], sep: str) -> None:
    text = sep.join(map(str, dims))
    assert normalise(f"{text} images") == " by ".join(map(str, dims)) + " images"


@RULE
@given(n=st.integers(1, 1000), sep=st.sampled_from("x×"))
def test_multipliers(n: int, sep: str) -> None:
    assert normalise(f"{n}{sep} faster") == f"{n} times faster"


_LABEL = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True)


@RULE
@given(
    host=st.lists(_LABEL, min_size=1, max_size=3),
    tld=st.sampled_from(["com", "org", "io", "edu"]),
    path=st.lists(_LABEL, max_size=3),
    scheme=st.sampled_from(["", "https://", "http://www.", "www."]),
)
def test_web_addresses(host: list[str], tld: str, path: list[str], scheme: str) -> None:
    url = scheme + ".".join([*host, tld]) + "".join("/" + p for p in path)
    spoken = normalise(f"see {url} now")
    expected = " dot ".join([*host, tld]) + "".join(" slash " + p for p in path)
    assert spoken == f"see {expected} now"
    assert not re.search(r"[/:@]", spoken)


@RULE
@given(user=_LABEL, host=_LABEL, tld=st.sampled_from(["com", "org", "de"]))
def test_email_addresses(user: str, host: str, tld: str) -> None:
    assert speak_address(f"{user}@{host}.{tld}") == f"{user} at {host} dot {tld}"


_LATIN = st.text(
    st.characters(min_codepoint=0xC0, max_codepoint=0x17F, categories=["Lu", "Ll"]),
    min_size=1,
    max_size=12,
)


@RULE
@given(word=_LATIN)
def test_folding_keeps_one_ascii_letter_run(word: str) -> None:
    folded = fold(word)
    assert folded.isascii() or any(not c.isascii() for c in folded)
    # Folding never adds or drops a word: each Latin letter becomes one or two letters.
    assert len(word) <= len(folded) <= 2 * len(word)
    assert foreign_words(word) == [(0, word)] or not word[0].isalpha()


@RULE
@given(
    word=st.from_regex(r"[a-z]{2,10}", fullmatch=True).filter(lambda w: w != "vs"),
    op=st.sampled_from(["=", "<", ">"]),
)
def test_formula_symbols_become_words(word: str, op: str) -> None:
    said = {"=": "equals", "<": "less than", ">": "greater than"}[op]
    assert normalise(f"{word} {op} 3") == f"{word} {said} 3"


@RULE
@given(n=st.integers(1100, 1999))
def test_years_only_where_years(n: int) -> None:
    assert normalise(f"{n} images") == f"{n} images"  # a count
    assert normalise(f"pp. {n}") == f"pages {n}"  # a page
    assert normalise(f"in {n}") == f"in {year(str(n))}"  # a year
