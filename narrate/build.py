"""Build one article: plan (keys only), reuse or synthesise, assemble, encode, publish.

content -> script -> speech -> synth -> assemble -> encode -> outputs. Planning needs no audio and
no engine: every sentence and every chapter chunk gets a content-addressed key, and the freshness
record compares those keys with what the published outputs were built from.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import hashlib
import importlib
import os
import re
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from narrate import FORMAT_VERSION, __version__, backends
from narrate import publish as pub
from narrate.article import Article
from narrate.backends.base import Audio, Backend, ChecksVoices
from narrate.cache import Cache, ChunkEntry, digest
from narrate.chapters import Chapter, Cue, chapters_json, chapters_vtt, transcript_vtt
from narrate.config import CONFIG_NAME, Settings, VoiceSettings
from narrate.encode import ENCODER_DELAY, SAMPLES_PER_FRAME, encode, encoder_version
from narrate.errors import (
    BackendError,
    NarrateError,
    SynthesisError,
    UnknownVoiceError,
    UsageError,
)
from narrate.executors import Batch, Executor, LocalExecutor, Mastered
from narrate.script import Script, Segment, build_script

__all__ = ["BuildResult", "Mastered", "Plan", "Progress", "build", "build_many", "plan"]

MASTERING_VERSION = 4
"""Bump when trimming or mastering changes (invalidates cached finished sentences)."""
CHAPTER_LEAD = 0.15
"""Seconds of a chapter's own silence before its heading is spoken.

With the encoder's 1105-sample shift a chapter starts ~0.2 s before its heading's speech: inside
the pause, never after the onset, and well within 0.3 s of it.
"""
SAMPLE_RATE = 22_050
MIN_TAIL = 0.1

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
    voice_overrides: dict[str, Any] = field(default_factory=dict)
    """--backend/--voice/--rate given on the command line (applied to the default voice)."""
    facts: dict[str, Any] = field(default_factory=dict)
    """What the build record keeps besides the input hash, to say why outputs are stale."""

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
    facts = _facts(script, s, tokens, voice_overrides or {})
    return Plan(article, s, script, tuple(chunks), input_hash, dict(voice_overrides or {}), facts)


def describe_voice(v: VoiceSettings) -> str:
    """Return a voice as text, e.g. ``pyttsx3 en-us 160 wpm``."""
    return f"{v.backend} {v.voice} {v.rate} wpm"


def _facts(
    script: Script, s: Settings, tokens: Backends, overrides: dict[str, Any]
) -> dict[str, Any]:
    """Return the build record's extra fields: what changed, when the input hash differs."""
    segments = script.segments
    voices = dict.fromkeys(seg.voice for seg in segments)
    return {
        "content": digest("content", [(x.id, x.spoken) for x in segments]),
        "sentences": [digest(x.id, x.spoken)[:12] for x in segments],
        "voices": {seg.kind: describe_voice(seg.voice) for seg in segments},
        "cli": dict(sorted(overrides.items())),
        "mastering": digest("mastering", dataclasses.asdict(s.pauses),
                            dataclasses.asdict(s.loudness), s.bitrate),
        "engine": {
            "narrate": __version__,
            "encoder": encoder_version(),
            "voices": {
                describe_voice(v): tokens.get(v.backend).cache_token(v) for v in voices
            },
        },
    }


def _tags(article: Article, s: Settings) -> dict[str, Any]:
    return {
        "title": article.title,
        "artist": s.id3_artist,
        "album": s.id3_album,
        # ID3 wants four digits; a displayed year like "2012 (September)" gives its first.
        "year": (m.group(0) if (m := re.search(r"\b\d{4}\b", article.year or "")) else None),
        "comment": _comment(article, s),
    }


def _comment(article: Article, s: Settings) -> str:
    """Return the ID3 comment, e.g. ``Dataset Created (2009). Narrated by AI Milestones.``."""
    year = m.group(0) if (m := re.search(r"\b\d{4}\b", article.year or "")) else None
    what = (article.event or article.title).rstrip(".")
    return f"{what}{f' ({year})' if year else ''}. Narrated by {s.site_name}."


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
        return "stale", _why_stale(p, record)
    return "fresh", "up to date"


STALE = "the article, the settings or the engine changed since the last build"
"""The reason given when the build record does not say more (records before narrate 0.1.0)."""


def _why_stale(p: Plan, record: dict[str, Any]) -> str:
    """Return what changed between the build record and the plan, from the record's facts."""
    now = p.facts
    if not now or any(k not in record for k in now):
        return STALE
    try:
        reasons = [
            r
            for r in (
                _content_change(record, now),
                _voice_change(p, record, now),
                "pauses, loudness or bitrate changed"
                if record["mastering"] != now["mastering"] else None,
                *_engine_changes(record["engine"], now["engine"]),
            )
            if r
        ]
    except (KeyError, TypeError, AttributeError):  # a record edited by hand
        return STALE
    return "; ".join(reasons) or "the displayed text, a chapter title or the ID3 tags changed"


def _content_change(record: dict[str, Any], now: dict[str, Any]) -> str | None:
    if record["content"] == now["content"]:
        return None
    old, new = list(record["sentences"]), list(now["sentences"])
    for h in now["sentences"]:
        if h in old:
            old.remove(h)
            new.remove(h)
    n = max(len(old), len(new))
    if not n:
        return "the article's sentences moved"
    return f"the article's text changed ({n} sentence{'s' if n != 1 else ''})"


def _voice_change(p: Plan, record: dict[str, Any], now: dict[str, Any]) -> str | None:
    old, new = record["voices"], now["voices"]
    pairs: dict[tuple[str, str], list[str]] = {}
    for kind in new:
        if kind in old and old[kind] != new[kind]:
            pairs.setdefault((old[kind], new[kind]), []).append(kind)
    if not pairs:
        return None
    cli = record["cli"]
    said = "the command line says" if p.voice_overrides else "the config says"
    out = []
    for (was, becomes), kinds in pairs.items():
        what = "voice" if len(kinds) == len(new) else f"voice for {', '.join(kinds)}"
        diff = _voice_diff(was, becomes)
        if cli and cli != p.voice_overrides:
            flags = " ".join(f"--{k} {v}" for k, v in cli.items())
            names = " and ".join(cli)
            out.append(
                f"{what} changed: the last build used {flags} ({was}), {said} {diff}; "
                f"a plain `narrate {p.article.slug}` restores the configured {names}"
            )
        else:
            out.append(f"{what} changed: built with {was}, {said} {diff}")
    return "; ".join(out)


def _voice_diff(was: str, becomes: str) -> str:
    """Return what differs in ``becomes`` (``describe_voice`` text): ``160 wpm``, ``en-gb``."""
    a, b = was.split(" "), becomes.split(" ")
    if len(a) != 4 or len(b) != 4:
        return becomes
    text = " ".join(y for x, y in zip(a[:3], b[:3], strict=True) if x != y)
    return f"{text} wpm" if a[2] != b[2] else text


def _engine_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = []
    if old["narrate"] != new["narrate"]:
        out.append(f"narrate changed ({new['narrate']}; built with {old['narrate']})")
    if old["encoder"] != new["encoder"]:
        out.append(f"the MP3 encoder changed ({new['encoder']}; built with {old['encoder']})")
    for voice, token in new["voices"].items():
        was = old["voices"].get(voice)
        if was is not None and was != token:
            a, b = was.split("; "), token.split("; ")
            diff = next(((x, y) for x, y in zip(a, b, strict=False) if x != y), (was, token))
            out.append(f"the engine changed ({diff[1]}; built with {diff[0]})")
            break
    return out


def _voices_to_make(
    p: Plan, cache: Cache, needed: Sequence[int], force: bool, made: Collection[str] = ()
) -> list[VoiceSettings]:
    """Return the distinct voices of the sentences of chunks ``needed`` not in the cache.

    ``made``: keys this run has already synthesised (see :func:`build_many`).
    """
    found: dict[VoiceSettings, None] = {}
    for ci in needed:
        chunk = p.chunks[ci]
        for seg, key in zip(chunk.segments, chunk.segment_keys, strict=True):
            if key in made:
                continue
            if seg.voice not in found and (force or not cache.has_audio(key)):
                found[seg.voice] = None
    return list(found)


def check_voices(
    p: Plan, voices: Collection[VoiceSettings] | None = None, cache: Cache | None = None
) -> None:
    """Raise unless every backend can speak in its voice: ``voices``, or every voice of ``p``.

    Run before any synthesis, so a mistyped voice is one message naming it (with a close match),
    not a failure of the first sentence after a pointless retry. Asks each backend for its
    voices, which may load its engine: call it only when there is something to synthesise.
    Raises :class:`UsageError` (exit 2) for a voice given with ``--voice``, otherwise
    :class:`BackendError` naming the file that sets it.
    """
    wanted = dict.fromkeys(seg.voice for seg in p.script.segments) if voices is None else voices
    for v in wanted:
        # A voice once found is remembered per engine identity (a marker in the cache), so an
        # edit's rebuild does not start an engine here just to list its voices again.
        marker = None
        if cache is not None:
            token = Backends().get(v.backend).cache_token(v)
            marker = cache.root / "voices" / digest("voice-ok", v.backend, token, v.voice)
            if marker.exists():
                continue
        match = _unknown_voice(v)
        if match is None:
            if marker is not None:
                try:
                    marker.parent.mkdir(parents=True, exist_ok=True)
                    marker.touch()
                except OSError:
                    pass  # only a shortcut; the check itself passed
            continue
        from_cli = p.voice_overrides.get("voice") == v.voice
        if from_cli:
            source = "given with --voice"
        else:
            source = f"set in {_voice_source(p, v)}"
        if "backend" in p.voice_overrides:
            source += f", with --backend {v.backend}"
        hint = f"did you mean `{match}`? " if match else ""
        listing = "narrate voices" + (
            "" if v.backend == p.settings.voice.backend and "backend" not in p.voice_overrides
            else f" --backend {v.backend}"
        )
        message = (
            f"the {v.backend} backend has no voice `{v.voice}` ({source}); {hint}"
            f"run `{listing}` to list its voices"
        )
        raise UsageError(message) if from_cli else BackendError(message)


def _unknown_voice(v: VoiceSettings) -> str | None:
    """Return None if the backend has voice ``v``, else its closest voice ("" if none is)."""
    backend = backends.create(v.backend)
    if isinstance(backend, ChecksVoices):
        try:
            backend.check_voice(v.voice)
        except UnknownVoiceError as exc:
            return exc.suggestion or ""
        return None
    # A backend that cannot say: a voice's id, or a language it speaks (en-us for en or en_US).
    known = backend.voices()
    wanted = v.voice.lower().replace("_", "-")
    for k in known:
        lang = (k.language or "").lower().replace("_", "-")
        if wanted in (k.id.lower(), lang) or (
            lang and "-" not in lang and wanted.split("-")[0] == lang
        ):
            return None
    close = difflib.get_close_matches(v.voice, [k.id for k in known], n=1)
    return close[0] if close else ""


def _voice_source(p: Plan, v: VoiceSettings) -> str:
    """Return the file that chose voice ``v``: the article's, or the site config."""
    kinds = {seg.kind for seg in p.script.segments if seg.voice == v}
    over = p.article.settings
    chosen = [over.get("voice", {}).get("voice")]
    chosen += [over.get("kinds", {}).get(k, {}).get("voice") for k in kinds]
    if v.voice in chosen and p.article.source:
        return _shown(Path(p.article.source))
    return _shown(p.settings.root / CONFIG_NAME)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _label(slug: str, script: Script, seg: Segment) -> str:
    title = script.chapters[seg.chapter].title
    text = seg.display if len(seg.display) <= 48 else seg.display[:47] + "…"
    line = f", line {seg.line}" if seg.line else ""
    return f"{slug}, chapter {title!r}{line} ({text!r})"


def _jobs(
    p: Plan, cache: Cache, needed: Sequence[int], force: bool, made: Collection[str] = ()
) -> dict[str, list[Any]]:
    """Return the sentences of chunks ``needed`` that must be synthesised, by backend.

    ``made``: keys this run has already synthesised (``force`` does not redo them).
    """
    from narrate.workers import Job

    todo: dict[str, list[Job]] = {}
    seen: set[str] = set()
    for ci in needed:
        chunk = p.chunks[ci]
        for seg, key in zip(chunk.segments, chunk.segment_keys, strict=True):
            if key in seen or key in made or (not force and cache.has_audio(key)):
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


def _batches(p: Plan, todo: dict[str, list[Any]]) -> list[Batch]:
    loud = p.settings.loudness
    return [
        Batch(name, loud.integrated_lufs, loud.true_peak_db, tuple(batch))
        for name, batch in todo.items()
    ]


def _render(
    p: Plan,
    cache: Cache,
    needed: Sequence[int],
    force: bool,
    log: Log,
    executor: Executor,
    made_keys: Collection[str] = (),
) -> tuple[int, dict[int, ChunkEntry]]:
    """Synthesise, master, stitch and encode the chapters ``needed``; return (made, chunks).

    One pipeline: the executor returns finished sentences (see :class:`Mastered`), and each is
    encoded, in threads (LAME releases the GIL), as soon as it arrives, so encoding overlaps
    synthesis. ``made_keys``: sentences this run already synthesised (see :func:`build_many`).
    """
    from concurrent.futures import Future

    todo = _jobs(p, cache, needed, force, made_keys)
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
        batches = _batches(p, todo)
        for batch in batches:
            log(
                f"{p.article.slug}: synthesising {len(batch.jobs)} of {len(p.script.segments)} "
                f"sentences with {batch.backend} ({executor.describe(batch)})"
            )
        if batches:
            with contextlib.closing(executor.run(batches)) as results:
                for job, audio in results:
                    if isinstance(audio, NarrateError):
                        raise audio
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
    executor: Executor | None = None,
    made_keys: Collection[str] = (),
) -> BuildResult:
    """Build (or confirm up to date) one planned article; publish its outputs atomically.

    ``executor`` synthesises (default: worker processes here, ``jobs`` of them); ``made_keys``
    are sentences this run has already synthesised, which ``force`` does not redo.
    """
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
            check_voices(p, _voices_to_make(p, cache, needed, force, made_keys), cache)
            made, fresh = _render(
                p, cache, needed, force, log, executor or LocalExecutor(jobs), made_keys
            )
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
            **p.facts,
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


@dataclass(frozen=True)
class Progress:
    """How far a multi-article build has got (see :func:`build_many`)."""

    articles_done: int
    """Articles published, confirmed up to date or failed."""
    articles: int
    sentences_done: int
    """Sentences synthesised (or failed) so far in this run."""
    sentences: int
    """Sentences this run has to synthesise (the cache holds the others)."""
    elapsed: float
    """Seconds since the run started."""

    @property
    def eta(self) -> float | None:
        """Return the estimated seconds left (None until the first sentence is done)."""
        if self.sentences_done >= self.sentences:
            return 0.0
        if self.sentences_done == 0 or self.elapsed <= 0:
            return None
        return (self.sentences - self.sentences_done) * self.elapsed / self.sentences_done


Outcome = tuple[str, "BuildResult | NarrateError"]
"""An article's slug and its result, or the error that stopped it."""


def build_many(
    plans: Sequence[Plan],
    audio_dir: Path,
    cache: Cache,
    executor: Executor,
    *,
    force: bool = False,
    log: Log = _quiet,
    progress: Callable[[Progress], None] | None = None,
) -> Iterator[Outcome]:
    """Build many articles as one job stream; yield each article's outcome as it is known.

    Up-to-date articles cost nothing. The missing sentences of every other article go to
    ``executor`` together, so all its workers stay busy from the first sentence to the last, and
    each article is assembled and published (by :func:`build`, under its lock, in a thread) as
    soon as its own sentences are in the cache. A sentence that fails fails only the articles
    that use it. A result's ``seconds`` counts from the start of the run.
    """
    from concurrent.futures import FIRST_COMPLETED, Future, wait

    t0 = time.perf_counter()
    total = len(plans)
    done_articles = 0
    stale: list[Plan] = []
    for p in plans:
        r: BuildResult | NarrateError
        try:
            # Checked again under the article's lock (by build) before anything is published.
            if force or freshness(p, audio_dir)[0] != "fresh":
                stale.append(p)
                continue
            r = build(p, audio_dir, cache, log=log, executor=executor)
        except NarrateError as exc:
            r = exc
        done_articles += 1
        yield p.article.slug, r

    # One job stream: each sentence at most once, in article order; per article the keys it
    # waits for (its own and those an earlier article already asked for).
    scheduled: set[str] = set()
    voices_ok: set[VoiceSettings] = set()
    waits: dict[str, set[str]] = {}
    own: dict[str, int] = {}
    streams: dict[tuple[str, float, float], list[Any]] = {}
    by_slug = {p.article.slug: p for p in stale}
    for p in stale:
        slug = p.article.slug
        needed = [i for i, c in enumerate(p.chunks) if force or cache.get_chunk(c.key) is None]
        todo = _jobs(p, cache, needed, force, scheduled)
        # Voices are checked before any synthesis, each once per run (see check_voices).
        unchecked = {j.voice for batch in todo.values() for j in batch} - voices_ok
        try:
            check_voices(p, unchecked, cache)
        except NarrateError as exc:
            done_articles += 1
            yield slug, exc
            continue
        voices_ok |= unchecked
        mine = {j.key for batch in todo.values() for j in batch}
        wanted = {k for ci in needed for k in p.chunks[ci].segment_keys}
        waits[slug] = mine | (wanted & scheduled)
        own[slug] = len(mine)
        scheduled |= mine
        for batch in _batches(p, todo):
            stream = (batch.backend, batch.integrated_lufs, batch.true_peak_db)
            streams.setdefault(stream, []).extend(batch.jobs)
    waiting: dict[str, list[str]] = {}
    for slug, keys in waits.items():
        for k in keys:
            waiting.setdefault(k, []).append(slug)
    batches = [Batch(b, lufs, peak, tuple(jobs)) for (b, lufs, peak), jobs in streams.items()]
    sentences = len(scheduled)
    done_sentences = 0

    def report() -> None:
        if progress is not None:
            elapsed = time.perf_counter() - t0
            progress(Progress(done_articles, total, done_sentences, sentences, elapsed))

    def assemble(p: Plan) -> BuildResult:
        r = build(p, audio_dir, cache, force=force, log=log, executor=executor,
                  made_keys=scheduled)
        if r.status == "built":
            n = own[p.article.slug]
            r = dataclasses.replace(r, synthesised=n, reused=r.total - n)
        return dataclasses.replace(r, seconds=time.perf_counter() - t0)

    cores = os.cpu_count() or 1
    pool = ThreadPoolExecutor(max_workers=min(4, cores), thread_name_prefix="narrate-publish")
    running: dict[Future[BuildResult], str] = {}

    def finished(block: bool) -> Iterator[Outcome]:
        nonlocal done_articles
        if not running:
            return
        ready, _ = wait(list(running), timeout=None if block else 0, return_when=FIRST_COMPLETED)
        for fut in ready:
            slug = running.pop(fut)
            exc = fut.exception()
            if exc is not None and not isinstance(exc, NarrateError):
                raise exc
            done_articles += 1
            yield slug, exc if isinstance(exc, NarrateError) else fut.result()
        report()

    try:
        for slug, keys in waits.items():
            if not keys:
                running[pool.submit(assemble, by_slug[slug])] = slug
        for batch in batches:
            log(f"synthesising {len(batch.jobs)} sentences of {len(stale)} articles with "
                f"{batch.backend} ({executor.describe(batch)})")
        report()
        if batches:
            with contextlib.closing(executor.run(batches)) as results:
                for job, audio in results:
                    done_sentences += 1
                    if isinstance(audio, NarrateError):
                        for slug in waiting.pop(job.key, []):
                            if slug in waits:
                                del waits[slug]
                                done_articles += 1
                                yield slug, audio
                    else:
                        cache.put_audio(job.key, audio)
                        for slug in waiting.pop(job.key, []):
                            left = waits.get(slug)
                            if left is not None:
                                left.discard(job.key)
                                if not left:
                                    running[pool.submit(assemble, by_slug[slug])] = slug
                    report()
                    yield from finished(block=False)
        while running:
            yield from finished(block=True)
    finally:
        # Articles being published finish (their files are then whole); queued ones are not
        # started.
        pool.shutdown(wait=True, cancel_futures=True)


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
