"""A build stopped at any instant leaves whole output sets and says truly which; it stops at
once; it dies quietly and leaves no process behind; running out of memory is one line.

Issue "Trust", parts 2 and 6. Builds run the real CLI in a subprocess, as a user would: with the
fake slow engine of ``tests/fakes.py`` (through ``tests/run_with_fakes.py``) where timing is the
point, with the real engine where its processes are. Signals go to the narrate process itself
(``os.kill`` on its pid), not only to its process group: it has other threads (encoders,
OpenBLAS's), and the kernel hands a signal sent to a process to any thread that does not block
it.

Some windows are too short to hit by timing (a set's renames take microseconds): there a wrapper
around the CLI (:data:`WRAP`) makes one step slow, and says on stderr when it is in it.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from narrate.outputs import publish as pub
from tests.helpers import FAKES_RUNNER, ROOT, copy_site
from tests.test_faults import extend_article, leftovers, seg_count, wait_for

SLUG = "imagenet"
NAMES = [f"{SLUG}{suffix}" for suffix in (*pub.OUTPUTS, pub.RECORD)]
"""The article's output set."""
FAKE_CONFIG = {"backend: pyttsx3": "backend: slow"}
"""The site speaks with the fake slow engine (NARRATE_FAKE_DELAY seconds a sentence)."""
DELAY = "0.03"
THREE = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
UNCHANGED = (
    "narrate: error: interrupted; the published files are unchanged and the cache is consistent"
)
PUBLISHED = (
    f"narrate: error: interrupted; published before the interrupt: {SLUG}; every other article "
    "keeps its previous files; the cache is consistent"
)

Set = dict[str, bytes | None]


# --- running narrate ----------------------------------------------------------------------


def default_signals() -> None:
    """Give the child the default actions, whatever this process ignores (nohup, CI)."""
    for s in THREE:
        signal.signal(s, signal.SIG_DFL)


WRAP = r"""
import os, runpy, sys, time

ROOT, STEP = sys.argv.pop(1), sys.argv.pop(1)
sys.path.insert(0, ROOT)


def say(what):
    os.write(2, f"@@ {what}\n".encode())


if STEP == "rename":  # each of the article's renames takes 0.15 s
    real_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        real_replace(src, dst, *args, **kwargs)
        dst = os.path.abspath(dst)
        name = os.path.basename(dst)
        if os.path.basename(os.path.dirname(dst)) == "audio" and name.startswith("imagenet."):
            say("renamed " + name)
            time.sleep(0.15)

    os.replace = replace
elif STEP == "start":  # starting each worker takes 0.3 s more
    import multiprocessing.context

    real_start = multiprocessing.context.SpawnProcess.start

    def start(self):
        real_start(self)
        say("started a worker")
        time.sleep(0.3)

    multiprocessing.context.SpawnProcess.start = start
elif STEP == "outcome":  # handling a built article's outcome takes 0.3 s more
    import narrate.pipeline.run

    real_refresh = narrate.pipeline.run._refresh_preview

    def refresh(*args):
        real_refresh(*args)
        say("handling the outcome")
        time.sleep(0.3)

    narrate.pipeline.run._refresh_preview = refresh
elif STEP == "import":  # importing the CLI takes 0.3 s more
    import importlib.abc

    class Slow(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name == "narrate.cli.build":
                say("importing the CLI")
                time.sleep(0.3)
            return None

    sys.meta_path.insert(0, Slow())
    sys.argv[0] = "narrate"
    runpy.run_module("narrate", run_name="__main__", alter_sys=True)
    sys.exit()

runner = os.path.join(ROOT, "tests", "run_with_fakes.py")
sys.argv[0] = runner
runpy.run_path(runner, run_name="__main__")
"""
"""``python -c WRAP ROOT STEP ARGS...``: the CLI (with the fakes, except for ``import``) with one
step made slow; a line ``@@ ...`` on stderr says it is under way."""


def launch(
    site: Path,
    *args: str,
    env: dict[str, str] | None = None,
    real: bool = False,
    slow: str | None = None,
    preexec_fn: Callable[[], None] = default_signals,
    stderr: int | object = subprocess.PIPE,
) -> subprocess.Popen[str]:
    """Start narrate in ``site`` (fake engines unless ``real``), in its own session."""
    environ = {**os.environ, "NARRATE_FAKE_DELAY": DELAY, **(env or {})}
    environ.pop("NARRATE_DEBUG", None)
    environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), environ.get("PYTHONPATH")) if p)
    if slow is not None:
        cmd = [sys.executable, "-c", WRAP, str(ROOT), slow]
    elif real:
        cmd = [sys.executable, "-m", "narrate"]
    else:
        cmd = [sys.executable, str(FAKES_RUNNER)]
    proc = subprocess.Popen(
        [*cmd, *args],
        cwd=site,
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,  # type: ignore[arg-type]
        text=True,
        start_new_session=True,
        preexec_fn=preexec_fn,
    )
    LAUNCHED.append(proc)
    return proc


LAUNCHED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def no_process_left() -> Iterator[None]:
    """Whatever a test asserted, end the narrate sessions it started and left running."""
    yield
    while LAUNCHED:
        proc = LAUNCHED.pop()
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[str, str]:
    """Return the process's stdout and stderr once it has exited; kill its session if it hangs."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # it and its workers (they share its session)
        proc.communicate()
        raise AssertionError(f"narrate still ran after {timeout:.0f} s") from None


def narrate(site: Path, *args: str, real: bool = False) -> subprocess.CompletedProcess[str]:
    """Run narrate in ``site`` to the end (no fake delay)."""
    proc = launch(site, *args, real=real, env={"NARRATE_FAKE_DELAY": "0"})
    out, err = finish(proc, 300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def catches(pid: int, sig: int) -> bool:
    """Return whether process ``pid`` has a handler for ``sig`` (from /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) >> (sig - 1) & 1)


def wait_ready(proc: subprocess.Popen[str]) -> None:
    """Wait until narrate's boundary handles SIGTERM (the fakes' runner imports a lot first)."""
    wait_for(lambda: catches(proc.pid, signal.SIGTERM) or proc.poll() is not None, 60)


def wait_line(proc: subprocess.Popen[str], marker: str) -> list[str]:
    """Read stderr up to the line containing ``marker``; return the lines read."""
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"no {marker!r} in {lines}")


def processes_in(folder: Path) -> list[int]:
    """Return the processes whose working folder is ``folder`` (all that narrate started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")) == folder:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def children(pid: int) -> list[int]:
    """Return the processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def state_of(pid: int) -> str:
    """Return the one-letter state of ``pid`` (``T``: stopped), or ``""`` if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat[stat.rindex(")") + 2]


# --- what is on disk ----------------------------------------------------------------------


def the_set(audio: Path) -> Set:
    """Return the article's output set (None for a missing file)."""
    return {n: (audio / n).read_bytes() if (audio / n).is_file() else None for n in NAMES}


def manifest_sha(audio: Path) -> str | None:
    try:
        data = json.loads((audio / pub.MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    entry = data.get("articles", {}).get(SLUG)
    return entry.get("sha256") if isinstance(entry, dict) else None


def status_of(site: Path) -> str:
    """Return what `narrate status` says of the article (fresh, stale, mismatched...)."""
    result = narrate(site, "status")
    line = next(line for line in result.stdout.splitlines() if line.startswith(SLUG + " "))
    return line.split()[1]


@dataclass(frozen=True)
class Sets:
    """A site whose article was built (the old set) and then edited, and the set it makes."""

    base: Path
    """The site: the old set published, the cache of the old build, the article edited."""
    old: Set
    new: Set
    seconds: float
    """How long the build of the new set takes, from when narrate handles signals to its exit."""


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> Sets:
    base = copy_site(tmp_path_factory.mktemp("base"), config_edits=FAKE_CONFIG)
    first = narrate(base, "build", SLUG, "-q")
    assert first.returncode == 0, first.stderr
    old = the_set(base / "audio")
    extend_article(base, 20)
    ref = tmp_path_factory.mktemp("ref") / "site"
    shutil.copytree(base, ref)
    proc = launch(ref, "build", SLUG, "-q")
    wait_ready(proc)
    t0 = time.monotonic()
    _, err = finish(proc, 120)
    seconds = time.monotonic() - t0
    assert proc.returncode == 0, err
    new = the_set(ref / "audio")
    assert None not in old.values() and None not in new.values()
    assert all(old[n] != new[n] for n in NAMES if not n.endswith("chapters.vtt"))
    return Sets(base, old, new, seconds)


def fresh_copy(sets: Sets, tmp_path: Path, name: str) -> Path:
    site = tmp_path / name
    shutil.copytree(sets.base, site)
    return site


def gone(site: Path) -> None:
    """Wait (5 s at most) until no process narrate started is left."""
    deadline = time.monotonic() + 5
    while processes_in(site):
        if time.monotonic() > deadline:
            left = {pid: Path(f"/proc/{pid}/cmdline").read_bytes() for pid in processes_in(site)}
            raise AssertionError(f"outlived narrate: {left}")
        time.sleep(0.01)


def check_stopped(site: Path, sets: Sets, sig: int | None, rc: int, err: str) -> str:
    """Check a build stopped by ``sig`` left a whole set and said which; return which.

    ``sig`` None: the build was over before the signal could be sent.
    """
    audio = site / "audio"
    now = the_set(audio)
    which = "old" if now == sets.old else "new" if now == sets.new else "mixed"
    err = "".join(line for line in err.splitlines(True) if not line.startswith("@@ "))
    gone(site)
    if sig is None:
        assert (rc, which, err) == (0, "new", "")
        return which
    if sig == signal.SIGKILL:
        assert rc == -signal.SIGKILL
        assert err == "", err  # not a word, from narrate or from its workers
        if which == "mixed":
            assert status_of(site) == "mismatched"
        if which == "mixed" or leftovers(audio):
            repaired = narrate(site, "build", SLUG, "-q")
            assert repaired.returncode == 0, repaired.stderr
            assert the_set(audio) == sets.new
            assert not leftovers(audio)
        return which
    assert "Traceback" not in err, err
    assert which != "mixed", f"{signal.Signals(sig).name} left a set half old, half new"
    if rc == 0:  # came after the command was over, its status decided: nothing was stopped
        assert which == "new" and err == "", err
    else:
        assert rc == 130, (rc, err)
        assert err.splitlines() == [UNCHANGED if which == "old" else PUBLISHED], err
    assert not leftovers(audio)
    assert manifest_sha(audio) == pub.sha256_file(audio / f"{SLUG}.mp3")
    return which


def stop(proc: subprocess.Popen[str], sig: int, *, freeze: bool = False) -> None:
    """Send ``sig`` to narrate; ``freeze``: while it is stopped (SIGSTOP), so where it is now."""
    if freeze:
        os.kill(proc.pid, signal.SIGSTOP)
    os.kill(proc.pid, sig)
    if freeze and sig != signal.SIGKILL:
        os.kill(proc.pid, signal.SIGCONT)


# --- 1. whole sets, whatever the instant --------------------------------------------------


ALL = [*THREE, signal.SIGKILL]
PER_SIGNAL = 4
"""Instants per signal; the signals' instants interleave, so together they are 16 instants
spread over the build's whole duration (and 8 more during its publish)."""


def watch_publish(audio: Path, proc: subprocess.Popen[str], event: str) -> None:
    """Wait until the publish of the new set begins (``writing``) or its last rename is done."""
    record = audio / f"{SLUG}{pub.RECORD}"
    before = record.stat().st_ino

    def seen() -> bool:
        if proc.poll() is not None:
            return True
        if event == "writing":
            return any(n.startswith(f".{SLUG}.") and n.endswith(".part") for n in os.listdir(audio))
        try:
            return record.stat().st_ino != before
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 60
    while not seen():
        assert time.monotonic() < deadline, "the publish never began"
        time.sleep(0.0002)


@pytest.mark.parametrize("sig", ALL, ids=lambda s: signal.Signals(s).name)
def test_a_signal_at_any_instant_leaves_a_whole_set_and_says_which(
    sets: Sets, tmp_path: Path, sig: int
) -> None:
    kinds = []
    k = [int(s) for s in ALL].index(sig)
    for i in range(PER_SIGNAL):
        site = fresh_copy(sets, tmp_path, f"at{i}")
        proc = launch(site, "build", SLUG, "-q")
        wait_ready(proc)
        time.sleep(sets.seconds * (i + (k + 0.5) / len(ALL)) / PER_SIGNAL)
        sent = proc.poll() is None
        if sent:
            stop(proc, sig)
        _, err = finish(proc)
        kinds.append(check_stopped(site, sets, sig if sent else None, proc.returncode, err))
    # During the publish itself: as it writes the new files, and just after its last rename
    # (while the outcome is handled, the manifest written, the process ends).
    for event in ("writing", "renamed"):
        site = fresh_copy(sets, tmp_path, event)
        proc = launch(site, "build", SLUG, "-q")
        watch_publish(site / "audio", proc, event)
        sent = proc.poll() is None
        if sent:
            stop(proc, sig, freeze=True)
        _, err = finish(proc)
        kinds.append(check_stopped(site, sets, sig if sent else None, proc.returncode, err))
    assert kinds[-1] != "old", "the record was renamed: the new set is whole"
    assert "old" in kinds and "new" in kinds, kinds  # the sweep reached both sides


@pytest.mark.parametrize("sig", THREE, ids=lambda s: signal.Signals(s).name)
def test_a_signal_during_the_renames_waits_for_the_whole_set(
    sets: Sets, tmp_path: Path, sig: int
) -> None:
    site = fresh_copy(sets, tmp_path, "site")
    proc = launch(site, "build", SLUG, "-q", slow="rename")
    wait_line(proc, f"renamed {SLUG}.mp3")  # the first of five renames
    os.kill(proc.pid, sig)
    _, err = finish(proc)
    assert check_stopped(site, sets, sig, proc.returncode, err) == "new"
    assert proc.returncode == 130


def test_ctrl_c_while_a_worker_starts_is_not_lost(sets: Sets, tmp_path: Path) -> None:
    site = fresh_copy(sets, tmp_path, "site")
    proc = launch(site, "build", SLUG, "-q", slow="start")
    wait_line(proc, "started a worker")
    os.kill(proc.pid, signal.SIGINT)
    _, err = finish(proc)
    assert proc.returncode == 130, "the Ctrl-C was lost: the build ran to the end"
    assert check_stopped(site, sets, signal.SIGINT, proc.returncode, err) == "old"


def test_ctrl_c_while_the_outcome_is_handled_names_the_published_article(
    sets: Sets, tmp_path: Path
) -> None:
    site = fresh_copy(sets, tmp_path, "site")
    proc = launch(site, "build", SLUG, "-q", slow="outcome")
    wait_line(proc, "handling the outcome")
    os.kill(proc.pid, signal.SIGINT)
    _, err = finish(proc)
    assert proc.returncode == 130
    assert check_stopped(site, sets, signal.SIGINT, proc.returncode, err) == "new"  # manifest too


def test_sighup_under_nohup_does_not_stop_a_build(sets: Sets, tmp_path: Path) -> None:
    def nohup() -> None:
        default_signals()
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    site = fresh_copy(sets, tmp_path, "site")
    proc = launch(site, "build", SLUG, "-q", preexec_fn=nohup)
    wait_ready(proc)
    time.sleep(sets.seconds / 3)
    os.kill(proc.pid, signal.SIGHUP)
    _, err = finish(proc)
    assert proc.returncode == 0, err
    assert the_set(site / "audio") == sets.new


@pytest.mark.parametrize("sig", THREE, ids=lambda s: signal.Signals(s).name)
def test_a_signal_while_the_cli_is_still_importing_is_one_line(tmp_path: Path, sig: int) -> None:
    site = copy_site(tmp_path / "site")
    proc = launch(site, "script", SLUG, slow="import")
    wait_line(proc, "importing the CLI")
    os.kill(proc.pid, sig)
    out, err = finish(proc)
    assert (proc.returncode, out, err.splitlines()) == (130, "", [UNCHANGED])


# --- 2. promptly: queued work is cancelled, not drained -----------------------------------


def cached(site: Path, kind: str) -> int:
    base = site / ".cache" / "narrate" / kind
    return sum(1 for _ in base.glob("*/*.entry")) if base.is_dir() else 0


def interrupt_timed(proc: subprocess.Popen[str]) -> tuple[float, str]:
    t0 = time.monotonic()
    os.kill(proc.pid, signal.SIGINT)
    _, err = finish(proc)
    return time.monotonic() - t0, err


def test_ctrl_c_with_hundreds_of_sentences_queued_exits_at_once(tmp_path: Path) -> None:
    site = copy_site(tmp_path / "site", config_edits=FAKE_CONFIG)
    extend_article(site, 400)
    proc = launch(site, "build", SLUG, "-q", env={"NARRATE_FAKE_DELAY": "0.05"})
    wait_for(lambda: seg_count(site) >= 6, 60)
    made = seg_count(site)
    took, err = interrupt_timed(proc)
    assert proc.returncode == 130 and err.splitlines() == [UNCHANGED], err
    assert took < 5, f"{took:.1f} s from Ctrl-C to exit"
    # Drained, the 440 sentences queued would take ten seconds more; cancelled, at most the
    # two a worker was speaking are done.
    assert seg_count(site) <= made + 4
    gone(site)


@pytest.fixture
def fake_backends_here() -> Iterator[None]:
    from narrate.synth import backends
    from tests.fakes import FAKES

    for name, factory in FAKES.items():
        backends.register(name, factory)
    yield
    for name in FAKES:
        backends.unregister(name)


def test_ctrl_c_with_hundreds_of_encodes_queued_exits_at_once(
    tmp_path: Path, fake_backends_here: None
) -> None:
    import numpy as np

    from narrate.pcm import Audio
    from narrate.pipeline import plan_article
    from narrate.pipeline.cache import Cache
    from narrate.settings.load import load_settings

    site = copy_site(tmp_path / "site", config_edits=FAKE_CONFIG)
    extend_article(site, 400)
    # Every sentence in the cache (4 s of tone each), no chunk: all ~450 encodes are queued at
    # once, and nothing is synthesised.
    settings = load_settings(site, None)
    plan = plan_article(settings, SLUG)
    t = np.arange(4 * 22050) / 22050
    tone = Audio((3000 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes(), 22050)
    cache = Cache(settings.cache_dir)
    for key in dict.fromkeys(plan.segment_keys):
        cache.put_audio(key, tone)
    total = len(plan.chunks)
    proc = launch(site, "build", SLUG, "-q")
    wait_for(lambda: cached(site, "chunk") >= 10, 60)
    made = cached(site, "chunk")
    took, err = interrupt_timed(proc)
    assert proc.returncode == 130 and err.splitlines() == [UNCHANGED], err
    assert took < 5, f"{took:.1f} s from Ctrl-C to exit"
    assert cached(site, "chunk") <= made + 8 < total  # the queued encodes were cancelled
    gone(site)


# --- 3. dying quietly ---------------------------------------------------------------------


def test_kill_9_leaves_no_process_not_even_a_stopped_engine_and_no_word(tmp_path: Path) -> None:
    site = copy_site(tmp_path / "site")
    extend_article(site, 60)
    log = tmp_path / "stderr"
    with log.open("w") as stderr:  # the workers and their engines inherit it
        proc = launch(site, SLUG, "-q", real=True, stderr=stderr)
    try:
        wait_for(lambda: seg_count(site) >= 2, 120)
        stopped = 0
        seen: dict[int, float] = {}

        def stop_an_engine() -> bool:
            # An engine (forked per sentence by a worker) stuck where it cannot check anything:
            # one at work for 50 ms, so past its first step (asking to die with its worker).
            nonlocal stopped
            now = time.monotonic()
            for engine in [e for w in children(proc.pid) for e in children(w)]:
                if now - seen.setdefault(engine, now) >= 0.05 and state_of(engine) in ("R", "S"):
                    try:
                        os.kill(engine, signal.SIGSTOP)
                    except ProcessLookupError:
                        continue  # it finished meanwhile
                    time.sleep(0.01)
                    if state_of(engine) == "T":
                        stopped = engine
                        return True
            return False

        wait_for(stop_an_engine, 30)
        proc.kill()
        proc.wait(timeout=10)
        gone(site)  # the workers, their engines (the stopped one too), the resource tracker
        assert state_of(stopped) in ("", "Z")  # gone, or dead and not yet reaped by init
    finally:
        for pid in processes_in(site):
            os.kill(pid, signal.SIGKILL)
    assert log.read_text() == ""  # no BrokenPipeError, no traceback, not a word


def one_line(err: str) -> str:
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("narrate: error: "), err
    return lines[0]


def limit(address_mb: int, stack_mb: int | None = None) -> Callable[[], None]:
    def apply() -> None:
        default_signals()
        if stack_mb is not None:  # each thread's stack is this big: threads soon cannot start
            resource.setrlimit(resource.RLIMIT_STACK, (stack_mb << 20, stack_mb << 20))
        resource.setrlimit(resource.RLIMIT_AS, (address_mb << 20, address_mb << 20))

    return apply


SHORT = """\
format: 1
title: Short
summary: A short article.
sections:
  - heading: One
    paragraphs:
      - The first sentence is here. The second one follows it.
"""


@pytest.mark.parametrize(
    ("address_mb", "stack_mb"),
    [(25, None), (40, None), (47, None), (55, None), (90, None), (110, None), (450, 256)],
    ids=["25M", "40M", "47M", "55M", "90M", "110M", "450M-256M-stacks"],
)
def test_running_out_of_memory_is_one_line(
    tmp_path: Path, address_mb: int, stack_mb: int | None
) -> None:
    site = copy_site(tmp_path / "site", (), articles={"short": SHORT})
    proc = launch(site, "short", "-q", real=True, preexec_fn=limit(address_mb, stack_mb))
    out, err = finish(proc, 120)
    gone(site)
    if proc.returncode == 0:
        pytest.skip(f"narrate fits in {address_mb} MB here")
    assert proc.returncode == 1, err
    assert "memory" in one_line(err).lower()
    assert not (site / "audio" / "short.mp3").exists()
