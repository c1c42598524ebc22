"""ID3v2.3 tags and chapters (CHAP + one top-level CTOC) written and read with mutagen."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mutagen.id3

from narrate.outputs.chapters import Chapter, validate

# mutagen ships py.typed but leaves its frame and tag methods unannotated, which mypy --strict
# refuses to call. Treat the module as untyped here, in this one place.
id3: Any = mutagen.id3

TOC_ELEMENT_ID = "toc"
"""Element id of the single top-level CTOC frame."""

_PADDING = 1024
"""Fixed padding after the tag: identical bytes every run, and room to retag in place."""

_HEADER_SIZE = 10
"""Bytes in an ID3v2 tag header (and in a v2.3 frame header)."""

_UNUSED_OFFSET = 0xFFFFFFFF
"""CHAP byte offsets meaning "use the times instead" (ID3v2 chapter addendum)."""


def _encoding(text: str) -> int:
    # ID3v2.3 knows only Latin-1 and UTF-16. Latin-1 where it suffices reads everywhere; the
    # choice is made here, not by mutagen's silent UTF-8 -> UTF-16 downgrade, so it is visible.
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return int(id3.Encoding.UTF16)
    return int(id3.Encoding.LATIN1)


def _no_padding(info: mutagen.PaddingInfo) -> int:
    return 0


def _frame_bytes(frame: Any) -> bytes:
    # mutagen renders the frame (encodings, CHAP sub-frames, v2.3 sizes) but orders a tag's
    # frames by size, so CHAP frames would come out of time order; ffmpeg ignores the CTOC
    # and lists chapters in frame order. So render frames one at a time and order them here.
    tag = id3.ID3()
    tag.add(frame)
    buffer = io.BytesIO()
    tag.save(buffer, v1=0, v2_version=3, padding=_no_padding)
    return buffer.getvalue()[_HEADER_SIZE:]


def _syncsafe(value: int) -> bytes:
    if value >= 1 << 28:
        raise ValueError(f"ID3 tag too large: {value} bytes")
    return bytes((value >> shift) & 0x7F for shift in (21, 14, 7, 0))


def _text_frame(kind: str, text: str) -> Any:
    return getattr(id3, kind)(encoding=_encoding(text), text=text)


def id3_tag(
    *,
    title: str,
    artist: str,
    album: str,
    year: str | None,
    comment: str | None,
    chapters: Sequence[Chapter],
    language: str = "eng",
) -> bytes:
    """Return a complete ID3v2.3 tag (header, frames, fixed padding) to put before MP3 frames."""
    validate(chapters)
    if year is not None and not re.fullmatch(r"\d{4}", year):
        # TYER is defined as exactly four digits.
        raise ValueError(f"year must be four digits, got {year!r}")
    if not re.fullmatch(r"[a-z]{3}", language):
        raise ValueError(f"language must be an ISO 639-2 code such as 'eng', got {language!r}")

    frames = [
        _text_frame("TIT2", title),
        _text_frame("TPE1", artist),
        _text_frame("TALB", album),
    ]
    # TYER, not TDRC: TDRC is an ID3v2.4 frame.
    if year is not None:
        frames.append(id3.TYER(encoding=id3.Encoding.LATIN1, text=year))
    frames.append(id3.TLAN(encoding=id3.Encoding.LATIN1, text=language))
    if comment is not None:
        frames.append(id3.COMM(encoding=_encoding(comment), lang=language, desc="", text=comment))
    element_ids = [f"chp{index}" for index in range(len(chapters))]
    # The top-level ordered CTOC before its chapters, as ffmpeg writes it; players such as
    # BookPlayer show chapters only when it is present.
    frames.append(
        id3.CTOC(
            element_id=TOC_ELEMENT_ID,
            flags=id3.CTOCFlags.TOP_LEVEL | id3.CTOCFlags.ORDERED,
            child_element_ids=element_ids,
            sub_frames=[],
        )
    )
    for element_id, chapter in zip(element_ids, chapters, strict=True):
        frames.append(
            id3.CHAP(
                element_id=element_id,
                start_time=chapter.start_ms,
                end_time=chapter.end_ms,
                start_offset=_UNUSED_OFFSET,
                end_offset=_UNUSED_OFFSET,
                sub_frames=[_text_frame("TIT2", chapter.title)],
            )
        )
    body = b"".join(_frame_bytes(frame) for frame in frames)
    # Version 2.3.0, no flags (no unsynchronisation, extended header or footer).
    header = b"ID3\x03\x00\x00" + _syncsafe(len(body) + _PADDING)
    return header + body + bytes(_PADDING)


def _load(path: Path) -> Any:
    try:
        return id3.ID3(path)
    except id3.ID3NoHeaderError:
        return None


def _text(frame: object) -> str:
    # Several values in one frame are joined the way ID3v2.3 stores them.
    return "/".join(str(value) for value in getattr(frame, "text", []))


def read_tags(path: Path) -> dict[str, str]:
    """Return the MP3's title, artist, album, year, language and comment (the keys present)."""
    tag = _load(path)
    if tag is None:
        return {}
    result: dict[str, str] = {}
    # mutagen upgrades v2.3 TYER to TDRC when it loads a tag.
    for key, frame_id in (
        ("title", "TIT2"),
        ("artist", "TPE1"),
        ("album", "TALB"),
        ("year", "TDRC"),
        ("language", "TLAN"),
    ):
        if frame_id in tag:
            result[key] = _text(tag[frame_id])
    comments = [frame for frame in tag.getall("COMM") if frame.desc == ""]
    if comments:
        result["comment"] = _text(comments[0])
    return result
