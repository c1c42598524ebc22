"""Whole-site views: which articles are fresh, stale, missing or orphaned; cleaning; pruning.

Freshness needs no cache and no engine: it compares each article's plan (keys computed from the
content, the settings and the engine's identity) with the build record beside its outputs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from narrate.content.load import SUFFIX
from narrate.content.markdown import SUFFIX as MARKDOWN
from narrate.errors import NarrateError
from narrate.outputs import publish as pub
from narrate.pipeline.cache import Cache
from narrate.pipeline.freshness import freshness
from narrate.pipeline.run import plan_articles
from narrate.settings.model import Settings

__all__ = ["ArticleState", "Orphan", "orphans", "prune", "remove", "status"]

PREVIEW = ".html"
ARTICLE_SUFFIXES = (SUFFIX, MARKDOWN)
"""An article is content/SLUG.yaml or content/SLUG.md."""


@dataclass(frozen=True)
class ArticleState:
    """One line of ``narrate status``."""

    slug: str
    state: str
    """fresh, stale, missing, mismatched, orphaned or invalid."""
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Orphan:
    """Published outputs whose article is gone from the folder they were built from."""

    slug: str
    files: tuple[Path, ...]
    reason: str


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _published_slugs(audio_dir: Path) -> set[str]:
    found = set()
    if audio_dir.is_dir():
        for path in audio_dir.iterdir():
            for suffix in (*pub.OUTPUTS, pub.RECORD):
                if path.name.endswith(suffix) and not path.name.startswith("."):
                    found.add(path.name[: -len(suffix)])
    return found


def status(settings: Settings) -> list[ArticleState]:
    """Return the state of every article, and of outputs whose article is gone."""
    out = []
    for slug, p in plan_articles(settings):
        if isinstance(p, NarrateError):
            out.append(ArticleState(slug, "invalid", str(p)))
            continue
        state, reason = freshness(p, settings.audio_dir)
        out.append(ArticleState(slug, state, reason))
    for o in orphans(settings):
        out.append(ArticleState(o.slug, "orphaned", f"{o.reason}; `narrate clean` removes them"))
    return out


def _built_from(settings: Settings, slug: str) -> Path:
    """Return the content folder an article's outputs were built from (its build record's)."""
    record = pub.read_record(settings.audio_dir, slug) or {}
    recorded = record.get("content_dir")
    if isinstance(recorded, str) and recorded:
        return settings.root / recorded  # relative to the project root, or absolute
    return settings.content_dir


def orphans(settings: Settings) -> list[Orphan]:
    """Return the outputs whose article is gone from the content folder they were built from.

    Site-wide files (the manifest, previews of live articles) are never orphans, and neither is
    anything built from a folder that no longer exists (the site may have moved).
    """
    found = []
    for slug in sorted(_published_slugs(settings.audio_dir)):
        folder = _built_from(settings, slug)
        if not folder.is_dir() or any((folder / f"{slug}{s}").is_file() for s in ARTICLE_SUFFIXES):
            continue
        files = tuple(
            path
            for suffix in (*pub.OUTPUTS, pub.RECORD, PREVIEW)
            if (path := pub.output_path(settings.audio_dir, slug, suffix)).is_file()
        )
        found.append(Orphan(slug, files, f"no {_shown(folder / (slug + SUFFIX))}"))
    return found


def remove(settings: Settings, found: list[Orphan]) -> list[Path]:
    """Delete the files of ``found`` (see :func:`orphans`) and their manifest entries."""
    removed = []
    for o in found:
        for path in o.files:
            path.unlink(missing_ok=True)
            removed.append(path)
        lock = settings.audio_dir / f".{o.slug}.lock"  # the zero-byte lock each build leaves
        if lock.is_file():
            lock.unlink(missing_ok=True)
            removed.append(lock)
    if found:
        pub.update_manifest(settings.audio_dir, {o.slug: None for o in found})
    return removed


def prune(settings: Settings, cache: Cache) -> tuple[int, int]:
    """Delete cache entries no current article uses; return (files, bytes) freed."""
    keep: set[str] = set()
    for slug, p in plan_articles(settings):
        if isinstance(p, NarrateError):
            raise NarrateError(
                f"cannot prune while `{slug}` is invalid (its sentences would be lost): {p}"
            ) from p
        keep.update(p.segment_keys)
        keep.update(c.key for c in p.chunks)
    return cache.prune(keep)
