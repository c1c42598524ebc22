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
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from narrate.errors import LockedError, OutputError

MP3 = ".mp3"
CHAPTERS_JSON = ".chapters.json"
CHAPTERS_VTT = ".chapters.vtt"
TRANSCRIPT_VTT = ".transcript.vtt"
RECORD = ".build.json"
OUTPUTS = (MP3, CHAPTERS_JSON, CHAPTERS_VTT, TRANSCRIPT_VTT)
"""Published files per article, in the order they are renamed into place."""
MANIFEST = "manifest.json"
LOCK_WAIT_S = 600.0


def output_path(audio_dir: Path, slug: str, suffix: str) -> Path:
    """Return the path of one of an article's outputs."""
    return audio_dir / f"{slug}{suffix}"


def sha256_file(path: Path) -> str | None:
    """Return the sha256 of a file, or None if it does not exist."""
    h = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except FileNotFoundError:
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
    expected = record.get("outputs", {})
    for suffix in OUTPUTS:
        name = f"{slug}{suffix}"
        actual = sha256_file(audio_dir / name)
        if actual is None:
            return f"{name} is missing"
        if expected.get(name) != actual:
            return f"{name} does not match its build record (edited, or a publish was interrupted)"
    return None


def _dump(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()
"""Published files get the usual mode (mkstemp's 0600 would hide them from a web server)."""


def _write_temp(target: Path, data: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


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
    ``audio_dir``. Nothing published is touched until every new file is complete on disk.
    """
    _ensure_dir(audio_dir)
    temps: dict[str, Path] = {}
    try:
        for suffix in OUTPUTS:
            src = files[suffix]
            if isinstance(src, Path):
                temps[suffix] = src
            else:
                temps[suffix] = _write_temp(output_path(audio_dir, slug, suffix), src)
        hashes = {f"{slug}{s}": sha256_file(p) for s, p in temps.items()}
        record = {**record, "outputs": hashes}
        temps[RECORD] = _write_temp(output_path(audio_dir, slug, RECORD), _dump(record))
    except BaseException as exc:  # a full disk, or Ctrl-C: leave no temporary file behind
        for p in temps.values():
            p.unlink(missing_ok=True)
        for src in files.values():
            if isinstance(src, Path):
                src.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError.writing(exc, f"the audio folder {audio_dir}") from exc
        raise
    written = []
    # Ctrl-C waits until the set is complete: an interrupted run then leaves the old set or the
    # new one, never a mix (only kill -9 or a crash can, which the record lets the next run see).
    with _signals_deferred():
        try:
            for suffix in (*OUTPUTS, RECORD):
                target = output_path(audio_dir, slug, suffix)
                os.replace(temps[suffix], target)
                written.append(target)
        except OSError as exc:
            for p in temps.values():
                p.unlink(missing_ok=True)
            raise OutputError(
                f"publishing `{slug}` in {audio_dir} stopped part-way ({exc.strerror or exc}); "
                "`narrate status` shows the mismatch and the next build repairs it"
            ) from exc
    _fsync_dir(audio_dir)
    return written


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold back SIGINT and SIGTERM for a moment (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "pthread_sigmask"
    ):
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)  # a held signal is delivered now


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temps(audio_dir: Path, slug: str) -> None:
    """Delete temporary files a killed run left beside an article's outputs."""
    if audio_dir.is_dir():
        for p in audio_dir.glob(f".{slug}.*.part"):
            p.unlink(missing_ok=True)


@contextmanager
def article_lock(
    audio_dir: Path,
    slug: str,
    wait: float = LOCK_WAIT_S,
    log: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the per-article lock so two runs never interleave their outputs.

    A second run waits up to ``wait`` seconds (saying so through ``log``), then refuses.
    """
    from filelock import FileLock, Timeout

    _ensure_dir(audio_dir)
    lock = FileLock(str(audio_dir / f".{slug}.lock"))
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
    try:
        yield
    finally:
        lock.release()


def update_manifest(audio_dir: Path, slug: str, entry: Mapping[str, Any] | None) -> None:
    """Set (or with None remove) one article's manifest entry, atomically and under a lock."""
    from filelock import FileLock

    _ensure_dir(audio_dir)
    path = audio_dir / MANIFEST
    try:
        with FileLock(str(audio_dir / f".{MANIFEST}.lock")):
            try:
                data = json.loads(path.read_text("utf-8"))
                articles = data.get("articles", {}) if isinstance(data, dict) else {}
            except (OSError, ValueError):
                articles = {}
            if entry is None:
                articles.pop(slug, None)
            else:
                articles[slug] = dict(entry)
            new = _dump({"version": 1, "articles": dict(sorted(articles.items()))})
            try:
                if path.read_bytes() == new:
                    return  # a no-op build changes no byte, not even the file's mtime
            except OSError:
                pass
            tmp = _write_temp(path, new)
            os.replace(tmp, path)
    except OSError as exc:
        # The article's own files are already published (or removed) by now.
        raise OutputError.writing(
            exc, str(path), outcome=f"{MANIFEST} still shows the previous state of `{slug}`"
        ) from exc
