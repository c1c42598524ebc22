"""Hear one line as a build would say it: ``narrate say`` and ``narrate voices``.

A line goes through the same path as an article's sentences: split into sentences, normalised
with the site's lexicon, spoken by the site's voice (or the one asked for) in a worker process,
trimmed and mastered to the loudness target, and joined with the sentence pause. So an editor can
try a lexicon entry in seconds and hear exactly what the next build will publish.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from narrate import backends
from narrate.backends.base import SAMPLE_WIDTH, Audio, VoiceInfo
from narrate.config import Settings, VoiceSettings
from narrate.errors import OutputError, UsageError

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
    kind: str = "paragraph",
    overrides: dict[str, Any] | None = None,
) -> Said:
    """Speak ``text`` with the voice a build gives segments of ``kind`` (after ``overrides``)."""
    from narrate.assemble import finish, stitch
    from narrate.build import apply_cli_overrides
    from narrate.speech import normalise, split_sentences
    from narrate.workers import Job, WorkerPool

    s = apply_cli_overrides(settings, overrides or {})
    voice = s.voice_for(kind)
    sentences = split_sentences(text.strip())
    spoken = tuple(normalise(x, s.lexicon) for x in sentences)
    if not any(x.strip() for x in spoken):
        raise UsageError('nothing to say: give a line of text, e.g. narrate say "Fei-Fei Li"')
    # The token checks the backend and voice in this process before a worker starts (the
    # piper backend refuses an unknown voice here), exactly as planning a build does.
    backends.create(voice.backend).cache_token(voice)
    jobs = [Job(str(i), x, voice, f"say, sentence {i + 1}") for i, x in enumerate(spoken)]
    loud = s.loudness
    finished: dict[str, Audio] = {}
    with WorkerPool(backends.factory(voice.backend), processes=1) as pool:
        for job, audio in pool.run(jobs):
            finished[job.key] = finish(audio, loud.integrated_lufs, loud.true_peak_db)
    parts = [finished[j.key] for j in jobs]
    pauses = [s.pauses.sentence] * (len(parts) - 1) + [s.pauses.end]
    pcm, _ = stitch(parts, pauses, LEAD_SECONDS)
    return Said(spoken, voice, Audio(pcm=pcm, sample_rate=parts[0].sample_rate))


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
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [""])[-1]
        return f"{player[0]} exited with status {done.returncode}" + (
            f" ({detail})" if detail else ""
        )
    return None
