"""The encode threads survive Ctrl-C at any instant (narrate.pipeline.encodes)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.helpers import ROOT

# Ctrl-C from another thread at random instants while hundreds of calls are submitted and
# waited for, as the scheduler does; after each, close() must return at once and leave the
# pool's locks free, and no Ctrl-C may be lost. Run in a child process, whose main thread the
# signal may interrupt.
STORM = textwrap.dedent(
    """
    import os, random, signal, sys, threading, time
    sys.path.insert(0, sys.argv[1])
    from narrate.pipeline.encodes import Encodes

    def work(i):
        if sys.argv[3] == "busy":  # holds the GIL: the main thread is often mid-bookkeeping
            return sum(range(20_000)) + i
        time.sleep(0.002)  # as LAME does, it lets go of the GIL: the timer's signal comes on time
        return i

    rng = random.Random(7)
    interrupted = 0
    for run in range(int(sys.argv[2])):
        enc = Encodes()
        timer = threading.Timer(rng.uniform(0.0, 0.08), os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        got = 0
        try:
            for i in range(450):
                enc.submit(i, work, i)
            while enc:
                got += len(enc.done(block=True))
        except KeyboardInterrupt:
            interrupted += 1
        t0 = time.monotonic()
        enc.close()
        assert time.monotonic() - t0 < 5, "close() waited"
        timer.join()
        if got == 450:  # finished before the signal: let it come now, outside the pool
            try:
                time.sleep(1)
            except KeyboardInterrupt:
                pass
    print(interrupted)
    """
)


def storm(mode: str, runs: int) -> int:
    """Run the storm; return how many of its runs a Ctrl-C interrupted."""
    result = subprocess.run(
        [sys.executable, "-c", STORM, str(ROOT), str(runs), mode],
        capture_output=True,
        text=True,
        timeout=60,  # a pool left locked hangs: shutdown() waits for ever
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr[-2000:]
    return int(result.stdout)


def test_ctrl_c_at_any_instant_never_leaves_the_pool_locked() -> None:
    # ThreadPoolExecutor hung here 4 runs in 4 (each of 25 storms).
    assert storm("busy", 25) > 0


def test_no_ctrl_c_is_lost() -> None:
    # 450 calls of 2 ms on a thread per core outlast the timer (80 ms at most): every Ctrl-C
    # came while the pool worked. Holding signals back around each call lost one a run in 3.
    assert storm("sleepy", 25) == 25
