"""The worker pool: fault fakes prove timeouts, crashes, retries and cleanup; then real espeak."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Generator, Sequence
from pathlib import Path

import pytest

from narrate.errors import EnvironmentProblem, SynthesisError
from narrate.pcm import Audio
from narrate.settings.model import VoiceSettings
from narrate.synth.backends.pyttsx3 import Pyttsx3Backend
from narrate.synth.jobs import Job
from narrate.synth.pool import WorkerPool, job_timeout
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


def failed(outcomes: Sequence[tuple[Job, object]]) -> dict[str, SynthesisError]:
    """Return the failures among a pool's outcomes by job key (and check the rest is audio)."""
    out = {}
    for job, result in outcomes:
        if isinstance(result, SynthesisError):
            assert result.key == job.key and result.segment == job.label
            out[job.key] = result
        else:
            assert isinstance(result, Audio) and result.frames > 0, result
    return out


def test_hang_is_retried_in_a_fresh_worker_then_fails_naming_the_segment() -> None:
    jobs = make_jobs("fine words", "this will HANG forever", "more fine words")
    start = time.monotonic()
    with WorkerPool(HangingBackend, 2, timeout_scale=FAST) as pool:
        outcomes = list(pool.run(jobs))
    elapsed = time.monotonic() - start
    timeout = job_timeout(jobs[1].text, FAST)
    bad = failed(outcomes)
    assert sorted(j.key for j, _ in outcomes) == ["k0", "k1", "k2"]  # the others were spoken
    assert list(bad) == ["k1"]
    assert str(bad["k1"]) == (
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
    with WorkerPool(EmptyBackend, 2, timeout_scale=FAST) as pool:
        bad = failed(list(pool.run(make_jobs("fine", "EMPTY please", "fine too"))))
    assert list(bad) == ["k1"]
    assert "engine returned no audio" in str(bad["k1"])
    assert bad["k1"].segment == "test, sentence 1 ('EMPTY please')"


def test_crash_fails_after_one_retry() -> None:
    with WorkerPool(CrashingBackend, 2, timeout_scale=FAST) as pool:
        bad = failed(list(pool.run(make_jobs("fine", "CRASH now"))))
    assert list(bad) == ["k1"] and "engine process exited with status 3" in str(bad["k1"])


def test_backend_error_fails_after_one_retry_with_its_message() -> None:
    with WorkerPool(RaisingBackend, 1, timeout_scale=FAST) as pool:
        bad = failed(list(pool.run(make_jobs("RAISE it"))))
    assert str(bad["k0"]).endswith("fake engine failure, again on a retry in a fresh process")


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
    with WorkerPool(RaisingBackend, in_process=True) as pool:
        bad = failed(list(pool.run(make_jobs("RAISE always", "fine"))))
    assert list(bad) == ["k0"]
    assert "fake engine failure, again with a fresh engine" in str(bad["k0"])


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
        assert isinstance(run, Generator)
        next(run)
        run.close()  # the consumer gave up: the hung worker's result belongs to no one
        assert len(pool.pids()) == 1
        assert len(list(pool.run(make_jobs("still works")))) == 1


def test_every_worker_is_born_with_ctrl_c_blocked() -> None:
    """A Ctrl-C while a spawned worker imports its modules must wait for _worker_main.

    The first start() also starts multiprocessing's resource tracker, which unblocks SIGINT
    and SIGTERM after its own spawn: a worker spawned after it was born able to die of a
    Ctrl-C with a traceback. Run in a fresh interpreter, where no tracker runs yet.
    """
    script = textwrap.dedent(
        """
        import signal
        from multiprocessing import util
        from narrate.synth.pool import WorkerPool
        from narrate.synth.jobs import Job
        from narrate.settings.model import VoiceSettings
        from tests.fakes import FakeBackend

        real, masks = util.spawnv_passfds, []
        def spawn(path, args, passfds):
            masks.append((" ".join(map(str, args)), signal.pthread_sigmask(signal.SIG_BLOCK, [])))
            return real(path, args, passfds)
        util.spawnv_passfds = spawn
        with WorkerPool(FakeBackend, 2) as pool:
            jobs = [Job(f"k{i}", "words", VoiceSettings(), f"s{i}") for i in range(4)]
            assert len(list(pool.run(jobs))) == 4
        workers = [m for a, m in masks if "spawn_main" in a]
        assert len(workers) == 2, masks
        for mask in workers:
            assert {signal.SIGINT, signal.SIGTERM, signal.SIGHUP} <= mask, masks
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "ok", done.stderr


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
        assert isinstance(audio, Audio), audio
        nominal = len(text.split()) * 60 / 160
        assert audio.sample_rate == 22050
        assert 0.7 * nominal <= audio.duration <= 1.5 * nominal + 0.5


@pytest.mark.e2e
def test_parent_never_loads_espeak() -> None:
    # Workers are spawned: the parent must not carry espeak-ng's thread or library.
    code = """
        import os, sys
        from narrate.synth.backends.pyttsx3 import Pyttsx3Backend
        from narrate.settings.model import VoiceSettings
        from narrate.synth.jobs import Job
        from narrate.synth.pool import WorkerPool
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
