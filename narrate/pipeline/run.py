"""The library's build entry: articles by slug in, each article's outcome out.

``narrate SLUG`` and ``narrate build --all`` call :func:`build_articles`; ``status``, ``check``
and ``cache prune`` call :func:`plan_articles`. Settings are resolved here, once per article
(:func:`narrate.settings.effective.resolve`), and flow down from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from narrate.commands import RESERVED
from narrate.content.load import find_article, list_articles, load_article
from narrate.content.model import Article
from narrate.errors import NarrateError
from narrate.pipeline.cache import Cache
from narrate.pipeline.plan import Plan, Tokens, plan
from narrate.pipeline.results import BuildResult, Outcome, Progress
from narrate.pipeline.scheduler import Scheduler
from narrate.settings.effective import Effective, resolve
from narrate.settings.model import Settings, VoiceOverride

__all__ = ["BuildOptions", "build_articles", "load_resolved", "plan_article", "plan_articles"]

Log = Callable[[str], None]


@dataclass(frozen=True)
class BuildOptions:
    """How to build, as the command line says."""

    force: bool = False
    """Re-synthesise and re-encode everything (sentences made this run are not redone)."""
    jobs: int | None = None
    """Local worker processes (None: one per core)."""
    executor: str = "local"
    """``local`` or ``dask``."""
    scheduler: str | None = None
    """The Dask scheduler's address, for ``dask``."""
    voice: VoiceOverride = field(default_factory=VoiceOverride)
    """``--backend``/``--voice``/``--rate``: changes to the default voice."""


def load_resolved(
    site: Settings, slug: str, cli: VoiceOverride | None = None
) -> tuple[Article, Effective]:
    """Load article ``slug`` and resolve its settings, once (no engine is asked anything)."""
    path = find_article(site.content_dir, slug, reserved=RESERVED)
    article = load_article(path, max_sentences=site.max_sentences, markdown=site.markdown)
    return article, resolve(site, article.settings, cli, article.source)


def plan_article(
    site: Settings, slug: str, cli: VoiceOverride | None = None, tokens: Tokens | None = None
) -> Plan:
    """Load article ``slug``, resolve its settings once, and return its plan."""
    return plan(*load_resolved(site, slug, cli), tokens)


def plan_articles(
    site: Settings, slugs: Sequence[str] | None = None, cli: VoiceOverride | None = None
) -> Iterator[tuple[str, Plan | NarrateError]]:
    """Yield each article's plan, or the error that stops it (``slugs`` None: every article)."""
    tokens = Tokens()
    for slug in list_articles(site.content_dir) if slugs is None else slugs:
        try:
            yield slug, plan_article(site, slug, cli, tokens)
        except NarrateError as exc:
            yield slug, exc


def build_articles(
    site: Settings,
    slugs: Sequence[str],
    options: BuildOptions,
    *,
    log: Log | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> Iterator[Outcome]:
    """Build the articles ``slugs``; yield each one's result, or the error that stopped it.

    An article that cannot be read fails alone; the others are built. Preview pages written
    earlier are refreshed with the new times.
    """
    from narrate.synth.executors import create

    tokens = Tokens()
    plans: list[Plan] = []
    for slug in dict.fromkeys(slugs):
        try:
            plans.append(plan_article(site, slug, options.voice, tokens))
        except NarrateError as exc:
            yield slug, exc
    executor = create(options.executor, scheduler=options.scheduler, jobs=options.jobs)
    cache = Cache(site.cache_dir, log=log)
    try:
        scheduler = Scheduler(
            site.audio_dir, cache, executor, force=options.force, log=log, progress=progress,
            tokens=tokens,
        )  # fmt: skip
        by_slug = {p.slug: p for p in plans}
        built = False
        for slug, outcome in scheduler.run(plans):
            if isinstance(outcome, BuildResult) and outcome.status == "built":
                _refresh_preview(by_slug[slug], site, outcome)
                built = True
            yield slug, outcome
        if built:
            _refresh_feed(site, log)  # once per run, like the manifest
    finally:
        executor.close()


def _refresh_feed(site: Settings, log: Log | None) -> None:
    """Keep audio/feed.xml current when the site has one; a failure is a warning."""
    from narrate.outputs.feed import refresh_feed

    try:
        refresh_feed(site)
    except (NarrateError, OSError) as exc:
        if log is not None:
            log(f"warning: audio/feed.xml was not refreshed: {exc}")


def _refresh_preview(p: Plan, site: Settings, result: BuildResult) -> None:
    """Rewrite a preview page written earlier; a failure is a warning (the audio is out)."""
    from narrate.web.page import refresh_preview

    try:
        refresh_preview(site.audio_dir, p.article, p.settings.pauses)
    except (NarrateError, OSError) as exc:
        result.warnings.append(f"`{p.slug}`: the preview page was not refreshed: {exc}")
