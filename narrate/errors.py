"""The exception tree. The library raises these; the CLI turns them into one-line messages.

Every message names what is wrong (file, line, field path or segment) and what to do about it.
"""

from __future__ import annotations

from pathlib import Path


class NarrateError(Exception):
    """Base of every error a user can cause or fix. The CLI prints ``str(err)`` and exits 1."""

    exit_code = 1


class ContentError(NarrateError):
    """An article or config file is malformed: names the file, line, column and field path."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.line = line
        self.column = column
        self.field = field
        self.detail = message
        where = ""
        if self.path is not None:
            where = str(self.path)
            if line is not None:
                where += f":{line}"
                if column is not None:
                    where += f":{column}"
            where += ": "
        at = f"{field}: " if field else ""
        super().__init__(f"{where}{at}{message}")


class ConfigError(ContentError):
    """The site config file is malformed."""


class UsageError(NarrateError):
    """The command line is wrong (bad slug, unknown option value). Exit status 2."""

    exit_code = 2


class UnknownArticleError(UsageError):
    """No article with that slug exists."""


class EnvironmentProblem(NarrateError):
    """A required engine, library or encoder is missing or broken; found before any work starts."""


class BackendError(NarrateError):
    """A TTS backend is unknown, missing an optional dependency, or failed."""


class SynthesisError(BackendError):
    """Synthesis of one segment failed even after a retry in a fresh worker."""

    def __init__(self, message: str, *, segment: str | None = None) -> None:
        self.segment = segment
        super().__init__(f"segment {segment}: {message}" if segment else message)


class OutputError(NarrateError):
    """Outputs could not be written (folder not writable, disk full); published files are intact."""


class LockedError(NarrateError):
    """Another narrate run holds the lock on this article."""
