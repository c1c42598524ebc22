"""The middle of the flow: plan (keys), verified cache, one scheduler, assembly, freshness.

:func:`build_articles` is the library's build entry; :func:`plan_articles` plans without audio.
"""

from narrate.pipeline.results import BuildResult, Outcome, Progress
from narrate.pipeline.run import (
    BuildOptions,
    build_articles,
    load_resolved,
    plan_article,
    plan_articles,
)

__all__ = [
    "BuildOptions",
    "BuildResult",
    "Outcome",
    "Progress",
    "build_articles",
    "load_resolved",
    "plan_article",
    "plan_articles",
]
