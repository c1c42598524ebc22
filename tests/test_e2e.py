"""End to end: the real pyttsx3/espeak-ng engine, the real encoder, ffmpeg as the judge.

One build of the ImageNet article (module fixture) is decoded and measured: the four files, the
whole article spoken in order, chapters that agree to the millisecond and sit just before each
heading's speech onset, loudness and true peak on the MP3 itself. ``tests/test_piper.py`` runs
these checks again on a Piper build, with its own fixtures.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from narrate.content.load import load_article
from narrate.outputs.chapters import parse_vtt
from narrate.text import split_sentences
from tests.audio_checks import SR, decode, ebur128, onset_after, window_levels
from tests.helpers import copy_site, run_cli_ok
from tests.id3_read import read_chapters, read_tags

pytestmark = pytest.mark.e2e
SLOW_FIXTURES = ("built",)
"""The whole article's build (about 3 s) makes every test here ``slow`` (tests/conftest.py)."""

SLUG = "imagenet"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a copy of the repository's site (config + article) with its own audio and cache."""
    return copy_site(tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="module")
def chapters_expected() -> int:
    """Return how many chapters the build reports: the opening and the article's ten sections."""
    return 11


@pytest.fixture(scope="module")
def seconds_expected() -> tuple[float, float]:
    """Return bounds for the length of the whole article spoken (5:20)."""
    return (200, 400)


@pytest.fixture(scope="module")
def built(site: Path) -> subprocess.CompletedProcess[str]:
    """Build the article once for the whole module."""
    return run_cli_ok(SLUG, cwd=site)


@pytest.fixture(scope="module")
def samples(site: Path, built: subprocess.CompletedProcess[str]) -> np.ndarray:
    """Return the decoded MP3."""
    return decode(site / "audio" / f"{SLUG}.mp3")


def test_writes_exactly_the_four_outputs(
    site: Path, built: subprocess.CompletedProcess[str], chapters_expected: int
) -> None:
    audio = site / "audio"
    for name in (".mp3", ".chapters.json", ".chapters.vtt", ".transcript.vtt"):
        assert (audio / f"{SLUG}{name}").stat().st_size > 0
    assert not list(audio.glob("*.part")), "temporary files left behind"
    assert "synthesised" in built.stdout and f"{chapters_expected} chapters" in built.stdout


def test_chapters_are_the_opening_plus_every_section_and_agree_to_the_ms(
    site: Path, built: object
) -> None:
    article = load_article(site / "content" / f"{SLUG}.yaml")
    titles = [article.title] + [s.heading for s in article.sections]
    audio = site / "audio"
    js = json.loads((audio / f"{SLUG}.chapters.json").read_text())
    assert js["version"] == "1.2.0"
    from_json = [
        (c["title"], round(c["startTime"] * 1000), round(c["endTime"] * 1000))
        for c in js["chapters"]
    ]
    from_vtt = [
        (c.text, c.start_ms, c.end_ms)
        for c in parse_vtt((audio / f"{SLUG}.chapters.vtt").read_text())
    ]
    from_id3 = [(c.title, c.start_ms, c.end_ms) for c in read_chapters(audio / f"{SLUG}.mp3")]
    assert [t for t, _, _ in from_json] == titles
    assert from_json == from_vtt == from_id3
    assert from_json[0][1] == 0
    for (_, _, end), (_, start, _) in zip(from_json, from_json[1:], strict=False):
        assert end == start


def test_every_chapter_starts_in_the_pause_just_before_its_heading(
    site: Path, samples: np.ndarray
) -> None:
    levels = window_levels(samples)
    chapters = read_chapters(site / "audio" / f"{SLUG}.mp3")
    assert onset_after(levels, 0.0) > 0.3  # room tone before the first word
    for ch in chapters[1:]:
        start = ch.start_ms / 1000
        # Search from well inside the preceding pause, so an onset before the start is caught.
        onset = onset_after(levels, start - 1.0)
        assert start <= onset <= start + 0.3, (ch.title, start, onset)


def test_duration_matches_the_chapters_and_ends_in_room_tone(
    site: Path, samples: np.ndarray, seconds_expected: tuple[float, float]
) -> None:
    chapters = read_chapters(site / "audio" / f"{SLUG}.mp3")
    duration = len(samples) / SR
    assert abs(chapters[-1].end_ms / 1000 - duration) < 0.002
    shortest, longest = seconds_expected
    assert shortest < duration < longest
    tail = window_levels(samples[-int(SR * 1.0) :])
    assert (tail < -60).all(), "the last second should be room tone"


def test_loudness_and_true_peak_measured_on_the_mp3(site: Path, built: object) -> None:
    lufs, peak = ebur128(site / "audio" / f"{SLUG}.mp3")
    assert -17.0 <= lufs <= -15.0, lufs
    assert peak <= -1.0, peak


def test_transcript_has_every_sentence_in_order_each_one_spoken(
    site: Path, samples: np.ndarray
) -> None:
    article = load_article(site / "content" / f"{SLUG}.yaml")
    cues = parse_vtt((site / "audio" / f"{SLUG}.transcript.vtt").read_text())
    texts = [c.text for c in cues]
    prose = [article.summary.text] + [
        b.text for s in article.sections for b in s.blocks if hasattr(b, "text")
    ]
    position = 0
    for block in prose:
        for sentence in split_sentences(block):
            assert sentence in texts[position:], f"missing or out of order: {sentence!r}"
            position = texts.index(sentence, position)
    assert len({c.id for c in cues}) == len(cues)
    levels = window_levels(samples)
    for cue in cues:
        a, b = int(cue.start_ms / 20), int(cue.end_ms / 20)
        assert b > a and levels[a:b].max() > -30, f"no speech under cue {cue.text!r}"
        assert cue.end_ms - cue.start_ms > 250 * min(3, len(cue.text.split())), cue.text


def test_id3_tags(site: Path, built: object) -> None:
    tags = read_tags(site / "audio" / f"{SLUG}.mp3")
    assert tags["title"] == "ImageNet"
    assert tags["artist"] == "AI Milestones"
    assert tags["album"] == "AI Milestones"
    assert tags["year"] == "2009"
    assert tags["comment"]


def test_second_run_is_up_to_date_and_changes_no_byte(site: Path, built: object) -> None:
    audio = site / "audio"
    before = {p.name: p.read_bytes() for p in audio.iterdir() if p.is_file()}
    result = run_cli_ok(SLUG, cwd=site)
    assert "up to date" in result.stdout
    after = {p.name: p.read_bytes() for p in audio.iterdir() if p.is_file()}
    assert before == after
