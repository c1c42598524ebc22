"""Site settings: typed, documented, with defaults; loaded from ``narrate.yaml`` at the root.

The project root is the folder holding the site config. Articles may override a subset of these
(``voice``, ``kinds``, ``pauses``, ``lexicon``) under their own ``settings:`` key.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_NAME = "narrate.yaml"


@dataclass(frozen=True)
class VoiceSettings:
    """Which engine speaks, in which voice, how fast."""

    backend: str = "pyttsx3"
    """Registered backend name (``narrate voices`` lists what is installed)."""
    voice: str = "en-us"
    """Backend-specific voice id; for pyttsx3/espeak-ng ``en-us`` is American English."""
    rate: int = 160
    """Speaking rate in words per minute (human narrators read at about 150-165)."""


@dataclass(frozen=True)
class Pauses:
    """Silence, in seconds, between the end of one utterance's speech and the start of the next."""

    sentence: float = 0.45
    """Between sentences of one paragraph."""
    paragraph: float = 1.0
    """Between paragraphs, quotes, timeline entries and list items."""
    heading: float = 0.8
    """After a spoken section heading."""
    chapter: float = 2.2
    """Between the last sentence of a chapter and the next chapter's heading."""
    start: float = 0.5
    """Room tone before the first word."""
    end: float = 1.5
    """Room tone after the last word."""


@dataclass(frozen=True)
class Loudness:
    """Loudness targets, measured on the final MP3 (ffmpeg ``ebur128=peak=true``)."""

    integrated_lufs: float = -16.0
    """Integrated loudness target (podcast and web spoken word: -16 LUFS)."""
    true_peak_db: float = -1.0
    """Ceiling for the true peak of the final MP3, in dBTP."""


@dataclass(frozen=True)
class Settings:
    """Everything that shapes a build. Paths are absolute once loaded."""

    site_name: str = "AI Milestones"
    """Shown as the MP3's artist and album unless those are set."""
    artist: str | None = None
    """ID3 artist; defaults to ``site_name``."""
    album: str | None = None
    """ID3 album; defaults to ``site_name``."""
    base_url: str = ""
    """URL prefix under which the audio folder is served (for embed fragments)."""
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    """Default voice for every segment."""
    kinds: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per segment kind voice overrides, e.g. ``{"quote": {"voice": "en-us+f3"}}``."""
    pauses: Pauses = field(default_factory=Pauses)
    loudness: Loudness = field(default_factory=Loudness)
    bitrate: int = 64
    """MP3 bitrate in kb/s (mono); 64 is plenty for a 22 kHz voice."""
    lexicon: dict[str, str] = field(default_factory=dict)
    """Pronunciation lexicon: displayed word or phrase -> spoken form. Applies to every backend."""
    root: Path = field(default_factory=Path.cwd)
    """Project root (the folder holding ``narrate.yaml``)."""
    content_dir: Path = Path("content")
    """Where articles live (relative paths are taken from the root)."""
    audio_dir: Path = Path("audio")
    """Where outputs are written."""
    cache_dir: Path = Path(".cache/narrate")
    """Content-addressed segment cache."""

    @property
    def id3_artist(self) -> str:
        """Return the artist tag value."""
        return self.artist or self.site_name

    @property
    def id3_album(self) -> str:
        """Return the album tag value."""
        return self.album or self.site_name

    def voice_for(self, kind: str) -> VoiceSettings:
        """Return the voice for a segment kind (``kinds`` overrides on top of ``voice``)."""
        over = self.kinds.get(kind)
        if not over:
            return self.voice
        return dataclasses.replace(self.voice, **over)

    def with_overrides(self, overrides: dict[str, Any]) -> Settings:
        """Return settings with an article's validated ``settings:`` overrides applied."""
        s = self
        if "voice" in overrides:
            s = dataclasses.replace(s, voice=dataclasses.replace(s.voice, **overrides["voice"]))
        if "pauses" in overrides:
            s = dataclasses.replace(s, pauses=dataclasses.replace(s.pauses, **overrides["pauses"]))
        if "kinds" in overrides:
            kinds = {k: dict(v) for k, v in s.kinds.items()}
            for k, v in overrides["kinds"].items():
                kinds[k] = {**kinds.get(k, {}), **v}
            s = dataclasses.replace(s, kinds=kinds)
        if "lexicon" in overrides:
            s = dataclasses.replace(s, lexicon={**s.lexicon, **overrides["lexicon"]})
        return s
