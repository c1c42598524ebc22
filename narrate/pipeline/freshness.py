"""Is an article's published set fresh? Compare its plan with the build record beside it.

Needs no cache and no engine. A stale article gets a reason that says what changed (the text, a
voice, the pauses, the engine), from the facts the record keeps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from narrate.outputs import publish as pub
from narrate.pipeline.plan import Plan

__all__ = ["STALE", "freshness"]


def freshness(p: Plan, audio_dir: Path) -> tuple[str, str]:
    """Return (state, reason): "fresh", "stale", "missing" or "mismatched"."""
    slug = p.slug
    record = pub.read_record(audio_dir, slug)
    if record is None:
        if any(pub.output_path(audio_dir, slug, s).exists() for s in pub.OUTPUTS):
            return "mismatched", "outputs exist but their build record is missing"
        return "missing", "never built"
    broken = pub.outputs_intact(audio_dir, slug, record)
    if broken:
        return "mismatched", broken
    if record.get("input") != p.input_hash:
        return "stale", _why_stale(p, record)
    return "fresh", "up to date"


STALE = "the article, the settings or the engine changed since the last build"
"""The reason given when the build record does not say more (records before narrate 0.1.0)."""


def _why_stale(p: Plan, record: dict[str, Any]) -> str:
    """Return what changed between the build record and the plan, from the record's facts."""
    now = p.facts
    if not now or any(k not in record for k in now):
        return STALE
    try:
        reasons = [
            r
            for r in (
                _content_change(record, now),
                _voice_change(p, record, now),
                "pauses, loudness or bitrate changed"
                if record["mastering"] != now["mastering"]
                else None,
                *_engine_changes(record["engine"], now["engine"]),
            )
            if r
        ]
    except (KeyError, TypeError, AttributeError):  # a record edited by hand
        return STALE
    return "; ".join(reasons) or "the displayed text, a chapter title or the ID3 tags changed"


def _content_change(record: dict[str, Any], now: dict[str, Any]) -> str | None:
    if record["content"] == now["content"]:
        return None
    old, new = list(record["sentences"]), list(now["sentences"])
    for h in now["sentences"]:
        if h in old:
            old.remove(h)
            new.remove(h)
    n = max(len(old), len(new))
    if not n:
        return "the article's sentences moved"
    return f"the article's text changed ({n} sentence{'s' if n != 1 else ''})"


def _voice_change(p: Plan, record: dict[str, Any], now: dict[str, Any]) -> str | None:
    old, new = record["voices"], now["voices"]
    pairs: dict[tuple[str, str], list[str]] = {}
    for kind in new:
        if kind in old and old[kind] != new[kind]:
            pairs.setdefault((old[kind], new[kind]), []).append(kind)
    if not pairs:
        return None
    cli = record["cli"]
    cli_now = p.settings.cli.given()
    said = "the command line says" if cli_now else "the config says"
    out = []
    for (was, becomes), kinds in pairs.items():
        what = "voice" if len(kinds) == len(new) else f"voice for {', '.join(kinds)}"
        diff = _voice_diff(was, becomes)
        if cli and cli != cli_now:
            flags = " ".join(f"--{k} {v}" for k, v in cli.items())
            names = " and ".join(cli)
            out.append(
                f"{what} changed: the last build used {flags} ({was}), {said} {diff}; "
                f"a plain `narrate {p.slug}` restores the configured {names}"
            )
        else:
            out.append(f"{what} changed: built with {was}, {said} {diff}")
    return "; ".join(out)


def _voice_diff(was: str, becomes: str) -> str:
    """Return what differs in ``becomes`` (``describe_voice`` text): ``160 wpm``, ``en-gb``."""
    a, b = was.split(" "), becomes.split(" ")
    if len(a) != 4 or len(b) != 4:
        return becomes
    text = " ".join(y for x, y in zip(a[:3], b[:3], strict=True) if x != y)
    return f"{text} wpm" if a[2] != b[2] else text


def _engine_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = []
    if old["narrate"] != new["narrate"]:
        out.append(f"narrate changed ({new['narrate']}; built with {old['narrate']})")
    if old["encoder"] != new["encoder"]:
        out.append(f"the MP3 encoder changed ({new['encoder']}; built with {old['encoder']})")
    for voice, token in new["voices"].items():
        was = old["voices"].get(voice)
        if was is not None and was != token:
            a, b = was.split("; "), token.split("; ")
            diff = next(((x, y) for x, y in zip(a, b, strict=False) if x != y), (was, token))
            out.append(f"the engine changed ({diff[1]}; built with {diff[0]})")
            break
    return out
