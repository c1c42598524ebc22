"""Build one article: plan (keys only), reuse or synthesise, assemble, encode, publish.

content -> script -> speech -> synth -> assemble -> encode -> outputs. Planning needs no audio and
no engine: every sentence and every chapter chunk gets a content-addressed key, and the freshness
record compares those keys with what the published outputs were built from.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from narrate import FORMAT_VERSION, __version__, backends
from narrate import publish as pub
from narrate.article import Article
from narrate.backends.base import Audio, Backend
from narrate.cache import Cache, ChunkEntry, digest
from narrate.chapters import Chapter, Cue, chapters_json, chapters_vtt, transcript_vtt
from narrate.config import Settings
from narrate.encode import ENCODER_DELAY, SAMPLES_PER_FRAME, encode, encoder_version
from narrate.errors import OutputError, SynthesisError
from narrate.script import Script, Segment, build_script

MASTERING_VERSION = 3
"""Bump when trimming or mastering changes (invalidates cached finished sentences)."""
CHAPTER_LEAD = 0.15
"""Seconds of a chapter's own silence before its heading is spoken.

With the encoder's 1105-sample shift a chapter starts ~0.2 s before its heading's speech: inside
the pause, never after the onset, and well within 0.3 s of it.
"""
SAMPLE_RATE = 22_050
MIN_TAIL = 0.3

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class ChunkPlan:
    """One chapter's encoded chunk: its key and how it is laid out."""

    key: str
    chapter: int
    segments: tuple[Segment, ...]
    segment_keys: tuple[str, ...]
    pauses: tuple[float, ...]
    lead: float


@dataclass(frozen=True)
class Plan:
    """Everything about a build that can be known without audio."""

    article: Article
    settings: Settings
    script: Script
    chunks: tuple[ChunkPlan, ...]
    input_hash: str

    @property
    def segment_keys(self) -> list[str]:
        """Return every sentence's cache key in order."""
        return [k for c in self.chunks for k in c.segment_keys]


@dataclass
class BuildResult:
    """What one build did (printed by the CLI, or as JSON with --json)."""

    slug: str
    status: str
    """"built" or "up to date"."""
    synthesised: int = 0
    reused: int = 0
    total: int = 0
    chapters_reencoded: int = 0
    chapters: int = 0
    duration: float = 0.0
    seconds: float = 0.0
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return dataclasses.asdict(self)


def apply_cli_overrides(settings: Settings, voice: dict[str, Any]) -> Settings:
    """Return settings with --backend/--voice/--rate applied to the default voice."""
    if not voice:
        return settings
    return dataclasses.replace(settings, voice=dataclasses.replace(settings.voice, **voice))


class Backends:
    """Backend instances used in this process for cache tokens (never for synthesis)."""

    def __init__(self) -> None:
        self._made: dict[str, Backend] = {}

    def get(self, name: str) -> Backend:
        """Return the (cheap, engine-less) instance for ``name``."""
        if name not in self._made:
            self._made[name] = backends.create(name)
        return self._made[name]


def plan(
    article: Article,
    settings: Settings,
    voice_overrides: dict[str, Any] | None = None,
    tokens: Backends | None = None,
) -> Plan:
    """Return the build plan: script, sentence keys and chapter chunk keys."""
    s = settings.with_overrides(article.settings)
    s = apply_cli_overrides(s, voice_overrides or {})
    script = build_script(dataclasses.replace(article, settings={}), s)
    tokens = tokens or Backends()
    loud = s.loudness
    chunks = []
    n_chapters = len(script.chapters)
    for ci, ch in enumerate(script.chapters):
        # A sentence's key covers what is said, how it sounds and how it is mastered: the
        # cache holds finished sentences. The backend's registry name is in it besides its
        # token, so two backends never share audio even if their tokens happen to collide.
        keys = tuple(
            digest("seg", FORMAT_VERSION, seg.voice.backend,
                   tokens.get(seg.voice.backend).cache_token(seg.voice),
                   seg.spoken, MASTERING_VERSION, loud.integrated_lufs, loud.true_peak_db)
            for seg in ch.segments
        )
        pauses = [seg.pause_after for seg in ch.segments]
        if ci + 1 < n_chapters:
            # The next chunk brings its own lead and the encoder's shift: keep the gap exact.
            pauses[-1] = max(MIN_TAIL, pauses[-1] - CHAPTER_LEAD - ENCODER_DELAY / SAMPLE_RATE)
        lead = script.lead_in if ci == 0 else CHAPTER_LEAD
        key = digest("chunk", FORMAT_VERSION, encoder_version(), s.bitrate, SAMPLE_RATE, lead,
                     keys, pauses)
        chunks.append(ChunkPlan(key, ci, ch.segments, keys, tuple(pauses), lead))
    input_hash = digest(
        "outputs",
        FORMAT_VERSION,
        __version__,
        [c.key for c in chunks],
        [c.title for c in script.chapters],
        [(x.id, x.display) for x in script.segments],
        _tags(article, s),
    )
    return Plan(article, s, script, tuple(chunks), input_hash)


def _tags(article: Article, s: Settings) -> dict[str, Any]:
    return {
        "title": article.title,
        "artist": s.id3_artist,
        "album": s.id3_album,
        # ID3 wants four digits; a displayed year like "2012 (September)" gives its first.
        "year": (m.group(0) if (m := re.search(r"\b\d{4}\b", article.year or "")) else None),
        "comment": f"{article.event or article.title}. Narration of {s.site_name}'s article "
        f'"{article.title}".',
    }


def freshness(p: Plan, audio_dir: Path) -> tuple[str, str]:
    """Return (state, reason): "fresh", "stale", "missing" or "mismatched"."""
    slug = p.article.slug
    record = pub.read_record(audio_dir, slug)
    if record is None:
        if any(pub.output_path(audio_dir, slug, s).exists() for s in pub.OUTPUTS):
            return "mismatched", "outputs exist but their build record is missing"
        return "missing", "never built"
    broken = pub.outputs_intact(audio_dir, slug, record)
    if broken:
        return "mismatched", broken
    if record.get("input") != p.input_hash:
        return "stale", "the article, the settings or the engine changed since the last build"
    return "fresh", "up to date"


def _label(slug: str, script: Script, seg: Segment) -> str:
    title = script.chapters[seg.chapter].title
    text = seg.display if len(seg.display) <= 48 else seg.display[:47] + "…"
    line = f", line {seg.line}" if seg.line else ""
    return f"{slug}, chapter {title!r}{line} ({text!r})"


def _jobs(p: Plan, cache: Cache, needed: Sequence[int], force: bool) -> dict[str, list[Any]]:
    """Return the sentences of chunks ``needed`` that must be synthesised, by backend."""
    from narrate.workers import Job

    todo: dict[str, list[Job]] = {}
    seen: set[str] = set()
    for ci in needed:
        chunk = p.chunks[ci]
        for seg, key in zip(chunk.segments, chunk.segment_keys, strict=True):
            if key in seen or (not force and cache.has_audio(key)):
                continue
            seen.add(key)
            job = Job(key=key, text=seg.spoken, voice=seg.voice,
                      label=_label(p.article.slug, p.script, seg))
            todo.setdefault(seg.voice.backend, []).append(job)
    return todo


def _finish(p: Plan, cache: Cache, key: str, audio: Audio) -> str:
    """Master one synthesised sentence and store it; return its key."""
    from narrate.assemble import finish

    loud = p.settings.loudness
    cache.put_audio(key, finish(audio, loud.integrated_lufs, loud.true_peak_db))
    return key


def _make_chunk(p: Plan, cache: Cache, ci: int) -> ChunkEntry:
    """Stitch one chapter from its finished sentences, encode it, and store it in the cache."""
    from narrate.assemble import stitch

    chunk = p.chunks[ci]
    speech: list[Audio] = []
    for key, seg in zip(chunk.segment_keys, chunk.segments, strict=True):
        audio = cache.get_audio(key)
        if audio is None:  # removed or damaged since it was made (e.g. a concurrent prune)
            raise SynthesisError("its audio vanished from the cache; run again",
                                 segment=_label(p.article.slug, p.script, seg))
        speech.append(audio)
    pcm, placements = stitch(speech, chunk.pauses, chunk.lead)
    mp3 = encode(pcm, SAMPLE_RATE, p.settings.bitrate)
    meta = {"placements": [[x.start, x.end] for x in placements], "pcm_samples": len(pcm) // 2}
    return cache.put_chunk(chunk.key, mp3, meta)


def _render(
    p: Plan, cache: Cache, needed: Sequence[int], force: bool, jobs: int | None, log: Log
) -> tuple[int, dict[int, ChunkEntry]]:
    """Synthesise, master, stitch and encode the chapters ``needed``; return (made, chunks).

    One pipeline: sentences are mastered as they arrive from the engine's worker processes, and
    each chapter is encoded as soon as its last sentence is ready, so encoding overlaps
    synthesis. Threads suffice here: numpy and LAME release the GIL.
    """
    from concurrent.futures import Future, wait

    from narrate.workers import WorkerPool

    todo = _jobs(p, cache, needed, force)
    to_make = {j.key for batch in todo.values() for j in batch}
    missing = {ci: set(p.chunks[ci].segment_keys) & to_make for ci in needed}
    waiting: dict[str, list[int]] = {}
    for ci, keys in missing.items():
        for k in keys:
            waiting.setdefault(k, []).append(ci)
    cores = os.cpu_count() or 1
    made = 0
    chunks: dict[int, Future[ChunkEntry]] = {}
    with ThreadPoolExecutor(max_workers=cores) as ex:

        def ready(key: str) -> None:
            for ci in waiting.pop(key, []):
                missing[ci].discard(key)
                if not missing[ci]:
                    chunks[ci] = ex.submit(_make_chunk, p, cache, ci)

        for ci in needed:
            if not missing[ci]:
                chunks[ci] = ex.submit(_make_chunk, p, cache, ci)
        for name, batch in todo.items():
            procs = max(1, min(jobs or cores, len(batch)))
            log(f"{p.article.slug}: synthesising {len(batch)} of {len(p.script.segments)} "
                f"sentences with {name} ({procs} worker{'s' if procs > 1 else ''})")
            finishing: set[Future[str]] = set()
            with WorkerPool(backends.factory(name), processes=procs) as pool:
                for job, audio in pool.run(batch):
                    finishing.add(ex.submit(_finish, p, cache, job.key, audio))
                    made += 1
                    done, finishing = wait(finishing, timeout=0)
                    for f in done:
                        ready(f.result())
            for f in wait(finishing).done:
                ready(f.result())
        log(f"{p.article.slug}: encoding {len(needed)} of {len(p.chunks)} chapters")
        return made, {ci: f.result() for ci, f in chunks.items()}


def _timeline(p: Plan, entries: Sequence[ChunkEntry]) -> tuple[list[Chapter], list[Cue], int]:
    """Return chapters and sentence cues in ms on the decoded timeline, and total samples."""
    chapters: list[Chapter] = []
    cues: list[Cue] = []
    offset = 0
    starts = []
    for chunk, entry in zip(p.chunks, entries, strict=False):
        starts.append(offset)
        for seg, (a, b) in zip(chunk.segments, entry.meta["placements"], strict=False):
            base = offset + ENCODER_DELAY
            cues.append(Cue(seg.id, _ms(base + a), _ms(base + b), seg.display))
        offset += entry.meta["frames"] * SAMPLES_PER_FRAME
    for i, chunk in enumerate(p.chunks):
        end = starts[i + 1] if i + 1 < len(starts) else offset
        chapters.append(Chapter(p.script.chapters[chunk.chapter].title, _ms(starts[i]), _ms(end)))
    return chapters, cues, offset


def _ms(samples: int) -> int:
    # Integer arithmetic, rounding half up: the single source of every published time.
    return (samples * 1000 * 2 + SAMPLE_RATE) // (2 * SAMPLE_RATE)


def build(
    p: Plan,
    audio_dir: Path,
    cache: Cache,
    *,
    force: bool = False,
    jobs: int | None = None,
    log: Log = _quiet,
) -> BuildResult:
    """Build (or confirm up to date) one planned article; publish its outputs atomically."""
    from narrate.tags import write_id3

    t0 = time.perf_counter()
    slug = p.article.slug
    total = len(p.script.segments)
    with pub.article_lock(audio_dir, slug, log=log):
        pub.remove_stale_temps(audio_dir, slug)
        state, _ = freshness(p, audio_dir)
        if state == "fresh" and not force:
            record = pub.read_record(audio_dir, slug) or {}
            # A run stopped (kill -9, full disk) after publishing but before the manifest was
            # updated left it behind; this is a no-op, touching no file, when it is current.
            _update_manifest(p, audio_dir, float(record.get("duration", 0.0)), len(p.chunks))
            return BuildResult(
                slug,
                "up to date",
                0,
                total,
                total,
                0,
                len(p.chunks),
                float(record.get("duration", 0.0)),
                time.perf_counter() - t0,
            )

        entries: list[ChunkEntry | None] = [
            None if force else cache.get_chunk(c.key) for c in p.chunks
        ]
        needed = [i for i, e in enumerate(entries) if e is None]
        made = 0
        if needed:
            made, fresh = _render(p, cache, needed, force, jobs, log)
            for ci, entry in fresh.items():
                entries[ci] = entry
        done = [e for e in entries if e is not None]
        chapters, cues, samples = _timeline(p, done)
        duration = samples / SAMPLE_RATE

        pub._ensure_dir(audio_dir)
        mp3_tmp: Path | None = None
        try:
            mp3_tmp = pub._write_temp(
                pub.output_path(audio_dir, slug, pub.MP3), b"".join(e.mp3 for e in done)
            )
            tags = _tags(p.article, p.settings)
            write_id3(mp3_tmp, chapters=chapters, **tags)
        except BaseException as exc:
            if mp3_tmp is not None:
                mp3_tmp.unlink(missing_ok=True)
            if isinstance(exc, OSError):  # a full disk: the MP3 is written beside its target
                raise OutputError.writing(exc, f"the audio folder {audio_dir}") from exc
            raise
        record = {
            "format": FORMAT_VERSION,
            "slug": slug,
            "input": p.input_hash,
            "duration": round(duration, 3),
            "chapters": len(chapters),
            "segments": total,
        }
        files: dict[str, bytes | Path] = {
            pub.MP3: mp3_tmp,
            pub.CHAPTERS_JSON: chapters_json(chapters).encode("utf-8"),
            pub.CHAPTERS_VTT: chapters_vtt(chapters).encode("utf-8"),
            pub.TRANSCRIPT_VTT: transcript_vtt(cues).encode("utf-8"),
        }
        written = pub.publish(audio_dir, slug, files, record)
        _update_manifest(p, audio_dir, duration, len(chapters))
        return BuildResult(
            slug,
            "built",
            made,
            total - made,
            total,
            len(needed),
            len(chapters),
            duration,
            time.perf_counter() - t0,
            [str(w) for w in written if w.suffix != ".json" or not w.name.endswith(pub.RECORD)],
        )


def _update_manifest(p: Plan, audio_dir: Path, duration: float, chapters: int) -> None:
    """Set the article's entry in ``manifest.json`` from its published MP3."""
    slug = p.article.slug
    mp3_path = pub.output_path(audio_dir, slug, pub.MP3)
    pub.update_manifest(
        audio_dir,
        slug,
        {
            "slug": slug,
            "title": p.article.title,
            "duration": round(duration, 3),
            "bytes": mp3_path.stat().st_size,
            "sha256": pub.sha256_file(mp3_path),
            "chapters": chapters,
            "files": {s.lstrip(".").replace(".", "_"): f"{slug}{s}" for s in pub.OUTPUTS},
        },
    )
