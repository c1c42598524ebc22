"""Rebuild benchmark: narrate's build costs as ratios to a floor measured in the same run.

The floor is what the bare tools take for the same prose: `espeak-ng -w` on the whole text plus
an ffmpeg 64 kb/s mono MP3 encode of its output. Every narrate figure is the wall time of the
real CLI in a subprocess (interpreter start included), median of several runs:

    full build      a cold cache                         target <= 1.20 x floor
    no-op rebuild   nothing changed                      target <= 0.20 x floor
    one-paragraph   one paragraph edited (new sentences) target <= 0.35 x floor
    long article    10 distinct copies (~45 min speech)  target ~10 x the full build; peak memory

Run: `.venv/bin/python bench/bench_rebuild.py` (needs Debian's espeak-ng for the floor:
`apt-get install espeak-ng`). Machines here are noisy: read the ratios, not the seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SLUG = "imagenet"
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def run(cmd: list[str], cwd: Path | None = None) -> tuple[float, int]:
    """Return (wall seconds, peak RSS in MB of the process tree) for a command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(
            f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode() if proc.stderr else ''}"
        )
    return elapsed, usage.ru_maxrss // 1024


def narrate(site: Path, *args: str) -> tuple[float, int]:
    """Run the real CLI in ``site``."""
    return run([sys.executable, "-m", "narrate", SLUG, "-q", *args], cwd=site)


def make_site(base: Path, name: str) -> Path:
    """Return a fresh site folder with the repository's config and the ImageNet article."""
    site = base / name
    (site / "content").mkdir(parents=True)
    shutil.copy(ROOT / "narrate.yaml", site / "narrate.yaml")
    shutil.copy(ROOT / "content" / f"{SLUG}.yaml", site / "content" / f"{SLUG}.yaml")
    return site


def prose(site: Path) -> str:
    """Return the spoken text of the article, as `narrate script` prints it."""
    out = subprocess.run(
        [sys.executable, "-m", "narrate", "script", SLUG],
        cwd=site,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = [
        re.sub(r"^s-\S+ \[\w+\] ", "", ln).split("   (shown:")[0]
        for ln in out.splitlines()
        if ln.startswith("s-")
    ]
    return "\n\n".join(lines)


def floor(text: str, work: Path) -> float:
    """Return the median wall time of espeak-ng -w plus an ffmpeg MP3 encode of the same text."""
    import imageio_ffmpeg

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("the floor needs Debian's espeak-ng: apt-get install espeak-ng")
    ff = imageio_ffmpeg.get_ffmpeg_exe()
    src = work / "prose.txt"
    src.write_text(text)
    times = []
    for _ in range(RUNS):
        a, _ = run(
            [espeak, "-v", "en-us", "-s", "160", "-w", str(work / "floor.wav"), "-f", str(src)]
        )
        b, _ = run(
            [
                ff,
                "-v",
                "error",
                "-y",
                "-i",
                str(work / "floor.wav"),
                "-ac",
                "1",
                "-b:a",
                "64k",
                str(work / "floor.mp3"),
            ]
        )
        times.append(a + b)
    return statistics.median(times)


def edit_paragraph(site: Path, n: int) -> None:
    """Change one paragraph of the Technical Details section (new text: nothing cached)."""
    path = site / "content" / f"{SLUG}.yaml"
    text = path.read_text()
    old = "The challenge included tasks such as image classification"
    new = f"In round {n}, the challenge included tasks such as image classification"
    path.write_text(
        text.replace(old, new)
        if old in text
        else re.sub(r"In round \d+, the challenge", f"In round {n}, the challenge", text)
    )


def long_article(site: Path, copies: int = 10) -> None:
    """Replace the article with ``copies`` distinct copies of its sections (~45 min)."""
    path = site / "content" / f"{SLUG}.yaml"
    data = yaml.safe_load(path.read_text())
    sections = []
    for c in range(1, copies + 1):
        for s in data["sections"]:
            s = yaml.safe_load(yaml.safe_dump(s))
            s["heading"] = f"{s['heading']}, part {c}"

            def distinct(t: str, c: int = c) -> str:
                # Every sentence changes, so no sentence can be shared through the cache.
                return (
                    re.sub(r"([.!?])(\s|$)", rf" (part {c})\1\2", t.rstrip())
                    if re.search(r"[.!?]$", t.rstrip())
                    else f"{t} (part {c})"
                )

            for key in ("paragraphs", "items"):
                if key in s:
                    s[key] = [distinct(p) for p in s[key]]
            for q in s.get("quotes", []):
                q["text"] = distinct(q["text"])
            for e in s.get("timeline", []):
                e["event"] = distinct(e["event"])
            sections.append(s)
    data["sections"] = sections
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000))


def main() -> None:
    """Measure and print the ratios."""
    with tempfile.TemporaryDirectory(prefix="narrate-bench-") as tmp:
        base = Path(tmp)
        site = make_site(base, "site")
        fl = floor(prose(site), base)

        fulls, mems = [], []
        for i in range(RUNS):
            s = make_site(base, f"cold{i}")
            t, m = narrate(s)
            fulls.append(t)
            mems.append(m)
        full = statistics.median(fulls)

        narrate(site)
        noop = statistics.median(narrate(site)[0] for _ in range(max(RUNS, 5)))

        edits = []
        for n in range(1, RUNS + 1):
            edit_paragraph(site, n)
            edits.append(narrate(site)[0])
        edit = statistics.median(edits)

        big = make_site(base, "long")
        long_article(big)
        long_t, long_mem = narrate(big)
        dur = float(
            __import__("json").loads((big / "audio" / f"{SLUG}.build.json").read_text())["duration"]
        )

    rows = [
        ("full build (cold cache)", full / fl, 1.20),
        ("no-op rebuild", noop / fl, 0.20),
        ("one-paragraph edit", edit / fl, 0.35),
    ]
    print(
        f"floor: espeak-ng -w + ffmpeg 64k encode of the same prose = {fl:.3f} s (median of {RUNS})"
    )
    for name, ratio, target in rows:
        verdict = "meets" if ratio <= target else "MISSES"
        print(f"{name:<26} {ratio:5.2f} x floor  (target <= {target:.2f}: {verdict})")
    print(
        f"{'long article (10 copies)':<26} {long_t / full:5.2f} x the full build "
        f"({dur / 60:.1f} min of speech, {long_t:.1f} s), peak RSS {long_mem} MB "
        f"(normal article {statistics.median(mems)} MB)"
    )
    print(f"seconds: full {full:.2f}, no-op {noop:.2f}, edit {edit:.2f}, long {long_t:.2f}")


if __name__ == "__main__":
    main()
