"""Chapter and transcript writers: exact-string golden files, round trips and refusals."""

from __future__ import annotations

import json
import os
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from narrate.outputs.chapters import (
    Chapter,
    Cue,
    chapters_json,
    chapters_vtt,
    parse_vtt,
    to_ms,
    transcript_vtt,
    validate,
)
from tests.helpers import ROOT

GOLDEN = ROOT / "tests" / "golden"

# Titles that break naive writers: markup, the VTT arrow, ampersands, quotes, FFMETADATA
# specials, a newline, emoji and non-Latin-1 text. The last chapter runs past one hour.
CHAPTERS = [
    Chapter("ImageNet", 0, 12_345),
    Chapter("Rock & Roll <script>alert(\"x\")</script> --> 'quoted'", 12_345, 61_000),
    Chapter("Notes = a; b # c \\ d\nsecond line", 61_000, 3_599_999),
    Chapter("Fun Facts 🎧 — Fei-Fei Li, 李飞飞", 3_600_000, 3_725_678),
]

CUES = [
    Cue("s-3f2a9c1b04", 1_000, 2_500, "ImageNet changed computer vision."),
    Cue("s-0a1b2c3d4e", 2_900, 4_100, 'She said "a <b>bold</b> idea" & it worked --> fast.'),
    Cue("s-5566778899", 4_100, 5_000, "Two lines\nof text 🧠"),
    Cue("s-aabbccddee", 5_400, 6_000, "Blank line\n\ninside, and a CR\rhere"),
    Cue("s-ffeeddccbb", 3_600_000, 3_601_234, "&amp; is already escaped; &#10; too"),
]

TAGS = {"title": "ImageNet", "artist": "Narrator", "album": "AI Milestones", "date": "2009"}


def check_golden(name: str, actual: str) -> None:
    """Compare to tests/golden/<name> byte for byte; NARRATE_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("NARRATE_UPDATE_GOLDEN") == "1":
        path.write_bytes(actual.encode("utf-8"))
    # Bytes, not text mode, so a checkout that converted line endings fails loudly.
    assert actual == path.read_bytes().decode("utf-8")


# --- golden files ---------------------------------------------------------------------------


def test_chapters_json_golden() -> None:
    check_golden("chapters.json", chapters_json(CHAPTERS))


def test_chapters_vtt_golden() -> None:
    check_golden("chapters.vtt", chapters_vtt(CHAPTERS))


def test_transcript_vtt_golden() -> None:
    check_golden("transcript.vtt", transcript_vtt(CUES))


# --- to_ms ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "ms"),
    [
        (0, 0),
        (0.0004, 0),
        (0.0005, 1),
        (1.0005, 1001),  # binary 1000.4999... times 1000: rounding the float would give 1000
        (2.675, 2675),
        (12.345, 12345),
        (3725.678, 3_725_678),
        (3, 3000),
        (-0.0005, 0),  # half up means towards +infinity, also below zero
    ],
)
def test_to_ms_rounds_half_up(seconds: float, ms: int) -> None:
    assert to_ms(seconds) == ms


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), float("-inf")])
def test_to_ms_refuses_non_finite(seconds: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        to_ms(seconds)


# --- validate -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chapters", "message"),
    [
        ([], "no chapters"),
        ([Chapter("A", 5, 10)], "start at 0"),
        ([Chapter("A", 0, 0)], "not after start"),
        ([Chapter("A", 0, 10), Chapter("B", 9, 20)], "before the previous chapter ends"),
        ([Chapter("A", 0, 10), Chapter("B", 20, 30), Chapter("C", 15, 40)], "before the previous"),
        ([Chapter(" ", 0, 10)], "title is empty"),
        ([Chapter("A", 0, 1.5)], "int of milliseconds"),  # type: ignore[arg-type]
        ([Chapter("A", False, 10)], "int of milliseconds"),
    ],
)
def test_validate_refuses(chapters: list[Chapter], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate(chapters)


def test_validate_allows_gaps() -> None:
    validate([Chapter("A", 0, 10), Chapter("B", 10, 20), Chapter("C", 25, 30)])


@pytest.mark.parametrize("writer", [chapters_json, chapters_vtt])
def test_writers_validate(writer: object) -> None:
    with pytest.raises(ValueError):
        writer([Chapter("A", 0, 10), Chapter("B", 5, 20)])  # type: ignore[operator]


# --- JSON -----------------------------------------------------------------------------------


def test_chapters_json_matches_int_ms() -> None:
    document = json.loads(chapters_json(CHAPTERS))
    assert document["version"] == "1.2.0"
    assert [(c["startTime"], c["endTime"], c["title"]) for c in document["chapters"]] == [
        (c.start_ms / 1000, c.end_ms / 1000, c.title) for c in CHAPTERS
    ]


@given(st.integers(min_value=1, max_value=10**12))
def test_json_seconds_have_no_binary_noise(ms: int) -> None:
    (number,) = re.findall(r'"endTime": ([^,\n]+)', chapters_json([Chapter("A", 0, ms)]))
    seconds, millis = divmod(ms, 1000)
    expected = f"{seconds}.{millis:03d}".rstrip("0") if millis else f"{seconds}.0"
    assert number == expected


# --- WebVTT ---------------------------------------------------------------------------------


def test_transcript_round_trips() -> None:
    assert parse_vtt(transcript_vtt(CUES)) == CUES


def test_chapters_vtt_round_trips() -> None:
    cues = parse_vtt(chapters_vtt(CHAPTERS))
    assert [c.id for c in cues] == ["chapter-1", "chapter-2", "chapter-3", "chapter-4"]
    assert [Chapter(c.text, c.start_ms, c.end_ms) for c in cues] == CHAPTERS


def test_vtt_payload_never_holds_markup_or_arrow() -> None:
    timing = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}$")
    for text in (transcript_vtt(CUES), chapters_vtt(CHAPTERS)):
        assert "\r" not in text
        for line in text.split("\n"):
            assert timing.match(line) or ("<" not in line and ">" not in line)


@given(
    st.lists(
        st.text(
            # Surrogates cannot reach a UTF-8 file; everything else must survive.
            alphabet=st.characters(exclude_categories=["Cs"]),
            max_size=40,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_text_round_trips(texts: list[str]) -> None:
    cues = [Cue(f"s-{i}", i * 1000, i * 1000 + 500, text) for i, text in enumerate(texts)]
    assert parse_vtt(transcript_vtt(cues)) == cues


def test_parse_vtt_reads_other_spellings() -> None:
    text = (
        "\ufeffWEBVTT - a header\r\nKind: chapters\r\n\r\n"
        "NOTE a comment\r\nover two lines\r\n\r\n"
        "STYLE\r\n::cue { color: red }\r\n\r\n"
        "01:02.500 --> 01:03.000 align:start\r\nno id, minutes only\r\n\r\n\r\n"
        "x\r\n10:00:00.000 --> 10:00:01.000\r\nten &lt;hours&gt; &nbsp;&#x41;\r\n"
    )
    assert parse_vtt(text) == [
        Cue("", 62_500, 63_000, "no id, minutes only"),
        Cue("x", 36_000_000, 36_001_000, "ten <hours> \u00a0A"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("WEBVTTX\n", "not a WebVTT file"),
        ("", "not a WebVTT file"),
        ("WEBVTT\n\nid-only\n", "no timing line"),
        ("WEBVTT\n\nid\n00:01.000 -> 00:02.000\ntext\n", "bad cue timing"),
        ("WEBVTT\n\nid\n00:61.000 --> 00:62.000\ntext\n", "bad cue timing"),
        ("WEBVTT\n\na\n00:01.000 --> 00:02.000\nx\n00:02.000 --> 00:03.000\ny\n", "'-->'"),
    ],
)
def test_parse_vtt_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_vtt(text)


@pytest.mark.parametrize(
    ("cues", "message"),
    [
        ([Cue("a b", 0, 1, "x")], "bad WebVTT cue id"),
        ([Cue("", 0, 1, "x")], "bad WebVTT cue id"),
        ([Cue("a-->b", 0, 1, "x")], "bad WebVTT cue id"),
        ([Cue("NOTE", 0, 1, "x")], "bad WebVTT cue id"),
        ([Cue("a", 0, 1, "x"), Cue("a", 1, 2, "y")], "duplicate"),
        ([Cue("a", 5, 6, "x"), Cue("b", 4, 7, "y")], "starts before"),
        ([Cue("a", 5, 5, "x")], "not after its start"),
        ([Cue("a", -5, 5, "x")], "negative"),
    ],
)
def test_transcript_vtt_refuses(cues: list[Cue], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        transcript_vtt(cues)


def test_transcript_vtt_empty() -> None:
    assert transcript_vtt([]) == "WEBVTT\n"
    assert parse_vtt("WEBVTT\n") == []


# --- FFMETADATA -----------------------------------------------------------------------------
