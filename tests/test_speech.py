"""Tests for narrate.text: sentence splitting and spoken-form normalisation."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from narrate.text import WORD_ACRONYMS, is_silent, normalise, split_sentences
from narrate.text.spoken import _PROTECTED
from narrate.text.vocab import ABBREVIATIONS, UNITS

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WJ = "\u2060"  # normalise puts a word joiner before an "A." initialism (text/abbreviations.py)

# --------------------------------------------------------------------------------------------
# The invariant, stated once
# --------------------------------------------------------------------------------------------

# The old invariant (every alphanumeric of the input stays, in order) no longer holds: "pp."
# becomes "pages", "Q3 1997" "the third quarter of 19 97", "1997-11-15" "November 15, 19 97",
# "https://" is not said and "Jürgen" is folded to "Jurgen". What still holds for any text is
# that a plain word survives: a run of four or more lower-case letters standing on its own
# (not part of an address, an abbreviation, a unit or a hyphenated prefix) is said, in order.
# Each rewriting rule has its own property instead (tests/test_normalise_*.py).
_PLAIN_WORD = re.compile(r"(?<![\w.@/'’\-+#&])[a-z]{4,}(?![\w.@/'’\-+#&:])")
_REWRITTEN = frozenset({*UNITS, *ABBREVIATIONS, *WORD_ACRONYMS})


def _plain_words(text: str) -> list[str]:
    return [w for w in _PLAIN_WORD.findall(text) if w not in _REWRITTEN]


def _is_subsequence(needle: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(c in it for c in needle)


def assert_keeps_words(source: str, spoken: str) -> None:
    """Every plain word of ``source`` is a word of ``spoken``, in order."""
    words = re.findall(r"[a-z]+", spoken.casefold())
    assert _is_subsequence(_plain_words(source), words), (source, spoken)


def _ws(text: str) -> str:
    return " ".join(text.split())


# --------------------------------------------------------------------------------------------
# split_sentences
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("  \n Padded.   Next.  ", ["Padded.", "Next."]),
        ("Dr. Smith met Mr. Jones. They talked.", ["Dr. Smith met Mr. Jones.", "They talked."]),
        ("Tools, e.g. Python, i.e. Python. Done.", ["Tools, e.g. Python, i.e. Python.", "Done."]),
        ("Apples, pears, etc. were sold. Fine.", ["Apples, pears, etc. were sold.", "Fine."]),
        ("The U.S. Army came. Then rain.", ["The U.S. Army came.", "Then rain."]),
        ("St. Louis vs. Boston. Next.", ["St. Louis vs. Boston.", "Next."]),
        ("It took 2.5 years and 1.2 million images. Yes.", ["It took 2.5 years and 1.2 million "
                                                          "images.", "Yes."]),
        ("Written by J. Smith in 2009. Later.", ["Written by J. Smith in 2009.", "Later."]),
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        ('"Why?" she asked. "Why not?" Silence.', ['"Why?" she asked.', '"Why not?"', "Silence."]),
        ("It was big (see above.) Then small.", ["It was big (see above.)", "Then small."]),
        ("See No. 5 and Fig. 3 for more. The answer is no. Fine.",
         ["See No. 5 and Fig. 3 for more.", "The answer is no.", "Fine."]),
        ("Released Dec. 2015 to acclaim. Done.", ["Released Dec. 2015 to acclaim.", "Done."]),
        ("Wait... what? Yes... Then more.", ["Wait... what?", "Yes...", "Then more."]),
        ("Heading without stop\n\nBody text. More.", ["Heading without stop", "Body text.",
                                                     "More."]),
        ("Line one\nstill one. Two.", ["Line one\nstill one.", "Two."]),
    ],
)  # fmt: skip
def test_split_sentences_examples(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t "])
def test_split_sentences_empty(text: str) -> None:
    assert split_sentences(text) == []


def test_split_sentences_rejects_silly_limit() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        split_sentences("Hello.", max_chars=0)


def test_long_sentence_prefers_semicolons_then_colons_then_commas() -> None:
    a, b, c = "a" * 30, "b" * 30, "c" * 30
    assert split_sentences(f"{a} x; {b} y; {c}.", max_chars=40) == [f"{a} x;", f"{b} y;", f"{c}."]
    assert split_sentences(f"{a} x: {b}, {c}.", max_chars=40) == [f"{a} x:", f"{b},", f"{c}."]
    assert split_sentences(f"{a}, {b}, {c}.", max_chars=70) == [f"{a}, {b},", f"{c}."]


def test_long_clause_splits_between_words_and_long_word_is_cut() -> None:
    assert split_sentences("aaa bbb ccc ddd", max_chars=7) == ["aaa bbb", "ccc ddd"]
    assert split_sentences("x" * 25, max_chars=10) == ["x" * 10, "x" * 10, "x" * 5]


def test_ten_thousand_word_paragraph_comes_back_whole() -> None:
    words = [f"word{i % 97}{',' if i % 13 == 0 else ''}" for i in range(10_000)]
    text = " ".join(words)
    start = time.perf_counter()
    pieces = split_sentences(text)
    assert time.perf_counter() - start < 1.0
    assert len(pieces) > 100
    assert all(0 < len(p) <= 400 and p == p.strip() for p in pieces)
    assert " ".join(pieces) == text
    assert _ws(" ".join(split_sentences(text.replace(" ", " \n  ")))) == text


_PROSE = st.lists(
    st.one_of(
        st.sampled_from(
            ["Dr.", "e.g.", "U.S.", "J.", "2.5", "etc.", "No.", "5", "(see", "it.)", '"Hi."',
             "Why?", "Yes!", "...", "…", ";", ":", ",", "—", "word", "Word", "the", "A.I."]
        ),
        st.text(min_size=1, max_size=12),
    ),
    max_size=40,
).map(lambda ws: " ".join(ws))  # fmt: skip


@FAST
@given(text=st.one_of(st.text(max_size=300), _PROSE), max_chars=st.integers(1, 120))
def test_split_sentences_never_drops_text(text: str, max_chars: int) -> None:
    pieces = split_sentences(text, max_chars=max_chars)
    assert "".join("".join(p.split()) for p in pieces) == "".join(text.split())
    assert all(p and p == p.strip() and len(p) <= max_chars for p in pieces)
    if all(len(w) <= max_chars for w in text.split()):
        # Only a word longer than the limit is ever cut inside; otherwise cuts fall on spaces.
        assert _ws(" ".join(pieces)) == _ws(text)


# --------------------------------------------------------------------------------------------
# normalise: one rule at a time
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        # ranges: espeak says "dash" for "-" and nothing at all for an en dash
        ("2007-2009", "2007 to 2009"),
        ("2007–2009", "2007 to 2009"),
        ("2007 — 2009", "2007 to 2009"),
        ("2007‑09", "2007 to 2009"),
        ("pages 10-20", "pages 10 to 20"),
        ("1.5-2.5 km", "1.5 to 2.5 kilometres"),
        ("on 2020-01-15", "on January 15, 2020"),  # a date, not a range
        # "+" after numbers
        ("14M+ images", "more than 14 million images"),
        ("14+ million images", "more than 14 million images"),
        ("20,000+ categories", "more than 20000 categories"),
        ("5K+ users", "more than 5 thousand users"),
        # a malformed grouping keeps its separators, "+" included (found by hypothesis)
        ("1,000,0001+ ", "1,000,0001 plus"),
        # thousands separators: espeak says "20,000" and "20000" alike; plain digits are simpler
        ("1,000 and 1,234,567", "1000 and 1234567"),
        ("1,2,3 and 3,5", "1,2,3 and 3,5"),
        # magnitude suffixes
        ("1.2M images", "1.2 million images"),
        ("3B parameters", "3 billion parameters"),
        ("5K and 10k", "5 thousand and 10 thousand"),
        ("2bn", "2 billion"),
        # percentages, money, temperature
        ("15%", "15 percent"),
        ("15.3 % and 10-20%", "15.3 percent and 10 to 20 percent"),
        ("$5", "5 dollars"),
        ("$1", "1 dollar"),
        ("$5.99", "5 dollars and 99 cents"),
        ("$1.2 million", "1.2 million dollars"),
        ("$5M", "5 million dollars"),
        ("$5-$10", "5 to 10 dollars"),
        ("£3 and €4", "3 pounds and 4 euros"),
        ("25°C", "25 degrees Celsius"),
        ("70 °F", "70 degrees Fahrenheit"),
        ("a 90° turn", "a 90 degrees turn"),
        # decades: espeak says "2010s" as "two thousand ten z"
        ("the 2010s", "the twenty tens"),
        ("the 1990s", "the nineteen nineties"),
        ("the 1990's", "the nineteen nineties"),
        ("the ’80s and '60s", "the eighties and sixties"),
        ("the 2000s", "the two thousands"),
        ("the 1900s", "the nineteen hundreds"),
        ("the 2020s", "the twenty twenties"),
        ("in her 20s", "in her twenties"),
        ("the 1995s", "the 1995s"),  # not a decade
        # years 1100-1999: espeak says "nineteen hundred ninety-eight"
        ("in 1998", "in 19 98"),
        ("In 1905,", "In 1905,"),  # "nineteen hundred five" is right; "19 05" is "zero five"
        ("between 1995 and 1998", "between 19 95 and 19 98"),
        ("(1987)", "(19 87)"),
        ("1998", "19 98"),
        ("in 1900", "in 1900"),
        ("1998 images", "1998 images"),  # could be a count: left to espeak
        ("in 2009", "in 2009"),
        # months next to numbers: espeak says "Dec" as "deck"
        ("Dec 2015", "December 2015"),
        ("Dec. 5, 2015", "December 5, 2015"),
        ("5 Sept 2001", "5 September 2001"),
        ("Mar the view", "Mar the view"),
        # symbols
        ("R&D", "R and D"),
        ("Tom & Jerry", "Tom and Jerry"),
        ("C++ and C#", "C plus plus and C sharp"),
        ("2 + 2", "2 plus 2"),
        ("Disney+", "Disney plus"),
        ("#1 hit", "number 1 hit"),
        ("#AI", f"{WJ}A.I"),
        ("and/or", "and or"),
        ("his/her", "his or her"),
        ("TCP/IP", "T.C.P I.P"),
        ("5 km/h", "5 kilometres per hour"),
        ("10 m/s", "10 metres per second"),
        ("$5/month", "5 dollars per month"),
        ("100 images/second", "100 images per second"),
        ("night/day", "night or day"),
        ("24/7", "24 7"),
        ("8/10", "8 out of 10"),
        ("12/25/2020", "December 25, 2020"),
        ("13/13/2020", "13 13 2020"),  # no date: the slashes go
        ("N/A", "not applicable"),
        ("~5 people", "about 5 people"),
        ("2 → 3", "2 to 3"),
        ("Brand™ ®", "Brand"),
        ("see https://example.com/a/b.", "see example dot com slash a slash b."),
        ("mail me@example.com/x", "mail me at example dot com x"),
        # abbreviations: a full stop before a capital makes espeak end the clause
        ("Dr. Smith", "Dr Smith"),
        ("J. Smith", "J Smith"),
        ("the U.S. Army", "the U.S Army"),
        ("No. 5", "number 5"),
        ("No. I", "No I"),  # not a number: only the stop goes
        ("e.g. this", "for example this"),
        ("them vs. us", "them versus us"),
        ("Ends here.", "Ends here."),
        # acronyms: spelled with inner dots; "I L S V R C" reads the A of "A I" as "uh"
        ("ILSVRC", "I.L.S.V.R.C"),
        ("AI", f"{WJ}A.I"),
        ("GPU", "G.P.U"),
        ("GPUs and CNN's", "G.P.U's and C.N.N's"),
        ("GPT-3", "G.P.T 3"),
        ("ILSVRC-2012", "I.L.S.V.R.C 2012"),
        ("NASA, UNESCO, LASER and NATO", "NASA, UNESCO, LASER and NATO"),
        ("COVID-19", "COVID-19"),
        ("ResNet, AlexNet, ImageNet", "ResNet, AlexNet, ImageNet"),
        ("NeurIPS, iOS, PhD", "NeurIPS, iOS, PhD"),
        ("MP3 and A100", "MP3 and A100"),
        ("World War II", "World War II"),
        ("an IV drip", "an I.V drip"),
        ("history of AI.", f"history of {WJ}A.I."),
        ("history of A.I.", f"history of {WJ}A.I."),
        ("IMPORTANT NOTICE FOR ALL USERS", "IMPORTANT NOTICE FOR ALL USERS"),
        ("FINAL RESULTS", "FINAL RESULTS"),
        # pictographs, quotes, ellipsis, whitespace
        ("🧠Deep Learning 🎧", "Deep Learning"),
        ("👍🏽 ok ❤️ 1️⃣", "ok 1"),
        ("“Quoted” and ‘single’ and it’s", "\"Quoted\" and 'single' and it's"),
        ("Wait…", "Wait..."),
        ("  many \n\t spaces\u00a0here  ", "many spaces here"),
        ("", ""),
        ("🎧", ""),
    ],
)  # fmt: skip
def test_normalise_rule(text: str, spoken: str) -> None:
    assert normalise(text) == spoken
    assert_keeps_words(text, spoken)


def test_normalise_is_stable_on_its_own_output() -> None:
    for sentence in split_sentences(IMAGENET_TEXT):
        once = normalise(sentence)
        assert normalise(once) == once


# --------------------------------------------------------------------------------------------
# normalise: the pronunciation lexicon
# --------------------------------------------------------------------------------------------


def test_lexicon_whole_word_case_sensitive_longest_first() -> None:
    lexicon = {"Fei-Fei": "Fay-Fay", "Fei-Fei Li": "Fay-Fay Lee", "Li": "Lee", "GIF": "JIF"}
    assert normalise("Fei-Fei Li's team", lexicon) == "Fay-Fay Lee's team"
    assert normalise("Fei-Fei and Li", lexicon) == "Fay-Fay and Lee"
    assert normalise("Lithium, LI, li, Lin", lexicon) == "Lithium, L.I, li, Lin"
    assert normalise("Fei-Fei\n  Li", lexicon) == "Fay-Fay Lee"
    # A lexicon replacement is final: the acronym rule does not spell "JIF" out.
    assert normalise("a GIF file", lexicon) == "a JIF file"


def test_lexicon_keys_with_symbols_and_empty_keys() -> None:
    lexicon = {"C++": "see plus plus", "": "nothing", " ": "space"}
    assert normalise("I like C++ and C++11", lexicon) == "I like see plus plus and C plus plus11"
    assert normalise("plain", {}) == "plain"


def test_normalise_leaves_the_input_alone() -> None:
    text = "14M+ images 🧠"
    normalise(text, {"images": "pictures"})
    assert text == "14M+ images 🧠"


# --------------------------------------------------------------------------------------------
# normalise: properties
# --------------------------------------------------------------------------------------------

_WORDS = ["the", "images", "dataset", "research", "created", "and", "of", "Stanford", "ImageNet"]
_TOKENS = st.one_of(
    st.sampled_from(
        _WORDS
        + ["ILSVRC", "AI", "GPUs", "NASA", "II", "C++", "C#", "&", "+", "/", "%", "$", "°C",
           "#", "~", "…", "—", "–", "-", "'", "’", ".", ",", "Dr.", "vs.", "J.", "U.S.", "Dec",
           "and/or", "km/h", "N/A", "24/7", "🧠", "🎧", "❤️", "👍🏽", "™", "in", "http://x.y/z"]
    ),
    st.integers(0, 3_000_000).map(str),
    st.integers(0, 3_000_000).map(lambda n: f"{n:,}"),
    st.decimals(0, 1000, places=2, allow_nan=False).map(str),
    st.integers(0, 2100).map(lambda n: f"{n}s"),
    st.integers(1, 999).map(lambda n: f"{n}{'KkMBT'[n % 5]}"),
    st.integers(1, 99).map(lambda n: f"{n}+"),
    st.integers(1000, 2099).map(lambda n: f"{n}-{(n + 3) % 100:02d}"),
    st.integers(1100, 1999).map(str),
    st.text(max_size=6),
)  # fmt: skip
_SEPARATORS = st.sampled_from([" ", " ", "  ", "\n", "", "-", "–", "/", ", ", ". ", "+"])


@st.composite
def _mixtures(draw: st.DrawFn) -> str:
    tokens = draw(st.lists(_TOKENS, max_size=25))
    out = []
    for token in tokens:
        out.append(token)
        out.append(draw(_SEPARATORS))
    return "".join(out)


@FAST
@given(text=st.text(max_size=300))
def test_normalise_keeps_every_word_of_arbitrary_text(text: str) -> None:
    spoken = normalise(text)
    assert_keeps_words(text, spoken)
    assert spoken == spoken.strip() and "  " not in spoken


@FAST
@given(text=_mixtures())
def test_normalise_keeps_every_word_of_mixtures(text: str) -> None:
    spoken = normalise(text)
    assert_keeps_words(text, spoken)
    assert spoken == spoken.strip() and "  " not in spoken
    # Only properly grouped numbers lose their separators; malformed groupings such as
    # "0100,000", "0.101,000" and "1,000,0000" (found by hypothesis) are left alone.
    grouped = r"(?<![0-9,.])[1-9][0-9]{0,2}(?:,[0-9]{3})+(?!,?[0-9])"
    # URLs and e-mail addresses are spoken as written ("http://x.y/z1,000", found by hypothesis).
    outside = _PROTECTED.sub(" ", spoken)
    assert not re.search(rf"[0-9][KMB]\+|{grouped}|[0-9]%", outside), spoken


@FAST
@given(
    words=st.lists(st.sampled_from(_WORDS + ["Fei-Fei", "Li", "Fei-Fei Li", "Lin"]), max_size=20)
)
def test_normalise_keeps_plain_words_whole_and_applies_lexicon(words: list[str]) -> None:
    lexicon = {"Fei-Fei Li": "Fay-Fay Lee", "Li": "Lee"}
    # A reference substitution: whole words, longest first ("Fei-Fei" + "Li" fuse).
    text = " ".join(words)
    expected = re.sub(r"(?<!\w)(?:Fei-Fei Li|Li)(?!\w)", lambda m: lexicon[m[0]], text)
    spoken = normalise(text, lexicon)
    assert spoken == expected
    assert_keeps_words(expected, spoken)


# --------------------------------------------------------------------------------------------
# The ImageNet article, whole
# --------------------------------------------------------------------------------------------

IMAGENET_TEXT = """\
Deep Learning Era

ImageNet

Dataset Created

2009

Fei-Fei Li, Jia Deng

Fei-Fei Li's team created ImageNet, a massive dataset of 14M+ labeled images that became the \
benchmark for computer vision.

Introduction

ImageNet is a large-scale dataset of labeled images that has been instrumental in the development \
of deep learning. The dataset was created to provide a benchmark for computer vision algorithms, \
and it has been used to train and evaluate many of the most successful deep learning models. \
Created between 2007 and 2009, ImageNet became a transformative force in AI research.

Historical Context

ImageNet had a transformative impact on the field of computer vision. It provided a large-scale, \
high-quality dataset that was essential for training deep neural networks. The ILSVRC (ImageNet \
Large Scale Visual Recognition Challenge) competition, which was based on ImageNet, became a major \
driver of progress in the field and helped to usher in the deep learning revolution of the 2010s. \
Led by Fei-Fei Li at Stanford University, the project represented an unprecedented effort in \
dataset creation.

Technical Details

The images in ImageNet were collected from the internet and hand-annotated by human workers using \
Amazon Mechanical Turk. The dataset is organized according to the WordNet hierarchy, with each \
node of the hierarchy being depicted by hundreds and thousands of images. The ImageNet Large Scale \
Visual Recognition Challenge (ILSVRC) used a subset of ImageNet with 1,000 categories, roughly 1.2 \
million training images, 50,000 validation images, and 100,000 test images. The challenge included \
tasks such as image classification, object detection, and object localization.

Notable Quotes

"If we want to teach computers to see, we need to show them lots and lots of pictures."

Fei-Fei Li

Explaining the motivation behind creating ImageNet

Cultural Impact

ImageNet provided the large-scale data needed to train deep neural networks for computer vision \
tasks. Before ImageNet, most computer vision datasets were relatively small, which limited the \
complexity of models that could be trained. ImageNet's scale made it possible to train much deeper \
and more complex models. The ILSVRC competition became a major driver of progress in computer \
vision, with researchers competing each year to achieve the lowest error rate on the ImageNet \
dataset. This competition drove rapid improvements in deep learning techniques.

Contemporary Reactions

The creation of ImageNet was initially met with some skepticism about the value of such a \
large-scale labeling effort. However, the success of deep learning models trained on ImageNet \
quickly demonstrated its importance. The dataset became the standard benchmark for computer vision \
research, and its impact on the field cannot be overstated.

Timeline of Events

2007

ImageNet project initiated at Stanford University

2007-2009

2.5 years of image collection and annotation using Amazon Mechanical Turk

2009

ImageNet dataset publicly released with 14+ million images

2010

First ImageNet Large Scale Visual Recognition Challenge (ILSVRC)

2012

AlexNet achieves breakthrough results on ILSVRC, launching deep learning revolution

2015

ResNet achieves human-level performance on ImageNet

2017

Final ILSVRC competition held

Legacy

ImageNet is one of the most important datasets in the history of AI. It has been used to train \
and benchmark thousands of computer vision models, and it has been a major catalyst for the \
development of deep learning. The dataset demonstrated the importance of large-scale data for \
training AI systems and helped to establish the paradigm of training models on large datasets and \
then fine-tuning them for specific tasks. The ILSVRC competition ran from 2010 to 2017, during \
which time error rates dropped dramatically thanks to advances in deep learning.

Impact on AI

Provided the training data fuel that powered the deep learning explosion in computer vision.

Fun Facts

Took 2.5 years to build using Amazon Mechanical Turk

Contains 14+ million images across 20,000+ categories

Annual competition drove rapid AI progress
"""

LEXICON = {"Fei-Fei Li": "Fei-Fei Lee", "Jia Deng": "Jia Dung"}


def _article_sentences() -> list[str]:
    return split_sentences(IMAGENET_TEXT)


def test_imagenet_splits_into_headings_and_sentences() -> None:
    sentences = _article_sentences()
    assert len(sentences) == 60
    assert sentences[:5] == ["Deep Learning Era", "ImageNet", "Dataset Created", "2009",
                             "Fei-Fei Li, Jia Deng"]  # fmt: skip
    assert "The ILSVRC (ImageNet Large Scale Visual Recognition Challenge) competition, which " \
        "was based on ImageNet, became a major driver of progress in the field and helped to " \
        "usher in the deep learning revolution of the 2010s." in sentences  # fmt: skip
    assert "Led by Fei-Fei Li at Stanford University, the project represented an unprecedented " \
        "effort in dataset creation." in sentences  # fmt: skip


def test_imagenet_normalises_as_a_narrator_would_say_it() -> None:
    spoken = {s: normalise(s, LEXICON) for s in _article_sentences()}
    for display, say in spoken.items():
        assert_keeps_words(display.replace("Fei-Fei Li", "Fei-Fei Lee").replace("Deng", "Dung"),
                           say)  # fmt: skip
        assert not re.search(r"[0-9][-–—][0-9]|[+%&/]|[^\x00-\x7f\u2060]", say), say
        for caps in re.findall(r"\b[A-Z]{2,}\b", say):
            assert caps in WORD_ACRONYMS, say
    assert spoken["Fei-Fei Li's team created ImageNet, a massive dataset of 14M+ labeled images "
                  "that became the benchmark for computer vision."] == (
        "Fei-Fei Lee's team created ImageNet, a massive dataset of more than 14 million labeled "
        "images that became the benchmark for computer vision."
    )  # fmt: skip
    assert spoken["2007-2009"] == "2007 to 2009"
    assert spoken["Contains 14+ million images across 20,000+ categories"] == (
        "Contains more than 14 million images across more than 20000 categories"
    )
    assert spoken["Impact on AI"] == f"Impact on {WJ}A.I"
    assert spoken["Fei-Fei Li, Jia Deng"] == "Fei-Fei Lee, Jia Dung"
    revolution = next(v for k, v in spoken.items() if k.startswith("The ILSVRC (ImageNet"))
    assert revolution.startswith("The I.L.S.V.R.C (ImageNet Large Scale Visual Recognition")
    assert revolution.endswith("the deep learning revolution of the twenty tens.")
    assert spoken["The ImageNet Large Scale Visual Recognition Challenge (ILSVRC) used a subset of "
                  "ImageNet with 1,000 categories, roughly 1.2 million training images, 50,000 "
                  "validation images, and 100,000 test images."] == (
        "The ImageNet Large Scale Visual Recognition Challenge (I.L.S.V.R.C) used a subset of "
        "ImageNet with 1000 categories, roughly 1.2 million training images, 50000 validation "
        "images, and 100000 test images."
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "silent"),
    [("🎉🎉", True), ("|", True), ("™®", True), ("\u200b\ufeff", True), ("\ue000", True),
     ("©", True), ("", True), ("a", False), ("&", False), ("+", False), ("%", False),
     ("🎉 1", False), ("①", False)],
)  # fmt: skip
def test_is_silent(text: str, silent: bool) -> None:
    assert is_silent(text) is silent


@FAST
@given(text=st.text(max_size=100))
def test_is_silent_is_normalise_saying_no_letter_or_digit(text: str) -> None:
    assert is_silent(text) == (not any(c.isalnum() for c in normalise(text, {})))
