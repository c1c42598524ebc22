"""Word times for the page's read-along: from the JSON transcript, or spread over each sentence.

The page highlights the word being spoken. Its times come from ``SLUG.transcript.json`` (the
Podcasting 2.0 JSON transcript, one segment per displayed word) when the build wrote one; each
sentence cue takes the segments that start inside it, in order, if they are as many as its
displayed words. Any other sentence gets estimates: its time spread over its words by their
length in characters (:func:`estimate`, the rule the page's script applies), and it is marked
``data-word-estimated``.

The fragment stays compact: a sentence with exact word times carries them in one attribute,
``data-w``, as centiseconds, each from the previous word's start (the first from the sentence's
start); an estimated one carries none. The page's script makes the word elements. Pure
functions except :func:`read_segments`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from narrate.outputs.chapters import Cue, displayed_words, to_ms

_SLACK_MS = 50
"""How far before a cue's start or after its end a word segment may start and still be its."""


@dataclass(frozen=True)
class Segment:
    """One timed word of the JSON transcript, in milliseconds."""

    start_ms: int
    end_ms: int
    body: str


def estimate(cue: Cue) -> tuple[int, ...]:
    """Return word starts (ms) spreading the cue's time over its words by their characters.

    Each word weighs its length plus one (the space or pause after it)."""
    words = displayed_words(cue.text)
    weights = [len(w) + 1 for w in words]
    total = sum(weights) or 1
    span = cue.end_ms - cue.start_ms
    starts, before = [], 0
    for weight in weights:
        starts.append(cue.start_ms + span * before // total)
        before += weight
    return tuple(starts)


def read_segments(path: Path) -> list[Segment] | None:
    """Return the word segments of a JSON transcript, or None if it is missing or not one."""
    try:
        data = json.loads(path.read_text("utf-8"))
        segments = [
            Segment(to_ms(float(s["startTime"])), to_ms(float(s["endTime"])), str(s["body"]))
            for s in data["segments"]
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return sorted(segments, key=lambda s: s.start_ms)


def from_segments(cues: Sequence[Cue], segments: Sequence[Segment]) -> dict[str, tuple[int, ...]]:
    """Return cue id -> word starts (ms) for each cue whose segments fit its displayed words.

    A cue's segments are those starting within it (a little slack either side, never into the
    next cue); they fit when they are as many as its words. Other cues are left out.
    """
    found: dict[str, tuple[int, ...]] = {}
    i = 0
    for number, cue in enumerate(cues):
        limit = cues[number + 1].start_ms if number + 1 < len(cues) else None
        while i < len(segments) and segments[i].start_ms < cue.start_ms - _SLACK_MS:
            i += 1
        mine: list[int] = []
        while i < len(segments):
            start = segments[i].start_ms
            if start > cue.end_ms + _SLACK_MS or (limit is not None and start >= limit):
                break
            mine.append(max(start, cue.start_ms))
            i += 1
        if mine and len(mine) == len(displayed_words(cue.text)):
            found[cue.id] = tuple(mine)
    return found


def encode(cue: Cue, starts: Sequence[int]) -> str:
    """Return the ``data-w`` value: centiseconds from the previous start (the first from the
    cue's). Rounded from the cue's start before the differences, so no error accumulates."""
    centis = [round((s - cue.start_ms) / 10) for s in starts]
    return " ".join(str(b - a) for a, b in zip([0, *centis], centis, strict=False))
