"""What a build reports: each article's result, and progress while it runs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from narrate.errors import NarrateError

__all__ = ["BuildResult", "Outcome", "Progress"]


@dataclass
class BuildResult:
    """What one article's build did (printed by the CLI, or as JSON with --json)."""

    slug: str
    status: str
    """"built" or "up to date"."""
    synthesised: int = 0
    reused: int = 0
    total: int = 0
    """Sentences in the article."""
    chapters_reencoded: int = 0
    """Chapters in which something was re-encoded."""
    chunks_reencoded: int = 0
    """Separately encoded stretches (one per sentence) re-encoded."""
    chunks: int = 0
    chapters: int = 0
    duration: float = 0.0
    seconds: float = 0.0
    """Seconds from the start of the run until this article was done."""
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Problems that did not stop the build (e.g. a preview page that could not be refreshed)."""

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return dataclasses.asdict(self)


Outcome: TypeAlias = "tuple[str, BuildResult | NarrateError]"
"""An article's slug and its result, or the error that stopped it."""


@dataclass(frozen=True)
class Progress:
    """How far a build has got."""

    articles_done: int
    """Articles published, confirmed up to date or failed."""
    articles: int
    sentences_done: int
    """Sentences synthesised (or failed) so far in this run."""
    sentences: int
    """Sentences this run has to synthesise (the cache holds the others)."""
    elapsed: float
    """Seconds since the run started."""

    @property
    def eta(self) -> float | None:
        """Return the estimated seconds left (None until the first sentence is done)."""
        if self.sentences_done >= self.sentences:
            return 0.0
        if self.sentences_done == 0 or self.elapsed <= 0:
            return None
        return (self.sentences - self.sentences_done) * self.elapsed / self.sentences_done
