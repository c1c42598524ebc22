"""One article's effective settings: the site config, then the article, then the command line.

Resolved once, at the top of a run, into :class:`Effective`, which flows down to the script, the
plan, the build and the page; nothing below applies an override again. The order, each layer
replacing what the one before set:

1. the site config (``narrate.yaml``), defaults for what it leaves out;
2. the article's ``settings:`` (voice, kinds, pauses, lexicon);
3. the command line (``--backend``, ``--voice``, ``--rate``), which changes the default voice;
4. ``kinds:`` entries (the config's, then the article's) on top of that default, for their kind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from narrate.settings.model import (
    CONFIG_NAME,
    Kind,
    Loudness,
    Overrides,
    Pauses,
    Settings,
    VoiceOverride,
    VoiceSettings,
)

__all__ = ["Effective", "resolve"]


@dataclass(frozen=True)
class Effective:
    """Everything that shapes one article's narration, with every override applied."""

    site: Settings
    """The site config (paths, names, tags); its voice and pauses are not applied again."""
    voice: VoiceSettings
    """The default voice (config, article, command line), before ``kinds:`` entries."""
    voices: Mapping[Kind, VoiceSettings]
    """The voice of every segment kind."""
    pauses: Pauses
    loudness: Loudness
    bitrate: int
    lexicon: Mapping[str, str]
    cli: VoiceOverride = field(default_factory=VoiceOverride)
    """What the command line changed (kept in the build record, named in stale reasons)."""
    sources: Mapping[Kind, str] = field(default_factory=dict)
    """Where each kind's voice id was chosen: ``--voice``, the article's file or the config's."""

    def voice_for(self, kind: Kind) -> VoiceSettings:
        """Return the voice segments of ``kind`` are spoken with."""
        return self.voices[kind]


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def resolve(
    site: Settings,
    article: Overrides | None = None,
    cli: VoiceOverride | None = None,
    article_file: str = "",
) -> Effective:
    """Return the effective settings of one article (see the module docstring for the order)."""
    article = article or Overrides()
    cli = cli or VoiceOverride()
    config_file = _shown(site.root / CONFIG_NAME)
    here = _shown(Path(article_file)) if article_file else config_file
    default = cli.apply(article.voice.apply(site.voice))
    default_from = "--voice" if cli.voice else here if article.voice.voice else config_file
    voices: dict[Kind, VoiceSettings] = {}
    sources: dict[Kind, str] = {}
    for kind in Kind:
        voice, source = default, default_from
        for layer, where in ((site.kinds, config_file), (article.kinds, here)):
            over = layer.get(kind)
            if over:
                voice = over.apply(voice)
                source = where if over.voice else source
        voices[kind], sources[kind] = voice, source
    return Effective(
        site=site,
        voice=default,
        voices=voices,
        pauses=dataclasses.replace(site.pauses, **article.pauses),
        loudness=site.loudness,
        bitrate=site.bitrate,
        lexicon={**site.lexicon, **article.lexicon},
        cli=cli,
        sources=sources,
    )
