"""Where sentences are synthesised: worker processes here, or a Dask cluster.

An :class:`Executor` takes batches of :class:`~narrate.synth.jobs.Job` s and yields each job with
its finished (trimmed, mastered) audio, or with the error that stopped it, as soon as it is
ready. What needs synthesising is decided before, by the content-addressed cache; where the
results go is decided after (the caller writes them to that cache). So an executor only moves
text and voice settings out and finished PCM back.

- :class:`LocalExecutor`: one :class:`~narrate.synth.pool.WorkerPool` per backend and loudness
  target, on this machine's cores.
- :class:`DaskExecutor`: one Dask task per sentence on a ``dask.distributed`` cluster (the
  ``narrate[dask]`` extra). Each Dask worker process builds a backend once and reuses it; tasks
  run in the worker's threads, where engines speak in-process (Dask workers are daemonic and may
  not start child processes).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Generator, Sequence
from typing import Any, Protocol

from narrate import __version__
from narrate.errors import BackendError, EnvironmentProblem, NarrateError, SynthesisError
from narrate.pcm import Audio
from narrate.settings.model import VoiceSettings
from narrate.synth import backends
from narrate.synth.backends.base import Backend
from narrate.synth.jobs import Batch, Job, Mastered, Outcome, audio_problem, reason

__all__ = [
    "Batch",
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "Mastered",
    "Outcome",
    "create",
    "synthesise_on_worker",
]

DASK_RETRIES = 1
"""Extra attempts Dask gives a sentence whose task raised (a worker's death is separate: the
scheduler reruns the tasks of a lost worker elsewhere, up to ``distributed.scheduler.
allowed-failures`` times)."""
DASK_CONNECT_TIMEOUT = 30.0
"""Seconds to wait for the Dask scheduler to answer."""
DASK_INSTALL_HINT = "pip install 'narrate[dask]'"


class Executor(Protocol):
    """Somewhere to synthesise sentences."""

    def describe(self, batch: Batch) -> str:
        """Return how ``batch`` will run, for a log line (e.g. ``2 workers``)."""
        ...

    def run(self, batches: Sequence[Batch]) -> Generator[Outcome, None, None]:
        """Yield every job of ``batches`` with its finished audio or error, as completed.

        Closing the iterator early stops the work still running.
        """
        ...

    def close(self) -> None:
        """Release workers and connections."""
        ...


# --- mastering where the engine runs ---------------------------------------------------------


# --- local worker processes ------------------------------------------------------------------


class LocalExecutor:
    """Worker processes on this machine: one pool per batch, on every core (or ``jobs``)."""

    def __init__(self, jobs: int | None = None) -> None:
        """Use ``jobs`` worker processes per pool (None: one per core)."""
        self.jobs = jobs

    def _procs(self, batch: Batch) -> int:
        return max(1, min(self.jobs or os.cpu_count() or 1, len(batch.jobs)))

    def describe(self, batch: Batch) -> str:
        """Return e.g. ``2 workers``."""
        n = self._procs(batch)
        return f"{n} worker{'s' if n > 1 else ''}"

    def run(self, batches: Sequence[Batch]) -> Generator[Outcome, None, None]:
        """Speak each batch on its own pool, one after the other, yielding as completed."""
        from narrate.synth.pool import WorkerPool

        for batch in batches:
            done: set[str] = set()
            try:
                factory = backends.factory(batch.backend)
                spec = Mastered(factory, batch.integrated_lufs, batch.true_peak_db)
                with WorkerPool(spec, processes=self._procs(batch)) as pool:
                    for job, result in pool.run(batch.jobs):
                        done.add(job.key)
                        yield job, result
            except NarrateError as exc:
                # The engine cannot start at all: every sentence left in the batch fails.
                yield from ((job, exc) for job in batch.jobs if job.key not in done)

    def close(self) -> None:
        """Nothing is kept between runs."""


# --- Dask ------------------------------------------------------------------------------------

# One backend per Dask worker process and factory, reused by every task (loading a voice model
# per sentence would cost more than speaking it). Tasks run in the worker's threads.
_ON_WORKER: dict[Callable[[], Backend], Backend] = {}
_ON_WORKER_LOCK = threading.Lock()


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return f"Dask worker {get_worker().address}"
    except (ImportError, ValueError):
        return "this process"


def synthesise_on_worker(
    factory: Callable[[], Backend], text: str, voice: VoiceSettings
) -> tuple[str, str, Audio]:
    """Speak one sentence with this process's backend; return (narrate version, token, audio).

    The version and the backend's cache token let the client refuse audio from a worker whose
    engine differs from its own (the cache key was computed on the client). A failure drops the
    backend, so Dask's retry starts a fresh one; the error is a plain :class:`BackendError`
    naming the worker, which pickles back to the client whatever the engine raised.
    """
    try:
        with _ON_WORKER_LOCK:
            backend = _ON_WORKER.get(factory)
            if backend is None:
                backend = _ON_WORKER[factory] = factory()
        token = backend.cache_token(voice)
        audio = backend.synthesise(text, voice)
        problem = audio_problem(audio)
        if problem is not None:
            raise BackendError(problem)
    except Exception as exc:
        with _ON_WORKER_LOCK:
            dropped = _ON_WORKER.pop(factory, None)
        if dropped is not None:
            dropped.close()
        raise BackendError(f"{reason(exc)} (on {_worker_name()})") from None
    return __version__, token, audio


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise EnvironmentProblem(
            f"--executor dask needs Dask's distributed scheduler ({exc.name or exc}): "
            f"run  {DASK_INSTALL_HINT}"
        ) from exc
    return distributed


class DaskExecutor:
    """A ``dask.distributed`` cluster: one task per sentence, results back to this process."""

    def __init__(self, scheduler: str, *, retries: int = DASK_RETRIES) -> None:
        """Connect lazily to the scheduler at ``scheduler`` (``tcp://HOST:PORT``)."""
        self.scheduler = scheduler
        self.retries = retries
        self._client: Any = None
        self._tokens: dict[tuple[str, VoiceSettings], str] = {}

    def client(self) -> Any:
        """Return the connected ``distributed.Client`` (connecting on first use)."""
        if self._client is None:
            distributed = _import_distributed()
            try:
                self._client = distributed.Client(
                    self.scheduler, timeout=DASK_CONNECT_TIMEOUT, set_as_default=False
                )
            except (OSError, TimeoutError, ValueError) as exc:
                raise EnvironmentProblem(
                    f"cannot reach the Dask scheduler at {self.scheduler} ({exc}); start one "
                    "with `dask scheduler` and workers with `dask worker ADDRESS`, or check "
                    "--scheduler / NARRATE_DASK_SCHEDULER"
                ) from exc
        return self._client

    def describe(self, batch: Batch) -> str:
        """Return e.g. ``Dask cluster at tcp://10.0.0.5:8786, 4 workers``."""
        n = len(self.client().scheduler_info(n_workers=-1).get("workers", {}))
        return f"Dask cluster at {self.scheduler}, {n} worker{'s' if n != 1 else ''}"

    def _expected(self, backend: str, voice: VoiceSettings) -> str:
        key = (backend, voice)
        if key not in self._tokens:
            self._tokens[key] = backends.create(backend).cache_token(voice)
        return self._tokens[key]

    def run(self, batches: Sequence[Batch]) -> Generator[Outcome, None, None]:
        """Submit every sentence at once; yield results as the cluster finishes them."""
        distributed = _import_distributed()
        client = self.client()
        futures: dict[str, tuple[Job, str]] = {}
        submitted: list[Any] = []
        for batch in batches:
            try:
                factory = backends.factory(batch.backend)
            except NarrateError as exc:
                yield from ((job, exc) for job in batch.jobs)
                continue
            spec = Mastered(factory, batch.integrated_lufs, batch.true_peak_db)
            jobs = list(batch.jobs)
            # Keys named by content: a sentence another client is already making is shared.
            batch_futures = client.map(
                synthesise_on_worker,
                [spec] * len(jobs),
                [j.text for j in jobs],
                [j.voice for j in jobs],
                key=[f"narrate-{j.key}" for j in jobs],
                retries=self.retries,
                pure=False,
            )
            for job, fut in zip(jobs, batch_futures, strict=True):
                futures[fut.key] = (job, batch.backend)
            submitted.extend(batch_futures)
        finished = False
        try:
            for fut in distributed.as_completed(submitted, loop=client.loop):
                job, backend = futures.pop(fut.key)
                yield job, self._outcome(fut, job, backend)
                fut.release()
            finished = True
        finally:
            if not finished:
                client.cancel([f for f in submitted if f.key in futures])

    def _outcome(self, fut: Any, job: Job, backend: str) -> Audio | NarrateError:
        if fut.status != "finished":
            exc = fut.exception()
            why = str(exc) if isinstance(exc, NarrateError) else f"{type(exc).__name__}: {exc}"
            return SynthesisError(
                f"{why}, after {self.retries} retry on Dask", segment=job.label, key=job.key
            )
        version, token, audio = fut.result()
        expected = self._expected(backend, job.voice)
        if (version, token) != (__version__, expected):
            return EnvironmentProblem(
                f"a Dask worker runs narrate {version} with engine {token!r}, this machine "
                f"narrate {__version__} with {expected!r}: install the same versions on every "
                "worker (its audio would not match its cache key)"
            )
        if not isinstance(audio, Audio):
            return SynthesisError(
                "the Dask worker returned no audio", segment=job.label, key=job.key
            )
        return audio

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        if self._client is not None:
            client, self._client = self._client, None
            client.close()


EXECUTORS = ("local", "dask")
"""Names accepted by :func:`create` (and ``--executor``)."""


def create(name: str, *, scheduler: str | None = None, jobs: int | None = None) -> Executor:
    """Return the executor called ``name``: ``local`` (``jobs`` processes) or ``dask``."""
    from narrate.errors import UsageError

    if name == "local":
        return LocalExecutor(jobs)
    if name == "dask":
        if not scheduler:
            raise UsageError(
                "--executor dask needs the scheduler's address: --scheduler tcp://HOST:PORT "
                "or NARRATE_DASK_SCHEDULER"
            )
        _import_distributed()  # a missing extra is reported before any work starts
        return DaskExecutor(scheduler)
    raise UsageError(f"--executor {name!r} is not known; use one of {', '.join(EXECUTORS)}")
