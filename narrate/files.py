"""Atomic file writes: a temporary file beside the target, fsynced, then renamed into place.

Written once; the cache, the published outputs, the manifest and the preview page use it. A
reader never sees a half-written file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()
"""Mode of written files (mkstemp's 0600 would hide published files from a web server)."""


def write_temp(target: Path, data: bytes, suffix: str = ".part") -> Path:
    """Write ``data`` to a new hidden file beside ``target``; return its path (not renamed)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write_atomic(path: Path, data: bytes, suffix: str = ".part") -> None:
    """Replace ``path`` with ``data`` in one rename (its folder is made if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = write_temp(path, data, suffix)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (renames) to disk; a no-op where that is not possible."""
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
