"""`narrate doctor`: which engine, version and encoder are in use, and whether they work."""

from __future__ import annotations

import platform
import sys
from typing import Any

from narrate import __version__
from narrate.audio.mp3 import encode, encoder_version
from narrate.errors import NarrateError
from narrate.settings.model import Settings
from narrate.synth import backends
from narrate.versions import dist_version


def report(settings: Settings) -> tuple[dict[str, Any], bool]:
    """Return facts about the toolchain and whether a one-word synthesis and encode work."""
    info: dict[str, Any] = {
        "narrate": __version__,
        "python": f"{platform.python_version()} ({sys.platform})",
        "backend": settings.voice.backend,
        "voice": f"{settings.voice.voice} at {settings.voice.rate} wpm",
        "backends": ", ".join(backends.available()),
        "encoder": f"{encoder_version()} (LAME via the lameenc wheel), "
        f"{settings.bitrate} kb/s mono",
        "pydub": dist_version("pydub"),
    }
    ok = True
    if settings.voice.backend == "pyttsx3":
        try:
            from narrate.synth.backends.pyttsx3 import engine_info

            for k, v in engine_info().items():
                info[k] = v
        except Exception as exc:  # noqa: BLE001 - report, don't crash, in a diagnostic
            info["engine"] = f"FAILED: {exc}"
            ok = False
    try:
        from narrate.synth.jobs import Job
        from narrate.synth.pool import WorkerPool

        with WorkerPool(backends.factory(settings.voice.backend), processes=1) as pool:
            [(_, audio)] = list(pool.run([Job("doctor", "Hello.", settings.voice, "doctor")]))
        if isinstance(audio, NarrateError):
            raise audio
        encode(audio.pcm, audio.sample_rate, settings.bitrate)
        info["self-test"] = f"ok (synthesised {audio.duration:.2f} s and encoded it)"
    except Exception as exc:  # noqa: BLE001 - a diagnostic reports every failure
        info["self-test"] = f"FAILED: {exc}"
        ok = False
    return info, ok
