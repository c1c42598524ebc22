"""Site-scale benchmark: sentences per second for a whole site, locally and on a Dask cluster.

A synthetic site of ARTICLES (default 200) short articles is generated from the ImageNet
article: its summary and two sections, every sentence and heading marked with the article's
number, so the content-addressed cache cannot share a sentence between articles. Each figure is
the wall time of the real CLI in a subprocess (interpreter start included) building the whole
site from a cold cache:

    local     `narrate --all` (worker processes on every core of this machine)
    cluster   `narrate --all --executor dask` against a LocalCluster started here
              (2 worker processes, 1 thread each, on 127.0.0.1)

with the real engine (pyttsx3) and the fake one (plumbing only). It then measures what one
sentence costs where it is synthesised (engine plus mastering, in a thread as on a Dask
worker) for pyttsx3 and, if installed, Piper, and what the client spends per sentence (CPU time
of the CLI process in the cluster run: receiving, caching, encoding, publishing), and from
those estimates a 10,000-article site on N workers.

Run: `.venv/bin/python bench/bench_site.py` (needs `pip install -e '.[dask]'`; Piper figures
need `.[piper]`). ARTICLES=50 for a quick run. Machines here are noisy: read the ratios.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ARTICLES = int(os.environ.get("ARTICLES", "200"))
TARGET = 10_000
WORKERS = (2, 8, 32, 128)
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def distinct(text: str, n: int) -> str:
    """Return ``text`` with every sentence marked as belonging to copy ``n``."""
    out = []
    for s in SENTENCE.split(text.strip()):
        body, end = (s[:-1], s[-1]) if s[-1] in ".!?" else (s, ".")
        out.append(f"{body}, in copy {n}{end}")
    return " ".join(out)


def make_site(base: Path, backend: str) -> Path:
    """Write ARTICLES short distinct articles and a config using ``backend``."""
    src = yaml.safe_load((ROOT / "content" / "imagenet.yaml").read_text())
    (base / "content").mkdir(parents=True)
    cfg = (ROOT / "narrate.yaml").read_text().replace("backend: pyttsx3", f"backend: {backend}")
    (base / "narrate.yaml").write_text(cfg)
    for n in range(1, ARTICLES + 1):
        article = {
            "format": 1,
            "title": f"ImageNet, copy {n}",
            "summary": distinct(src["summary"], n),
            "sections": [
                {
                    "heading": f"{sec['heading']}, copy {n}",
                    "paragraphs": [distinct(sec["paragraphs"][0], n)],
                }
                for sec in src["sections"][:2]
            ],
        }
        path = base / "content" / f"copy-{n:05d}.yaml"
        path.write_text(yaml.safe_dump(article, sort_keys=False, width=1000))
    return base


def narrate(site: Path, backend: str, *args: str) -> tuple[float, float, list[dict[str, Any]]]:
    """Build the whole site; return (wall s, CPU s of all reaped children so far, results)."""
    runner = [str(ROOT / "tests" / "run_with_fakes.py")] if backend == "fake" else ["-m", "narrate"]
    env = {**os.environ, "NARRATE_CACHE_DIR": str(site / "cache")}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *runner, "build", "--all", "--json", *args],
        cwd=site,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"narrate failed ({proc.returncode}):\n{err.decode()[-2000:]}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, json.loads(out)["results"]


def per_sentence_cost(backend_name: str, texts: list[str]) -> tuple[float, float]:
    """Return (seconds per sentence, seconds of speech per sentence) as on a Dask worker."""
    from narrate.settings.model import VoiceSettings
    from narrate.synth import backends
    from narrate.synth.jobs import Mastered

    voice = VoiceSettings(backend=backend_name, voice="en-us", rate=160)
    result: dict[str, float] = {}

    def work() -> None:  # in a thread, like a Dask task: pyttsx3 then speaks in-process
        backend = Mastered(backends.factory(backend_name), -16.0, -1.0)()
        backend.synthesise("Warm up the engine.", voice)
        t0 = time.perf_counter()
        speech = sum(backend.synthesise(t, voice).duration for t in texts)
        result["cost"] = (time.perf_counter() - t0) / len(texts)
        result["speech"] = speech / len(texts)
        backend.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return result["cost"], result["speech"]


def sample_sentences(site: Path, k: int = 24) -> list[str]:
    """Return ``k`` spoken sentences of the site, as `narrate script` prints them."""
    out = subprocess.run(
        [sys.executable, "-m", "narrate", "script", "copy-00001"],
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
    return (lines * (k // max(1, len(lines)) + 1))[:k]


def clock(seconds: float) -> str:
    h, rest = divmod(int(round(seconds)), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


def main() -> None:
    from distributed import LocalCluster

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{ARTICLES} articles, {cores} cores here; cold cache for every build")
    measured: dict[str, dict[str, float]] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
    ):
        for backend in ("pyttsx3", "fake"):
            row: dict[str, float] = {}
            for where, args in (
                ("local", ()),
                ("cluster", ("--executor", "dask", "--scheduler", cluster.scheduler_address)),
            ):
                site = make_site(Path(tmp) / f"{backend}-{where}", backend)
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                wall, cpu_after, results = narrate(site, backend, *args)
                cpu = cpu_after - (before.ru_utime + before.ru_stime)
                sentences = sum(r["synthesised"] for r in results)
                assert len(results) == ARTICLES and all(r["status"] == "built" for r in results)
                row[f"{where}_rate"] = sentences / wall
                row[f"{where}_wall"] = wall
                row["sentences"] = sentences
                if where == "cluster":
                    row["client_cpu"] = cpu / sentences  # the CLI only: workers are not children
                print(
                    f"{backend:>8} {where:>7}: {sentences} sentences in {wall:6.1f} s = "
                    f"{sentences / wall:6.1f} sentences/s"
                    + (
                        f" (client CPU {1000 * cpu / sentences:.1f} ms a sentence)"
                        if where == "cluster"
                        else ""
                    )
                )
            measured[backend] = row
        texts = sample_sentences(Path(tmp) / "pyttsx3-local")

    per_article = measured["pyttsx3"]["sentences"] / ARTICLES
    client = measured["pyttsx3"]["client_cpu"]
    engines = {"pyttsx3": per_sentence_cost("pyttsx3", texts)}
    try:
        import piper  # noqa: F401

        engines["piper"] = per_sentence_cost("piper", texts[:8])
    except ImportError:
        print("piper: not installed (pip install 'narrate[piper]'): no Piper estimate")
    total = TARGET * per_article
    print("\nper sentence where it is synthesised (engine + mastering, in-process, 1 thread):")
    for name, (cost, speech) in engines.items():
        print(
            f"  {name:>8}: {1000 * cost:6.1f} ms for {speech:.2f} s of speech "
            f"(real-time factor {cost / speech:.3f})"
        )
    print(f"  client: {1000 * client:.1f} ms CPU a sentence (receive, cache, encode, publish)")
    print(
        f"\nestimate: {TARGET:,} articles x {per_article:.1f} sentences = {total:,.0f} sentences;"
        f" time = max(sentences x cost / N workers, sentences x client / client cores)"
    )
    for name, (cost, _) in engines.items():
        cells = []
        for n in WORKERS:
            t = max(total * cost / n, total * client / (cores or 1))
            cells.append(f"N={n}: {clock(t)}")
        print(f"  {name:>8}: " + ", ".join(cells))
    print(
        f"  (the client bound with {cores} client cores is {clock(total * client / (cores or 1))}"
        "; beyond it add client cores)"
    )


if __name__ == "__main__":
    main()
