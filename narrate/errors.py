"""The exception tree and exit statuses. The library raises these; the CLI prints one line.

Every message names what is wrong (file, line, field path or segment) and what to do about it.
Exit statuses: 0 success; 1 content or runtime error; 2 usage error; 3 (``check``) some outputs
are stale or missing; 4 (``lint``) risky tokens found; 130 interrupted (Ctrl-C, SIGTERM, SIGHUP).
"""

from __future__ import annotations

import errno
from pathlib import Path

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_STALE = 3
EXIT_FINDINGS = 4
"""``narrate lint`` found risky tokens (``verify``: recall below the threshold)."""
EXIT_INTERRUPTED = 130


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


class UnknownVoiceError(BackendError):
    """A backend has no voice by that name; ``suggestion`` is its closest voice, if any."""

    def __init__(self, message: str, *, suggestion: str | None = None) -> None:
        self.suggestion = suggestion
        super().__init__(message)


class SynthesisError(BackendError):
    """Synthesis of one segment failed even after a retry in a fresh worker."""

    def __init__(self, message: str, *, segment: str | None = None, key: str | None = None) -> None:
        self.segment = segment
        self.key = key
        """The cache key of the sentence that failed (it identifies the job)."""
        # The label already says which article, chapter, line and sentence.
        super().__init__(f"{segment}: {message}" if segment else message)


DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
"""A full disk, an exhausted quota, or a file-size limit (``ulimit -f``): all say "no space"."""


class OutputError(NarrateError):
    """Outputs could not be written (folder not writable, disk full); published files are intact."""

    @classmethod
    def writing(
        cls,
        exc: OSError,
        where: str,
        *,
        outcome: str = "the published files were not changed",
    ) -> OutputError:
        """Return the error for a failed write to ``where``, naming a full disk plainly."""
        if exc.errno in DISK_FULL_ERRNOS:
            why = "the disk is full (or a quota or file-size limit was reached); free some space"
        else:
            why = f"{exc.strerror or exc}; check that it is a writable folder"
        return cls(f"cannot write to {where}: {why} and run again; {outcome}")


class LockedError(NarrateError):
    """Another narrate run holds the lock on this article."""


class Interrupted(NarrateError):
    """The run was interrupted (Ctrl-C, SIGTERM, SIGHUP); the message says what was published."""

    exit_code = EXIT_INTERRUPTED

    def __init__(
        self, message: str = "the published files are unchanged and the cache is consistent"
    ) -> None:
        super().__init__(f"interrupted; {message}")
