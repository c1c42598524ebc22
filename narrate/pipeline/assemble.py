"""Join an article's encoded chunks into its published set: the MP3, chapters and transcript.

Times are computed from frame counts, never measured: a chunk of ``f`` frames advances the
decoded timeline by ``f * 576`` samples, and its speech sits :data:`ENCODER_DELAY` samples later
than where it was placed. The ID3 tag and the frames are joined in memory: one write.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from narrate.audio.mp3 import ENCODER_DELAY, SAMPLES_PER_FRAME
from narrate.outputs import publish as pub
from narrate.outputs.chapters import (
    Chapter,
    Cue,
    chapters_json,
    chapters_vtt,
    transcript_json,
    transcript_vtt,
)
from narrate.outputs.tags import id3_tag
from narrate.pcm import SAMPLE_RATE, samples_to_ms
from narrate.pipeline.cache import ChunkEntry
from narrate.pipeline.plan import Plan, tags
from narrate.pipeline.words import word_starts

__all__ = ["Published", "manifest_entry", "publish_article", "timeline"]

RECORD_FORMAT = 1
"""The build record's own format (``format`` in ``SLUG.build.json``)."""


@dataclass(frozen=True)
class Published:
    """What publishing an article wrote."""

    files: list[Path]
    duration: float
    chapters: int
    manifest: dict[str, Any]
    """The article's entry in ``manifest.json``."""


def timeline(p: Plan, entries: Sequence[ChunkEntry]) -> tuple[list[Chapter], list[Cue], int]:
    """Return chapters and sentence cues in ms on the decoded timeline, and total samples."""
    cues: list[Cue] = []
    starts: list[tuple[int, int]] = []  # (chapter index, first sample)
    offset = 0
    for chunk, entry in zip(p.chunks, entries, strict=True):
        if chunk.first_in_chapter:
            starts.append((chunk.chapter, offset))
        base = offset + ENCODER_DELAY
        seg = chunk.segment
        for (a, b), marks in zip(entry.placements, entry.words, strict=True):
            start, end = samples_to_ms(base + a), samples_to_ms(base + b)
            # A word's time is inside its sentence's cue (the last one starts before the end).
            words = tuple(
                min(max(start, samples_to_ms(base + a + w)), end - 1)
                for w in word_starts(seg.display, marks, b - a)
            )
            cues.append(Cue(seg.id, start, end, seg.display, words))
        offset += entry.frames * SAMPLES_PER_FRAME
    chapters = [
        Chapter(
            p.script.chapters[ci].title,
            samples_to_ms(at),
            samples_to_ms(starts[n + 1][1] if n + 1 < len(starts) else offset),
        )
        for n, (ci, at) in enumerate(starts)
    ]
    return chapters, cues, offset


def manifest_entry(
    p: Plan, duration: float, chapters: int, size: int, sha256: str
) -> dict[str, Any]:
    """Return an article's entry in ``manifest.json``."""
    slug = p.slug
    return {
        "slug": slug,
        "title": p.article.title,
        "duration": round(duration, 3),
        "bytes": size,
        "sha256": sha256,
        "chapters": chapters,
        "files": {s.lstrip(".").replace(".", "_"): f"{slug}{s}" for s in pub.OUTPUTS},
    }


def _relative(folder: Path, root: Path) -> str:
    """Return ``folder`` relative to the project root if it is inside it (the site may move)."""
    try:
        return folder.relative_to(root).as_posix()
    except ValueError:
        return str(folder)


def publish_article(p: Plan, entries: Sequence[ChunkEntry], audio_dir: Path) -> Published:
    """Join ``entries`` (one per chunk of ``p``) and publish the article's set atomically."""
    chapters, cues, samples = timeline(p, entries)
    duration = samples / SAMPLE_RATE
    mp3 = id3_tag(chapters=chapters, **tags(p.article, p.settings)) + b"".join(
        e.mp3 for e in entries
    )
    record = {
        "format": RECORD_FORMAT,
        "slug": p.slug,
        "input": p.input_hash,
        "duration": round(duration, 3),
        "chapters": len(chapters),
        "segments": len(p.chunks),
        "content_dir": _relative(p.settings.site.content_dir, p.settings.site.root),
        # Sentences whose word times the engine reported; the others' the page estimates.
        "timed_sentences": sum(1 for c in cues if c.words),
        **p.facts,
    }
    files: dict[str, bytes] = {
        pub.MP3: mp3,
        pub.CHAPTERS_JSON: chapters_json(chapters).encode("utf-8"),
        pub.CHAPTERS_VTT: chapters_vtt(chapters).encode("utf-8"),
        pub.TRANSCRIPT_VTT: transcript_vtt(cues).encode("utf-8"),
        pub.TRANSCRIPT_JSON: transcript_json(cues).encode("utf-8"),
    }
    written = pub.publish(audio_dir, p.slug, files, record)
    entry = manifest_entry(p, duration, len(chapters), len(mp3), hashlib.sha256(mp3).hexdigest())
    return Published(written, duration, len(chapters), entry)
