"""Site settings: typed, documented, with defaults; loaded from ``narrate.yaml`` at the root.

The project root is the folder holding the site config. Articles may override a subset of these
(``voice``, ``kinds``, ``pauses``, ``lexicon``) under their own ``settings:`` key, and the
command line may override the default voice: :class:`Overrides` holds either, and
:func:`narrate.settings.effective.resolve` applies them once per article.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

CONFIG_NAME = "narrate.yaml"


class _Name(str, Enum):
    """An enum whose members are their plain names, interchangeable with those strings."""

    __hash__ = str.__hash__  # so a plain "quote" finds Kind.QUOTE in a mapping, and back

    def __str__(self) -> str:
        return str(self.value)


class Kind(_Name):
    """What a segment is; voices can differ by kind (``kinds:`` in the config)."""

    HEADING = "heading"
    TITLE = "title"
    SUMMARY = "summary"
    PARAGRAPH = "paragraph"
    QUOTE = "quote"
    TIMELINE = "timeline"
    ITEM = "item"


class Boundary(_Name):
    """What follows a segment, which sets the pause after it."""

    SENTENCE = "sentence"
    HEADING = "heading"  # after a spoken heading (or the title)
    PARAGRAPH = "paragraph"
    CHAPTER = "chapter"
    END = "end"


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
class FeedSettings:
    """The podcast feed's channel (``feed:``); empty texts fall back to the site's."""

    title: str = ""
    """Channel title; defaults to ``site.name``."""
    description: str = ""
    """Channel description; defaults to "Narrated articles from TITLE."."""
    link: str = ""
    """The site's home page; defaults to ``site.base_url``."""
    language: str = "en"
    author: str = ""
    """``itunes:author``; defaults to the ID3 artist."""
    image: str = ""
    """Cover art URL (absolute, or relative to ``site.base_url``); none when empty."""
    category: str = ""
    """An Apple Podcasts category such as ``Technology``; none when empty."""
    explicit: bool = False


@dataclass(frozen=True)
class Settings:
    """Everything that shapes a build. Paths are absolute once loaded."""

    site_name: str = "My Site"
    """Shown as the MP3's artist and album unless those are set."""
    artist: str | None = None
    """ID3 artist; defaults to ``site_name``."""
    album: str | None = None
    """ID3 album; defaults to ``site_name``."""
    base_url: str = ""
    """URL prefix under which the audio folder is served (for embed fragments)."""
    artwork: str | None = None
    """URL of the site's cover image: lock-screen players (Media Session) and the feed show it."""
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    """Default voice for every segment."""
    kinds: Mapping[Kind, VoiceOverride] = field(default_factory=dict)
    """Per segment kind voice changes, e.g. ``{Kind.QUOTE: VoiceOverride(voice="en-us+f3")}``."""
    pauses: Pauses = field(default_factory=Pauses)
    loudness: Loudness = field(default_factory=Loudness)
    bitrate: int = 64
    """MP3 bitrate in kb/s (mono); 64 is plenty for a 22 kHz voice."""
    max_sentences: int = 20_000
    """Sentences an article may have (``limits.sentences``); a longer one is a content error."""
    lexicon: Mapping[str, str] = field(default_factory=dict)
    """Pronunciation lexicon: displayed word or phrase -> spoken form. Applies to every backend."""
    root: Path = field(default_factory=Path.cwd)
    """Project root (the folder holding ``narrate.yaml``)."""
    content_dir: Path = Path("content")
    """Where articles live (relative paths are taken from the root)."""
    audio_dir: Path = Path("audio")
    """Where outputs are written."""
    cache_dir: Path = Path(".cache/narrate")
    """Content-addressed segment cache."""
    feed: FeedSettings = field(default_factory=FeedSettings)
    """The podcast feed's channel fields (``narrate feed``)."""
    markdown: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Markdown non-prose policy by kind (``code``, ``table``, ...): (policy, spoken cue)."""

    @property
    def id3_artist(self) -> str:
        """Return the artist tag value."""
        return self.artist or self.site_name

    @property
    def id3_album(self) -> str:
        """Return the album tag value."""
        return self.album or self.site_name


@dataclass(frozen=True)
class VoiceOverride:
    """Any subset of a voice: what an article's ``settings:`` or the command line changes."""

    backend: str | None = None
    voice: str | None = None
    rate: int | None = None

    def given(self) -> dict[str, Any]:
        """Return only the fields that are set, e.g. ``{"rate": 150}``."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def apply(self, voice: VoiceSettings) -> VoiceSettings:
        """Return ``voice`` with the fields that are set replaced."""
        return dataclasses.replace(voice, **self.given()) if self.given() else voice

    def __bool__(self) -> bool:
        return bool(self.given())


@dataclass(frozen=True)
class Overrides:
    """Settings one layer changes on top of the site config (an article, or the command line)."""

    voice: VoiceOverride = field(default_factory=VoiceOverride)
    """The default voice."""
    kinds: Mapping[Kind, VoiceOverride] = field(default_factory=dict)
    """Per segment kind voice changes."""
    pauses: Mapping[str, float] = field(default_factory=dict)
    """Pause lengths by name (see :class:`Pauses`)."""
    lexicon: Mapping[str, str] = field(default_factory=dict)
    """Lexicon entries added or replaced."""

    def __bool__(self) -> bool:
        return bool(self.voice or self.kinds or self.pauses or self.lexicon)
