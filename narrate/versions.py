"""Installed package versions, looked up once per process (they do not change mid-run)."""

from __future__ import annotations

import functools


@functools.cache
def dist_version(name: str) -> str:
    """Return the installed version of distribution ``name``, or ``unknown``."""
    # Imported here: worker processes never need it (it costs ~15 ms to import).
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"
