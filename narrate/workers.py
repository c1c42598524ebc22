"""A pool of worker processes, each holding one reused backend, with per-job timeouts and one retry.

Speech engines hang, crash and return truncated audio now and then (pyttsx3's espeak driver most
of all), so each runs in a process the pool can time out, kill and replace. A failed job is
retried once in a fresh worker; a second failure raises :class:`SynthesisError` naming the
segment.

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
import pickle
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnProcess
from types import TracebackType
from typing import Any

from narrate.backends.base import SAMPLE_WIDTH, Audio, Backend
from narrate.config import VoiceSettings
from narrate.errors import BackendError, EnvironmentProblem, NarrateError, SynthesisError

__all__ = ["Job", "WorkerPool", "job_timeout"]

TIMEOUT_BASE = 20.0
"""Seconds every job may take, plus :data:`TIMEOUT_PER_CHAR` per character of text."""
TIMEOUT_PER_CHAR = 0.05
"""Extra seconds per character (espeak-ng speaks ~70 characters per ms; this is very generous)."""
TIMEOUT_SCALE_ENV = "NARRATE_TIMEOUT_SCALE"
"""Environment variable multiplying every job timeout (tests of hangs set it small)."""
STARTUP_TIMEOUT = 60.0
"""Seconds a worker may take to start and build its backend (not scaled)."""

_STOP_GRACE = 1.0  # seconds an idle worker gets to exit on its own at close()
_PARENT_POLL = 0.5  # seconds between a worker's checks that its parent is still alive


@dataclass(frozen=True)
class Job:
    """One piece of text to speak."""

    key: str
    """Cache key (hex) identifying the result."""
    text: str
    """Text to speak, already normalised."""
    voice: VoiceSettings
    """Voice and rate to speak it with."""
    label: str
    """Human name for errors, e.g. ``imagenet, Technical Details, sentence 3 ("The images…")``."""


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


def _audio_problem(audio: object) -> str | None:
    """Return why a backend's result is unusable, or None if it is fine."""
    if not isinstance(audio, Audio):
        return f"engine returned {type(audio).__name__} instead of audio"
    if audio.frames == 0 or audio.sample_rate <= 0 or len(audio.pcm) % SAMPLE_WIDTH:
        return "engine returned no audio"
    return None


def _reason(exc: BaseException) -> str:
    """Return a one-line reason for a failure."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, NarrateError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- the worker process ---------------------------------------------------------------------


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
        return BackendError(_reason(exc))
    return exc


def _worker_main(conn: Connection, factory: Callable[[], Backend], parent: int) -> None:
    """Build one backend and speak jobs from ``conn`` until told to stop."""
    # Ctrl-C reaches the whole process group; the parent decides when workers stop. (Workers
    # are born ignoring SIGINT, see _start_worker; this keeps it so.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_if_orphaned, args=(parent,), daemon=True).start()
    try:
        backend = factory()
    except BaseException as exc:
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
            conn.send(("error", seq, _reason(exc)))
            continue
        conn.send(("ok", seq, audio))
    backend.close()
    conn.close()
    # Skip interpreter teardown: an engine's own threads (espeak-ng's) can call back into a
    # half-finalised interpreter and crash it, turning a clean stop into a segfault.
    os._exit(0)


# --- the parent side ------------------------------------------------------------------------


@contextmanager
def _child_ignores_sigint() -> Iterator[None]:
    """Start children ignoring SIGINT, without losing a Ctrl-C meant for this process.

    A Ctrl-C while a spawned child imports its modules would print the child's KeyboardInterrupt
    traceback before ``_worker_main`` can ignore SIGINT. An ignored signal stays ignored across
    exec, so the child is started while SIGINT is ignored here; it is also blocked meanwhile, so
    a Ctrl-C that comes now is held (not dropped) and delivered to this process just after.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "pthread_sigmask"
    ):
        yield  # only the main thread may change signal handlers
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        # Whatever it was: Python's handler, SIG_IGN (started under nohup, or by a CI runner
        # that ignores SIGINT) or one set outside Python (None, which cannot be restored).
        signal.signal(signal.SIGINT, signal.default_int_handler if handler is None else handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


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

    def run(self, jobs: Sequence[Job]) -> Iterator[tuple[Job, Audio]]:
        """Speak ``jobs``, yielding ``(job, audio)`` as each completes (not in order)."""
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
            if w.task is None and w.process.is_alive():
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
            w.conn.close()
            w.process.close()

    # --- in-process mode --------------------------------------------------------------------

    def _run_in_process(self, jobs: Sequence[Job]) -> Iterator[tuple[Job, Audio]]:
        for job in jobs:
            reason = ""
            for _attempt in range(2):
                if self._backend is None:
                    self._backend = self._factory()
                try:
                    audio = self._backend.synthesise(job.text, job.voice)
                except Exception as exc:
                    reason = _reason(exc)
                else:
                    problem = _audio_problem(audio)
                    if problem is None:
                        break
                    reason = problem
                # Retry with a fresh backend (the engine itself may be process-wide).
                backend, self._backend = self._backend, None
                backend.close()
            else:
                raise SynthesisError(f"{reason}, again with a fresh engine", segment=job.label)
            yield job, audio

    # --- worker processes -------------------------------------------------------------------

    def _start_worker(self) -> _Worker:
        parent_conn, child_conn = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_worker_main,
            args=(child_conn, self._factory, os.getpid()),
            name="narrate-worker",
            daemon=True,
        )
        with _child_ignores_sigint():
            process.start()
        child_conn.close()  # the child holds its own copy; ours would hide its death from us
        worker = _Worker(process=process, conn=parent_conn, started=time.monotonic())
        self._workers.append(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        """Kill and reap a worker (no zombie is left behind)."""
        self._workers.remove(worker)
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join()
        worker.conn.close()
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

    def _run_in_workers(self, jobs: Sequence[Job]) -> Iterator[tuple[Job, Audio]]:
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
            w.timeout = job_timeout(task.job.text, self.timeout_scale)
            w.deadline = time.monotonic() + w.timeout

    def _next_wakeup(self) -> float | None:
        now = time.monotonic()
        times = [w.deadline for w in self._workers if w.deadline is not None]
        times += [w.started + STARTUP_TIMEOUT for w in self._workers if not w.ready]
        return max(0.0, min(times) - now) if times else None

    def _collect(self, queue: deque[_Task]) -> Iterator[tuple[Job, Audio]]:
        """Wait for worker messages, deaths or deadlines; yield finished jobs."""
        by_conn: dict[Any, _Worker] = {w.conn: w for w in self._workers}
        by_sentinel: dict[Any, _Worker] = {w.process.sentinel: w for w in self._workers}
        ready = wait([*by_conn, *by_sentinel], timeout=self._next_wakeup())
        # Messages first: a worker that answered and then died is judged on its answer.
        for obj in ready:
            w = by_conn.get(obj)
            if w is None or w not in self._workers:
                continue
            try:
                message = w.conn.recv()
            except (EOFError, OSError):
                self._failed(w, self._exit_reason(w))
                continue
            result = self._handle(w, message)
            if result is not None:
                yield result
        for obj in ready:
            w = by_sentinel.get(obj)
            if w is None or w not in self._workers or w.conn.poll():
                continue
            self._failed(w, self._exit_reason(w))
        now = time.monotonic()
        for w in list(self._workers):
            if w.conn.poll():
                continue  # an answer is waiting: read it on the next round
            if w.deadline is not None and now >= w.deadline:
                self._failed(w, f"engine timed out after {w.timeout:.1f} s")
            elif not w.ready and now >= w.started + STARTUP_TIMEOUT:
                self._discard(w)
                raise BackendError(f"a worker process did not start within {STARTUP_TIMEOUT:.0f} s")

    def _handle(self, w: _Worker, message: tuple[Any, ...]) -> tuple[Job, Audio] | None:
        kind = message[0]
        if kind == "ready":
            w.ready = True
            return None
        if kind == "fatal":
            # The factory failed: an environment problem that a retry would only repeat.
            self._discard(w)
            exc = message[1]
            raise exc if isinstance(exc, BaseException) else BackendError(str(exc))
        task = w.task
        if task is None or message[1] != task.seq:
            return None  # cannot happen with one job in flight per worker; ignore defensively
        if kind == "error":
            self._failed(w, str(message[2]))
            return None
        audio = message[2]
        problem = _audio_problem(audio)
        if problem is not None:
            self._failed(w, problem)
            return None
        w.task, w.deadline = None, None
        return task.job, audio

    def _failed(self, w: _Worker, reason: str) -> None:
        """Replace a failed worker; retry its task there once, or raise for a second failure."""
        task = w.task or w.reserved
        self._discard(w)
        if task is None:
            if not w.ready:
                raise BackendError(f"a worker process failed to start: {reason}")
            return  # an idle worker died; run() starts another if work remains
        if task.attempt >= 1:
            # Say it was retried: the editor then knows it is not a one-off hiccup.
            raise SynthesisError(
                f"{reason}, again on a retry in a fresh process", segment=task.job.label
            )
        fresh = self._start_worker()
        fresh.reserved = _Task(task.job, task.attempt + 1, task.seq)
