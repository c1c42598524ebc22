"""Word-times benchmark: how exact the published word starts are, and what they cost the page.

Builds ImageNet with the real engines (espeak-ng through pyttsx3; Piper too if installed) into a
temporary copy of the site, decodes the MP3 (imageio-ffmpeg) and finds the speech onsets: where
sound starts after at least 120 ms of quiet (5 ms windows, -40 dBFS): pauses, longer than the
silent closure of a stop consonant inside a word (50-100 ms). Each onset is paired with
the nearest published word start of its sentence in ``SLUG.transcript.json`` (onsets past a
sentence's first 100 ms only: its start is its cue's, exact either way); pairs more than 150 ms
apart are counted as unmatched (an onset inside a word). Printed per backend:

    engine     the build's word times: median and p95 of |word start - onset| (ms), matched share
    estimate   the same judge on the page's fallback, each sentence's time spread over its words
               by characters (narrate.web.words.estimate): the floor the engine times must beat

A stop consonant (p, t, k) starts with a silent closure, so its onset is its burst, 30-50 ms
after the word began; that is in the judge, not in the marks.

Then the fragment's size (`narrate embed`, gzipped), with word times (``fake-words``) and
without (``fake``, every sentence estimated), for ImageNet and a 10,000-word article.

Run: `.venv/bin/python bench/bench_words.py [--no-piper]` (about a minute on two cores).
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from narrate.outputs.chapters import parse_vtt  # noqa: E402
from narrate.pcm import SAMPLE_RATE  # noqa: E402
from narrate.web.words import estimate  # noqa: E402
from tests.audio_checks import decode  # noqa: E402
from tests.helpers import copy_site, random_sentences, run_cli_ok  # noqa: E402

WINDOW = int(SAMPLE_RATE * 0.005)
QUIET_WINDOWS = 24  # 120 ms: a pause (a comma is 150 ms or more), not a stop's closure
MATCH_S = 0.150


def onsets(x: np.ndarray) -> list[float]:
    """Return the times (s) where sound starts after at least 120 ms of quiet."""
    n = len(x) // WINDOW
    rms = np.sqrt(np.mean(np.square(x[: n * WINDOW]).reshape(n, WINDOW), axis=1))
    loud = 20 * np.log10(np.maximum(rms, 1e-12)) > -40
    found, quiet = [], 0
    for i, is_loud in enumerate(loud):
        if is_loud and quiet >= QUIET_WINDOWS:
            found.append(i * WINDOW / SAMPLE_RATE)
        quiet = 0 if is_loud else quiet + 1
    return found


def judge(pairs: Sequence[tuple[Sequence[float], Sequence[float]]]) -> str:
    """Return median/p95 error (ms) of the nearest word start to each onset, per sentence
    (its word starts, its onsets), and how many onsets had a start within 150 ms."""
    errors, heard = [], 0
    for starts, onsets_in in pairs:
        heard += len(onsets_in)
        for t in onsets_in:
            near = min(abs(s - t) for s in starts)
            if near <= MATCH_S:
                errors.append(near * 1000)
    if not errors:
        return "no onset matched"
    p95 = float(np.percentile(errors, 95))
    return (
        f"median {statistics.median(errors):5.1f} ms, p95 {p95:5.1f} ms "
        f"({len(errors)} of {heard} onsets matched)"
    )


def accuracy(base: Path, backend: str) -> None:
    site = copy_site(base / backend)
    run_cli_ok("imagenet", "-q", "--backend", backend, cwd=site)
    audio = site / "audio"
    segments = json.loads((audio / "imagenet.transcript.json").read_text("utf-8"))["segments"]
    cues = parse_vtt((audio / "imagenet.transcript.vtt").read_text("utf-8"))
    heard = onsets(decode(audio / "imagenet.mp3"))
    engine, estimated = [], []
    for cue in cues:
        # Onsets inside the sentence, past its first word (a sentence's start is its cue's,
        # exact either way): after commas, colons, and the engine's own pauses.
        start, end = cue.start_ms / 1000, cue.end_ms / 1000
        inside = [t for t in heard if start + 0.1 < t < end]
        mine = [float(s["startTime"]) for s in segments if start <= s["startTime"] < end]
        engine.append((mine, inside))
        estimated.append(([ms / 1000 for ms in estimate(cue)], inside))
    print(f"{backend:8} engine    {judge(engine)}")
    print(f"{backend:8} estimate  {judge(estimated)}")


def long_article(site: Path) -> None:
    sentences = random_sentences(10_000)
    paragraphs = ["      - " + " ".join(sentences[i : i + 6]) for i in range(0, len(sentences), 6)]
    (site / "content" / "long.yaml").write_text(
        "format: 1\ntitle: Long\nsummary: A long article.\nsections:\n  - heading: All of it\n"
        "    paragraphs:\n" + "\n".join(paragraphs) + "\n",
        "utf-8",
    )


def fragment_sizes(base: Path) -> None:
    for backend in ("fake", "fake-words"):
        site = copy_site(base / f"frag-{backend}")
        long_article(site)
        run_cli_ok("build", "--all", "-q", "--backend", backend, cwd=site, fakes=True)
        for slug in ("imagenet", "long"):
            html = run_cli_ok("embed", slug, cwd=site, fakes=True).stdout.encode("utf-8")
            label = "word times" if backend == "fake-words" else "estimated"
            print(
                f"fragment {slug:8} {label:10} {len(html) / 1024:7.1f} KiB, "
                f"gzipped {len(gzip.compress(html, 9)) / 1024:6.1f} KiB"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-piper", action="store_true", help="only espeak-ng")
    parser.add_argument("--no-fragment", action="store_true", help="skip the fragment sizes")
    args = parser.parse_args()
    backends = ["pyttsx3"]
    try:
        import piper  # noqa: F401

        backends += [] if args.no_piper else ["piper"]
    except ImportError:
        print("piper: not installed (pip install '.[piper]'), skipped")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            accuracy(Path(tmp), backend)
        if not args.no_fragment:
            fragment_sizes(Path(tmp))


if __name__ == "__main__":
    main()
