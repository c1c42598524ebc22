"""`narrate lint`: every risky token at FILE:LINE:COL with its fix; clean on the site's articles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from narrate.errors import EXIT_FINDINGS
from narrate.lint import lint_site, risks
from narrate.settings.load import load_project
from tests.helpers import ROOT, invoke

RULE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PAGE = ROOT / "tests" / "data" / "corpus" / "lint" / "content"


@pytest.mark.parametrize(
    ("text", "kind", "token"),
    [
        ("Jürgen Schmidhuber", "foreign", "Jürgen"),
        ("see https://example.com/a for it", "address", "https://example.com/a"),
        ("write to a@b.org now", "address", "a@b.org"),
        ("the XYZQ test", "acronym", "XYZQ"),
        ("in Bull. of the society", "abbreviation", "Bull."),
        ("rule § 4", "symbol", "§"),
        ("word2vec vectors", "glued", "word2vec"),
        ("an x86 chip", "glued", "x86"),
    ],
)
def test_each_kind_of_risk(text: str, kind: str, token: str) -> None:
    found = risks(text)
    assert [(r.kind, r.token) for r in found] == [(kind, token)]
    assert found[0].fix and text[found[0].offset :].startswith(token)


@pytest.mark.parametrize(
    "text",
    [
        "AlexNet was trained on two GPUs in 2012.",
        "The ILSVRC ran from 2010 to 2017, e.g. with 3GB cards.",
        "IMPORTANT NOTICE FOR ALL USERS",  # capitals as emphasis, not acronyms
        "World War II and Henry VIII",
        "his 43rd birthday in the 1990s",
        "NASA and NVIDIA, pp. 10-12, Dr. Smith et al.",
        "The P100 and the A100 and MP3 files",
        "Łukasz Kaiser",  # a built-in respelling
    ],
)
def test_what_is_not_risky(text: str) -> None:
    assert risks(text) == []


def test_a_lexicon_entry_clears_a_finding() -> None:
    assert risks("Jürgen and XYZQ", {"Jürgen": "Yurgen", "XYZQ": "X Y Z Q"}) == []
    assert risks("in Bull. of", {"Bull.": "Bulletin"}) == []


_PLAIN = st.lists(st.from_regex(r"[a-z]{1,10}", fullmatch=True), min_size=1, max_size=20)


@RULE
@given(words=_PLAIN)
def test_plain_lowercase_prose_is_never_risky(words: list[str]) -> None:
    assert risks(" ".join(words) + ".") == []


_FOREIGN = st.from_regex(r"[A-Z][a-z]{0,4}[äöüéèñçåøł][a-z]{0,4}", fullmatch=True)


@RULE
@given(word=_FOREIGN)
def test_every_word_with_a_non_ascii_letter_is_flagged_unless_in_the_lexicon(word: str) -> None:
    assert [(r.kind, r.token) for r in risks(f"{word} said")] == [("foreign", word)]
    assert risks(f"{word} said", {word: "Someone"}) == []


@pytest.mark.parametrize("content", ["content", "tests/data/site/content"])
def test_the_repository_articles_are_clean(content: str) -> None:
    site = load_project(ROOT / "narrate.yaml", content_dir=ROOT / content)
    assert lint_site(site, None) == []


def _lint(*args: str) -> tuple[int, str]:
    result = invoke(["lint", "--config", str(ROOT / "narrate.yaml"), "--content-dir", str(PAGE)]
                    + list(args))  # fmt: skip
    return result.exit_code, result.stdout


EXPECTED = [
    (10, "foreign", "Jürgen"), (10, "foreign", "München"), (11, "foreign", "Gödel"),
    (11, "foreign", "Erdős"), (14, "address", "https://people.idsia.ch/~juergen/rnn.html"),
    (15, "address", "lab@idsia.ch"), (18, "symbol", "§"), (19, "glued", "word2vec"),
    (19, "glued", "x86"), (22, "acronym", "XYZQ"), (23, "abbreviation", "Bull."),
]  # fmt: skip


def test_the_risky_page_lists_each_token_with_a_fix() -> None:
    code, out = _lint("--json", "risky")
    assert code == EXIT_FINDINGS == 4
    found = json.loads(out)
    assert [(f["line"], f["kind"], f["token"]) for f in found] == EXPECTED
    lines = (PAGE / "risky.yaml").read_text(encoding="utf-8").splitlines()
    for f in found:
        assert lines[f["line"] - 1][f["column"] - 1 :].startswith(f["token"])
        assert f["fix"]


def test_text_output_is_file_line_col_and_a_count() -> None:
    code, out = _lint("--all")
    assert code == 4
    rows = out.splitlines()
    assert rows[-1] == f"{len(EXPECTED)} risky tokens"
    path, line, col, rest = rows[0].split(":", 3)
    assert Path(path).name == "risky.yaml" and (line, col) == ("10", "9")
    assert rest.startswith(" foreign: Jürgen: ") and "; fix: lexicon entry " in rest


def test_clean_articles_exit_zero_and_print_nothing() -> None:
    result = invoke(["lint", "--config", str(ROOT / "narrate.yaml"), "--content-dir",
                     str(ROOT / "content"), "imagenet"])  # fmt: skip
    assert (result.exit_code, result.stdout) == (0, "")


def test_slugs_and_all_together_are_a_usage_error() -> None:
    assert _lint("--all", "risky")[0] == 2


def test_say_phonemes_prints_ipa_without_starting_an_engine_here() -> None:
    from narrate.synth.backends import espeak

    before = espeak._LOADED
    result = invoke(["say", "--phonemes", "--config", str(ROOT / "narrate.yaml"), "Vol. 9. Next."])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2  # one line of IPA per sentence, each clause kept with its sentence
    assert lines[0].startswith("vˈɑːl") and "nˈaɪn" in lines[0]  # "volume nine"
    assert "nˈɛkst" in lines[1]
    # The engine ran in a child: this process loaded no espeak-ng library for it.
    assert espeak._LOADED is before


def test_phonemes_of_a_folded_name() -> None:
    from narrate.lint import phonemes

    assert phonemes(["Jurgen", "Wookash"]) == ["dʒˈɜːdʒən", "wˈʊkæʃ"]
