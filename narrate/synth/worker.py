"""The worker process's side of the pool: build one backend, speak jobs, die quietly.

A worker never outlives the narrate that started it (``die_with_parent``, and a thread that
watches for its parent's death), never prints a traceback when its parent has gone, and says in
one line why it could not start or speak (running out of memory included).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from narrate.errors import BackendError, NarrateError
from narrate.outputs.publish import SIGNALS
from narrate.synth.backends.base import Backend
from narrate.synth.jobs import reason

DEBUG_ENV = "NARRATE_DEBUG"
"""Set (as for the CLI): a worker's own error is a traceback on stderr, not a line to quote."""
EXIT_DIED = 70
"""A worker's exit status when it dies of an error of its own (EX_SOFTWARE)."""
_PARENT_POLL = 0.5  # seconds between a worker's checks that its parent is still alive


def _exit_if_orphaned(parent: int) -> None:
    # A worker stuck in the engine never reads the EOF its pipe gets when the parent dies;
    # without this it would run on forever.
    while True:
        time.sleep(_PARENT_POLL)
        if os.getppid() != parent:
            os._exit(1)


def _portable(exc: BaseException) -> BaseException:
    """Return ``exc`` if it survives pickling, else a BackendError with its message."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return BackendError(reason(exc))
    return exc


_ARMED: int | None = None
"""This process's pid once it called :func:`die_with_parent`; a child it forks inherits the
value, which names the parent that child must have."""


def die_with_parent(parent: int | None = None) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (a no-op elsewhere).

    The check of :func:`_exit_if_orphaned` cannot run in a process that is stopped (SIGSTOP) or
    stuck in C code; this one can, so nothing narrate started outlives it. A parent that died
    before the request was made is not seen by it: then this process exits now. ``parent`` is
    the pid the parent must have; by default, for a child forked by a process that called this
    function, that process.
    """
    global _ARMED
    expected = parent if parent is not None else _ARMED
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    _ARMED = os.getpid()
    if expected is not None and os.getppid() != expected:
        os._exit(1)


_MEMORY_SIGNS = (
    "failed to map segment",  # a library that could not be mapped
    "Cannot allocate memory",
    "can't start new thread",
    # CPython's SystemError when an allocation failed inside the interpreter, in its two wordings
    "error return without exception set",
    "returned NULL without setting an exception",
)
"""What an error says when memory (address space, a thread's stack) ran out."""


def _out_of_memory(exc: BaseException) -> BaseException | None:
    """Return the deepest error in ``exc``'s chain that says memory ran out, or None.

    The deepest: numpy's ImportError quotes the one it was raised from, which says it better.
    """
    found = None
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MemoryError) or any(sign in str(seen) for sign in _MEMORY_SIGNS):
            found = seen
        seen = seen.__cause__ or seen.__context__
    return found


OUT_OF_MEMORY = "free some memory or raise the limit (ulimit -v)"


def _why(exc: BaseException) -> str:
    """Return a one-line reason for a failure, saying so plainly when memory ran out."""
    cause = _out_of_memory(exc)
    if cause is not None:
        return f"out of memory ({reason(cause)}); {OUT_OF_MEMORY}"
    return reason(exc)


def _worker_main(
    conn: Connection, factory: Callable[[], Backend], parent: int, said: Connection
) -> None:
    """Build one backend and speak jobs from ``conn`` until told to stop.

    What the worker and its engines print goes to ``said``, not to the terminal: the parent
    quotes the last line in the failure it explains (OpenBLAS or espeak-ng, out of memory,
    print a line and exit), and so the reason the worker dies of an error of its own (no
    traceback: the parent reports a worker's death in one line). ``NARRATE_DEBUG`` keeps it
    all on stderr.
    """
    # Ctrl-C reaches the whole process group; the parent decides when workers stop. Workers are
    # born with SIGINT, SIGTERM and SIGHUP blocked (see _start_worker): a Ctrl-C that came while
    # this one imported its modules is pending, and ignoring SIGINT drops it, before any
    # traceback. (A SIGTERM or SIGHUP still ends a worker, quietly.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
    die_with_parent(parent)
    if not os.environ.get(DEBUG_ENV):
        os.dup2(said.fileno(), 2)
    try:
        threading.Thread(target=_exit_if_orphaned, args=(parent,), daemon=True).start()
    except RuntimeError:
        pass  # no thread to spare (out of memory or processes): die_with_parent() must do
    try:
        _serve(conn, factory)
    except (BrokenPipeError, EOFError, ConnectionError):
        pass  # the parent is gone (killed, or stopped early): nothing to report, no traceback
    except BaseException as exc:  # out of memory even to say so, say
        if os.environ.get(DEBUG_ENV):
            raise
        with contextlib.suppress(BaseException):
            os.write(said.fileno(), f"{_why(exc)}\n".encode())
        os._exit(EXIT_DIED)
    # Skip interpreter teardown: an engine's own threads (espeak-ng's) can call back into a
    # half-finalised interpreter and crash it, turning a clean stop into a segfault.
    os._exit(0)


def _serve(conn: Connection, factory: Callable[[], Backend]) -> None:
    try:
        backend = factory()
        # numpy, for mastering, is loaded now, not at the first sentence: if it cannot be (out
        # of memory), the worker fails to start, once, rather than every sentence failing.
        import narrate.audio.master  # noqa: F401
    except BaseException as exc:
        if not isinstance(exc, NarrateError):  # one line in the parent, not a traceback
            exc = BackendError(f"a worker process failed to start: {_why(exc)}")
        conn.send(("fatal", _portable(exc)))
        return
    conn.send(("ready",))
    while True:
        try:
            message = conn.recv()
        except EOFError:
            break
        if message is None:
            break
        seq, text, voice = message
        try:
            audio = backend.synthesise(text, voice)
        except Exception as exc:
            conn.send(("error", seq, _why(exc)))
            continue
        conn.send(("ok", seq, audio))
    backend.close()
    conn.close()
