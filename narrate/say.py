"""Hear one line as a build would say it: ``narrate say`` and ``narrate voices``.

A line goes through the same path as an article's sentences: split into sentences, normalised
with the site's lexicon, spoken by the site's voice (or the one asked for) in a worker process,
trimmed and mastered to the loudness target, and joined with the sentence pause. So an editor can
try a lexicon entry in seconds and hear exactly what the next build will publish.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import wave
from dataclasses import astuple, dataclass
from pathlib import Path

from narrate.errors import NarrateError, OutputError, UsageError
from narrate.pcm import SAMPLE_RATE, SAMPLE_WIDTH, Audio
from narrate.settings.model import Kind, Settings, VoiceOverride, VoiceSettings
from narrate.synth import backends
from narrate.synth.backends.base import VoiceInfo

__all__ = ["PLAYERS", "Said", "find_player", "list_voices", "play", "say", "write_wav"]

LEAD_SECONDS = 0.2
"""Silence before the line, so a player's start-up does not clip the first word."""

PLAYERS: tuple[tuple[str, ...], ...] = (
    ("pw-play",),
    ("paplay",),
    ("aplay", "-q"),
    ("afplay",),
    ("ffplay", "-nodisp", "-autoexit", "-loglevel", "error"),
)
"""Command lines tried in order to play a WAV file (the file's path is appended)."""


@dataclass(frozen=True)
class Said:
    """One line spoken as a build would speak it."""

    spoken: tuple[str, ...]
    """What the engine was given, sentence by sentence (normalised, lexicon applied)."""
    voice: VoiceSettings
    """The voice that spoke it."""
    audio: Audio
    """The mastered audio (16-bit mono), with the sentence pause between sentences."""


def list_voices(name: str) -> list[VoiceInfo]:
    """Return the voices backend ``name`` offers."""
    return backends.create(name).voices()


def say(
    settings: Settings,
    text: str,
    *,
    kind: Kind = Kind.PARAGRAPH,
    overrides: VoiceOverride | None = None,
) -> Said:
    """Speak ``text`` with the voice a build gives segments of ``kind`` (after ``overrides``)."""
    from narrate.audio.chunk import stitch
    from narrate.settings.effective import resolve
    from narrate.synth.jobs import Job, Mastered
    from narrate.synth.pool import WorkerPool
    from narrate.text import normalise, split_sentences

    s = resolve(settings, cli=overrides)
    voice = s.voice_for(kind)
    sentences = split_sentences(text.strip())
    spoken = tuple(normalise(x, s.lexicon) for x in sentences)
    if not any(x.strip() for x in spoken):
        raise UsageError('nothing to say: give a line of text, e.g. narrate say "Fei-Fei Li"')
    # The token checks the backend and voice in this process before a worker starts (the
    # piper backend refuses an unknown voice here), exactly as planning a build does.
    backends.create(voice.backend).cache_token(voice)
    jobs = [Job(str(i), x, voice, f"say, sentence {i + 1}") for i, x in enumerate(spoken)]
    spec = Mastered(backends.factory(voice.backend), *astuple(s.loudness))
    finished: dict[str, Audio] = {}
    with WorkerPool(spec, processes=1) as pool:
        for job, result in pool.run(jobs):
            if isinstance(result, NarrateError):
                raise result
            finished[job.key] = result
    pcm = b""
    for n, job in enumerate(jobs):
        last = n + 1 == len(jobs)
        part, _ = stitch(
            finished[job.key], LEAD_SECONDS if n == 0 else 0.0,
            s.pauses.end if last else s.pauses.sentence,
        )  # fmt: skip
        pcm += part
    return Said(spoken, voice, Audio(pcm=pcm, sample_rate=SAMPLE_RATE))


def write_wav(audio: Audio, path: Path | None) -> Path:
    """Write ``audio`` as a WAV file at ``path`` (a new temporary file if None); return it."""
    if path is None:
        fd, name = tempfile.mkstemp(prefix="narrate-say-", suffix=".wav")
        os.close(fd)
        path = Path(name)
    try:
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(SAMPLE_WIDTH)
            w.setframerate(audio.sample_rate)
            w.writeframes(audio.pcm)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def find_player() -> list[str] | None:
    """Return the command line of the first audio player on PATH, or None."""
    for cmd in PLAYERS:
        if shutil.which(cmd[0]):
            return list(cmd)
    return None


def play(path: Path, player: list[str]) -> str | None:
    """Play ``path`` with ``player``; return why it failed, or None."""
    try:
        done = subprocess.run(
            [*player, str(path)], stdin=subprocess.DEVNULL, capture_output=True, text=True
        )
    except OSError as exc:
        return f"{player[0]} could not start: {exc.strerror or exc}"
    detail = (done.stderr.strip().splitlines() or [""])[-1]
    if done.returncode != 0:
        return f"{player[0]} exited with status {done.returncode}" + (
            f" ({detail})" if detail else ""
        )
    if _PLAYBACK_FAILED.search(done.stderr):
        # ffplay exits 0 when it cannot open a sound device ("audio open failed").
        return f"{player[0]} could not play it, no sound device? ({detail})"
    return None


_PLAYBACK_FAILED = re.compile(r"(?i)\b(fail(ed|ure)?|error|cannot|could not|unable)\b")
