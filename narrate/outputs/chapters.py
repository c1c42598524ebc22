"""Chapter and transcript writers: Podcasting 2.0 JSON and WebVTT (pure, no I/O).

Every time is an integer number of milliseconds so the ID3 tags, the JSON and the VTT files agree
to the millisecond; seconds appear only at the edges (:func:`to_ms` in, formatting out).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

JSON_CHAPTERS_VERSION = "1.2.0"
"""The Podcasting 2.0 JSON chapters version we write (podcast-namespace ``jsonChapters.md``)."""


@dataclass(frozen=True)
class Chapter:
    """One chapter of a narration."""

    title: str
    """Title shown by players and the page's chapter list."""
    start_ms: int
    """Start in integer milliseconds: the single source of truth for every output format."""
    end_ms: int
    """End in integer milliseconds (exclusive)."""


@dataclass(frozen=True)
class Cue:
    """One timed piece of text in a WebVTT track (a sentence of the transcript, or a chapter)."""

    id: str
    """Stable cue identifier, e.g. ``s-3f2a9c1b04``: no whitespace, no ``-->``, unique per file."""
    start_ms: int
    """Start in integer milliseconds."""
    end_ms: int
    """End in integer milliseconds; greater than ``start_ms``."""
    text: str
    """Displayed text, unescaped (the writer escapes it)."""
    words: tuple[int, ...] = ()
    """Where each displayed word starts (ms, ascending, inside the cue), as the engine reported;
    empty when it reported none (the page then spreads the cue's time over its words)."""


_WORD_RUN = re.compile(r"\S+")
"""A displayed word: a run of non-whitespace."""


def displayed_words(text: str) -> list[str]:
    """Return a sentence's displayed words: its runs of non-whitespace.

    The one definition shared by the word times, the transcripts and the page."""
    return _WORD_RUN.findall(text)


def clock(seconds: float) -> str:
    """Format seconds as m:ss, or h:mm:ss from an hour on.

    Fractions are dropped, as audio players do, so a label never disagrees with the player
    beside it (320.99 s is 5:20).
    """
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def to_ms(seconds: float) -> int:
    """Convert seconds to integer milliseconds, rounding half up."""
    if not math.isfinite(seconds):
        raise ValueError(f"time must be finite, got {seconds!r}")
    # Decimal of the shortest repr, so 1.0005 rounds to 1001 rather than to the binary 1000.4999...
    exact = Decimal(repr(float(seconds))) * 1000
    return int((exact + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR))


def validate(chapters: Sequence[Chapter]) -> None:
    """Raise ValueError unless chapters exist, are titled, start at 0, ascend and do not overlap."""
    if not chapters:
        raise ValueError("no chapters: a narration needs at least one")
    previous_end = 0
    for number, chapter in enumerate(chapters, start=1):
        where = f"chapter {number} ({chapter.title!r})"
        for name in ("start_ms", "end_ms"):
            value = getattr(chapter, name)
            # bool is an int subclass; a float here means someone skipped to_ms().
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{where}: {name} must be an int of milliseconds, got {value!r}")
        if not chapter.title.strip():
            # ID3 drops an empty TIT2 and ffmpeg then shows the element id ("chp2") instead.
            raise ValueError(f"chapter {number}: the title is empty")
        if number == 1 and chapter.start_ms != 0:
            raise ValueError(
                f"{where}: the first chapter must start at 0 ms, not {chapter.start_ms}"
            )
        if chapter.end_ms <= chapter.start_ms:
            raise ValueError(
                f"{where}: end {chapter.end_ms} ms is not after start {chapter.start_ms} ms"
            )
        if chapter.start_ms < previous_end:
            raise ValueError(
                f"{where}: starts at {chapter.start_ms} ms, before the previous chapter ends "
                f"at {previous_end} ms"
            )
        previous_end = chapter.end_ms


def _seconds(ms: int) -> float:
    # Division is correctly rounded and repr() is shortest-round-trip, so 12345 prints as 12.345.
    return ms / 1000


def chapters_json(chapters: Sequence[Chapter]) -> str:
    """Render Podcasting 2.0 JSON chapters (version 1.2.0), deterministically formatted."""
    validate(chapters)
    document = {
        "version": JSON_CHAPTERS_VERSION,
        "chapters": [
            {
                "startTime": _seconds(chapter.start_ms),
                "endTime": _seconds(chapter.end_ms),
                "title": chapter.title,
            }
            for chapter in chapters
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------
# WebVTT


def _vtt_time(ms: int) -> str:
    if ms < 0:
        raise ValueError(f"WebVTT times cannot be negative: {ms} ms")
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _escape(text: str) -> str:
    # & < > are the characters the WebVTT cue text parser treats specially; escaping > also
    # makes "-->" impossible inside a payload, where it would end the cue.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _timed_text(text: str, start_ms: int, end_ms: int, words: Sequence[int]) -> str:
    """Return the escaped text with a WebVTT inline timestamp before each word after the first.

    WebVTT wants each timestamp after the cue's start, after the previous one and before the
    cue's end; a word too close to its neighbour for that (the same millisecond) goes without.
    """
    spans = list(_WORD_RUN.finditer(text))
    if len(words) != len(spans):
        raise ValueError(f"{len(words)} word times for {len(spans)} words of {text[:40]!r}")
    out, at, last = [], 0, start_ms
    for n, (span, ms) in enumerate(zip(spans, words, strict=True)):
        out.append(_escape(text[at : span.start()]))
        if n and last < ms < end_ms:
            out.append(f"<{_vtt_time(ms)}>")
            last = ms
        out.append(_escape(span.group()))
        at = span.end()
    out.append(_escape(text[at:]))
    return "".join(out)


def _vtt_text(text: str, escaped: str | None = None) -> str:
    escaped = _escape(text) if escaped is None else escaped
    # A bare CR is a line terminator in WebVTT, so it cannot appear literally.
    escaped = escaped.replace("\r", "&#13;")
    lines = escaped.split("\n")
    if len(lines) > 1 and any(line == "" for line in lines):
        # A blank line would end the cue: write every newline as a character reference instead.
        # (Plain line breaks are kept otherwise because every player shows them as line breaks.)
        return "&#10;".join(lines)
    return escaped


def _cue_block(
    cue_id: str, start_ms: int, end_ms: int, text: str, words: Sequence[int] = ()
) -> str:
    escaped = _timed_text(text, start_ms, end_ms, words) if words else None
    return f"{cue_id}\n{_vtt_time(start_ms)} --> {_vtt_time(end_ms)}\n{_vtt_text(text, escaped)}\n"


# Blocks that are not cues; a cue id spelled like one of these would be misread as one.
_SPECIAL_BLOCK = re.compile(r"^(?:NOTE|STYLE|REGION)(?:[ \t]|$)")


def _check_cue_id(cue_id: str) -> None:
    if (
        not cue_id
        or "-->" in cue_id
        or any(ch.isspace() for ch in cue_id)
        or _SPECIAL_BLOCK.match(cue_id)
    ):
        raise ValueError(f"bad WebVTT cue id {cue_id!r}: needs text without whitespace or '-->'")


def chapters_vtt(chapters: Sequence[Chapter]) -> str:
    """Render a WebVTT chapter track: one cue per chapter, ids ``chapter-1``, ``chapter-2``..."""
    validate(chapters)
    blocks = [
        _cue_block(f"chapter-{number}", chapter.start_ms, chapter.end_ms, chapter.title)
        for number, chapter in enumerate(chapters, start=1)
    ]
    return "\n".join(["WEBVTT\n", *blocks])


def transcript_vtt(cues: Sequence[Cue]) -> str:
    """Render a WebVTT transcript track: one cue per sentence, each with its id line.

    A cue with word times has an inline timestamp (``<00:01:02.345>``) before each word after
    the first, which players that show karaoke-style captions follow."""
    seen: set[str] = set()
    previous_start = 0
    for cue in cues:
        _check_cue_id(cue.id)
        # The WebVTT spec requires ids to be unique; the page looks cues up by id.
        if cue.id in seen:
            raise ValueError(f"duplicate WebVTT cue id {cue.id!r}")
        seen.add(cue.id)
        if cue.start_ms < 0:
            raise ValueError(f"cue {cue.id!r}: WebVTT times cannot be negative")
        if cue.start_ms < previous_start:
            raise ValueError(f"cue {cue.id!r} starts before the cue preceding it")
        if cue.end_ms <= cue.start_ms:
            raise ValueError(f"cue {cue.id!r}: end {cue.end_ms} ms is not after its start")
        previous_start = cue.start_ms
    blocks = [_cue_block(c.id, c.start_ms, c.end_ms, c.text, c.words) for c in cues]
    return "\n".join(["WEBVTT\n", *blocks])


def transcript_json(cues: Sequence[Cue]) -> str:
    """Render the Podcasting 2.0 JSON transcript: a segment per word where word times are
    known (ending where the next word starts, the last at its cue's end), else per sentence."""
    segments = []
    for cue in cues:
        if not cue.words:
            segments.append(_segment(cue.start_ms, cue.end_ms, cue.text))
            continue
        ends = [*cue.words[1:], cue.end_ms]
        for word, start, end in zip(displayed_words(cue.text), cue.words, ends, strict=True):
            segments.append(_segment(start, max(start, end), word))
    return json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False, indent=1)


def _segment(start_ms: int, end_ms: int, body: str) -> dict[str, object]:
    return {"startTime": start_ms / 1000, "endTime": end_ms / 1000, "body": body}


_TIMESTAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING_LINE = re.compile(rf"^{_TIMESTAMP}[ \t]+-->[ \t]+{_TIMESTAMP}(?:[ \t]+.*)?$")
_INLINE = re.compile(rf"<{_TIMESTAMP}>")


def _parse_time(hours: str | None, minutes: str, seconds: str, millis: str) -> int:
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)


def parse_vtt(text: str) -> list[Cue]:
    """Parse a WebVTT file as we write it into cues (NOTE/STYLE/REGION blocks are skipped)."""
    text = text.removeprefix("\ufeff")
    # Only CRLF, CR and LF end lines in WebVTT; str.splitlines() would also split on U+2028 etc.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header = lines[0]
    if header != "WEBVTT" and not header.startswith(("WEBVTT ", "WEBVTT\t")):
        raise ValueError("not a WebVTT file: the first line must be 'WEBVTT'")
    # Blocks are runs of non-empty lines, kept with the line number they start on (for messages).
    blocks: list[tuple[int, list[str]]] = []
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        if number > 1 and lines[number - 2]:
            blocks[-1][1].append(line)
        else:
            blocks.append((number, [line]))

    cues: list[Cue] = []
    for first, block in blocks[1:]:
        if _SPECIAL_BLOCK.match(block[0]):
            continue
        if "-->" in block[0]:
            cue_id, timing, payload = "", block[0], block[1:]
            timing_line = first
        elif len(block) >= 2:
            cue_id, timing, payload = block[0], block[1], block[2:]
            timing_line = first + 1
        else:
            raise ValueError(f"line {first}: cue {block[0]!r} has no timing line")
        match = _TIMING_LINE.match(timing)
        if match is None:
            raise ValueError(f"line {timing_line}: bad cue timing {timing!r}")
        if any("-->" in line for line in payload):
            raise ValueError(f"line {timing_line}: cue text contains '-->' (missing blank line?)")
        start = _parse_time(*match.group(1, 2, 3, 4))
        raw = "\n".join(payload)
        # A literal "<" in our payloads only ever opens an inline timestamp (text is escaped).
        stamps = [_parse_time(*m.groups()) for m in _INLINE.finditer(raw)]
        text = html.unescape(_INLINE.sub("", raw))  # WebVTT's character references are HTML's
        cues.append(
            Cue(
                id=cue_id,
                start_ms=start,
                end_ms=_parse_time(*match.group(5, 6, 7, 8)),
                text=text,
                words=(start, *stamps) if stamps else (),
            )
        )
    return cues


# ---------------------------------------------------------------------------------------------
# FFMETADATA
