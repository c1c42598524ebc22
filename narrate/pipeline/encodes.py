"""The scheduler's encode threads, built so that Ctrl-C cannot leave them locked.

Chunks are encoded in threads (LAME releases the GIL). Python raises Ctrl-C's KeyboardInterrupt
in the main thread between any two bytecodes, including inside ``concurrent.futures`` and
``threading``'s Python-level locking, which is not safe against it: raised while ``wait()`` or
``submit()`` holds a future's or the pool's lock, it leaves that lock held, and the next
``shutdown()`` waits for ever (seen: a build with 450 encodes queued ignored Ctrl-C until it was
killed; a storm of Ctrl-Cs hung ThreadPoolExecutor 4 runs in 4). Holding the signals back
around each call was tried and loses a signal now and then (``pthread_sigmask`` itself runs the
handlers, so a Ctrl-C can land between blocking and the ``try`` that would unblock).

So this pool is written by hand on :class:`queue.SimpleQueue`, whose ``put`` and ``get`` are C
calls: interrupted, ``get`` raises without taking an item, and nothing stays locked. The main
thread never touches a Python-level lock here but to start the threads, once, on the first
call (a no-op build starts none).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Encodes"]

JOIN_S = 30.0
"""Seconds :meth:`Encodes.close` waits for a thread (an encode takes well under one)."""
T = TypeVar("T")
Tag = TypeVar("Tag")


class Encodes(Generic[Tag, T]):
    """A thread per core running submitted calls; each result comes back with its tag."""

    def __init__(self) -> None:
        self._tasks: queue.SimpleQueue[tuple[Any, Callable[..., Any], tuple[object, ...]] | None]
        self._tasks = queue.SimpleQueue()
        self._results: queue.SimpleQueue[tuple[Any, Any]] = queue.SimpleQueue()
        self._pending = 0
        self._cancelled = False
        self._threads: list[threading.Thread] = []

    def __bool__(self) -> bool:
        """Whether any call is still pending (not yet returned by :meth:`done`)."""
        return self._pending > 0

    def submit(self, tag: Tag, fn: Callable[..., T], *args: object) -> None:
        if not self._threads:
            for n in range(os.cpu_count() or 1):
                thread = threading.Thread(target=self._serve, name=f"encode-{n}", daemon=True)
                self._threads.append(thread)
                thread.start()
        self._pending += 1
        self._tasks.put((tag, fn, args))

    def done(self, *, block: bool) -> list[tuple[Tag, T | BaseException]]:
        """Return the finished calls (at least one if ``block`` and any are pending)."""
        out: list[tuple[Tag, T | BaseException]] = []
        if block and self._pending:
            out.append(self._results.get())
            self._pending -= 1
        while self._pending:
            try:
                out.append(self._results.get_nowait())
            except queue.Empty:
                break
            self._pending -= 1
        return out

    def close(self) -> None:
        """Skip the queued calls and wait for the running ones (a call's length at most)."""
        self._cancelled = True
        for _ in self._threads:
            self._tasks.put(None)
        for thread in self._threads:
            thread.join(JOIN_S)  # daemons: one that cannot be joined is left, not waited for
        self._threads.clear()
        self._pending = 0

    def _serve(self) -> None:
        while (task := self._tasks.get()) is not None:
            if self._cancelled:
                continue
            tag, fn, args = task
            try:
                result: Any = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                result = exc
            self._results.put((tag, result))
