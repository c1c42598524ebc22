"""The scheduler's encode threads, which a signal cannot leave locked.

Chunks are encoded in threads (LAME releases the GIL). Python raises Ctrl-C's
KeyboardInterrupt in the main thread between any two bytecodes, including inside
``concurrent.futures`` and ``threading``, which are not safe against it: raised while
``wait()`` holds the futures' locks, or while ``submit()`` holds the pool's, it leaves a lock
held for ever, and the next ``shutdown()`` waits for ever (seen: a build with 450 encodes
queued ignored Ctrl-C until killed, about one run in twenty under load). So every call this
class makes into them runs with the signals held back (:func:`signals_deferred`), and a wait
wakes every :data:`TICK` seconds to act on a signal that came meanwhile, at a point where no
lock is held.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

from narrate.outputs.publish import signals_deferred

__all__ = ["Encodes"]

T = TypeVar("T")
Tag = TypeVar("Tag")

TICK = 0.05
"""Seconds a blocking wait holds a signal back at most (Ctrl-C is acted on within this)."""


class Encodes(Generic[Tag, T]):
    """A thread per core running submitted calls; each result comes back with its tag."""

    def __init__(self) -> None:
        cores = os.cpu_count() or 1
        self._pool = ThreadPoolExecutor(max_workers=cores, thread_name_prefix="encode")
        self._pending: dict[Future[T], Tag] = {}

    def __bool__(self) -> bool:
        """Whether any call is still pending (not yet returned by :meth:`done`)."""
        return bool(self._pending)

    def submit(self, tag: Tag, fn: Callable[..., T], *args: object) -> None:
        with signals_deferred():
            self._pending[self._pool.submit(fn, *args)] = tag

    def done(self, *, block: bool) -> list[tuple[Tag, T | BaseException]]:
        """Return the finished calls (at least one if ``block`` and any are pending)."""
        while self._pending:
            with signals_deferred():
                finished, _ = wait(
                    list(self._pending), timeout=TICK if block else 0, return_when=FIRST_COMPLETED
                )
                out: list[tuple[Tag, T | BaseException]] = []
                for fut in finished:
                    exc = fut.exception()
                    out.append((self._pending.pop(fut), fut.result() if exc is None else exc))
            if out or not block:
                return out
        return []

    def close(self) -> None:
        """Cancel the queued calls and wait for the running ones (a call's length at most)."""
        with signals_deferred():
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pending.clear()
