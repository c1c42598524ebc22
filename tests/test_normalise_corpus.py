"""The corpus (tests/data/corpus/): what each class of token becomes in real-style sentences."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrate.lint import risks
from narrate.text import normalise, split_sentences

CORPUS = Path(__file__).parent / "data" / "corpus" / "milestones.txt"
WJ = "\u2060"


def _corpus() -> list[tuple[str, str, str | None]]:
    """Return (class, sentence, expected fragment or None) for every sentence of the corpus."""
    out = []
    cls = ""
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            cls = line[3:].strip()
        elif line.strip() and not line.startswith("#"):
            sentence, _, fragment = line.partition(" => ")
            out.append((cls, sentence.strip(), fragment.strip() or None))
    return out


ENTRIES = _corpus()


def test_the_corpus_is_big_enough_and_covers_every_class() -> None:
    assert len(ENTRIES) >= 150
    classes = {c for c, _, _ in ENTRIES}
    assert {"abbreviations", "dates", "units", "acronyms", "web", "risky"} <= classes


def test_each_corpus_line_is_one_sentence() -> None:
    for _, sentence, _ in ENTRIES:
        assert split_sentences(sentence) == [sentence], sentence


@pytest.mark.parametrize(
    ("cls", "sentence", "fragment"), [e for e in ENTRIES if e[2]], ids=lambda v: str(v)[:40]
)
def test_each_class_becomes_what_a_narrator_says(cls: str, sentence: str, fragment: str) -> None:
    assert fragment in normalise(sentence).replace(WJ, ""), cls


@pytest.mark.parametrize(("cls", "sentence", "fragment"), ENTRIES, ids=lambda v: str(v)[:40])
def test_lint_finds_risks_only_in_the_risky_class(
    cls: str, sentence: str, fragment: str | None
) -> None:
    found = risks(sentence)
    if cls == "risky":
        assert found, sentence
    else:
        assert found == [] or all(r.kind == "address" for r in found), (sentence, found)
