"""A pool of worker processes, each holding one reused backend, with per-job timeouts and one retry.

Speech engines hang, crash and return truncated audio now and then (pyttsx3's espeak driver most
of all), so each runs in a process the pool can time out, kill and replace. A failed job is
retried once in a fresh worker (the only place narrate retries); a second failure is that job's
outcome, a :class:`SynthesisError` naming the sentence and carrying its key, and the pool goes on
with the others.

Workers are started with ``spawn``: a fresh interpreter that inherits no engine state, locks or
threads from the parent. Forking a process that has started espeak-ng is unsafe (espeak runs its
own thread); the parent may have started it (a build lists the voices before any synthesis),
and spawn keeps that from mattering at all.

Measured on 2 cores, pool construction to first result with the real engine: spawn 0.10 s;
forkserver 0.12 s for the first pool in a process, 0.05 s for later ones, but it leaves a server
process running; fork 0.05 s, and unsafe. For a one-shot CLI run spawn costs nothing extra, and
:meth:`WorkerPool.close` leaves nothing running. Reusing one pool across articles avoids the
start-up cost altogether.

Daemonic processes (Dask workers) may not start children: there, ``in_process=True`` runs the
backend in the calling process. No timeout is possible in that mode (a hung engine cannot be
interrupted from the same process); failures are still retried once with a fresh backend.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnProcess
from types import TracebackType
from typing import Any

from narrate.errors import BackendError, EnvironmentProblem, SynthesisError
from narrate.outputs.publish import signals_deferred
from narrate.synth.backends.base import Backend
from narrate.synth.jobs import Job, Outcome, audio_problem, reason
from narrate.synth.worker import (
    OUT_OF_MEMORY,
    _worker_main,
)

__all__ = ["WorkerPool", "job_timeout"]

TIMEOUT_BASE = 20.0
"""Seconds every job may take, plus :data:`TIMEOUT_PER_CHAR` per character of text."""
TIMEOUT_PER_CHAR = 0.05
"""Extra seconds per character (espeak-ng speaks ~70 characters per ms; this is very generous)."""
TIMEOUT_SCALE_ENV = "NARRATE_TIMEOUT_SCALE"
"""Environment variable multiplying every job timeout (tests of hangs set it small)."""
STARTUP_TIMEOUT = 60.0
"""Seconds a worker may take to start and build its backend (not scaled)."""


_STOP_GRACE = 1.0  # seconds an idle worker gets to exit on its own at close()
_TAIL = 4096  # bytes of what a worker printed kept, to quote the last line


def job_timeout(text: str, scale: float = 1.0) -> float:
    """Return the seconds a job speaking ``text`` may take."""
    return (TIMEOUT_BASE + TIMEOUT_PER_CHAR * len(text)) * scale


def _env_timeout_scale() -> float:
    raw = os.environ.get(TIMEOUT_SCALE_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise EnvironmentProblem(f"{TIMEOUT_SCALE_ENV}={raw!r}: set it to a positive number")
    return value


# --- the parent side ------------------------------------------------------------------------


@dataclass
class _Task:
    job: Job
    attempt: int
    seq: int


@dataclass
class _Worker:
    process: SpawnProcess
    conn: Connection
    started: float
    ready: bool = False
    task: _Task | None = None
    deadline: float | None = None
    timeout: float = 0.0
    reserved: _Task | None = None
    """A retry that must run in this (fresh) worker before anything else."""
    said: Connection | None = None
    """What the worker and its engines print (see :func:`_worker_main`)."""
    tail: bytes = b""
    """The end of what it printed since its current task (or its start) began."""

    def read_said(self) -> None:
        """Take what the worker printed into :attr:`tail` (it never waits)."""
        while self.said is not None and self.said.poll(0):
            try:
                data = os.read(self.said.fileno(), 1 << 16)
            except OSError:
                data = b""
            if not data:  # the worker is gone
                self.said.close()
                self.said = None
                return
            self.tail = (self.tail + data)[-_TAIL:]

    def printed(self) -> str:
        """Return the last line the worker printed for its task, as `` (LINE)``, or ``""``."""
        self.read_said()
        lines = [line.strip() for line in self.tail.decode("utf-8", "replace").splitlines()]
        lines = [line for line in lines if line]
        self.tail = b""
        return f" ({lines[-1]})" if lines else ""

    def close(self) -> None:
        """Close the parent's ends of the worker's pipes."""
        self.conn.close()
        if self.said is not None:
            self.said.close()
            self.said = None


class WorkerPool:
    """Worker processes that speak :class:`Job` s with one reused backend each."""

    def __init__(
        self,
        factory: Callable[[], Backend],
        processes: int | None = None,
        *,
        in_process: bool = False,
        timeout_scale: float | None = None,
    ) -> None:
        """Prepare a pool; workers start at the first :meth:`run` (``None``: one per core).

        ``factory`` must be picklable (a backend class, or a module-level function). In a
        daemonic process ``processes=None`` means ``in_process=True``.
        """
        if processes is not None and processes < 0:
            raise ValueError("processes must be >= 0")
        if processes is None:
            processes = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
            processes = processes or os.cpu_count() or 1
            if multiprocessing.current_process().daemon:
                in_process = True
        self.in_process = in_process or processes == 0
        self.processes = processes
        self.timeout_scale = timeout_scale if timeout_scale is not None else _env_timeout_scale()
        if self.timeout_scale <= 0:
            raise ValueError("timeout_scale must be positive")
        self._factory = factory
        self._ctx = multiprocessing.get_context("spawn")  # why spawn: see the module docstring
        self._workers: list[_Worker] = []
        self._backend: Backend | None = None
        self._seq = 0
        self._closed = False

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def pids(self) -> list[int]:
        """Return the process ids of the live workers."""
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    def run(self, jobs: Sequence[Job]) -> Iterator[Outcome]:
        """Speak ``jobs``, yielding ``(job, audio or error)`` as each completes (not in order).

        A job that fails twice yields a :class:`SynthesisError`; an engine that cannot start
        at all raises (every job would fail the same way).
        """
        if self._closed:
            raise RuntimeError("the worker pool is closed")
        if self.in_process:
            return self._run_in_process(jobs)
        return self._run_in_workers(jobs)

    def close(self) -> None:
        """Stop every worker: idle ones are asked to exit, busy or stuck ones are killed."""
        self._closed = True
        if self._backend is not None:
            backend, self._backend = self._backend, None
            backend.close()
        workers, self._workers = self._workers, []
        for w in workers:
            # One still starting is killed too: it would finish starting (loading numpy, say)
            # before it read the request to stop, and close() would wait for it.
            if w.ready and w.task is None and w.process.is_alive():
                try:
                    w.conn.send(None)
                except OSError:
                    w.process.kill()
            else:
                w.process.kill()
        deadline = time.monotonic() + _STOP_GRACE
        for w in workers:
            w.process.join(max(0.0, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            w.close()
            w.process.close()

    # --- in-process mode --------------------------------------------------------------------

    def _run_in_process(self, jobs: Sequence[Job]) -> Iterator[Outcome]:
        for job in jobs:
            why = ""
            for _attempt in range(2):
                if self._backend is None:
                    self._backend = self._factory()
                try:
                    audio = self._backend.synthesise(job.text, job.voice)
                except Exception as exc:
                    why = reason(exc)
                else:
                    problem = audio_problem(audio)
                    if problem is None:
                        yield job, audio
                        break
                    why = problem
                # Retry with a fresh backend (the engine itself may be process-wide).
                backend, self._backend = self._backend, None
                backend.close()
            else:
                yield job, _failure(job, f"{why}, again with a fresh engine")

    # --- worker processes -------------------------------------------------------------------

    def _start_worker(self) -> _Worker:
        parent_conn, child_conn = self._ctx.Pipe()
        said, child_said = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(
            target=_worker_main,
            args=(child_conn, self._factory, os.getpid(), child_said),
            name="narrate-worker",
            daemon=True,
        )
        # A spawned child imports its modules before _worker_main runs: a Ctrl-C meanwhile would
        # print its KeyboardInterrupt traceback. So it is born with the signals blocked (a mask
        # survives fork and exec); they are held here too, until the pool knows the child, so
        # that a signal cannot leave one no one would stop. The first start() also starts
        # multiprocessing's resource tracker, which blocks SIGINT and SIGTERM around its own
        # spawn and then *unblocks* them, inside our block: it is started first.
        resource_tracker.ensure_running()
        with signals_deferred():
            process.start()
            child_conn.close()  # the child has its own copy; ours would hide its death from us
            child_said.close()
            worker = _Worker(process, parent_conn, time.monotonic(), said=said)
            self._workers.append(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        """Kill and reap a worker (no zombie is left behind)."""
        self._workers.remove(worker)
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join()
        worker.close()
        worker.process.close()

    def _exit_reason(self, worker: _Worker) -> str:
        worker.process.join(1.0)
        code = worker.process.exitcode
        if code is None:
            return "engine process stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"engine process was killed by {name}"
        return f"engine process exited with status {code}"

    def _run_in_workers(self, jobs: Sequence[Job]) -> Iterator[Outcome]:
        queue: deque[_Task] = deque()
        for job in jobs:
            self._seq += 1
            queue.append(_Task(job, 0, self._seq))
        outstanding = len(queue)
        finished = False
        try:
            while outstanding:
                # Start workers up to the work left (also replacing any that died while idle).
                while len(self._workers) < min(self.processes, outstanding):
                    self._start_worker()
                self._dispatch(queue)
                for job, audio in self._collect(queue):
                    outstanding -= 1
                    yield job, audio
            finished = True
        finally:
            if not finished:
                # Stopped early (error, Ctrl-C, consumer gave up): results still being made
                # belong to no one, so busy workers go; idle ones stay for the next run().
                for w in [w for w in self._workers if w.task is not None or w.reserved]:
                    self._discard(w)

    def _dispatch(self, queue: deque[_Task]) -> None:
        """Give every ready, idle worker its next task."""
        for w in list(self._workers):
            if not w.ready or w.task is not None:
                continue
            if w.reserved is not None:
                task, w.reserved = w.reserved, None
            elif queue:
                task = queue.popleft()
            else:
                continue
            try:
                w.conn.send((task.seq, task.job.text, task.job.voice))
            except OSError:
                # It died while idle: the job never started, so it keeps its attempt count.
                queue.appendleft(task)
                self._discard(w)
                continue
            w.task = task
            w.read_said()
            w.tail = b""  # what it prints from now on is about this task
            w.timeout = job_timeout(task.job.text, self.timeout_scale)
            w.deadline = time.monotonic() + w.timeout

    def _next_wakeup(self) -> float | None:
        now = time.monotonic()
        times = [w.deadline for w in self._workers if w.deadline is not None]
        times += [w.started + STARTUP_TIMEOUT for w in self._workers if not w.ready]
        return max(0.0, min(times) - now) if times else None

    def _collect(self, queue: deque[_Task]) -> Iterator[Outcome]:
        """Wait for worker messages, deaths or deadlines; yield finished jobs."""
        by_conn: dict[Any, _Worker] = {w.conn: w for w in self._workers}
        by_sentinel: dict[Any, _Worker] = {w.process.sentinel: w for w in self._workers}
        saying = [w.said for w in self._workers if w.said is not None]
        ready = wait([*by_conn, *by_sentinel, *saying], timeout=self._next_wakeup())
        for worker in self._workers:
            worker.read_said()  # keeps its pipe from filling up; quoted if it fails
        # Messages first: a worker that answered and then died is judged on its answer.
        for obj in ready:
            w = by_conn.get(obj)
            if w is None or w not in self._workers:
                continue
            try:
                message = w.conn.recv()
            except (EOFError, OSError):
                yield from self._failed(w, self._exit_reason(w))
                continue
            yield from self._handle(w, message)
        for obj in ready:
            w = by_sentinel.get(obj)
            if w is None or w not in self._workers or w.conn.poll():
                continue
            yield from self._failed(w, self._exit_reason(w))
        now = time.monotonic()
        for w in list(self._workers):
            if w.conn.poll():
                continue  # an answer is waiting: read it on the next round
            if w.deadline is not None and now >= w.deadline:
                yield from self._failed(w, f"engine timed out after {w.timeout:.1f} s")
            elif not w.ready and now >= w.started + STARTUP_TIMEOUT:
                self._discard(w)
                raise BackendError(f"a worker process did not start within {STARTUP_TIMEOUT:.0f} s")

    def _handle(self, w: _Worker, message: tuple[Any, ...]) -> Iterator[Outcome]:
        kind = message[0]
        if kind == "ready":
            w.ready = True
            w.printed()  # what it printed while starting: it started, so that was not an error
            return
        if kind == "fatal":
            # The factory failed: an environment problem that a retry would only repeat.
            self._discard(w)
            exc = message[1]
            raise exc if isinstance(exc, BaseException) else BackendError(str(exc))
        task = w.task
        if task is None or message[1] != task.seq:
            return  # cannot happen with one job in flight per worker; ignore defensively
        if kind == "error":
            yield from self._failed(w, str(message[2]))
            return
        audio = message[2]
        problem = audio_problem(audio)
        if problem is not None:
            yield from self._failed(w, problem)
            return
        w.task, w.deadline = None, None
        yield task.job, audio

    def _failed(self, w: _Worker, why: str) -> Iterator[Outcome]:
        """Replace a failed worker; retry its task there once, or yield its failure."""
        task = w.task or w.reserved
        printed = w.printed()  # what it (or its engine) printed about it, if anything
        if printed:
            said_memory = "memory" in printed.lower() and OUT_OF_MEMORY not in why
            why += printed + (f"; {OUT_OF_MEMORY}" if said_memory else "")
        self._discard(w)
        if task is None:
            if not w.ready:
                raise BackendError(f"a worker process failed to start: {why}")
            return  # an idle worker died; run() starts another if work remains
        if task.attempt >= 1:
            # Say it was retried: the editor then knows it is not a one-off hiccup.
            yield task.job, _failure(task.job, f"{why}, again on a retry in a fresh process")
            return
        fresh = self._start_worker()
        fresh.reserved = _Task(task.job, task.attempt + 1, task.seq)


def _failure(job: Job, why: str) -> SynthesisError:
    return SynthesisError(why, segment=job.label, key=job.key)
