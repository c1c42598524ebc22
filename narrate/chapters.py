"""Chapter and transcript writers: Podcasting 2.0 JSON, WebVTT and FFMETADATA (pure, no I/O).

Every time is an integer number of milliseconds so the ID3 tags, the JSON and the VTT files agree
to the millisecond; seconds appear only at the edges (:func:`to_ms` in, formatting out).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping, Sequence
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


def _vtt_text(text: str) -> str:
    # & < > are the characters the WebVTT cue text parser treats specially; escaping > also
    # makes "-->" impossible inside a payload, where it would end the cue.
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A bare CR is a line terminator in WebVTT, so it cannot appear literally.
    escaped = escaped.replace("\r", "&#13;")
    lines = escaped.split("\n")
    if len(lines) > 1 and any(line == "" for line in lines):
        # A blank line would end the cue: write every newline as a character reference instead.
        # (Plain line breaks are kept otherwise because every player shows them as line breaks.)
        return "&#10;".join(lines)
    return escaped


def _cue_block(cue_id: str, start_ms: int, end_ms: int, text: str) -> str:
    return f"{cue_id}\n{_vtt_time(start_ms)} --> {_vtt_time(end_ms)}\n{_vtt_text(text)}\n"


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
    """Render a WebVTT transcript track: one cue per sentence, each with its id line."""
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
    blocks = [_cue_block(cue.id, cue.start_ms, cue.end_ms, cue.text) for cue in cues]
    return "\n".join(["WEBVTT\n", *blocks])


_TIMESTAMP = r"(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TIMING_LINE = re.compile(rf"^{_TIMESTAMP}[ \t]+-->[ \t]+{_TIMESTAMP}(?:[ \t]+.*)?$")


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
        cues.append(
            Cue(
                id=cue_id,
                start_ms=_parse_time(*match.group(1, 2, 3, 4)),
                end_ms=_parse_time(*match.group(5, 6, 7, 8)),
                # WebVTT character references are HTML's; html.unescape decodes exactly those.
                text=html.unescape("\n".join(payload)),
            )
        )
    return cues


# ---------------------------------------------------------------------------------------------
# FFMETADATA


def _ffmeta_escape(value: str) -> str:
    # ffmpeg's reader ends a line at CR, LF or NUL unless the byte before is a backslash, and
    # takes any character after a backslash literally. It checks only that one byte, so a
    # value ending in an escaped backslash would swallow its line end (ffmetadec.c), and a
    # NUL would cut its C string short: refuse both rather than write a file ffmpeg misreads.
    if value.endswith("\\"):
        raise ValueError(f"FFMETADATA value {value!r} ends in a backslash, which ffmpeg misreads")
    if "\0" in value:
        raise ValueError(f"FFMETADATA value {value!r} contains a NUL character")
    return re.sub(r"([=;#\\\n\r])", r"\\\1", value)


def ffmetadata(chapters: Sequence[Chapter], tags: Mapping[str, str]) -> str:
    """Render an ffmpeg FFMETADATA1 file of global tags and millisecond chapters."""
    validate(chapters)
    lines = [";FFMETADATA1"]
    # Sorted so the same tags give the same bytes however the mapping was built.
    for key in sorted(tags):
        # ffmpeg would read a line starting "[CHAPTER]" or "[STREAM]" as a section header.
        if not key or key.startswith("["):
            raise ValueError(f"bad FFMETADATA tag name {key!r}")
        lines.append(f"{_ffmeta_escape(key)}={_ffmeta_escape(tags[key])}")
    for chapter in chapters:
        lines += [
            "",
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={chapter.start_ms}",
            f"END={chapter.end_ms}",
            f"title={_ffmeta_escape(chapter.title)}",
        ]
    return "\n".join(lines) + "\n"
