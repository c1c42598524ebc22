"""The content-addressed cache: finished sentences and their encoded MP3 chunks, verified on read.

Keys are hashes of what was said and everything that shapes the sound, never of a position or a
file name: inserting, moving or deleting a paragraph reuses every other sentence.

One entry format for every kind (designed once; later kinds add metadata, not formats). An entry
is one file, ``ROOT/KIND/KE/KEY.entry``::

    narrate-cache 2\\n
    {"kind": ..., "key": ..., "meta": {...}, "size": N, "digest": ...}\\n
    <N bytes of payload>

``digest`` is the sha256 over the kind, the key, the metadata and the payload, so an entry is
bound to the key it was made for: a damaged byte, an edited field, a truncated file or two
entries swapped all fail the check. What fails it, cannot be parsed, has the wrong type or
inconsistent metadata (frames, placements, sample rate) is deleted, reported in one log line and
made again. Kinds:

- ``sentence``: a finished (trimmed, mastered) sentence; payload: 16-bit mono PCM; meta:
  ``sample_rate``, ``samples``, ``words`` (the engine's word starts: ``[sample, text]`` pairs,
  ascending, inside the audio; empty if it reports none);
- ``chunk``: a sentence and the pause after it, encoded; payload: whole MP3 frames; meta:
  ``frames``, ``pcm_samples``, ``placements`` (where the speech lies, in samples), ``words``
  (per placement, its sentence's word marks from the placement's start).

Entries are written beside their final name (a dot-file) and renamed into place; ``prune``
never touches a dot-file younger than :data:`INFLIGHT_GRACE_S`, so a prune during a build does not
delete what the build is writing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from narrate.errors import OutputError
from narrate.files import write_atomic
from narrate.pcm import SAMPLE_WIDTH, Audio, WordMark

__all__ = ["CACHE_FORMAT", "Cache", "ChunkEntry", "digest"]

CACHE_FORMAT = 2
"""The entry format (bump when the file layout changes; old entries are then pruned)."""
KINDS = ("sentence", "chunk")
_MAGIC = f"narrate-cache {CACHE_FORMAT}\n".encode()
_SUFFIX = ".entry"
INFLIGHT_GRACE_S = 3600.0
"""Seconds a temporary file may be in flight before ``prune`` takes it for a killed run's."""
_MAX_HEADER = 1 << 20

Log = Callable[[str], None]
T = TypeVar("T")


def digest(*parts: Any) -> str:
    """Return the sha256 hex digest of a JSON rendering of ``parts`` (stable across runs)."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _bind(kind: str, key: str, meta: dict[str, Any], payload: bytes) -> str:
    h = hashlib.sha256(digest(kind, key, meta).encode())
    h.update(payload)
    return h.hexdigest()


@dataclass(frozen=True)
class ChunkEntry:
    """An encoded chunk and what is needed to place it on the timeline."""

    mp3: bytes
    frames: int
    """MP3 frames in ``mp3``."""
    pcm_samples: int
    """Samples that were encoded (whole frames of them)."""
    placements: tuple[tuple[int, int], ...]
    """Where each sentence's speech starts and ends in the chunk, in samples."""
    words: tuple[tuple[WordMark, ...], ...]
    """Per placement, the engine's word starts from the placement's start."""


class Damaged(ValueError):
    """An entry failed its check (the message says how)."""


def _ints(value: object, n: int | None = None) -> bool:
    return (
        isinstance(value, list)
        and (n is None or len(value) == n)
        and all(type(v) is int for v in value)
    )


def _marks(value: object, samples: int) -> tuple[WordMark, ...]:
    """Return word marks read from the cache, or raise Damaged unless they ascend inside."""
    if not isinstance(value, list):
        raise Damaged("bad word marks")
    marks, last = [], 0
    for mark in value:
        if not (isinstance(mark, list) and len(mark) == 2 and type(mark[0]) is int):
            raise Damaged("bad word marks")
        if not isinstance(mark[1], str) or not last <= mark[0] < samples:
            raise Damaged(f"word mark at sample {mark[0]} is out of order or outside the audio")
        last = mark[0]
        marks.append(WordMark(mark[0], mark[1]))
    return tuple(marks)


def _marks_meta(words: tuple[WordMark, ...]) -> list[list[Any]]:
    return [[w.start, w.text] for w in words]


def _check_sentence(meta: dict[str, Any], payload: bytes) -> Audio:
    rate, samples = meta.get("sample_rate"), meta.get("samples")
    if type(rate) is not int or not 8000 <= rate <= 192_000:
        raise Damaged(f"bad sample rate {rate!r}")
    if type(samples) is not int or samples <= 0 or samples * SAMPLE_WIDTH != len(payload):
        raise Damaged(f"{samples!r} samples do not match {len(payload)} bytes of audio")
    return Audio(pcm=payload, sample_rate=rate, words=_marks(meta.get("words"), samples))


def _check_chunk(meta: dict[str, Any], payload: bytes) -> ChunkEntry:
    frames, pcm, places = meta.get("frames"), meta.get("pcm_samples"), meta.get("placements")
    if type(frames) is not int or type(pcm) is not int or frames <= 0 or pcm <= 0:
        raise Damaged(f"bad frame or sample count ({frames!r}, {pcm!r})")
    if frames * 576 < pcm or not payload:
        raise Damaged(f"{frames} frames cannot hold {pcm} samples")
    if not isinstance(places, list) or not places or not all(_ints(p, 2) for p in places):
        raise Damaged("bad placements")
    words = meta.get("words")
    if not isinstance(words, list) or len(words) != len(places):
        raise Damaged("bad word marks")
    last = 0
    for a, b in places:
        if not last <= a < b <= pcm:
            raise Damaged(f"placement {a}-{b} is out of order or outside the chunk")
        last = b
    marks = tuple(_marks(w, b - a) for w, (a, b) in zip(words, places, strict=True))
    return ChunkEntry(payload, frames, pcm, tuple((a, b) for a, b in places), marks)


class Cache:
    """The on-disk store under one root folder."""

    def __init__(self, root: Path, log: Log | None = None) -> None:
        self.root = root
        self.log = log or (lambda _line: None)

    def _path(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / f"{key}{_SUFFIX}"

    # Reading ---------------------------------------------------------------------------------

    def _read(self, kind: str, key: str) -> tuple[dict[str, Any], bytes] | None:
        """Return a verified entry's (meta, payload), or None if absent or damaged (deleted)."""
        path = self._path(kind, key)
        try:
            data = path.read_bytes()
            return _parse(data, kind, key)
        except (FileNotFoundError, NotADirectoryError):
            return None  # absent (a file where a folder belongs is removed when writing)
        except (Damaged, OSError, ValueError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self._discard(path, f"{why}")
            return None

    def _discard(self, path: Path, why: str) -> None:
        self.log(f"cache: discarded a damaged {path.parent.parent.name} entry ({why}); remaking it")
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        except OSError:
            pass  # the write that follows reports what is wrong with the folder

    def _get(self, kind: str, key: str, check: Callable[[dict[str, Any], bytes], T]) -> T | None:
        found = self._read(kind, key)
        if found is None:
            return None
        try:
            return check(*found)
        except Damaged as exc:
            self._discard(self._path(kind, key), str(exc))
            return None

    def get_audio(self, key: str) -> Audio | None:
        """Return the finished sentence cached under ``key``, or None."""
        return self._get("sentence", key, _check_sentence)

    def has_audio(self, key: str) -> bool:
        """Return whether a verified sentence entry exists for ``key``."""
        return self.get_audio(key) is not None

    def get_chunk(self, key: str) -> ChunkEntry | None:
        """Return the encoded chunk cached under ``key``, or None."""
        return self._get("chunk", key, _check_chunk)

    # Writing ---------------------------------------------------------------------------------

    def _store(self, kind: str, key: str, meta: dict[str, Any], payload: bytes) -> None:
        head = {
            "kind": kind,
            "key": key,
            "meta": meta,
            "size": len(payload),
            "digest": _bind(kind, key, meta, payload),
        }
        data = _MAGIC + json.dumps(head, sort_keys=True).encode() + b"\n" + payload
        path = self._path(kind, key)
        try:
            self._make_folder(path.parent)
            write_atomic(path, data, suffix=".tmp")
        except OSError as exc:
            # A full disk often strikes here first, long before any output is written.
            raise OutputError.writing(exc, f"the cache {self.root}") from exc

    def _make_folder(self, folder: Path) -> None:
        """Make ``folder`` (and parents) inside the cache, removing files in the way."""
        for part in (self.root, folder.parent, folder):
            if part.exists() and not part.is_dir():
                if part == self.root:
                    raise OutputError(
                        f"the cache {self.root} is not a folder; remove it or choose another "
                        "with --cache-dir or NARRATE_CACHE_DIR"
                    )
                self.log(f"cache: removed {part.name}, a file where a cache folder belongs")
                part.unlink()
        folder.mkdir(parents=True, exist_ok=True)

    def put_audio(self, key: str, audio: Audio) -> None:
        """Store a finished sentence under ``key``."""
        meta = {
            "sample_rate": audio.sample_rate,
            "samples": audio.frames,
            "words": _marks_meta(audio.words),
        }
        _check_sentence(meta, audio.pcm)  # never store what a read would refuse
        self._store("sentence", key, meta, audio.pcm)

    def put_chunk(
        self,
        key: str,
        mp3: bytes,
        frames: int,
        pcm_samples: int,
        placements: list[list[int]],
        words: list[tuple[WordMark, ...]] | None = None,
    ) -> ChunkEntry:
        """Store an encoded chunk under ``key`` and return it."""
        meta = {
            "frames": frames,
            "pcm_samples": pcm_samples,
            "placements": placements,
            "words": [_marks_meta(w) for w in words or [() for _ in placements]],
        }
        entry = _check_chunk(meta, mp3)  # never store what a read would refuse
        self._store("chunk", key, meta, mp3)
        return entry

    # Maintenance -----------------------------------------------------------------------------

    def entries(self) -> Iterator[tuple[str, Path]]:
        """Yield (key, path) for every file in the cache, in-flight files excepted."""
        if not self.root.is_dir():
            return
        now = time.time()
        for path in sorted(self.root.glob("*/*/*")):
            if path.parent.parent.name == "voices":
                continue
            if path.name.startswith("."):
                try:
                    if now - path.stat().st_mtime < INFLIGHT_GRACE_S:
                        continue  # another run is writing it
                except OSError:
                    continue
            yield path.name.split(".", 1)[0], path

    def prune(self, keep: set[str]) -> tuple[int, int]:
        """Delete entries whose key is not in ``keep``; return (files removed, bytes freed)."""
        files = freed = 0
        for key, path in list(self.entries()):
            current = path.name.endswith(_SUFFIX) and path.parent.parent.name in KINDS
            if key in keep and current and not path.name.startswith("."):
                continue
            try:
                size = path.stat().st_size
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except OSError:
                continue
            files += 1
            freed += size
        return files, freed


def _parse(data: bytes, kind: str, key: str) -> tuple[dict[str, Any], bytes]:
    """Return (meta, payload) of an entry's bytes, checked against ``kind`` and ``key``."""
    if not data.startswith(_MAGIC):
        raise Damaged("not a narrate cache entry of this version")
    end = data.find(b"\n", len(_MAGIC), len(_MAGIC) + _MAX_HEADER)
    if end < 0:
        raise Damaged("no header")
    head = json.loads(data[len(_MAGIC) : end])
    if not isinstance(head, dict) or not isinstance(head.get("meta"), dict):
        raise Damaged("bad header")
    payload = data[end + 1 :]
    if head.get("kind") != kind or head.get("key") != key:
        raise Damaged("it was made for another key")
    if head.get("size") != len(payload):
        raise Damaged(f"truncated: {len(payload)} of {head.get('size')} bytes")
    if head.get("digest") != _bind(kind, key, head["meta"], payload):
        raise Damaged("its bytes do not match its digest")
    return head["meta"], payload
