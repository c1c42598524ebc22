"""Whole-site views: which articles are fresh, stale, missing or orphaned; cleaning; pruning.

Freshness needs no cache and no engine: it compares each article's plan (keys computed from the
content, the settings and the engine's identity) with the build record beside its outputs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from narrate import publish as pub
from narrate.build import Backends, freshness, plan
from narrate.cache import Cache
from narrate.config import Settings
from narrate.content import list_articles, load_article
from narrate.errors import NarrateError


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
    tokens = Backends()
    out = []
    slugs = list_articles(settings.content_dir)
    for slug in slugs:
        try:
            p = plan(load_article(settings.content_dir / f"{slug}.yaml"), settings, tokens=tokens)
        except NarrateError as exc:
            out.append(ArticleState(slug, "invalid", str(exc)))
            continue
        state, reason = freshness(p, settings.audio_dir)
        out.append(ArticleState(slug, state, reason))
    for slug in sorted(_published_slugs(settings.audio_dir) - set(slugs)):
        out.append(
            ArticleState(slug, "orphaned", f"no content/{slug}.yaml; `narrate clean` removes")
        )
    return out


def clean(settings: Settings) -> list[Path]:
    """Remove the outputs of articles that no longer exist; return the files removed."""
    live = set(list_articles(settings.content_dir))
    removed = []
    for slug in sorted(_published_slugs(settings.audio_dir) - live):
        for suffix in (*pub.OUTPUTS, pub.RECORD, ".html"):
            path = pub.output_path(settings.audio_dir, slug, suffix)
            if path.exists():
                path.unlink()
                removed.append(path)
        pub.update_manifest(settings.audio_dir, slug, None)
    # The zero-byte lock file each build leaves (``.SLUG.lock``), once its article is gone.
    if settings.audio_dir.is_dir():
        for lock in sorted(settings.audio_dir.glob(".*.lock")):
            slug = lock.name[1 : -len(".lock")]
            if slug not in live and slug != pub.MANIFEST:
                lock.unlink(missing_ok=True)
                removed.append(lock)
    return removed


def prune(settings: Settings, cache: Cache) -> tuple[int, int]:
    """Delete cache entries no current article uses; return (files, bytes) freed."""
    tokens = Backends()
    keep: set[str] = set()
    for slug in list_articles(settings.content_dir):
        try:
            p = plan(load_article(settings.content_dir / f"{slug}.yaml"), settings, tokens=tokens)
        except NarrateError as exc:
            raise NarrateError(
                f"cannot prune while `{slug}` is invalid (its sentences would be lost): {exc}"
            ) from exc
        keep.update(p.segment_keys)
        keep.update(c.key for c in p.chunks)
    return cache.prune(keep)
