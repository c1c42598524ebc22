"""Load the site config (``narrate.yaml``) into :class:`~narrate.settings.model.Settings`.

The per-field rules (types, ranges, allowed keys) live here once and serve both the site config
and an article's ``settings:`` overrides, so the two can never disagree.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from narrate.errors import ConfigError
from narrate.settings.model import (
    CONFIG_NAME,
    FeedSettings,
    Kind,
    Loudness,
    Overrides,
    Pauses,
    Settings,
    VoiceOverride,
    VoiceSettings,
)
from narrate.text import is_silent
from narrate.text.characters import shown
from narrate.yamlread import Node, load

CONFIG_VERSION = 1
"""The config format this narrate reads (the ``narrate:`` key)."""

CACHE_ENV = "NARRATE_CACHE_DIR"
"""Environment variable that overrides ``paths.cache`` (e.g. a shared CI cache)."""

KINDS = tuple(k.value for k in Kind)
"""Segment kinds a ``kinds:`` entry may name."""

RATE_RANGE = (80, 400)
"""Words per minute: below 80 or above 400 espeak-ng becomes unintelligible."""
PAUSE_RANGE = (0.0, 10.0)
"""Seconds; a pause over 10 s reads as the audio having ended."""
LUFS_RANGE = (-30.0, -10.0)
TRUE_PEAK_RANGE = (-6.0, 0.0)
BITRATES = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160)
"""Mono MP3 bitrates LAME accepts at both 44.1/48 kHz (MPEG-1) and 22.05/24 kHz (MPEG-2)."""

_SITE_KEYS = ("name", "artist", "album", "base_url", "artwork")
_PATH_KEYS = {"content": "content_dir", "audio": "audio_dir", "cache": "cache_dir"}
_VOICE_KEYS = ("backend", "voice", "rate")
_PAUSE_KEYS = tuple(f.name for f in dataclasses.fields(Pauses))
_LOUDNESS_KEYS = tuple(f.name for f in dataclasses.fields(Loudness))

_OVERRIDE_KEYS = ("voice", "kinds", "pauses", "lexicon")
_SITE_ONLY_KEYS = ("narrate", "site", "paths", "loudness", "mp3", "limits", "feed", "markdown")
_CONFIG_KEYS: tuple[str, ...] = ("narrate", "site", "paths", *_OVERRIDE_KEYS, "loudness", "mp3")
_CONFIG_KEYS += ("limits",)
_CONFIG_KEYS += ("feed", "markdown")
_FEED_KEYS = tuple(f.name for f in dataclasses.fields(FeedSettings))
SENTENCES_RANGE = (1, 1_000_000)
"""Bounds of ``limits.sentences``."""


def find_root(start: Path) -> Path:
    """Return the nearest folder at or above ``start`` holding ``narrate.yaml``, else ``start``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return start


def _voice(node: Node) -> VoiceOverride:
    """Validate a ``voice:`` mapping (any subset of backend, voice, rate)."""
    fields = node.mapping(_VOICE_KEYS, what="backend:, voice: or rate:")
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "rate":
            out[key] = value.integer(*RATE_RANGE, unit="words per minute")
        else:
            out[key] = value.text(what=f"{key} name", optional=True)
    return VoiceOverride(**out)


def _kinds(node: Node) -> dict[Kind, VoiceOverride]:
    """Validate ``kinds:``: segment kind -> voice overrides."""
    fields = node.mapping(KINDS, what="segment kinds (" + ", ".join(KINDS) + ")")
    return {Kind(kind): _voice(value) for kind, value in fields.items()}


def _pauses(node: Node) -> dict[str, float]:
    """Validate ``pauses:`` (any subset of the pause names, seconds)."""
    fields = node.mapping(_PAUSE_KEYS, what="pause lengths (" + ", ".join(_PAUSE_KEYS) + ")")
    return {key: value.number(*PAUSE_RANGE, what="seconds") for key, value in fields.items()}


def _lexicon(node: Node) -> dict[str, str]:
    """Validate ``lexicon:``: displayed word or phrase -> how to say it (in words)."""
    fields = node.mapping(None, what='entries such as "Fei-Fei Li": Fei-Fei Lee')
    out = {}
    for key, value in fields.items():
        if value.is_mapping():
            out[key] = _in_language(key, value)
            continue
        spoken = value.text(what=f"spoken form of {key!r}", optional=True)
        if is_silent(spoken):
            value.fail(
                f'"{shown(spoken)}" says nothing aloud (no letter or digit is left once emoji '
                "and symbols are dropped); write in words how it is said"
            )
        out[key] = spoken
    return out


def _in_language(key: str, node: Node) -> str:
    """Validate ``{lang: de}`` or ``{lang: de, say: ...}``: the entry spoken in that language."""
    from narrate.text.foreign import LANG_CODE, in_language

    fields = node.mapping(("lang", "say"), what="lang: (a language such as de) and say:")
    if "lang" not in fields:
        node.fail("an entry in another language needs lang:, e.g. {lang: de}")
    lang = fields["lang"].text(what="language")
    if not LANG_CODE.fullmatch(lang):
        fields["lang"].fail(f"{shown(lang)!r} is no language name; write one such as de or fr")
    said = fields["say"].text(what=f"spoken form of {key!r}") if "say" in fields else key
    if is_silent(said) or any(c in said for c in "⟦⟧|"):
        node.fail(f'"{shown(said)}" cannot be said; write in words how it is said')
    return in_language(lang, " ".join(said.split()))


def _overrides(fields: dict[str, Node]) -> Overrides:
    """Validate the keys an article may override (and the config sets the same way)."""
    return Overrides(
        voice=_voice(fields["voice"]) if "voice" in fields else VoiceOverride(),
        kinds=_kinds(fields["kinds"]) if "kinds" in fields else {},
        pauses=_pauses(fields["pauses"]) if "pauses" in fields else {},
        lexicon=_lexicon(fields["lexicon"]) if "lexicon" in fields else {},
    )


def parse_overrides(node: Node) -> Overrides:
    """Validate an article's ``settings:`` (applied by ``narrate.settings.effective.resolve``)."""
    if node.is_mapping():
        for key_raw, _ in node.raw.value:
            key = str(key_raw.value)
            if key in _SITE_ONLY_KEYS:
                Node(key_raw, node.file, node.key_path(key), node.error).fail(
                    f"`{key}` applies to the whole site; set it in {CONFIG_NAME}, not in an article"
                )
    return _overrides(node.mapping(_OVERRIDE_KEYS, what="voice:, kinds:, pauses: or lexicon:"))


def _feed(node: Node) -> FeedSettings:
    """Validate ``feed:``: the podcast channel's fields (texts, and ``explicit: true/false``)."""
    fields = node.mapping(_FEED_KEYS, what=", ".join(k + ":" for k in _FEED_KEYS))
    values: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "explicit":
            if value.raw.tag != "tag:yaml.org,2002:bool":
                value.fail(f"expected true or false, got {value.kind}")
            values[key] = str(value.raw.value).lower() in ("true", "yes", "on")
        else:
            values[key] = value.text(what=f"feed {key}", allow_empty=True)
    return FeedSettings(**values)


def _resolve(root: Path, value: Path) -> Path:
    value = value.expanduser()
    return value if value.is_absolute() else root / value


def _site(node: Node) -> dict[str, Any]:
    """Validate ``site:`` into Settings fields (name, artist, album, base_url, artwork)."""
    out: dict[str, Any] = {}
    for key, value in node.mapping(_SITE_KEYS, what=", ".join(f"{k}:" for k in _SITE_KEYS)).items():
        if key == "base_url":
            # Empty is meaningful: audio is served beside the page, so links are relative.
            out["base_url"] = value.text(what="URL prefix", allow_empty=True)
        else:
            out["site_name" if key == "name" else key] = value.text(
                what=f"site {key}", optional=True
            )
    return out


def _bitrate(node: Node) -> int:
    """Validate ``mp3.bitrate``: one LAME accepts for mono at 22 kHz and 44 kHz alike."""
    rate = node.integer(BITRATES[0], BITRATES[-1], unit="kb/s")
    if rate not in BITRATES:
        node.fail(f"{rate} kb/s is not an MP3 bitrate; use one of " + ", ".join(map(str, BITRATES)))
    return rate


def _parse_config(node: Node, root: Path) -> Settings:
    """Turn a checked config document into Settings (relative paths taken from ``root``)."""
    start = f"`narrate: {CONFIG_VERSION}`"
    other = "this looks like an article (it has `format:`), not narrate's site config; "
    node.document_keys(
        f"a mapping starting with {start}", own="narrate", other="format",
        not_this=other + f"the site config starts with {start}",
    )  # fmt: skip
    fields = node.mapping(_CONFIG_KEYS, what="config sections")
    version = fields["narrate"]
    version.version(CONFIG_VERSION, "config version")
    changes: dict[str, Any] = _site(fields["site"]) if "site" in fields else {}
    if "paths" in fields:
        paths = fields["paths"].mapping(tuple(_PATH_KEYS), what="content:, audio: or cache:")
        for key, value in paths.items():
            changes[_PATH_KEYS[key]] = Path(value.text(what="folder path", optional=True))
    if "loudness" in fields:
        loud = fields["loudness"].mapping(_LOUDNESS_KEYS, what="integrated_lufs: or true_peak_db:")
        values: dict[str, float] = {}
        if "integrated_lufs" in loud:
            values["integrated_lufs"] = loud["integrated_lufs"].number(*LUFS_RANGE, what="LUFS")
        if "true_peak_db" in loud:
            values["true_peak_db"] = loud["true_peak_db"].number(*TRUE_PEAK_RANGE, what="dBTP")
        changes["loudness"] = Loudness(**values)
    if "mp3" in fields:
        mp3 = fields["mp3"].mapping(("bitrate",), what="bitrate:")
        if "bitrate" in mp3:
            changes["bitrate"] = _bitrate(mp3["bitrate"])
    if "limits" in fields:
        limits = fields["limits"].mapping(("sentences",), what="sentences:")
        if "sentences" in limits:
            changes["max_sentences"] = limits["sentences"].integer(
                *SENTENCES_RANGE, unit="sentences"
            )
    if "feed" in fields:
        changes["feed"] = _feed(fields["feed"])
    if "markdown" in fields:
        from narrate.content.markdown import parse_policy

        changes["markdown"] = parse_policy(fields["markdown"])
    over = _overrides(fields)
    return dataclasses.replace(
        Settings(root=root),
        voice=over.voice.apply(VoiceSettings()),
        pauses=Pauses(**over.pauses),
        kinds=over.kinds,
        lexicon=over.lexicon,
        **changes,
    )


def load_settings(root: Path, config: Path | None = None) -> Settings:
    """Load the site config (``root/narrate.yaml`` unless ``config`` is given); absent: defaults."""
    root = root.resolve()
    path = config if config is not None else root / CONFIG_NAME
    if config is None and not path.exists():
        settings = Settings(root=root)
    else:
        node = load(
            path,
            error=ConfigError,
            empty_hint=f"start it with `narrate: {CONFIG_VERSION}` (`narrate init` writes one)",
        )
        settings = _parse_config(node, root)
    cache_dir = settings.cache_dir
    env_cache = os.environ.get(CACHE_ENV, "").strip()
    if env_cache:
        # Taken from the shell, so a relative value means relative to where the command runs.
        cache_dir = Path(env_cache).expanduser().resolve()
    return dataclasses.replace(
        settings,
        root=root,
        content_dir=_resolve(root, settings.content_dir),
        audio_dir=_resolve(root, settings.audio_dir),
        cache_dir=_resolve(root, cache_dir),
    )


def load_project(
    config: Path | None = None,
    *,
    content_dir: Path | None = None,
    audio_dir: Path | None = None,
    cache_dir: Path | None = None,
    start: Path | None = None,
) -> Settings:
    """Return the site settings for a command: the nearest config, then the folder options.

    ``config`` names the config file (its folder is the root); otherwise the nearest
    ``narrate.yaml`` at or above ``start`` (the current folder). Folder options given on the
    command line are taken from where the command runs.
    """
    root = find_root(start or Path.cwd()) if config is None else config.resolve().parent
    s = load_settings(root, config)
    return dataclasses.replace(
        s,
        content_dir=s.content_dir if content_dir is None else content_dir.resolve(),
        audio_dir=s.audio_dir if audio_dir is None else audio_dir.resolve(),
        cache_dir=s.cache_dir if cache_dir is None else cache_dir.resolve(),
    )
