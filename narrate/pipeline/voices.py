"""Check, before any synthesis, that every backend can speak in the voice asked of it.

A mistyped voice is then one message naming it and where it was set (with a close match), not a
failure of the first sentence after a pointless retry. Asking a backend for its voices may load
its engine: the scheduler calls this only for voices it has something to synthesise with.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from pathlib import Path

from narrate.errors import BackendError, UnknownVoiceError, UsageError
from narrate.pipeline.cache import digest
from narrate.pipeline.plan import Plan, Tokens
from narrate.settings.model import VoiceSettings
from narrate.synth import backends
from narrate.synth.backends.base import ChecksVoices

__all__ = ["check_voices"]


def check_voices(
    p: Plan, voices: Collection[VoiceSettings], tokens: Tokens, known: Path | None = None
) -> None:
    """Raise unless every voice in ``voices`` exists (the voices of ``p``'s sentences).

    ``known``: a folder of markers, one per voice found before for an engine identity, so an
    edit's rebuild does not start an engine just to list its voices again. Raises
    :class:`UsageError` (exit 2) for a voice given with ``--voice``, otherwise
    :class:`BackendError` naming the file that sets it.
    """
    for v in voices:
        marker = None
        if known is not None:
            marker = known / digest("voice-ok", v.backend, tokens(v), v.voice)
            if marker.exists():
                continue
        match = _unknown_voice(v)
        if match is None:
            if marker is not None:
                try:
                    marker.parent.mkdir(parents=True, exist_ok=True)
                    marker.touch()
                except OSError:
                    pass  # only a shortcut; the check itself passed
            continue
        raise _refusal(p, v, match)


def _refusal(p: Plan, v: VoiceSettings, match: str) -> UsageError | BackendError:
    """Return the error for voice ``v`` of plan ``p``, naming where it was chosen."""
    cli = p.settings.cli
    kinds = [seg.kind for seg in p.script.segments if seg.voice == v]
    where = p.settings.sources.get(kinds[0], "") if kinds else ""
    from_cli = cli.voice == v.voice and where == "--voice"
    source = "given with --voice" if from_cli else f"set in {where}"
    if cli.backend:
        source += f", with --backend {v.backend}"
    hint = f"did you mean `{match}`? " if match else ""
    same = v.backend == p.settings.voice.backend and not cli.backend
    listing = "narrate voices" + ("" if same else f" --backend {v.backend}")
    message = (
        f"the {v.backend} backend has no voice `{v.voice}` ({source}); {hint}"
        f"run `{listing}` to list its voices"
    )
    return UsageError(message) if from_cli else BackendError(message)


def _unknown_voice(v: VoiceSettings) -> str | None:
    """Return None if the backend has voice ``v``, else its closest voice ("" if none is)."""
    backend = backends.create(v.backend)
    if isinstance(backend, ChecksVoices):
        try:
            backend.check_voice(v.voice)
        except UnknownVoiceError as exc:
            return exc.suggestion or ""
        return None
    # A backend that cannot say: a voice's id, or a language it speaks (en-us for en or en_US).
    known = backend.voices()
    wanted = v.voice.lower().replace("_", "-")
    for k in known:
        lang = (k.language or "").lower().replace("_", "-")
        if wanted in (k.id.lower(), lang) or (
            lang and "-" not in lang and wanted.split("-")[0] == lang
        ):
            return None
    close = difflib.get_close_matches(v.voice, [k.id for k in known], n=1)
    return close[0] if close else ""
