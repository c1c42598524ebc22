"""Player benchmark: how far the page's word highlight trails the audio, in milliseconds.

Builds ImageNet with the test suite's fake backend (speech-like audio, seconds to build) unless
an audio folder with a built ``imagenet`` is given, serves it with narrate's server and plays
the preview page muted in Debian's headless Chromium at 1x and 1.5x. Two measures:

    lag        each time a word gets ``data-current``: currentTime then minus the word's
               ``data-word-start`` (0 would be a highlight exactly on time; one animation frame
               at 60 Hz is ~17 ms of media time at 1x)
    agreement  share of animation frames on which the marked word is the one whose start is
               the last at or before currentTime (sampled by a second requestAnimationFrame loop,
               which may run before the player's in a frame: then it sees the word before)

Run: `.venv/bin/python bench/bench_player.py [AUDIO_DIR] [--seconds 20]`. This measures the
page against the times it was given; how exact those times are against the speech is the
engine's part (estimates until the build writes word times).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from narrate.web.server import server_url, serving  # noqa: E402
from tests.helpers import copy_site, run_cli_ok  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"]
MEASURE = """([seconds, rate]) => new Promise(done => {
  const root = document.querySelector('[data-narrate]'), a = root.querySelector('audio');
  const words = [...root.querySelectorAll('[data-word-start]')];
  const starts = words.map(w => +w.dataset.wordStart);
  const lags = []; let frames = 0, right = 0, late = 0;
  new MutationObserver(list => {
    for (const m of list) {
      const w = m.target;
      if (w.hasAttribute('data-current')) lags.push(a.currentTime - +w.dataset.wordStart);
    }
  }).observe(root, { subtree: true, attributes: true, attributeFilter: ['data-current'] });
  a.muted = true; a.playbackRate = rate; a.currentTime = 20;
  a.addEventListener('seeked', () => { a.play(); requestAnimationFrame(frame); }, { once: true });
  const t0 = performance.now();
  function frame() {
    const t = a.currentTime; let k = -1;
    for (let i = 0; i < starts.length && starts[i] <= t + 0.001; i++) k = i;
    frames++;
    if (k >= 0 && words[k].hasAttribute('data-current')) right++;
    else if (k > 0 && words[k - 1].hasAttribute('data-current')) late++;
    if (performance.now() - t0 < seconds * 1000) requestAnimationFrame(frame);
    else { a.pause(); done({ lags: lags.slice(1), frames, right, late }); }  // [0]: the seek
  }
})"""


def built_audio(base: Path) -> Path:
    """Build ImageNet with the fake backend in a fresh site under ``base``; return its audio."""
    site = copy_site(base / "site", config_edits={"backend: pyttsx3": "backend: fake"})
    run_cli_ok("imagenet", cwd=site, fakes=True)
    return site / "audio"


def measure(audio: Path, seconds: float) -> list[tuple[float, dict[str, Any]]]:
    """Play the preview at each rate; return the raw measures."""
    from playwright.sync_api import sync_playwright

    run_cli_ok("preview", "imagenet", cwd=audio.parent, fakes=True)
    results = []
    with serving(audio) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for rate in (1.0, 1.5):
            page = browser.new_page()
            page.goto(server_url(server, "imagenet.html"))
            page.wait_for_function("document.querySelector('[data-narrate-synced]')")
            results.append((rate, page.evaluate(MEASURE, [seconds, rate])))
            page.close()
        browser.close()
    return results


def report(rate: float, got: dict[str, Any]) -> str:
    lags = sorted(1000 * x for x in got["lags"])
    if not lags:
        return f"{rate}x: no word was highlighted"
    p95 = lags[min(len(lags) - 1, int(0.95 * len(lags)))]
    share = 100 * got["right"] / max(1, got["frames"])
    late = 100 * got["late"] / max(1, got["frames"])
    return (
        f"{rate}x: lag median {statistics.median(lags):.1f} ms, p95 {p95:.1f} ms, "
        f"max {lags[-1]:.1f} ms over {len(lags)} words; right word on {share:.1f}% of "
        f"{got['frames']} frames, the one before on {late:.1f}% (sampled before the "
        "player's frame ran)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("audio", nargs="?", type=Path, help="an audio folder with imagenet built")
    parser.add_argument("--seconds", type=float, default=20.0, help="play time per rate")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        audio = args.audio or built_audio(Path(tmp))
        for rate, got in measure(audio, args.seconds):
            print(report(rate, got))


if __name__ == "__main__":
    main()
