"""One scheduler for one to N articles: find what is missing, synthesise, encode, publish.

``narrate imagenet`` and ``narrate build --all`` run the same path. Up-to-date articles cost
nothing. The missing sentences of every other article go to the executor as one stream, so every
worker stays busy from the first sentence to the last; each chunk is encoded (in threads, see
:mod:`narrate.pipeline.encodes`) as soon as its sentence is in hand, and each article is
published, in this thread, as soon as its last chunk is encoded. A sentence that fails fails
only the articles that use it. Publishing happens in the main thread, where Ctrl-C and SIGTERM
are held back during the renames (see :func:`narrate.outputs.publish.publish`), so a set is the
old one or the new one.
"""

from __future__ import annotations

import contextlib
import mmap
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from narrate.audio.chunk import encode_chunk
from narrate.errors import EnvironmentProblem, Interrupted, NarrateError, SynthesisError
from narrate.outputs import publish as pub
from narrate.pcm import Audio
from narrate.pipeline.assemble import publish_article
from narrate.pipeline.cache import Cache, ChunkEntry
from narrate.pipeline.encodes import Encodes
from narrate.pipeline.freshness import freshness
from narrate.pipeline.plan import Plan, Tokens
from narrate.pipeline.results import BuildResult, Outcome, Progress
from narrate.pipeline.voices import check_voices
from narrate.settings.model import VoiceSettings
from narrate.synth.executors import Executor
from narrate.synth.jobs import Batch, Job

if TYPE_CHECKING:
    from filelock import BaseFileLock

__all__ = ["Scheduler"]

MAX_LOCKS = 256
"""Article locks one run holds at once (each keeps a file open)."""
VOICE_CHECK_S = 60.0
"""Seconds the voice check (which may start an engine here) may take."""
ENGINE_ROOM = 16 << 20
"""Bytes of address space the voice check wants free, besides two threads' stacks (espeak-ng
takes ~15 MB, with its thread)."""

Log = Callable[[str], None]


@dataclass
class _Article:
    """One stale article on its way to publication."""

    plan: Plan
    entries: list[ChunkEntry | None]
    needs: dict[int, str] = field(default_factory=dict)
    """Chunk index -> the sentence key it waits for."""
    own: int = 0
    """Sentences this run synthesises for it (not for an earlier article)."""
    failed: bool = False

    @property
    def ready(self) -> bool:
        return all(e is not None for e in self.entries)


def _aside(check: Callable[..., None], *args: object) -> None:
    """Run ``check`` in a thread of its own, and wait for it in a way a signal can stop.

    The voice check may start an engine in this process, and espeak-ng waits forever for a
    thread it could not start (out of memory or processes), deaf to Ctrl-C in C code. Aside, a
    thread that cannot start is an error at once, and a hung engine a timeout; a signal is
    honoured either way.
    """
    # And with too little address space for its data and its thread's stack, espeak-ng exits
    # or waits forever: see that there is room first (a mapping never touched costs nothing).
    try:
        import resource

        stack = resource.getrlimit(resource.RLIMIT_STACK)[0]  # a thread's stack, by default
        stack = 8 << 20 if stack in (resource.RLIM_INFINITY, -1) else stack
    except (ImportError, OSError, ValueError):  # not POSIX
        stack = 8 << 20
    try:
        mmap.mmap(-1, ENGINE_ROOM + 2 * stack).close()  # this thread's and the engine's
    except OSError as exc:
        raise MemoryError(f"no room for the speech engine ({exc.strerror or exc})") from exc
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            check(*args)
        except BaseException as exc:  # noqa: BLE001 - raised again in the calling thread
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=run, name="narrate-voice-check", daemon=True)
    thread.start()
    thread.join(VOICE_CHECK_S)
    if not outcome:
        raise EnvironmentProblem(
            f"the speech engine did not start within {VOICE_CHECK_S:.0f} s (out of memory or "
            "processes?); free some memory and run again"
        )
    if outcome[0] is not None:
        raise outcome[0]


class Scheduler:
    """Builds planned articles; iterate :meth:`run` for each article's outcome as it is known."""

    def __init__(
        self,
        audio_dir: Path,
        cache: Cache,
        executor: Executor,
        *,
        force: bool = False,
        log: Log | None = None,
        progress: Callable[[Progress], None] | None = None,
        tokens: Tokens | None = None,
    ) -> None:
        self.audio_dir, self.cache, self.executor, self.force = audio_dir, cache, executor, force
        self.log = log or (lambda _line: None)
        self.progress = progress
        self.tokens = tokens or Tokens()
        self.t0 = time.perf_counter()
        self.articles: dict[str, _Article] = {}
        self.jobs: list[Job] = []
        self.scheduled: set[str] = set()
        """Sentence keys this run synthesises."""
        self.waiting: dict[str, list[tuple[str, int]]] = {}
        """Sentence key -> the (article, chunk) pairs that wait for it."""
        self.voices_ok: set[VoiceSettings] = set()
        self.encodes: Encodes[tuple[str, int], ChunkEntry] = Encodes()
        """(article, chunk) -> its encode, in threads."""
        self.manifest: dict[str, dict[str, object]] = {}
        self.total = self.finished = self.sentences_done = 0
        self.locks: dict[str, BaseFileLock] = {}
        """The articles this run holds locked (see :meth:`_lock`)."""
        self.mark = pub.journal_mark()
        """Where this run's publications start in the journal (see :meth:`_interrupted`)."""

    # --- the run ------------------------------------------------------------------------------

    def run(self, plans: Sequence[Plan]) -> Iterator[Outcome]:
        """Build ``plans``; yield (slug, result or error) per article, as each is known."""
        self.total = len(plans)
        try:
            stale = []
            for p in plans:
                try:
                    if self.force or freshness(p, self.audio_dir)[0] != "fresh":
                        stale.append(p)
                        continue
                    outcome: BuildResult | NarrateError = self._confirm(p)
                except NarrateError as exc:
                    outcome = exc
                yield self._done(p.slug, outcome)
            refused = self._lock(stale)
            for p in stale:
                if p.slug in refused:
                    yield self._done(p.slug, refused[p.slug])
                else:
                    yield from self._take(p)
            yield from self._synthesise()
            while self.encodes:
                yield from self._collect(block=True)
            self._write_manifest()
        except KeyboardInterrupt as exc:
            # Queued encodes are cancelled, not drained: an interrupt is honoured at once.
            self.encodes.close()
            self._write_manifest_anyway()
            raise self._interrupted() from exc
        except GeneratorExit:
            # The caller stopped (an error, or a signal while it handled an outcome): what was
            # published still goes into the manifest.
            self.encodes.close()
            self._write_manifest_anyway()
            raise
        finally:
            self.encodes.close()
            for lock in self.locks.values():
                lock.release()
            self.locks.clear()

    def _lock(self, stale: list[Plan]) -> dict[str, NarrateError]:
        """Lock the stale articles, in slug order (no two runs can deadlock); return refusals.

        A run that finds an article locked waits for the other run to finish it, then finds
        it up to date. At most :data:`MAX_LOCKS` are held at once (each holds a file open);
        the rest are locked when they are published.
        """
        refused: dict[str, NarrateError] = {}
        for p in sorted(stale, key=lambda p: p.slug)[:MAX_LOCKS]:
            try:
                self.locks[p.slug] = pub.acquire_lock(self.audio_dir, p.slug, log=self.log)
            except NarrateError as exc:
                refused[p.slug] = exc
        return refused

    def _take(self, p: Plan) -> Iterator[Outcome]:
        """Schedule what stale ``p`` is missing (unless another run just built it)."""
        try:
            if not self.force and freshness(p, self.audio_dir)[0] == "fresh":
                self._unlock(p.slug)
                yield self._done(p.slug, self._confirm(p))
                return
            art = self._schedule(p)
        except NarrateError as exc:
            self._unlock(p.slug)
            yield self._done(p.slug, exc)
            return
        self.articles[p.slug] = art
        for ci, entry in enumerate(art.entries):
            if entry is None and art.needs[ci] not in self.scheduled:
                self._encode(art, ci, None)  # its sentence is in the cache
        if art.ready:
            yield from self._publish(art)

    def _schedule(self, p: Plan) -> _Article:
        """Return ``p``'s chunks and the sentences to synthesise for it (voices checked first)."""
        entries = [None if self.force else self.cache.get_chunk(c.key) for c in p.chunks]
        art = _Article(p, entries)
        mine: dict[str, Job] = {}
        for ci, chunk in enumerate(p.chunks):
            if entries[ci] is not None:
                continue
            key = chunk.segment_key
            art.needs[ci] = key
            if key in self.scheduled or key in mine:
                continue
            if self.force or not self.cache.has_audio(key):
                seg = chunk.segment
                mine[key] = Job(key=key, text=seg.spoken, voice=seg.voice, label=p.label(seg))
        unchecked = {j.voice for j in mine.values()} - self.voices_ok
        if unchecked:
            _aside(check_voices, p, unchecked, self.tokens, self.cache.root / "voices")
        self.voices_ok |= unchecked
        self.jobs += mine.values()
        self.scheduled |= mine.keys()
        art.own = len(mine)
        for ci, key in art.needs.items():
            if key in self.scheduled:
                self.waiting.setdefault(key, []).append((p.slug, ci))
        return art

    def _synthesise(self) -> Iterator[Outcome]:
        """Send every scheduled sentence to the executor; encode and publish as they arrive."""
        if not self.jobs:
            return
        batches = self._batches()
        for batch in batches:
            self.log(
                f"synthesising {len(batch.jobs)} sentence{'s' if len(batch.jobs) != 1 else ''} "
                f"of {len(self.articles)} "
                f"article{'s' if len(self.articles) != 1 else ''} with {batch.backend} "
                f"({self.executor.describe(batch)})"
            )
        self._report()
        with contextlib.closing(self.executor.run(batches)) as results:
            for job, result in results:
                self.sentences_done += 1
                if isinstance(result, NarrateError):
                    yield from self._fail_waiting(job.key, result)
                else:
                    self.cache.put_audio(job.key, result)
                    for slug, ci in self.waiting.pop(job.key, []):
                        art = self.articles[slug]
                        if not art.failed:
                            self._encode(art, ci, result)
                yield from self._collect(block=False)
                self._report()

    def _batches(self) -> list[Batch]:
        """Return the scheduled jobs as one batch per backend and loudness target."""
        streams: dict[tuple[str, float, float], list[Job]] = {}
        loudness = {a.plan.slug: a.plan.settings.loudness for a in self.articles.values()}
        owner = {key: slug for slug, a in self.articles.items() for key in a.needs.values()}
        for job in self.jobs:
            loud = loudness[owner[job.key]]
            stream = (job.voice.backend, loud.integrated_lufs, loud.true_peak_db)
            streams.setdefault(stream, []).append(job)
        return [Batch(b, lufs, peak, tuple(jobs)) for (b, lufs, peak), jobs in streams.items()]

    # --- encoding -----------------------------------------------------------------------------

    def _encode(self, art: _Article, ci: int, audio: Audio | None) -> None:
        self.encodes.submit((art.plan.slug, ci), self._make_chunk, art.plan, ci, audio)

    def _make_chunk(self, p: Plan, ci: int, audio: Audio | None) -> ChunkEntry:
        """Encode chunk ``ci`` of ``p`` (its finished sentence from the cache if not given)."""
        chunk = p.chunks[ci]
        if audio is None:
            audio = self.cache.get_audio(chunk.segment_key)
        if audio is None:  # removed or damaged since it was checked (e.g. a concurrent prune)
            raise SynthesisError(
                "its audio vanished from the cache while building; run again",
                segment=p.label(chunk.segment),
                key=chunk.segment_key,
            )
        enc = encode_chunk(audio, chunk.lead, chunk.pause, p.settings.bitrate)
        place = [[enc.placement.start, enc.placement.end]]
        return self.cache.put_chunk(
            chunk.key, enc.mp3, enc.frames, enc.pcm_samples, place, [enc.words]
        )

    def _collect(self, *, block: bool) -> Iterator[Outcome]:
        """Take finished encodes; publish every article whose last chunk is done."""
        for (slug, ci), entry in self.encodes.done(block=block):
            art = self.articles[slug]
            if art.failed:
                continue
            if isinstance(entry, BaseException):
                if not isinstance(entry, NarrateError):
                    raise entry
                yield from self._fail(art, entry)
                continue
            art.entries[ci] = entry
            if art.ready:
                yield from self._publish(art)

    # --- publishing ---------------------------------------------------------------------------

    def _publish(self, art: _Article) -> Iterator[Outcome]:
        p = art.plan
        entries = [e for e in art.entries if e is not None]
        held = self.locks.get(p.slug) is not None
        lock = (
            contextlib.nullcontext()
            if held
            else pub.article_lock(self.audio_dir, p.slug, log=self.log)
        )
        try:
            with lock:
                pub.remove_stale_temps(self.audio_dir, p.slug)
                # Another run may have published the same set while this one worked.
                if not self.force and freshness(p, self.audio_dir)[0] == "fresh":
                    result = self._confirm(p)
                else:
                    done = publish_article(p, entries, self.audio_dir)
                    self.manifest[p.slug] = done.manifest
                    result = self._result(art, "built", done.duration, done.chapters)
                    result.files = [str(f) for f in done.files if not f.name.endswith(pub.RECORD)]
        except NarrateError as exc:
            art.failed = True
            yield self._done(p.slug, exc)
            return
        finally:
            self._unlock(p.slug)
        yield self._done(p.slug, result)

    def _confirm(self, p: Plan) -> BuildResult:
        """Return the up-to-date result, keeping the article's manifest entry current."""
        from narrate.pipeline.assemble import manifest_entry

        record = pub.read_record(self.audio_dir, p.slug) or {}
        mp3 = pub.output_path(self.audio_dir, p.slug, pub.MP3)
        duration = float(record.get("duration", 0.0))
        chapters = len(p.script.chapters)
        sha = (record.get("outputs") or {}).get(mp3.name, "")
        self.manifest[p.slug] = manifest_entry(p, duration, chapters, mp3.stat().st_size, sha)
        n = len(p.chunks)
        return BuildResult(
            p.slug, "up to date", reused=n, total=n, chunks=n, chapters=chapters,
            duration=duration, seconds=self._elapsed(),
        )  # fmt: skip

    def _result(self, art: _Article, status: str, duration: float, chapters: int) -> BuildResult:
        p = art.plan
        encoded = list(art.needs)  # the chunks this run encoded
        n = len(p.chunks)
        return BuildResult(
            p.slug,
            status,
            synthesised=art.own,
            reused=n - art.own,
            total=n,
            chapters_reencoded=len({p.chunks[ci].chapter for ci in encoded}),
            chunks_reencoded=len(encoded),
            chunks=n,
            chapters=chapters,
            duration=duration,
            seconds=self._elapsed(),
        )

    def _write_manifest(self) -> None:
        if self.manifest:
            pub.update_manifest(self.audio_dir, self.manifest)

    def _write_manifest_anyway(self) -> None:
        """Write the manifest of a stopped run, with every article it published whole.

        A signal that came during an article's renames stops the run just after them, before
        the article's manifest entry was made: it is made here, from the published record.
        """
        with contextlib.suppress(NarrateError, OSError):
            for slug in pub.published_whole(self.mark):
                art = self.articles.get(slug)
                if art is not None and slug not in self.manifest:
                    self._confirm(art.plan)
            self._write_manifest()

    # --- failures and bookkeeping -------------------------------------------------------------

    def _fail_waiting(self, key: str, exc: NarrateError) -> Iterator[Outcome]:
        for slug, _ci in self.waiting.pop(key, []):
            art = self.articles[slug]
            if not art.failed:
                yield from self._fail(art, exc)

    def _fail(self, art: _Article, exc: NarrateError) -> Iterator[Outcome]:
        art.failed = True
        self._unlock(art.plan.slug)
        yield self._done(art.plan.slug, exc)

    def _unlock(self, slug: str) -> None:
        lock = self.locks.pop(slug, None)
        if lock is not None:
            lock.release()

    def _done(self, slug: str, outcome: BuildResult | NarrateError) -> Outcome:
        self.finished += 1
        self._report()
        return slug, outcome

    def _elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(
                Progress(
                    self.finished, self.total, self.sentences_done, len(self.jobs), self._elapsed()
                )
            )

    def _interrupted(self) -> Interrupted:
        """Return the interrupt error, saying exactly what state the published files are in.

        From the publish journal, not from the files: a signal that came during the renames is
        acted on after the last one, when this run's own bookkeeping has not caught up yet.
        """
        return pub.interrupted(self.mark)
