"""Content-addressed cache of synthesised sentences and encoded chapter chunks.

Keys are hashes of what was said and everything that shapes the sound, never of a position or a
file name: inserting, moving or deleting a paragraph reuses every other sentence. Entries are
written beside their final name and renamed into place, and validated on every read; a damaged
entry is deleted and re-made, never stitched in.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from narrate.backends.base import Audio
from narrate.encode import count_frames
from narrate.errors import OutputError


def digest(*parts: Any) -> str:
    """Return the sha256 hex digest of a JSON rendering of ``parts`` (stable across runs)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class ChunkEntry:
    """An encoded chapter chunk and what is needed to place it on the timeline."""

    mp3: bytes
    meta: dict[str, Any]


class Cache:
    """The on-disk store under one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, kind: str, key: str, ext: str) -> Path:
        return self.root / kind / key[:2] / f"{key}{ext}"

    def _store(self, path: Path, data: bytes) -> None:
        try:
            atomic_write(path, data)
        except OSError as exc:
            # A full disk often strikes here first, long before any output is written.
            raise OutputError.writing(exc, f"the cache {self.root}") from exc

    # Sentences -------------------------------------------------------------------------------

    def get_audio(self, key: str) -> Audio | None:
        """Return the cached audio for ``key``, or None if absent or damaged (then deleted)."""
        path = self._path("seg", key, ".wav")
        try:
            with wave.open(str(path), "rb") as w:
                if w.getnchannels() != 1 or w.getsampwidth() != 2:
                    raise wave.Error("not 16-bit mono")
                frames = w.getnframes()
                pcm = w.readframes(frames)
                rate = w.getframerate()
            if frames == 0 or len(pcm) != frames * 2:
                raise wave.Error("empty or truncated")
        except FileNotFoundError:
            return None
        except (wave.Error, EOFError, OSError):
            path.unlink(missing_ok=True)
            return None
        return Audio(pcm=pcm, sample_rate=rate)

    def put_audio(self, key: str, audio: Audio) -> None:
        """Store synthesised audio under ``key``."""
        import io

        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(audio.sample_rate)
            w.writeframes(audio.pcm)
        self._store(self._path("seg", key, ".wav"), buf.getvalue())

    def has_audio(self, key: str) -> bool:
        """Return whether a sound entry exists for ``key`` (header and size checked, not data).

        A truncated or empty entry is deleted here, so it is synthesised again rather than
        found missing later, when its chapter is stitched.
        """
        path = self._path("seg", key, ".wav")
        try:
            with wave.open(str(path), "rb") as w:
                frames = w.getnframes()
                ok = frames > 0 and w.getsampwidth() == 2 and w.getnchannels() == 1
            # 44-byte canonical header plus the samples it announces.
            ok = ok and path.stat().st_size >= 44 + frames * 2
        except FileNotFoundError:
            return False
        except (wave.Error, EOFError, OSError):
            ok = False
        if not ok:
            path.unlink(missing_ok=True)
        return ok

    # Chunks ----------------------------------------------------------------------------------

    def get_chunk(self, key: str) -> ChunkEntry | None:
        """Return the encoded chunk for ``key``, or None if absent or damaged (then deleted)."""
        mp3_path = self._path("chunk", key, ".mp3")
        meta_path = self._path("chunk", key, ".json")
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
            mp3 = mp3_path.read_bytes()
            # The hash was taken from frames that count_frames() accepted when stored: a match
            # proves them intact (and is ~10x cheaper than walking every frame header again).
            if meta["sha256"] != _sha(mp3) or not isinstance(meta["frames"], int):
                raise ValueError("chunk does not match its record")
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError, OSError):
            mp3_path.unlink(missing_ok=True)
            meta_path.unlink(missing_ok=True)
            return None
        return ChunkEntry(mp3=mp3, meta=meta)

    def put_chunk(self, key: str, mp3: bytes, meta: dict[str, Any]) -> ChunkEntry:
        """Store an encoded chunk (the frames first, its record last)."""
        meta = {**meta, "frames": count_frames(mp3), "sha256": _sha(mp3)}
        self._store(self._path("chunk", key, ".mp3"), mp3)
        self._store(self._path("chunk", key, ".json"), json.dumps(meta, sort_keys=True).encode())
        return ChunkEntry(mp3=mp3, meta=meta)

    # Maintenance -----------------------------------------------------------------------------

    def entries(self) -> Iterator[tuple[str, Path]]:
        """Yield (key, path) for every file in the cache."""
        for kind in ("seg", "chunk"):
            base = self.root / kind
            if base.is_dir():
                for path in sorted(base.glob("*/*")):
                    yield path.name.split(".", 1)[0], path

    def prune(self, keep: set[str]) -> tuple[int, int]:
        """Delete entries whose key is not in ``keep``; return (files removed, bytes freed)."""
        files = freed = 0
        for key, path in list(self.entries()):
            if key not in keep:
                try:
                    size = path.stat().st_size
                    path.unlink()
                except OSError:
                    continue
                files += 1
                freed += size
        return files, freed


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
