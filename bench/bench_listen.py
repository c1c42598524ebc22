"""Listening benchmark: how much of an article a recogniser (a stand-in listener) follows.

For ImageNet and a denser article of the site's kind (AlexNet), every sentence is synthesised
once by the backend (raw engine output), then finished several ways and transcribed by Whisper
tiny.en (narrate[verify], greedy, offline) with each sentence cut 0.15 s either side:

    default      narrate's mastering: -16 LUFS, true peak <= -1 dBTP (what a build publishes)
    -18 / -20    the same mastering at -18 and -20 LUFS
    plain gain   gain to -16 LUFS with no limiter (peaks hard-clipped at -1 dBFS)
    raw          trimmed engine output, no gain at all (espeak-ng sits near -21 LUFS)
    no word gap  espeak-ng without narrate's word gap (as before it had one)
    gap+rate     the default at 170 wpm, nearer the pace without the gap

Recall (share of words heard, in order) is scored against the spoken text (what the engine was
given) and against the displayed text through an independent normaliser below (narrate's own
expansion alone would score "see twenty fifteen" for "c. 2015" as perfect). For the default
finish the spread over cut margins 0.05/0.15/0.30 s is printed too, and the whole article is
transcribed in one piece for the whole-file recall. narrate's defaults are not changed: this
only measures. Greedy decoding is deterministic, and so is the espeak-ng build, so repeated
runs give the same figures; the margin spread is the noise to read differences against
(under 0.03 is noise).

With Piper installed (narrate[piper]), two Piper takes of each article are scored the same way
(its sampling differs from take to take: the two show that noise).

Run: `.venv/bin/python bench/bench_listen.py [--quick]` (needs `pip install '.[verify]'`;
about 10 minutes on two cores; --quick: ImageNet, default and no word gap only).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import wave
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from narrate.audio.master import finish, loudness_lufs, to_float, trim, true_peak_db  # noqa: E402
from narrate.settings.model import VoiceSettings  # noqa: E402
from narrate.synth.backends.base import Audio  # noqa: E402
from narrate.verify import load_model, recall, transcribe, words  # noqa: E402

ARTICLES = {"imagenet": ROOT / "content", "alexnet": ROOT / "tests" / "data" / "site" / "content"}
MARGINS = (0.05, 0.15, 0.30)


# --- an independent normaliser for the displayed text ---------------------------------------
# Written for this benchmark from what a listener expects to hear; it shares no code with
# narrate.text, so a wrong expansion there shows up as a loss here.
_DISPLAY_RULES: tuple[tuple[str, str], ...] = (
    (r"\bc(?:a)?\.\s*(?=\d)", "circa "), (r"\be\.g\.", "for example"), (r"\bi\.e\.", "that is"),
    (r"\bvs\.", "versus"), (r"\bpp\.\s*", "pages "), (r"\bp\.\s*(?=\d)", "page "),
    (r"\bNo\.\s*(?=\d)", "number "), (r"\bVol\.\s*", "volume "), (r"\bFig\.\s*", "figure "),
    (r"(\d+(?:\.\d+)?)\s?[MB]\+", r"more than \1 million"), (r"(\d+)\+", r"more than \1"),
    (r"(\d+(?:\.\d+)?)\s?GB\b", r"\1 gigabytes"), (r"(\d+(?:\.\d+)?)M\b", r"\1 million"),
    (r"(\d+(?:\.\d+)?)K\b", r"\1 thousand"), (r"\$(\d+(?:\.\d+)?)", r"\1 dollars"),
    (r"(\d)\s?[x×]\s?(\d)", r"\1 by \2"), (r"(\d)[–-](\d)", r"\1 to \2"), (r"&", " and "),
    (r"(\d{4})s\b", r"\1s"),
)  # fmt: skip


def display_words(text: str) -> list[str]:
    """Return what a listener expects to hear for displayed text, as comparable words."""
    for pattern, repl in _DISPLAY_RULES:
        text = re.sub(pattern, repl, text)
    return words(text)


# --- synthesis --------------------------------------------------------------------------------


def _sentences(slug: str) -> list[tuple[str, str, str, float]]:
    """Return (id, displayed, spoken, pause after) for every segment of the article."""
    from narrate.pipeline import load_resolved
    from narrate.script import build_script
    from narrate.settings.load import load_project

    site = load_project(ROOT / "narrate.yaml", content_dir=ARTICLES[slug])
    script = build_script(*load_resolved(site, slug))
    return [(s.id, s.display, s.spoken, s.pause_after) for s in script.segments]


def synthesise(
    texts: Sequence[str],
    *,
    gap_10ms: int | None = None,
    rate: int = VoiceSettings().rate,
    backend: str = "pyttsx3",
    voice: str = "en-us",
) -> list[Audio]:
    """Return the raw engine audio of each text, spoken in a separate process.

    That process starts its own engine (never this one: this process starts none), speaks the
    texts in order and returns WAV bytes. Without ``gap_10ms`` it speaks as a build does
    (forked engines, narrate's word gap); with it, that word gap instead (espeakWORDGAP, in
    10 ms units), set before every utterance, in-process.
    """
    code = r"""
import base64, json, os, sys
req = json.load(sys.stdin)
if req["gap"] is not None:
    from narrate.synth.backends.espeak import _choose_library, _dlopen
    lib = _choose_library()  # what narrate speaks with (bundled unless NARRATE_ESPEAK=system)
    _dlopen(lib)
    if lib.data_path:
        os.environ["ESPEAK_DATA_PATH"] = lib.data_path
    from pyttsx3.drivers import _espeak
    synth = _espeak.Synth
    def with_gap(*a, **k):
        _espeak.SetParameter(7, req["gap"], 0)  # espeakWORDGAP
        return synth(*a, **k)
    _espeak.Synth = with_gap
from narrate.settings.model import VoiceSettings
from narrate.synth.backends import create
backend = create(req["backend"])
voice = VoiceSettings(backend=req["backend"], voice=req["voice"], rate=req["rate"])
out = []
for t in req["texts"]:
    a = backend.synthesise(t, voice)
    out.append([base64.b64encode(a.pcm).decode(), a.sample_rate])
json.dump(out, sys.stdout)
"""
    import base64

    env = os.environ | {"NARRATE_ENGINE_FORK": "1" if gap_10ms is None else "0"}
    if gap_10ms is not None:  # pyttsx3 must be imported before the patch, in the same process
        code = "import pyttsx3\n" + code
    req = {"texts": list(texts), "gap": gap_10ms, "rate": rate, "backend": backend, "voice": voice}
    done = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(req), capture_output=True, text=True,
        check=True, env=env, cwd=ROOT,
    )  # fmt: skip
    return [Audio(base64.b64decode(p), r) for p, r in json.loads(done.stdout)]


# --- finishes -----------------------------------------------------------------------------------


def _pcm(y: Any, rate: int) -> Audio:
    return Audio(np.clip(np.round(y * 32768.0), -32768, 32767).astype("<i2").tobytes(), rate)


def plain_gain(a: Audio, lufs: float = -16.0) -> Audio:
    """Return the trimmed sentence at ``lufs`` by plain gain, peaks clipped at -1 dBFS."""
    x = trim(to_float(a))
    if not len(x) or not np.any(x):
        return a
    y = x * 10 ** ((lufs - loudness_lufs(x)) / 20)
    ceiling = 10 ** (-1 / 20)
    return _pcm(np.clip(y, -ceiling, ceiling), a.sample_rate)


def raw(a: Audio) -> Audio:
    """Return the trimmed sentence with no gain."""
    return _pcm(trim(to_float(a)), a.sample_rate)


FINISHES: dict[str, Callable[[Audio], Audio]] = {
    "default": lambda a: finish(a, -16.0, -1.0),
    "-18 LUFS": lambda a: finish(a, -18.0, -1.0),
    "-20 LUFS": lambda a: finish(a, -20.0, -1.0),
    "plain gain": plain_gain,
    "raw": raw,
}


# --- listening ------------------------------------------------------------------------------------


def _wav16k(audio: Audio, margin: float) -> Any:
    """Return the sentence padded with ``margin`` s of silence, as 16 kHz float samples."""
    from faster_whisper import decode_audio

    pad = b"\0\0" * int(margin * audio.sample_rate)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(audio.sample_rate)
        w.writeframes(pad + audio.pcm + pad)
    buf.seek(0)
    return decode_audio(buf, sampling_rate=16_000)


def score(
    model: Any, sents: Sequence[tuple[str, str, str, float]], audios: Sequence[Audio], margin: float
) -> tuple[float, float, list[tuple[float, str, str, str]]]:
    """Return (recall of spoken words, recall of displayed words, per-sentence rows)."""
    said = heard_total = shown = shown_total = 0.0
    rows = []
    for (_, display, spoken, _), audio in zip(sents, audios, strict=True):
        heard = words(transcribe(model, _wav16k(audio, margin)))
        ref, disp = words(spoken), display_words(display)
        r = recall(ref, heard)
        said += r * len(ref)
        heard_total += len(ref)
        shown += recall(disp, heard) * len(disp)
        shown_total += len(disp)
        rows.append((r, spoken, display, " ".join(heard)))
    return said / heard_total, shown / shown_total, rows


def whole_file(
    model: Any, sents: Sequence[tuple[str, str, str, float]], audios: Sequence[Audio]
) -> float:
    """Return the recall of the whole article transcribed in one piece (pauses included)."""
    pcm = b"".join(
        a.pcm + b"\0\0" * int(p * a.sample_rate) for a, (*_, p) in zip(audios, sents, strict=True)
    )
    samples = _wav16k(Audio(pcm, audios[0].sample_rate), 0.2)
    # With timestamps: over many 30 s windows, each window then ends where speech ends
    # (without them faster-whisper drops the words that straddle a window's end).
    segments, _ = model.transcribe(
        samples, language="en", beam_size=1, temperature=0.0,
        condition_on_previous_text=False, without_timestamps=False, vad_filter=False,
    )  # fmt: skip
    heard = words(" ".join(seg.text for seg in segments))
    return recall(words(" ".join(s for _, _, s, _ in sents)), heard)


def levels(audios: Sequence[Audio]) -> str:
    """Return the loudness and true peak of the sentences joined."""
    x = to_float(Audio(b"".join(a.pcm for a in audios), audios[0].sample_rate))
    return f"{loudness_lufs(x):6.1f} LUFS, peak {true_peak_db(x):5.1f} dBTP"


def report(
    model: Any, sents: Sequence[tuple[str, str, str, float]], variants: dict[str, list[Audio]]
) -> None:
    """Print each variant's recall; for the first, the margin spread and the worst sentences."""
    print(f"{'finish':<16} {'spoken':>7} {'shown':>7} {'whole':>7}   level")
    first = next(iter(variants))
    worst: list[tuple[float, str, str, str]] = []
    spread: list[float] = []
    for name, audios in variants.items():
        r, d, rows = score(model, sents, audios, 0.15)
        whole = whole_file(model, sents, audios)
        print(f"{name:<16} {r:7.3f} {d:7.3f} {whole:7.3f}   {levels(audios)}")
        if name == first:
            worst = sorted(rows)[:10]
            spread = [score(model, sents, audios, m)[0] for m in MARGINS]
    print(f"{first}, margins {MARGINS}: " + " ".join(f"{s:.3f}" for s in spread))
    print(f"10 worst sentences ({first}): recall | said | heard")
    for r, spoken, _display, heard in worst:
        print(f"  {r:.2f} | {spoken} | {heard}")


def piper_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("piper") is not None


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    model = load_model()
    for slug in ["imagenet"] if quick else list(ARTICLES):
        sents = _sentences(slug)
        texts = [s for _, _, s, _ in sents]
        base = synthesise(texts)
        no_gap = synthesise(texts, gap_10ms=0)
        variants: dict[str, list[Audio]] = {}
        for name, fin in FINISHES.items():
            if quick and name != "default":
                continue
            variants[name] = [fin(a) for a in base]
        variants["no word gap"] = [finish(a, -16.0, -1.0) for a in no_gap]
        if not quick:
            faster = synthesise(texts, rate=170)
            variants["gap+rate 170"] = [finish(a, -16.0, -1.0) for a in faster]
        print(f"\n== {slug}: {len(sents)} sentences, pyttsx3 (espeak-ng)")
        report(model, sents, variants)
        if piper_installed():
            # Two takes: Piper's sampling differs run to run, which is noise to read against.
            takes = {
                f"piper take {n}": [
                    finish(a, -16.0, -1.0) for a in synthesise(texts, backend="piper", voice="joe")
                ]
                for n in (1, 2)
            }
            print(f"\n== {slug}: {len(sents)} sentences, Piper (joe)")
            report(model, sents, takes)


if __name__ == "__main__":
    main(sys.argv[1:])
