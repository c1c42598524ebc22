"""`python -m narrate` and the `narrate` console script start the CLI here."""

import os
import signal

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
MEMORY_SIGNS = ("failed to map segment", "Cannot allocate memory")
"""What an ImportError or OSError says when a library could not be mapped into memory."""


def _stop(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _fail(line: str, status: int) -> None:
    for s in SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    os.write(2, f"narrate: error: {line}\n".encode())
    os._exit(status)


def run() -> None:
    """Start the CLI (the `narrate` console script and `python -m narrate` both come here).

    Importing the CLI takes a while: until its boundary is in place, SIGTERM and SIGHUP stop it
    as Ctrl-C does, and running out of memory is one line too. Nothing has been done yet, and
    the messages and statuses are narrate.errors' (Interrupted, EXIT_ERROR), spelt out here
    because importing even that may be what fails.
    """
    for sig in SIGNALS[1:]:
        if signal.getsignal(sig) == signal.SIG_DFL:
            signal.signal(sig, _stop)
    try:
        from narrate.cli import main
    except KeyboardInterrupt:
        _fail("interrupted; the published files are unchanged and the cache is consistent", 130)
    except (MemoryError, SystemError, ImportError, OSError) as exc:
        # SystemError: CPython itself failed to allocate ("error return without exception set").
        if not isinstance(exc, (MemoryError, SystemError)) and not any(
            sign in str(exc) for sign in MEMORY_SIGNS
        ):
            raise
        _fail(
            f"out of memory ({type(exc).__name__}) while starting; free some memory or raise "
            "the limit (ulimit -v) and run again; the published files are unchanged",
            1,
        )
    main()


if __name__ == "__main__":
    run()
