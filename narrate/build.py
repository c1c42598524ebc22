"""Build one article: plan (keys only), reuse or synthesise, assemble, encode, publish.

content -> script -> speech -> synth -> assemble -> encode -> outputs. Planning needs no audio and
no engine: every sentence and every chapter chunk gets a content-addressed key, and the freshness
record compares those keys with what the published outputs were built from.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
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
from narrate.errors import SynthesisError
from narrate.script import Script, Segment, build_script

MASTERING_VERSION = 3
"""Bump when trimming or mastering changes (invalidates cached finished sentences)."""
CHAPTER_LEAD = 0.15
"""Seconds of a chapter's own silence before its heading is spoken.

With the encoder's 1105-sample shift a chapter starts ~0.2 s before its heading's speech: inside
the pause, never after the onset, and well within 0.3 s of it.
"""
SAMPLE_RATE = 22_050
MIN_TAIL = 0.1
MASTER_HERE_UP_TO = 4
"""Batches of at most this many sentences are mastered in this process (see _render)."""

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class ChunkPlan:
    """One separately encoded stretch (a sentence and the pause after it): key and layout."""

    key: str
    chapter: int
    first_in_chapter: bool
    """Whether a chapter starts at this chunk's first sample."""
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
    """Chapters in which something was re-encoded."""
    chunks_reencoded: int = 0
    """Separately encoded stretches (one per sentence) re-encoded."""
    chunks: int = 0
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
    segments = script.segments
    # A sentence's key covers what is said, how it sounds and how it is mastered: the cache
    # holds finished sentences. The backend's registry name is in it besides its token, so two
    # backends never share audio even if their tokens happen to collide.
    keys = [
        digest(
            "seg",
            FORMAT_VERSION,
            seg.voice.backend,
            tokens.get(seg.voice.backend).cache_token(seg.voice),
            seg.spoken,
            MASTERING_VERSION,
            loud.integrated_lufs,
            loud.true_peak_db,
        )
        for seg in segments
    ]
    # Every sentence is encoded on its own, with the pause after it: each join falls in
    # silence, and an edit re-encodes only the sentences it changed.
    for i, seg in enumerate(segments):
        first = i == 0 or segments[i - 1].chapter != seg.chapter
        lead = script.lead_in if i == 0 else (CHAPTER_LEAD if first else 0.0)
        pause = seg.pause_after
        if seg.boundary != "end":
            # The next chunk brings the encoder's shift (and a chapter its lead): keep the
            # audible gap what the config asks for.
            nxt = CHAPTER_LEAD if segments[i + 1].chapter != seg.chapter else 0.0
            pause = max(MIN_TAIL, pause - nxt - ENCODER_DELAY / SAMPLE_RATE)
        key = digest("chunk", FORMAT_VERSION, encoder_version(), s.bitrate, SAMPLE_RATE, lead,
                     keys[i], pause)
        chunks.append(ChunkPlan(key, seg.chapter, first, (seg,), (keys[i],), (pause,), lead))
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


@dataclass(frozen=True)
class Mastered:
    """A picklable backend factory whose backend returns finished (trimmed, mastered) audio.

    Mastering runs where the engine runs, in the worker processes (or on a Dask worker): it
    costs more than espeak-ng's synthesis, and there it is spread over every core without
    competing for the parent's interpreter lock.
    """

    factory: Callable[[], Backend]
    integrated_lufs: float
    true_peak_db: float

    def __call__(self) -> Backend:
        """Return the wrapped backend."""
        return _MasteringBackend(self.factory(), self.integrated_lufs, self.true_peak_db)


class _MasteringBackend:
    """A backend whose audio comes back finished (see :class:`Mastered`)."""

    def __init__(self, inner: Backend, lufs: float, peak: float) -> None:
        self.inner, self.lufs, self.peak = inner, lufs, peak
        self.name = inner.name

    def voices(self) -> list[Any]:
        """Return the wrapped backend's voices."""
        return self.inner.voices()

    def cache_token(self, voice: Any) -> str:
        """Return the wrapped backend's token."""
        return self.inner.cache_token(voice)

    def synthesise(self, text: str, voice: Any) -> Audio:
        """Speak and master one sentence."""
        from narrate.assemble import finish

        return finish(self.inner.synthesise(text, voice), self.lufs, self.peak)

    def close(self) -> None:
        """Close the wrapped backend."""
        self.inner.close()


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
            job = Job(
                key=key,
                text=seg.spoken,
                voice=seg.voice,
                label=_label(p.article.slug, p.script, seg),
            )
            todo.setdefault(seg.voice.backend, []).append(job)
    return todo


def _make_chunk(p: Plan, cache: Cache, ci: int) -> ChunkEntry:
    """Stitch one chapter from its finished sentences, encode it, and store it in the cache."""
    from narrate.assemble import stitch

    chunk = p.chunks[ci]
    speech: list[Audio] = []
    for key, seg in zip(chunk.segment_keys, chunk.segments, strict=True):
        audio = cache.get_audio(key)
        if audio is None:  # removed or damaged since it was made (e.g. a concurrent prune)
            raise SynthesisError(
                "its audio vanished from the cache; run again",
                segment=_label(p.article.slug, p.script, seg),
            )
        speech.append(audio)
    pcm, placements = stitch(speech, chunk.pauses, chunk.lead)
    # LAME emits ceil(n / 576) + 2 frames for n samples (measured), the audio 1105 samples in:
    # a whole number of frames leaves the least padding (47 samples). Only the trailing silence
    # moves, by at most half a frame (13 ms), so pauses stay as the config sets them.
    n = len(pcm) // 2
    frames = round(n / SAMPLES_PER_FRAME)
    fit = max(placements[-1].end, frames * SAMPLES_PER_FRAME)
    pcm = pcm[: fit * 2] + b"\0\0" * (fit - n)
    mp3 = encode(pcm, SAMPLE_RATE, p.settings.bitrate)
    meta = {"placements": [[x.start, x.end] for x in placements], "pcm_samples": len(pcm) // 2}
    return cache.put_chunk(chunk.key, mp3, meta)


def _render(
    p: Plan, cache: Cache, needed: Sequence[int], force: bool, jobs: int | None, log: Log
) -> tuple[int, dict[int, ChunkEntry]]:
    """Synthesise, master, stitch and encode the chapters ``needed``; return (made, chunks).

    One pipeline: the engine's worker processes return finished sentences (see
    :class:`Mastered`), and each is encoded, in threads (LAME releases the GIL), as soon as it
    arrives, so encoding overlaps synthesis.
    """
    from concurrent.futures import Future

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

        # numpy (for stitching) takes ~0.1 s to import: let it load while the workers start.
        ex.submit(importlib.import_module, "narrate.assemble")
        for ci in needed:
            if not missing[ci]:
                chunks[ci] = ex.submit(_make_chunk, p, cache, ci)
        for name, batch in todo.items():
            procs = max(1, min(jobs or cores, len(batch)))
            log(
                f"{p.article.slug}: synthesising {len(batch)} of {len(p.script.segments)} "
                f"sentences with {name} ({procs} worker{'s' if procs > 1 else ''})"
            )
            loud = p.settings.loudness
            # Many sentences: master them in the workers, on every core. A few (an edit):
            # master them here, where numpy is already loading, not in a worker that would
            # have to import it before answering.
            in_workers = len(batch) > MASTER_HERE_UP_TO
            factory = backends.factory(name)
            if in_workers:
                factory = Mastered(factory, loud.integrated_lufs, loud.true_peak_db)
            with WorkerPool(factory, processes=procs) as pool:
                for job, audio in pool.run(batch):
                    if not in_workers:
                        from narrate.assemble import finish

                        audio = finish(audio, loud.integrated_lufs, loud.true_peak_db)
                    cache.put_audio(job.key, audio)
                    made += 1
                    ready(job.key)
        log(f"{p.article.slug}: encoding {len(needed)} of {len(p.chunks)} sentences")
        return made, {ci: f.result() for ci, f in chunks.items()}


def _timeline(p: Plan, entries: Sequence[ChunkEntry]) -> tuple[list[Chapter], list[Cue], int]:
    """Return chapters and sentence cues in ms on the decoded timeline, and total samples."""
    cues: list[Cue] = []
    starts: list[tuple[int, int]] = []  # (chapter index, first sample)
    offset = 0
    for chunk, entry in zip(p.chunks, entries, strict=True):
        if chunk.first_in_chapter:
            starts.append((chunk.chapter, offset))
        base = offset + ENCODER_DELAY
        for seg, (a, b) in zip(chunk.segments, entry.meta["placements"], strict=True):
            cues.append(Cue(seg.id, _ms(base + a), _ms(base + b), seg.display))
        offset += entry.meta["frames"] * SAMPLES_PER_FRAME
    chapters = [
        Chapter(
            p.script.chapters[ci].title,
            _ms(at),
            _ms(starts[n + 1][1] if n + 1 < len(starts) else offset),
        )
        for n, (ci, at) in enumerate(starts)
    ]
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
    from narrate.tags import id3_tag

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
            mp3_path = pub.output_path(audio_dir, slug, pub.MP3)
            _update_manifest(
                p,
                audio_dir,
                float(record.get("duration", 0.0)),
                len(p.script.chapters),
                mp3_path.stat().st_size,
                record["outputs"][mp3_path.name],
            )
            return BuildResult(
                slug,
                "up to date",
                synthesised=0,
                reused=total,
                total=total,
                chunks=len(p.chunks),
                chapters=len(p.script.chapters),
                duration=float(record.get("duration", 0.0)),
                seconds=time.perf_counter() - t0,
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

        # The tag and the frames are joined in memory: one write, no rewrite of a whole MP3.
        mp3 = id3_tag(chapters=chapters, **_tags(p.article, p.settings)) + b"".join(
            e.mp3 for e in done
        )
        record = {
            "format": FORMAT_VERSION,
            "slug": slug,
            "input": p.input_hash,
            "duration": round(duration, 3),
            "chapters": len(chapters),
            "segments": total,
        }
        files: dict[str, bytes | Path] = {
            pub.MP3: mp3,
            pub.CHAPTERS_JSON: chapters_json(chapters).encode("utf-8"),
            pub.CHAPTERS_VTT: chapters_vtt(chapters).encode("utf-8"),
            pub.TRANSCRIPT_VTT: transcript_vtt(cues).encode("utf-8"),
        }
        written = pub.publish(audio_dir, slug, files, record)
        _update_manifest(
            p, audio_dir, duration, len(chapters), len(mp3), hashlib.sha256(mp3).hexdigest()
        )
        return BuildResult(
            slug,
            "built",
            synthesised=made,
            reused=total - made,
            total=total,
            chapters_reencoded=len({p.chunks[ci].chapter for ci in needed}),
            chunks_reencoded=len(needed),
            chunks=len(p.chunks),
            chapters=len(chapters),
            duration=duration,
            seconds=time.perf_counter() - t0,
            files=[str(w) for w in written if not w.name.endswith(pub.RECORD)],
        )


def _update_manifest(
    p: Plan, audio_dir: Path, duration: float, chapters: int, size: int, sha256: str
) -> None:
    """Set the article's entry in ``manifest.json`` (a no-op when it is already current)."""
    slug = p.article.slug
    pub.update_manifest(
        audio_dir,
        slug,
        {
            "slug": slug,
            "title": p.article.title,
            "duration": round(duration, 3),
            "bytes": size,
            "sha256": sha256,
            "chapters": chapters,
            "files": {s.lstrip(".").replace(".", "_"): f"{slug}{s}" for s in pub.OUTPUTS},
        },
    )
