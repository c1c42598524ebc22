"""Load the site config (``narrate.yaml``) into :class:`~narrate.config.Settings`.

The per-field rules (types, ranges, allowed keys) live here once and serve both the site config
and an article's ``settings:`` overrides, so the two can never disagree.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from narrate.config import CONFIG_NAME, Loudness, Pauses, Settings, VoiceSettings
from narrate.errors import ConfigError
from narrate.yamlread import Node, load

CONFIG_VERSION = 1
"""The config format this narrate reads (the ``narrate:`` key)."""

CACHE_ENV = "NARRATE_CACHE_DIR"
"""Environment variable that overrides ``paths.cache`` (e.g. a shared CI cache)."""

KINDS = ("heading", "title", "summary", "paragraph", "quote", "timeline", "item")
"""Segment kinds a ``kinds:`` entry may name."""

RATE_RANGE = (80, 400)
"""Words per minute: below 80 or above 400 espeak-ng becomes unintelligible."""
PAUSE_RANGE = (0.0, 10.0)
"""Seconds; a pause over 10 s reads as the audio having ended."""
LUFS_RANGE = (-30.0, -10.0)
TRUE_PEAK_RANGE = (-6.0, 0.0)
BITRATES = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160)
"""Mono MP3 bitrates LAME accepts at both 44.1/48 kHz (MPEG-1) and 22.05/24 kHz (MPEG-2)."""

_SITE_KEYS = ("name", "artist", "album", "base_url")
_PATH_KEYS = {"content": "content_dir", "audio": "audio_dir", "cache": "cache_dir"}
_VOICE_KEYS = ("backend", "voice", "rate")
_PAUSE_KEYS = tuple(f.name for f in dataclasses.fields(Pauses))
_LOUDNESS_KEYS = tuple(f.name for f in dataclasses.fields(Loudness))

_OVERRIDE_KEYS = ("voice", "kinds", "pauses", "lexicon")
_SITE_ONLY_KEYS = ("narrate", "site", "paths", "loudness", "mp3")
_CONFIG_KEYS = ("narrate", "site", "paths", *_OVERRIDE_KEYS, "loudness", "mp3")


def find_root(start: Path) -> Path:
    """Return the nearest folder at or above ``start`` holding ``narrate.yaml``, else ``start``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return start


def _voice(node: Node) -> dict[str, Any]:
    """Validate a ``voice:`` mapping (any subset of backend, voice, rate)."""
    fields = node.mapping(_VOICE_KEYS, what="backend:, voice: or rate:")
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "rate":
            out[key] = value.integer(*RATE_RANGE, unit="words per minute")
        else:
            out[key] = value.text(what=f"{key} name", optional=True)
    return out


def _kinds(node: Node) -> dict[str, dict[str, Any]]:
    """Validate ``kinds:``: segment kind -> voice overrides."""
    fields = node.mapping(KINDS, what="segment kinds (" + ", ".join(KINDS) + ")")
    return {kind: _voice(value) for kind, value in fields.items()}


def _pauses(node: Node) -> dict[str, float]:
    """Validate ``pauses:`` (any subset of the pause names, seconds)."""
    fields = node.mapping(_PAUSE_KEYS, what="pause lengths (" + ", ".join(_PAUSE_KEYS) + ")")
    return {key: value.number(*PAUSE_RANGE, what="seconds") for key, value in fields.items()}


def _lexicon(node: Node) -> dict[str, str]:
    """Validate ``lexicon:``: displayed word or phrase -> how to say it."""
    fields = node.mapping(None, what='entries such as "Fei-Fei Li": Fei-Fei Lee')
    return {
        key: value.text(what=f"spoken form of {key!r}", optional=True)
        for key, value in fields.items()
    }


def _overrides(fields: dict[str, Node]) -> dict[str, Any]:
    """Validate the keys an article may override, in the shape ``Settings.with_overrides`` takes."""
    out: dict[str, Any] = {}
    if "voice" in fields:
        out["voice"] = _voice(fields["voice"])
    if "kinds" in fields:
        out["kinds"] = _kinds(fields["kinds"])
    if "pauses" in fields:
        out["pauses"] = _pauses(fields["pauses"])
    if "lexicon" in fields:
        out["lexicon"] = _lexicon(fields["lexicon"])
    return out


def parse_overrides(node: Node) -> dict[str, Any]:
    """Validate an article's ``settings:`` into the dict ``Settings.with_overrides`` takes."""
    if node.is_mapping():
        for key_raw, _ in node.raw.value:
            key = str(key_raw.value)
            if key in _SITE_ONLY_KEYS:
                Node(key_raw, node.file, node.key_path(key), node.error).fail(
                    f"`{key}` applies to the whole site; set it in {CONFIG_NAME}, not in an article"
                )
    return _overrides(node.mapping(_OVERRIDE_KEYS, what="voice:, kinds:, pauses: or lexicon:"))


def _resolve(root: Path, value: Path) -> Path:
    value = value.expanduser()
    return value if value.is_absolute() else root / value


def _parse_config(node: Node, root: Path) -> Settings:
    """Turn a checked config document into Settings (relative paths taken from ``root``)."""
    if not node.is_mapping():
        node.fail(f"expected a mapping starting with `narrate: {CONFIG_VERSION}`, got {node.kind}")
    keys = [str(k.value) for k, _ in node.raw.value]
    if "narrate" not in keys and "format" in keys:
        node.fail(
            f"this looks like an article (it has `format:`), not narrate's site config; "
            f"the site config starts with `narrate: {CONFIG_VERSION}`"
        )
    fields = node.mapping(_CONFIG_KEYS, what="config sections")
    version = fields["narrate"]
    version.version(CONFIG_VERSION, "config version")
    changes: dict[str, Any] = {}
    if "site" in fields:
        site = fields["site"].mapping(_SITE_KEYS, what="name:, artist:, album: or base_url:")
        for key, value in site.items():
            if key == "base_url":
                # Empty is meaningful: audio is served beside the page, so links are relative.
                changes["base_url"] = value.text(what="URL prefix", allow_empty=True)
            else:
                changes["site_name" if key == "name" else key] = value.text(
                    what=f"site {key}", optional=True
                )
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
            rate = mp3["bitrate"].integer(BITRATES[0], BITRATES[-1], unit="kb/s")
            if rate not in BITRATES:
                mp3["bitrate"].fail(
                    f"{rate} kb/s is not an MP3 bitrate; use one of "
                    + ", ".join(map(str, BITRATES))
                )
            changes["bitrate"] = rate
    over = _overrides(fields)
    if "voice" in over:
        changes["voice"] = VoiceSettings(**over["voice"])
    if "pauses" in over:
        changes["pauses"] = Pauses(**over["pauses"])
    if "kinds" in over:
        changes["kinds"] = over["kinds"]
    if "lexicon" in over:
        changes["lexicon"] = over["lexicon"]
    return dataclasses.replace(Settings(root=root), **changes)


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
            empty_hint=f"start it with `narrate: {CONFIG_VERSION}` (see docs/configuration.md)",
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
