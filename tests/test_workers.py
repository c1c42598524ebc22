"""The worker pool: fault fakes prove timeouts, crashes, retries and cleanup; then real espeak."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from narrate.backends.pyttsx3 import Pyttsx3Backend
from narrate.config import VoiceSettings
from narrate.errors import EnvironmentProblem, SynthesisError
from narrate.workers import Job, WorkerPool, job_timeout
from tests.fakes import (
    BrokenBackend,
    CrashingBackend,
    EmptyBackend,
    FailOnceBackend,
    FakeBackend,
    HangingBackend,
    RaisingBackend,
)

ROOT = Path(__file__).resolve().parents[1]

# Job timeouts become (20 s + 0.05 s/char) * 0.02: about 0.4 s for these short texts.
FAST = 0.02


def make_jobs(*texts: str) -> list[Job]:
    return [
        Job(f"k{i}", t, VoiceSettings(), f"test, sentence {i} ({t!r})") for i, t in enumerate(texts)
    ]


def child_states() -> dict[int, str]:
    """Return pid -> process state ('Z' = zombie) for every child of this process."""
    me, states = os.getpid(), {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        if int(ppid) == me:
            states[int(entry.name)] = state
    return states


def assert_gone(pids: list[int]) -> None:
    children = child_states()
    assert not [p for p in pids if p in children], children
    assert "Z" not in children.values()
    assert multiprocessing.active_children() == []


@pytest.fixture
def fake_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NARRATE_FAKE_STATE", str(tmp_path))  # inherited by spawned workers
    return tmp_path


# --- timeouts -------------------------------------------------------------------------------


def test_timeout_grows_with_text_and_scale() -> None:
    assert job_timeout("") == 20.0
    assert job_timeout("x" * 100) == 25.0
    assert job_timeout("x" * 100, 0.1) == pytest.approx(2.5)


def test_timeout_scale_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NARRATE_TIMEOUT_SCALE", "0.5")
    assert WorkerPool(FakeBackend).timeout_scale == 0.5
    assert WorkerPool(FakeBackend, timeout_scale=2).timeout_scale == 2
    monkeypatch.setenv("NARRATE_TIMEOUT_SCALE", "fast")
    with pytest.raises(EnvironmentProblem, match="NARRATE_TIMEOUT_SCALE"):
        WorkerPool(FakeBackend)


# --- the happy path -------------------------------------------------------------------------


def test_thirty_jobs_on_two_processes_all_come_back() -> None:
    jobs = make_jobs(*(f"Sentence number {i} of the fake article." for i in range(30)))
    with WorkerPool(FakeBackend, 2) as pool:
        results = dict((job.key, audio) for job, audio in pool.run(jobs))
        assert len(pool.pids()) == 2
    assert sorted(results) == sorted(j.key for j in jobs)
    fake = FakeBackend()
    for job in jobs[:3]:  # the same audio as in this process: deterministic
        assert results[job.key] == fake.synthesise(job.text, job.voice)


def test_workers_are_reused_across_runs() -> None:
    with WorkerPool(FakeBackend, 1) as pool:
        list(pool.run(make_jobs("one")))
        first = pool.pids()
        list(pool.run(make_jobs("two", "three")))
        assert pool.pids() == first


@pytest.mark.parametrize("kwargs", [{"in_process": True}, {"processes": 0}])
def test_in_process_mode_starts_no_process(kwargs: dict[str, object]) -> None:
    with WorkerPool(FakeBackend, **kwargs) as pool:  # type: ignore[arg-type]
        results = list(pool.run(make_jobs("one two", "three")))
        assert pool.pids() == []
    assert [j.key for j, _ in results] == ["k0", "k1"]
    assert multiprocessing.active_children() == []


def test_daemonic_process_defaults_to_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # A Dask worker is daemonic and may not start children.
    class Daemon:
        daemon = True

    monkeypatch.setattr(multiprocessing, "current_process", lambda: Daemon())
    assert WorkerPool(FakeBackend).in_process


# --- failures -------------------------------------------------------------------------------


def test_hang_is_retried_in_a_fresh_worker_then_fails_naming_the_segment() -> None:
    jobs = make_jobs("fine words", "this will HANG forever", "more fine words")
    start = time.monotonic()
    with pytest.raises(SynthesisError) as info:
        with WorkerPool(HangingBackend, 2, timeout_scale=FAST) as pool:
            list(pool.run(jobs))
    elapsed = time.monotonic() - start
    timeout = job_timeout(jobs[1].text, FAST)
    assert info.value.segment == jobs[1].label
    assert str(info.value) == (
        f"{jobs[1].label}: engine timed out after {timeout:.1f} s, "
        "again on a retry in a fresh process"
    )
    assert 2 * timeout <= elapsed < 2 * timeout + 4  # two attempts, each given its full time


def test_hang_once_recovers_in_a_fresh_worker(fake_state: Path) -> None:
    jobs = make_jobs("fine words", "HANG only the first time")
    with WorkerPool(FailOnceBackend, 1, timeout_scale=FAST) as pool:
        results = list(pool.run(jobs[:1]))
        first_worker = pool.pids()
        results += pool.run(jobs[1:])
        assert pool.pids() != first_worker  # the hung worker was killed and replaced
    assert sorted(j.key for j, _ in results) == ["k0", "k1"]


def test_empty_audio_fails_after_one_retry() -> None:
    with pytest.raises(SynthesisError, match="engine returned no audio") as info:
        with WorkerPool(EmptyBackend, 2, timeout_scale=FAST) as pool:
            list(pool.run(make_jobs("fine", "EMPTY please", "fine too")))
    assert info.value.segment == "test, sentence 1 ('EMPTY please')"


def test_crash_fails_after_one_retry() -> None:
    with pytest.raises(SynthesisError, match="engine process exited with status 3"):
        with WorkerPool(CrashingBackend, 2, timeout_scale=FAST) as pool:
            list(pool.run(make_jobs("fine", "CRASH now")))


def test_backend_error_fails_after_one_retry_with_its_message() -> None:
    with pytest.raises(SynthesisError, match="fake engine failure"):
        with WorkerPool(RaisingBackend, 1, timeout_scale=FAST) as pool:
            list(pool.run(make_jobs("RAISE it")))


@pytest.mark.parametrize("marker", ["CRASH", "EMPTY", "RAISE"])
def test_failure_once_is_retried_and_succeeds(fake_state: Path, marker: str) -> None:
    jobs = make_jobs("one", f"{marker} the first time", "three", "four")
    with WorkerPool(FailOnceBackend, 2, timeout_scale=FAST) as pool:
        results = list(pool.run(jobs))
    assert sorted(j.key for j, _ in results) == ["k0", "k1", "k2", "k3"]
    assert len(list(fake_state.iterdir())) == 1  # exactly one first attempt was recorded


def test_in_process_retries_once(fake_state: Path) -> None:
    with WorkerPool(FailOnceBackend, in_process=True) as pool:
        assert len(list(pool.run(make_jobs("RAISE once", "EMPTY once")))) == 2
    with pytest.raises(SynthesisError, match="fake engine failure"):
        with WorkerPool(RaisingBackend, in_process=True) as pool:
            list(pool.run(make_jobs("RAISE always")))


def test_factory_failure_is_raised_as_is() -> None:
    with pytest.raises(EnvironmentProblem, match="fake engine is not installed"):
        with WorkerPool(BrokenBackend, 1) as pool:
            list(pool.run(make_jobs("hello")))
    assert multiprocessing.active_children() == []


# --- cleanup --------------------------------------------------------------------------------


def test_close_leaves_no_child_processes() -> None:
    pool = WorkerPool(FakeBackend, 2)
    list(pool.run(make_jobs("one", "two", "three")))
    pids = pool.pids()
    assert len(pids) == 2 and all(p in child_states() for p in pids)
    pool.close()
    assert_gone(pids)


def test_interrupt_while_a_worker_is_busy_leaves_no_child_processes() -> None:
    pids: list[int] = []
    with pytest.raises(KeyboardInterrupt):
        with WorkerPool(HangingBackend, 2) as pool:
            for _job, _audio in pool.run(make_jobs("HANG here", "fine words")):
                pids = pool.pids()
                raise KeyboardInterrupt  # Ctrl-C while the other worker is stuck
    assert len(pids) == 2
    assert_gone(pids)


def test_abandoned_run_kills_only_busy_workers() -> None:
    with WorkerPool(HangingBackend, 2) as pool:
        # The first worker ready takes the hang, so the fine words finish on the other one.
        run = pool.run(make_jobs("HANG here", "fine words"))
        next(run)
        run.close()  # the consumer gave up: the hung worker's result belongs to no one
        assert len(pool.pids()) == 1
        assert len(list(pool.run(make_jobs("still works")))) == 1


# --- the real engine ------------------------------------------------------------------------


@pytest.mark.e2e
def test_real_engine_in_two_worker_processes() -> None:
    texts = [
        "ImageNet is a large-scale dataset of labeled images.",
        "The images were collected from the internet and annotated by human workers.",
        "It became the benchmark for computer vision.",
        "Researchers competed each year to achieve the lowest error rate.",
    ]
    start = time.monotonic()
    first = None
    with WorkerPool(Pyttsx3Backend, 2) as pool:
        results = {}
        for job, audio in pool.run(make_jobs(*texts)):
            first = first or time.monotonic() - start
            results[job.key] = audio
    assert first is not None and first < 5  # measured ~0.1 s on 2 cores
    assert len(results) == 4
    for i, text in enumerate(texts):
        audio = results[f"k{i}"]
        nominal = len(text.split()) * 60 / 160
        assert audio.sample_rate == 22050
        assert 0.7 * nominal <= audio.duration <= 1.5 * nominal + 0.5


@pytest.mark.e2e
def test_parent_never_loads_espeak() -> None:
    # Workers are spawned: the parent must not carry espeak-ng's thread or library.
    code = """
        import os, sys
        from narrate.backends.pyttsx3 import Pyttsx3Backend
        from narrate.config import VoiceSettings
        from narrate.workers import Job, WorkerPool
        if __name__ == "__main__":
            with WorkerPool(Pyttsx3Backend, 1) as pool:
                [(job, audio)] = pool.run([Job("k", "Hello.", VoiceSettings(), "hello")])
            maps = open("/proc/self/maps").read()
            driver = "pyttsx3.drivers._espeak" in sys.modules
            print(audio.frames > 0, "libespeak-ng" in maps, driver)
    """
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "False"]
