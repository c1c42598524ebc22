"""The tests' ID3 chapter reader: the CHAP and CTOC frames of an MP3, read back with mutagen.

narrate writes chapters (``narrate.outputs.tags.id3_tag``) but never reads them back; the tests
do, so the reader lives with them. (``read_tags`` is narrate's: the page uses it.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mutagen.id3 as id3

from narrate.outputs.chapters import Chapter
from narrate.outputs.tags import read_tags

__all__ = ["read_chapters", "read_tags"]


def _load(path: Path) -> Any:
    try:
        return id3.ID3(path)
    except id3.ID3NoHeaderError:
        return None


def _text(frame: object) -> str:
    # Several values in one frame are joined the way ID3v2.3 stores them.
    return "/".join(str(value) for value in getattr(frame, "text", []))


def read_chapters(path: Path) -> list[Chapter]:
    """Return the MP3's chapters in the order of its top-level CTOC ([] when it has none)."""
    tag = _load(path)
    if tag is None:
        return []
    by_id = {frame.element_id: frame for frame in tag.getall("CHAP")}
    tocs = [frame for frame in tag.getall("CTOC") if frame.flags & id3.CTOCFlags.TOP_LEVEL]
    if not tocs:
        if by_id:
            raise ValueError(f"{path}: has CHAP frames but no top-level CTOC to order them")
        return []
    if len(tocs) > 1:
        raise ValueError(f"{path}: has {len(tocs)} top-level CTOC frames; exactly one is allowed")
    chapters = []
    for element_id in tocs[0].child_element_ids:
        if element_id not in by_id:
            raise ValueError(f"{path}: CTOC lists {element_id!r} but no CHAP frame has that id")
        frame = by_id[element_id]
        # mutagen drops empty text frames on save, so an untitled chapter has no TIT2.
        title = _text(frame.sub_frames["TIT2"]) if "TIT2" in frame.sub_frames else ""
        chapters.append(Chapter(title=title, start_ms=frame.start_time, end_ms=frame.end_time))
    return chapters
