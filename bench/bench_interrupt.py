"""Interrupt benchmark: how long narrate takes to exit after Ctrl-C, against a floor.

A large article (the ImageNet article and 300 more sentences, ~350 in all) is built with the
real engine, and SIGINT is sent to the narrate process:

    synthesising   ~10 sentences done, ~340 queued for the workers    target <= 1 s
    encoding       every sentence cached, ~350 encodes queued         target <= 1 s

The latency is from the signal to the process's exit (its workers reaped, its message printed),
median of several runs. The floor, measured in the same run, is the same latency for
`python -c 'import time; time.sleep(60)'`: what any Python process takes to die of a Ctrl-C
here. Machines here are noisy: read the ratio as well as the seconds.

Run: `.venv/bin/python bench/bench_interrupt.py` (BENCH_RUNS=5 by default).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SLUG = "imagenet"
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
EXTRA = 300
TARGET_S = 1.0


def default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(cmd: list[str], cwd: Path | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=default_sigint,
    )


def interrupt(proc: subprocess.Popen[bytes], expect: int) -> float:
    """Send SIGINT; return the seconds until the process has exited."""
    t0 = time.perf_counter()
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    elapsed = time.perf_counter() - t0
    if proc.returncode != expect:
        raise SystemExit(f"exit status {proc.returncode}, not {expect}: {err.decode()}")
    return elapsed


def wait_for(condition: Callable[[], bool], proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"narrate ended early: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
        time.sleep(0.005)


def cached(site: Path, kind: str) -> int:
    base = site / ".cache" / "narrate" / kind
    return sum(1 for _ in base.glob("*/*.entry")) if base.is_dir() else 0


def make_site(base: Path, name: str) -> Path:
    """A site with the repository's config and the ImageNet article, 300 sentences longer."""
    site = base / name
    (site / "content").mkdir(parents=True)
    shutil.copy(ROOT / "narrate.yaml", site / "narrate.yaml")
    rng = random.Random(1)
    words = (
        "images labels dataset network vision model research benchmark training error layers "
        "features category object scene annotation workers hierarchy challenge accuracy"
    ).split()
    text = (ROOT / "content" / f"{SLUG}.yaml").read_text("utf-8").rstrip("\n")
    text += "\n\n  - heading: Appendix\n    paragraphs:\n"
    for _ in range(EXTRA // 10):
        sentences = ("The " + " ".join(rng.choices(words, k=9)) + "." for _ in range(10))
        text += f"      - {' '.join(sentences)}\n"
    (site / "content" / f"{SLUG}.yaml").write_text(text, "utf-8")
    return site


def fill_cache(site: Path) -> int:
    """Put a finished sentence (4 s of tone) in the cache for every sentence; return chunks."""
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from narrate.pcm import Audio
    from narrate.pipeline import plan_article
    from narrate.pipeline.cache import Cache
    from narrate.settings.load import load_settings

    settings = load_settings(site, None)
    plan = plan_article(settings, SLUG)
    t = np.arange(4 * 22050) / 22050
    tone = Audio((3000 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes(), 22050)
    cache = Cache(settings.cache_dir)
    for key in dict.fromkeys(plan.segment_keys):
        cache.put_audio(key, tone)
    return len(plan.chunks)


def floor() -> float:
    code = "import sys, time; sys.stdout.write('ready\\n'); sys.stdout.flush(); time.sleep(60)"
    proc = start([sys.executable, "-c", code])
    assert proc.stdout is not None
    proc.stdout.readline()
    return interrupt(proc, -signal.SIGINT)


def synthesising(base: Path, i: int) -> float:
    site = make_site(base, f"synth{i}")
    proc = start([sys.executable, "-m", "narrate", SLUG, "-q"], cwd=site)
    wait_for(lambda: cached(site, "sentence") >= 10, proc)
    return interrupt(proc, 130)


def encoding(template: Path, base: Path, i: int) -> float:
    site = base / f"enc{i}"
    shutil.copytree(template, site)
    proc = start([sys.executable, "-m", "narrate", SLUG, "-q"], cwd=site)
    wait_for(lambda: cached(site, "chunk") >= 10, proc)
    return interrupt(proc, 130)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-interrupt-") as tmp:
        base = Path(tmp)
        template = make_site(base, "template")
        chunks = fill_cache(template)
        floors, synth, enc = [], [], []
        for i in range(RUNS):  # interleaved: a noisy moment spreads over all three
            floors.append(floor())
            synth.append(synthesising(base, i))
            enc.append(encoding(template, base, i))
        low = statistics.median(floors)
        print(f"Ctrl-C to exit, median of {RUNS} runs (a {chunks}-sentence article):")
        print(f"  floor (python -c 'time.sleep(60)')   {low:6.3f} s")
        for name, times in (("synthesising", synth), ("encoding", enc)):
            mid = statistics.median(times)
            verdict = "ok" if mid <= TARGET_S else "OVER"
            print(
                f"  {name:<13}{'':24}{mid:6.3f} s  {mid / low:5.1f} x floor  "
                f"(min {min(times):.3f}, max {max(times):.3f}; target <= {TARGET_S:.0f} s: "
                f"{verdict})"
            )


if __name__ == "__main__":
    main()
