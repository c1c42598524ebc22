"""Publishing outputs: file names, the freshness record, atomic replacement, the manifest.

A set of outputs is written beside its targets, then renamed into place in a fixed order (the MP3
first, the build record last). A reader never sees a truncated file; a run interrupted between two
renames leaves files that disagree with the record, which ``status`` reports and the next build
repairs.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from narrate.errors import Interrupted, LockedError, OutputError
from narrate.files import fsync_dir, write_temp

if TYPE_CHECKING:
    from filelock import BaseFileLock

MP3 = ".mp3"
CHAPTERS_JSON = ".chapters.json"
CHAPTERS_VTT = ".chapters.vtt"
TRANSCRIPT_VTT = ".transcript.vtt"
TRANSCRIPT_JSON = ".transcript.json"
RECORD = ".build.json"
OUTPUTS = (MP3, CHAPTERS_JSON, CHAPTERS_VTT, TRANSCRIPT_VTT, TRANSCRIPT_JSON)
"""Published files per article, in the order they are renamed into place."""
MANIFEST = "manifest.json"
LOCK_WAIT_S = 600.0
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""The signals that stop a run (see :func:`signals_deferred`)."""

_JOURNAL: list[tuple[str, bool]] = []
"""(slug, whole) for every set this process began renaming into place: ``whole`` once all of its
files were renamed. The truth about the published files when a run is stopped; see
:func:`interrupted`."""


def output_path(audio_dir: Path, slug: str, suffix: str) -> Path:
    """Return the path of one of an article's outputs."""
    return audio_dir / f"{slug}{suffix}"


def sha256_file(path: Path) -> str | None:
    """Return the sha256 of a regular file, or None if there is none (or something else)."""
    h = hashlib.sha256()
    if not path.is_file():
        return None  # absent, or a folder or FIFO where a file belongs (never opened)
    try:
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def read_record(audio_dir: Path, slug: str) -> dict[str, Any] | None:
    """Return an article's build record, or None if absent or unreadable."""
    try:
        data = json.loads(output_path(audio_dir, slug, RECORD).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def outputs_intact(audio_dir: Path, slug: str, record: Mapping[str, Any]) -> str | None:
    """Return None if every output matches the record, else the reason they do not."""
    expected = record.get("outputs")
    if not isinstance(expected, dict):
        return "its build record is damaged (no list of outputs)"
    for suffix in OUTPUTS:
        name = f"{slug}{suffix}"
        path = audio_dir / name
        actual = sha256_file(path)
        if actual is None:
            if path.exists() or path.is_symlink():
                return f"{name} is not a regular file; remove it"
            return f"{name} is missing"
        if expected.get(name) != actual:
            return f"{name} does not match its build record (edited, or a publish was interrupted)"
    return None


def _dump(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _ensure_dir(audio_dir: Path) -> None:
    try:
        audio_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise OutputError(
            f"cannot write to the audio folder {audio_dir}: a file is in the way; "
            "remove it or set another folder with --audio-dir"
        ) from exc
    except OSError as exc:
        raise OutputError.writing(exc, f"the audio folder {audio_dir}") from exc
    if not audio_dir.is_dir():
        raise OutputError(
            f"cannot write to the audio folder {audio_dir}: it is not a folder; "
            "remove it or set another folder with --audio-dir"
        )


def publish(
    audio_dir: Path,
    slug: str,
    files: Mapping[str, bytes | Path],
    record: dict[str, Any],
) -> list[Path]:
    """Write every output beside its target, then rename them into place, the record last.

    ``files`` maps an output suffix to its bytes or to a finished temporary file in
    ``audio_dir``. Nothing published is touched until every new file is complete on disk. Call
    it holding the article's lock (see :func:`acquire_lock`): when it fails it removes every
    temporary file of the article, also one a signal orphaned as it was made.
    """
    _ensure_dir(audio_dir)
    temps = _write_temps(audio_dir, slug, files, record)
    written: list[Path] = []
    try:
        _clear_the_way(audio_dir, slug)
        # Ctrl-C waits until the set is complete: an interrupted run then leaves the old set or
        # the new one, never a mix (only kill -9 or a crash can, which the record lets the next
        # run see). The journal says which, to the message of an interrupted run.
        with signals_deferred():
            try:
                for suffix in (*OUTPUTS, RECORD):
                    target = output_path(audio_dir, slug, suffix)
                    os.replace(temps[suffix], target)
                    written.append(target)
                    if len(written) == 1:
                        _JOURNAL.append((slug, False))  # part-way, until the loop is done
                _JOURNAL[-1] = (slug, True)
            except OSError as exc:
                raise OutputError(
                    f"publishing `{slug}` in {audio_dir} stopped part-way "
                    f"({exc.strerror or exc}); `narrate status` shows the mismatch and the next "
                    "build repairs it"
                ) from exc
            fsync_dir(audio_dir)
    except BaseException:  # an error, or a signal before the renames: leave no temporary file
        for p in temps.values():
            p.unlink(missing_ok=True)  # the renamed ones are gone already
        raise
    return written


def _write_temps(
    audio_dir: Path, slug: str, files: Mapping[str, bytes | Path], record: dict[str, Any]
) -> dict[str, Path]:
    """Write every output and the record beside its target; return suffix -> temporary file."""
    temps: dict[str, Path] = {}
    try:
        for suffix in OUTPUTS:
            src = files[suffix]
            if isinstance(src, Path):
                temps[suffix] = src
            else:
                temps[suffix] = write_temp(output_path(audio_dir, slug, suffix), src)
        hashes = {f"{slug}{s}": sha256_file(p) for s, p in temps.items()}
        record = {**record, "outputs": hashes}
        temps[RECORD] = write_temp(output_path(audio_dir, slug, RECORD), _dump(record))
    except BaseException as exc:  # a full disk, or Ctrl-C: leave no temporary file behind
        for p in temps.values():
            p.unlink(missing_ok=True)
        for src in files.values():
            if isinstance(src, Path):
                src.unlink(missing_ok=True)
        # Ctrl-C between mkstemp's creating a file and write_temp's knowing it: only the name
        # says whose it is.
        remove_stale_temps(audio_dir, slug)
        if isinstance(exc, OSError):
            raise OutputError.writing(exc, f"the audio folder {audio_dir}") from exc
        raise
    return temps


def _clear_the_way(audio_dir: Path, slug: str) -> None:
    """Make sure every rename will succeed before the first: no folder where a file goes.

    An empty folder is removed; anything else is refused before a single file is replaced, so
    a set is never left half old, half new.
    """
    for suffix in (*OUTPUTS, RECORD):
        target = output_path(audio_dir, slug, suffix)
        if target.is_dir() and not target.is_symlink():
            try:
                target.rmdir()
            except OSError as exc:
                raise OutputError(
                    f"cannot publish `{slug}`: {target} is a folder ({exc.strerror or exc}); "
                    "move it away and run again; the published files were not changed"
                ) from exc


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold back SIGINT, SIGTERM and SIGHUP for a moment; the first to come is acted on after.

    Main thread only (elsewhere a no-op: Python runs signal handlers in the main thread alone).
    Blocking the signals in this thread is not enough: the kernel then hands a signal sent to
    the process to another thread (an encoder, OpenBLAS's, espeak-ng's), and Python runs the
    handler in this thread anyway, at once. So the Python handlers are swapped for one that only
    notes the signal. The signals are blocked as well, so that a child started meanwhile starts
    with them blocked (a blocked signal stays blocked across fork and exec).
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "pthread_sigmask"
    ):
        yield
        return
    came: list[int] = []
    deferring = True
    handlers: dict[int, Any] = {}

    def note(signum: int, frame: Any) -> None:
        if deferring:
            came.append(signum)
        else:  # came between the end of the block and this handler's replacement
            _act_on(signum, handlers[signum], frame)

    mask = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        for s in SIGNALS:
            handler = signal.getsignal(s)
            if handler is not None:  # None: set outside Python, and left alone
                handlers[s] = handler
                signal.signal(s, note)
        yield
    finally:
        deferring = False
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a blocked signal reaches `note` now
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
        if came:
            _act_on(came[0], handlers[came[0]], None)


_signals_deferred = signals_deferred


def _act_on(signum: int, handler: Any, frame: Any) -> None:
    """Do what ``handler`` (a signal's handler when it came) would have done with it."""
    if callable(handler):
        handler(signum, frame)  # Ctrl-C's raises KeyboardInterrupt; so does the CLI's for SIGTERM
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signum)  # the default action, now that the set is complete
    # SIG_IGN: ignored, as it would have been


def journal_mark() -> int:
    """Return a mark for :func:`published_since`: where the sets published from now on start."""
    return len(_JOURNAL)


def published_whole(mark: int) -> list[str]:
    """Return the slugs whose whole new set this process published after ``mark``."""
    sets = dict(_JOURNAL[mark:])  # a slug published twice counts as its last publication
    return [slug for slug, done in sets.items() if done]


def published_since(mark: int, event: str = "the interrupt") -> str | None:
    """Say what this process published after ``mark`` (None: nothing), before ``event``.

    Taken from what this process renamed, not from the files (another run may have published
    meanwhile): a set is either published whole, or its renames stopped part-way (a failed
    rename; a signal cannot stop them, see :func:`signals_deferred`), or untouched.
    """
    whole = published_whole(mark)
    partial = [slug for slug, done in dict(_JOURNAL[mark:]).items() if not done]
    said = []
    if whole:
        said.append(f"published before {event}: {', '.join(whole)}")
    for slug in partial:
        said.append(
            f"`{slug}` was interrupted mid-publish: `narrate status` shows it mismatched and "
            "the next build repairs it"
        )
    if not said:
        return None
    return "; ".join([*said, "every other article keeps its previous files"])


def interrupted(mark: int = 0) -> Interrupted:
    """Return the error for a run stopped by a signal, saying what it published after ``mark``."""
    said = published_since(mark)
    return Interrupted() if said is None else Interrupted(f"{said}; the cache is consistent")


def remove_stale_temps(audio_dir: Path, slug: str) -> None:
    """Delete temporary files a killed run left beside an article's outputs (only its own).

    Call it holding the article's lock. Only the article's own names are matched, so an article
    called ``manifest`` never deletes the manifest's temporary file.
    """
    if audio_dir.is_dir():
        for suffix in (*OUTPUTS, RECORD):
            for p in audio_dir.glob(f".{slug}{suffix}.*.part"):
                p.unlink(missing_ok=True)


def acquire_lock(
    audio_dir: Path,
    slug: str,
    wait: float = LOCK_WAIT_S,
    log: Callable[[str], None] | None = None,
) -> BaseFileLock:
    """Take the per-article lock so two runs never interleave their work; return it, held.

    A second run waits up to ``wait`` seconds (saying so through ``log``), then refuses. A lock
    that cannot be created at all (a read-only or full folder) is an error at once.
    """
    from filelock import FileLock, Timeout

    _ensure_dir(audio_dir)
    path = audio_dir / f".{slug}.lock"
    try:
        # filelock retries a lock it cannot create until its timeout: find out now instead.
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o644))
    except OSError as exc:
        raise OutputError.writing(exc, f"the lock file {path}") from exc
    lock = FileLock(str(path))
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if log is not None:
                log(f"{slug}: waiting for another narrate run that is building it")
            lock.acquire(timeout=wait)
    except Timeout as exc:
        raise LockedError(
            f"another narrate run is building `{slug}` (lock {lock.lock_file}); "
            "wait for it to finish and run again"
        ) from exc
    except OSError as exc:  # the lock file cannot be created: a full disk, a read-only folder
        raise OutputError.writing(exc, f"the audio folder {audio_dir}") from exc
    return lock


@contextmanager
def article_lock(
    audio_dir: Path,
    slug: str,
    wait: float = LOCK_WAIT_S,
    log: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the per-article lock for a block (see :func:`acquire_lock`)."""
    lock = acquire_lock(audio_dir, slug, wait, log)
    try:
        yield
    finally:
        lock.release()


def update_manifest(audio_dir: Path, entries: Mapping[str, Mapping[str, Any] | None]) -> None:
    """Set (or with None remove) articles' manifest entries: one atomic write, under a lock."""
    from filelock import FileLock

    _ensure_dir(audio_dir)
    path = audio_dir / MANIFEST
    try:
        with FileLock(str(audio_dir / f".{MANIFEST}.lock")):
            try:
                data = json.loads(path.read_text("utf-8")) if path.is_file() else {}
                articles = data.get("articles", {}) if isinstance(data, dict) else {}
            except (OSError, ValueError):
                articles = {}  # damaged: rebuilt from what this run knows
            if not isinstance(articles, dict):
                articles = {}
            for slug, entry in entries.items():
                if entry is None:
                    articles.pop(slug, None)
                else:
                    articles[slug] = dict(entry)
            new = _dump({"version": 1, "articles": dict(sorted(articles.items()))})
            try:
                if path.is_file() and path.read_bytes() == new:
                    return  # a no-op build changes no byte, not even the file's mtime
            except OSError:
                pass
            tmp = write_temp(path, new)
            os.replace(tmp, path)
    except OSError as exc:
        # The articles' own files are already published (or removed) by now.
        raise OutputError.writing(
            exc, str(path), outcome=f"{MANIFEST} still shows the previous state"
        ) from exc
