"""Plan a build without audio: the script, every sentence's and chunk's key, the record's facts.

Planning needs no engine: a key is a hash of what is said and of everything that shapes the
sound (the backend's cache token, mastering, encoder), so the cache and the freshness record can
be consulted before anything is synthesised.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from narrate import AUDIO_VERSION, __version__
from narrate.audio.mp3 import ENCODER_DELAY, encoder_version
from narrate.content.model import Article
from narrate.pcm import SAMPLE_RATE
from narrate.pipeline.cache import digest
from narrate.script import Script, Segment, build_script
from narrate.settings.effective import Effective
from narrate.settings.model import Boundary, VoiceSettings
from narrate.synth import backends
from narrate.synth.backends.base import Backend

__all__ = ["ChunkPlan", "Plan", "Tokens", "describe_voice", "plan"]

MASTERING_VERSION = 4
"""Bump when trimming or mastering changes (invalidates cached finished sentences)."""
CHAPTER_LEAD = 0.15
"""Seconds of a chapter's own silence before its heading is spoken.

With the encoder's 1105-sample shift a chapter starts ~0.2 s before its heading's speech: inside
the pause, never after the onset, and well within 0.3 s of it.
"""
MIN_TAIL = 0.1
"""Shortest silence a chunk ends with, whatever the pause asked for."""


@dataclass(frozen=True)
class ChunkPlan:
    """One separately encoded stretch: a sentence and the pause after it."""

    key: str
    chapter: int
    first_in_chapter: bool
    """Whether a chapter starts at this chunk's first sample."""
    segment: Segment
    segment_key: str
    pause: float
    """Seconds of silence after the speech (less what the next chunk brings)."""
    lead: float
    """Seconds of silence before the speech."""


@dataclass(frozen=True)
class Plan:
    """Everything about one article's build that can be known without audio."""

    article: Article
    settings: Effective
    script: Script
    chunks: tuple[ChunkPlan, ...]
    input_hash: str
    """Changes whenever any published byte would."""
    facts: dict[str, Any]
    """What the build record keeps besides the input hash, to say why outputs are stale."""

    @property
    def slug(self) -> str:
        """Return the article's slug."""
        return self.article.slug

    @property
    def segment_keys(self) -> list[str]:
        """Return every sentence's cache key in order."""
        return [c.segment_key for c in self.chunks]

    def label(self, seg: Segment) -> str:
        """Return how errors name a sentence: article, chapter, line and its start."""
        title = self.script.chapters[seg.chapter].title
        text = seg.display if len(seg.display) <= 48 else seg.display[:47] + "…"
        line = f", line {seg.line}" if seg.line else ""
        return f"{self.slug}, chapter {title!r}{line} ({text!r})"


class Tokens:
    """Backend cache tokens, asked once per voice in this process (no engine is started)."""

    def __init__(self) -> None:
        self._backends: dict[str, Backend] = {}
        self._tokens: dict[VoiceSettings, str] = {}

    def __call__(self, voice: VoiceSettings) -> str:
        """Return the cache token of ``voice`` (its backend's identity for that voice)."""
        if voice not in self._tokens:
            if voice.backend not in self._backends:
                self._backends[voice.backend] = backends.create(voice.backend)
            self._tokens[voice] = self._backends[voice.backend].cache_token(voice)
        return self._tokens[voice]


def describe_voice(v: VoiceSettings) -> str:
    """Return a voice as text, e.g. ``pyttsx3 en-us 160 wpm``."""
    return f"{v.backend} {v.voice} {v.rate} wpm"


def _sentence_key(seg: Segment, s: Effective, tokens: Tokens) -> str:
    # What is said, how it sounds and how it is mastered: the cache holds finished sentences.
    # The backend's registry name is in it besides its token, so two backends never share audio.
    return digest(
        "seg",
        AUDIO_VERSION,
        seg.voice.backend,
        tokens(seg.voice),
        seg.spoken,
        MASTERING_VERSION,
        s.loudness.integrated_lufs,
        s.loudness.true_peak_db,
    )


def _chunks(script: Script, s: Effective, tokens: Tokens) -> list[ChunkPlan]:
    """Return one chunk per sentence with the pause after it: each join falls in silence."""
    segments = script.segments
    chunks = []
    for i, seg in enumerate(segments):
        first = i == 0 or segments[i - 1].chapter != seg.chapter
        lead = script.lead_in if i == 0 else (CHAPTER_LEAD if first else 0.0)
        pause = seg.pause_after
        if seg.boundary is not Boundary.END:
            # The next chunk brings the encoder's shift (and a chapter its lead): keep the
            # audible gap what the config asks for.
            nxt = CHAPTER_LEAD if segments[i + 1].chapter != seg.chapter else 0.0
            pause = max(MIN_TAIL, pause - nxt - ENCODER_DELAY / SAMPLE_RATE)
        key = _sentence_key(seg, s, tokens)
        chunk_key = digest(
            "chunk", AUDIO_VERSION, encoder_version(), s.bitrate, SAMPLE_RATE, lead, key, pause
        )
        chunks.append(ChunkPlan(chunk_key, seg.chapter, first, seg, key, pause, lead))
    return chunks


def plan(article: Article, settings: Effective, tokens: Tokens | None = None) -> Plan:
    """Return the build plan of ``article`` under its effective ``settings``."""
    tokens = tokens or Tokens()
    script = build_script(article, settings)
    chunks = _chunks(script, settings, tokens)
    input_hash = digest(
        "outputs",
        AUDIO_VERSION,
        __version__,
        [c.key for c in chunks],
        [c.title for c in script.chapters],
        [(x.id, x.display) for x in script.segments],
        tags(article, settings),
    )
    facts = _facts(script, settings, tokens)
    return Plan(article, settings, script, tuple(chunks), input_hash, facts)


def _facts(script: Script, s: Effective, tokens: Tokens) -> dict[str, Any]:
    """Return the build record's extra fields: what changed, when the input hash differs."""
    segments = script.segments
    voices = dict.fromkeys(seg.voice for seg in segments)
    return {
        "content": digest("content", [(x.id, x.spoken) for x in segments]),
        "sentences": [digest(x.id, x.spoken)[:12] for x in segments],
        "voices": {seg.kind.value: describe_voice(seg.voice) for seg in segments},
        "cli": dict(sorted(s.cli.given().items())),
        "mastering": digest(
            "mastering", dataclasses.asdict(s.pauses), dataclasses.asdict(s.loudness), s.bitrate
        ),
        "engine": {
            "narrate": __version__,
            "encoder": encoder_version(),
            "voices": {describe_voice(v): tokens(v) for v in voices},
        },
    }


def _year(article: Article) -> str | None:
    # ID3 wants four digits; a displayed year like "2012 (September)" gives its first.
    m = re.search(r"\b\d{4}\b", article.year or "")
    return m.group(0) if m else None


def tags(article: Article, s: Effective) -> dict[str, Any]:
    """Return the MP3's ID3 text tags (title, artist, album, year, comment)."""
    year = _year(article)
    what = (article.event or article.title).rstrip(".")
    return {
        "title": article.title,
        "artist": s.site.id3_artist,
        "album": s.site.id3_album,
        "year": year,
        # e.g. "Dataset Created (2009). Narrated by My Site."
        "comment": f"{what}{f' ({year})' if year else ''}. Narrated by {s.site.site_name}.",
    }
