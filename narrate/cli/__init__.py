"""The command line: parse options, call one library function, print.

Commands are registered from the command table (:mod:`narrate.commands`). One error boundary
(:class:`_Boundary`) turns every :class:`~narrate.errors.NarrateError` into one line on stderr
and its exit status (see :mod:`narrate.errors`); Ctrl-C, SIGTERM and SIGHUP exit 130 with a line
saying what state the published files are in. ``NARRATE_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
import typer.core

from narrate.cli import build as build_cmd
from narrate.cli import feed as feed_cmd
from narrate.cli import init as init_cmd
from narrate.cli import lint as lint_cmd
from narrate.cli import site as site_cmd
from narrate.cli import tools as tools_cmd
from narrate.cli import verify as verify_cmd
from narrate.cli import web as web_cmd
from narrate.cli.common import err
from narrate.commands import COMMANDS
from narrate.errors import EXIT_ERROR, NarrateError
from narrate.outputs import publish as pub

__all__ = ["app", "main", "route"]

DEBUG_ENV = "NARRATE_DEBUG"


THREADS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
"""Set to 1 unless set: numpy's OpenBLAS would start a thread per core in every worker, each
with its own buffers, for arrays far too small to gain from them; under a memory limit it then
prints its own lines about threads it could not start."""


def _stop(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """Let SIGTERM and SIGHUP stop a command the way Ctrl-C does (main thread only).

    A signal that is ignored stays ignored: SIGHUP under ``nohup``, which a build must outlive.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {
        s: signal.signal(s, _stop)
        for s in (signal.SIGTERM, signal.SIGHUP)
        if signal.getsignal(s) not in (signal.SIG_IGN, None)
    }
    try:
        yield
    finally:
        if not _over:  # once over, they stay ignored (see _command_over)
            for s, handler in old.items():
                signal.signal(s, handler)


_MEMORY_SIGNS = (
    "failed to map segment",  # a library that could not be mapped
    "Cannot allocate memory",
    "error return without exception set",  # CPython's SystemError when an allocation failed
)
"""What an error says when memory ran out (the workers' equivalent is in narrate.synth.pool)."""


def _ran_out(exc: BaseException, mark: int) -> NarrateError | None:
    """Return the error for running out of memory (or threads), or None for any other error."""
    seen: BaseException | None = exc
    while seen is not None:
        text = str(seen).strip().splitlines()[0] if str(seen).strip() else ""
        if isinstance(seen, RuntimeError) and "can't start new thread" in text:
            what = (
                "a thread could not start (out of memory or processes); free some memory or "
                "raise the limits (ulimit -v, ulimit -u)"
            )
            break
        if isinstance(seen, MemoryError) or any(sign in text for sign in _MEMORY_SIGNS):
            why = f"{type(seen).__name__}: {text}" if text else type(seen).__name__
            what = f"out of memory ({why}); free some memory or raise the limit (ulimit -v)"
            break
        seen = seen.__cause__ or seen.__context__
    else:
        return None
    done = pub.published_since(mark, "that") or "the published files are unchanged"
    return NarrateError(f"{what} and run again; {done}")


_OWN_PROCESS = False
"""Whether the CLI is the process (:func:`main`), not a part of a caller's (a test's runner)."""
_over = False
"""Whether the command is over, in the CLI's own process (see :func:`_command_over`)."""


def _ignore_signals() -> None:
    if threading.current_thread() is threading.main_thread():
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)


def _command_over() -> None:
    """The command is over, its exit status decided: a signal now changes nothing.

    In narrate's own process SIGINT, SIGTERM and SIGHUP are then ignored: one would only print
    a second line, or a traceback from click or from the interpreter's teardown.
    """
    global _over
    if _OWN_PROCESS:
        _over = True
        _ignore_signals()


class _Boundary(typer.core.TyperGroup):
    """The one error boundary: every command runs inside :meth:`invoke`."""

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click.Context
        """Run the command; map narrate's errors and interrupts to a line and an exit status."""
        mark = pub.journal_mark()
        try:
            with _signals_interrupt():
                result = super().invoke(ctx)
            _command_over()
            return result
        except NarrateError as exc:
            _report(exc)
        except KeyboardInterrupt as exc:
            # Raised outside a build's scheduler (while an outcome was printed, say): what was
            # published comes from the journal, as the scheduler's own message does.
            _report(pub.interrupted(mark), exc)
        except BrokenPipeError:
            # The reader went away (`narrate status | head`): nothing more to say to it, and
            # nothing left to flush at exit (Python would print "Exception ignored" otherwise).
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(EXIT_ERROR) from None
        except (MemoryError, RuntimeError, ImportError, OSError, SystemError) as exc:
            error = _ran_out(exc, mark)
            if error is None:
                raise
            _report(error, exc)


def _report(exc: NarrateError, cause: BaseException | None = None) -> None:
    if os.environ.get(DEBUG_ENV):
        raise cause or exc
    _command_over()
    err(str(exc))
    raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    name="narrate",
    cls=_Boundary,
    help="Narrate articles offline: content/SLUG.yaml in, audio/SLUG.mp3 with chapters out.\n\n"
    "Short form: `narrate SLUG [options]` is `narrate build SLUG [options]`.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from narrate import __version__

        typer.echo(f"narrate {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Narrate articles offline (options that come before the command)."""


_COMMANDS: dict[str, Callable[..., None]] = {
    "build": build_cmd.build,
    "script": tools_cmd.script,
    "status": site_cmd.status,
    "check": site_cmd.check,
    "clean": site_cmd.clean,
    "embed": web_cmd.embed,
    "preview": web_cmd.preview,
    "voices": tools_cmd.voices,
    "say": tools_cmd.say,
    "doctor": tools_cmd.doctor,
    "import": tools_cmd.import_page,
    "feed": feed_cmd.feed,
    "init": init_cmd.init,
    "lint": lint_cmd.lint,
    "verify": verify_cmd.verify,
}
_GROUPS = {"cache": site_cmd.cache_app}

for _name in COMMANDS:
    if _name in _GROUPS:
        app.add_typer(_GROUPS[_name], name=_name)
    else:
        app.command(_name, help=_COMMANDS[_name].__doc__)(_COMMANDS[_name])


def route(argv: list[str]) -> list[str]:
    """Rewrite the short form `narrate SLUG ...` / `narrate -q SLUG ...` to `narrate build ...`."""
    if not argv:
        return argv
    first = argv[0]
    if first in ("-h", "--help", "--version") or first in COMMANDS:
        return argv
    return ["build", *argv]


def main() -> None:
    """Entry point of the `narrate` console script."""
    global _OWN_PROCESS
    _OWN_PROCESS = True
    for name in THREADS_ENV:  # before any worker starts (they inherit it)
        os.environ.setdefault(name, "1")
    try:
        with _signals_interrupt():  # already while typer builds its commands
            app(args=route(sys.argv[1:]), prog_name="narrate")
    except KeyboardInterrupt:  # before the boundary's invoke, or after it
        if os.environ.get(DEBUG_ENV):
            raise
        error = pub.interrupted()
        _command_over()
        err(str(error))
        sys.exit(error.exit_code)
    finally:
        _command_over()
