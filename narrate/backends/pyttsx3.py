"""The default backend: pyttsx3 driving espeak-ng inside this process.

By default the espeak-ng library and data bundled by the PyPI package ``espeakng-loader`` are
used, so every machine with the same lock file produces the same audio. ``NARRATE_ESPEAK=system``
opts into the system ``libespeak-ng.so.1`` instead (Debian: ``apt-get install libespeak-ng1``).

espeak-ng keeps global state and can be initialised only once per process, so one engine serves
every :class:`Pyttsx3Backend` in a process, behind a lock. Nothing is loaded until the first
synthesis or voice listing: constructing a backend and asking for its cache token is cheap and
never starts the engine, so a no-op build loads none. (A build that has sentences to speak lists
the voices first, starting it in the worker pool's parent, which spawns its workers: they inherit
nothing of it; see ``narrate.workers``.)
The engine never starts child processes, so it also runs inside a daemonic Dask worker.
"""

from __future__ import annotations

import contextlib
import ctypes
import difflib
import functools
import importlib.util
import io
import os
import re
import signal
import threading
import warnings
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from narrate.backends.base import SAMPLE_WIDTH, Audio, VoiceInfo
from narrate.config import VoiceSettings
from narrate.errors import BackendError, EnvironmentProblem, UnknownVoiceError

__all__ = ["SAMPLE_RATE", "Pyttsx3Backend", "engine_info"]

SAMPLE_RATE = 22050
"""pyttsx3's espeak driver always writes 22,050 Hz mono 16-bit WAV."""

ENV_SWITCH = "NARRATE_ESPEAK"
"""Unset (or ``bundled``): espeakng-loader's library; ``system``: the OS one."""

SYSTEM_SONAME = "libespeak-ng.so.1"
"""What pyttsx3 dlopens first on Linux; also the soname of the bundled library."""

MIN_RATE, MAX_RATE = 80, 450
"""espeak-ng silently clamps rates outside this range (words per minute)."""

# Files espeak-ng reads in espeak_Initialize(); if any is missing it calls exit(1) rather than
# returning an error, which would kill a worker (or the CLI) without a message.
_REQUIRED_DATA = ("phontab", "phondata", "phonindex", "voices")

_WORD = re.compile(r"[^\W_]+")

# Plausibility of a WAV's length. The lower bound catches truncation (the espeak_Cancel race
# cut files short). Measured on the ImageNet article at 80, 160 and 450 wpm: never under
# 0.82 of the nominal share per word, so half of it flags a cut without false alarms.
# The upper bound only catches gross mix-ups (another segment's audio): numbers, symbols and
# acronyms are spelled out, so it allows a generous second per character at 160 wpm.
_MIN_WORD_SHARE = 0.5
_MAX_SECONDS_PER_CHAR_AT_160 = 1.0
_SLACK_SECONDS = 2.0

# Longest wait for espeak's end-of-message callback once runAndWait() has returned.
_FINISH_WAIT_SECONDS = 60.0


@dataclass(frozen=True)
class _Library:
    """Which espeak-ng library to load and where its data lives."""

    kind: str
    """``bundled`` or ``system``."""
    path: str
    """What to dlopen: a file path (bundled) or a soname (system)."""
    data_path: str | None
    """Value for ``ESPEAK_DATA_PATH``; None keeps the environment's or the library's default."""
    loader_version: str | None
    """The distribution whose version names the bundled library (looked up when needed)."""
    """espeakng-loader's version for the bundled library."""


def _choose_library() -> _Library:
    """Decide between the bundled and the system library from ``NARRATE_ESPEAK``."""
    choice = os.environ.get(ENV_SWITCH, "").strip().lower()
    if choice == "system":
        return _Library("system", SYSTEM_SONAME, os.environ.get("ESPEAK_DATA_PATH"), None)
    if choice not in ("", "bundled"):
        raise EnvironmentProblem(
            f"{ENV_SWITCH}={choice!r} is not understood: set it to 'system' to use the system "
            "espeak-ng, or unset it to use the one bundled with espeakng-loader"
        )
    try:
        import espeakng_loader
    except ImportError as exc:
        raise EnvironmentProblem(
            "the bundled espeak-ng is missing: run  pip install espeakng-loader  "
            f"(or set {ENV_SWITCH}=system to use the system library)"
        ) from exc
    lib_path = str(espeakng_loader.get_library_path())
    try:
        data_path = str(espeakng_loader.get_data_path())
    except RuntimeError as exc:
        raise EnvironmentProblem(
            f"espeakng-loader's data folder is missing ({exc}): reinstall it with  "
            "pip install --force-reinstall espeakng-loader"
        ) from exc
    return _Library("bundled", lib_path, data_path, "espeakng-loader")


@functools.cache  # every cache token asks; installed versions do not change mid-run
def _dist_version(dist: str) -> str:
    import importlib.metadata  # here: worker processes never need it (it costs ~15 ms)

    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


_DLL_LOCK = threading.Lock()
_LOADED: tuple[_Library, ctypes.CDLL] | None = None


def _dlopen(lib: _Library) -> ctypes.CDLL:
    """Load the library (once per process) without initialising espeak.

    dlopen alone starts no threads and reads no data, so it is safe in a parent that later
    starts worker processes. RTLD_GLOBAL matters for the bundled copy: pyttsx3 then asks for
    the soname ``libespeak-ng.so.1`` and the dynamic loader hands back this copy (same soname)
    instead of searching the system.
    """
    global _LOADED
    with _DLL_LOCK:
        if _LOADED is not None:
            loaded, dll = _LOADED
            if (loaded.kind, loaded.path) != (lib.kind, lib.path):
                # Both libraries have the soname libespeak-ng.so.1: once one is loaded, the
                # dynamic loader (and pyttsx3) would silently hand it out for the other.
                raise EnvironmentProblem(
                    f"the {loaded.kind} espeak-ng library is already loaded in this process; "
                    f"{ENV_SWITCH} cannot switch to the {lib.kind} one until narrate restarts"
                )
            return dll
        if lib.kind == "bundled" and not Path(lib.path).is_file():
            raise EnvironmentProblem(
                f"the bundled espeak-ng library {lib.path} is missing: reinstall espeakng-loader"
            )
        try:
            dll = ctypes.CDLL(lib.path, mode=ctypes.RTLD_GLOBAL)
        except OSError as exc:
            if lib.kind == "system":
                raise EnvironmentProblem(
                    f"{ENV_SWITCH}=system but the system espeak-ng library ({SYSTEM_SONAME}) "
                    f"cannot be loaded ({exc}): run  apt-get install libespeak-ng1  or unset "
                    f"{ENV_SWITCH} to use the bundled one"
                ) from exc
            raise EnvironmentProblem(
                f"the bundled espeak-ng library {lib.path} cannot be loaded ({exc}): "
                "reinstall espeakng-loader"
            ) from exc
        dll.espeak_Info.restype = ctypes.c_char_p
        dll.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
        dll.espeak_ng_InitializePath.restype = None
        dll.espeak_ng_InitializePath.argtypes = [ctypes.c_char_p]
        _LOADED = (lib, dll)
        return dll


def _library_version(dll: ctypes.CDLL) -> str:
    version: bytes | None = dll.espeak_Info(None)
    return version.decode() if version else "unknown"


def _data_path(dll: ctypes.CDLL, lib: _Library) -> str:
    """Return the data folder espeak_Initialize() will use, after checking it is complete."""
    if _ENGINE is not None:
        # Running already: re-resolving would rewrite the path under a synthesis in progress.
        return _ENGINE.data_path
    # espeak_ng_InitializePath only resolves the path (argument, else ESPEAK_DATA_PATH, else
    # the compiled-in default); espeak_Initialize repeats it, so calling it early is harmless.
    arg = lib.data_path.encode() if lib.data_path else None
    dll.espeak_ng_InitializePath(arg)
    found = ctypes.c_char_p()
    dll.espeak_Info(ctypes.byref(found))
    path = found.value.decode() if found.value else (lib.data_path or "")
    missing = [name for name in _REQUIRED_DATA if not (Path(path) / name).exists()]
    if not path or missing:
        if lib.kind == "system":
            hint = f"run  apt-get install espeak-ng-data  or unset {ENV_SWITCH}"
        else:
            hint = "reinstall espeakng-loader"
        raise EnvironmentProblem(
            f"espeak-ng data folder {path or '(none)'} is incomplete "
            f"(missing {', '.join(missing) or 'everything'}): {hint}"
        )
    return path


def _loaded_file(name: str) -> str:
    """Return the file a loaded soname came from (Linux), else the name itself."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/maps").read_text().splitlines():
            if "libespeak-ng" in line and "/" in line:
                return line[line.index("/") :]
    return name


def engine_info() -> dict[str, str]:
    """Describe the espeak-ng this backend would use, for ``narrate doctor`` (starts no engine)."""
    lib = _choose_library()
    dll = _dlopen(lib)
    return {
        "library": lib.kind,
        "library path": _loaded_file(lib.path) if lib.kind == "system" else lib.path,
        "espeak-ng version": _library_version(dll),
        "data path": _data_path(dll, lib),
        "pyttsx3 version": _dist_version("pyttsx3"),
        **(
            {"espeakng-loader version": _dist_version(lib.loader_version)}
            if lib.loader_version
            else {}
        ),
    }


class _Engine:
    """The one pyttsx3/espeak-ng engine of this process, with its workarounds applied."""

    def __init__(self, lib: _Library, *, warm: bool = True) -> None:
        self.library = lib
        dll = _dlopen(lib)
        data_path = self.data_path = _data_path(dll, lib)
        if lib.kind == "bundled":
            # The bundled library has no compiled-in data path that exists on this machine.
            os.environ["ESPEAK_DATA_PATH"] = data_path
        self.version = _library_version(dll)
        import pyttsx3  # only now: its espeak driver dlopens the library on import

        with contextlib.redirect_stdout(io.StringIO()):
            self._tts: Any = pyttsx3.init("espeak")
        self._finished = threading.Event()
        self._errors: list[BaseException] = []
        self._tts.connect("finished-utterance", self._on_finished)
        self._tts.connect("error", self._on_error)
        self._apply_workarounds(warm)
        self.voices = self._list_voices()
        self.variants = self._list_variants()

    def _apply_workarounds(self, warm: bool) -> None:
        """Work around pyttsx3 2.99's espeak driver races (field notes; pyttsx3 #126, #194, #334).

        1. ``stop()``, called by every ``runAndWait()``, runs ``espeak_Cancel()`` whenever
           ``espeak_IsPlaying()`` reads true, which it does for ~150 ms after the previous
           utterance went idle. The cancel then drops the queued rate change and truncates or
           empties the next file. Nothing here ever needs to interrupt speech (a hung engine is
           killed with its worker process), so this driver instance's ``stop`` does nothing.
        2. The driver starts "busy", so the first ``runAndWait()`` queues its commands and
           returns as soon as synthesis has been *started*: the file appears later, possibly
           under the next segment's name. An empty ``runAndWait()`` clears that state; every
           later call blocks until espeak reports the end of the message. A forked child that
           speaks once (see _in_child) skips it: ``synthesise`` also waits for that report,
           and there is no next segment whose file could be mixed up.
        """
        self._tts.proxy._driver.stop = lambda: None
        if warm:
            self._tts.runAndWait()

    def _on_finished(self, **_: object) -> None:
        self._finished.set()

    def _on_error(self, exception: BaseException | None = None, **_: object) -> None:
        # pyttsx3 catches exceptions from queued commands and only notifies them.
        if exception is not None:
            self._errors.append(exception)

    def _list_voices(self) -> list[VoiceInfo]:
        voices = []
        for v in self._tts.getProperty("voices"):
            ident: str = v.id
            languages = getattr(v, "languages", None) or [None]
            voices.append(
                VoiceInfo(id=ident.rsplit("/", 1)[-1], name=v.name, language=languages[0])
            )
        return sorted(voices, key=lambda v: v.id)

    @staticmethod
    def _list_variants() -> set[str]:
        """Return the names of espeak-ng's voice variants (``en-us+f3``: ``f3``)."""
        from pyttsx3.drivers import _espeak

        spec = _espeak.VOICE(name=b"", languages=b"variant")
        return {v.identifier.decode().rsplit("/", 1)[-1] for v in _espeak.ListVoices(spec)}

    def synthesise(self, text: str, voice: str, rate: int) -> bytes:
        """Return ``text`` spoken with ``voice`` at ``rate`` as the bytes of a WAV file."""
        self._finished.clear()
        self._errors.clear()
        self._tts.setProperty("voice", voice)
        self._tts.setProperty("rate", rate)
        # The driver hands its "file name" to wave.open(), which takes a file object as well:
        # in memory, no disk is involved. (When saving a file fails, the driver raises inside
        # espeak's callback, where nothing can catch it, and runAndWait() never returns: a full
        # disk would look like a hung engine.)
        out = io.BytesIO()
        self._tts.save_to_file(text, out)
        # The driver prints "Audio saved to ..." for each file; narrate's stdout is for output.
        with contextlib.redirect_stdout(io.StringIO()):
            self._tts.runAndWait()
            # runAndWait() returns after the end-of-message callback wrote the file (given the
            # warm-up above); waiting on the callback too keeps a regression from going unseen.
            finished = self._finished.wait(_FINISH_WAIT_SECONDS)
        if self._errors:
            raise BackendError(f"espeak-ng failed: {self._errors[0]}")
        if not finished:
            raise BackendError("espeak-ng never reported the end of the utterance")
        return out.getvalue()


_ENGINE_LOCK = threading.Lock()
_ENGINE: _Engine | None = None


def _engine() -> _Engine:
    """Return this process's engine, starting it on first use."""
    global _ENGINE
    lib = _choose_library()
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = _Engine(lib)
        elif _ENGINE.library.kind != lib.kind:
            _dlopen(lib)  # raises: the other library is loaded
        return _ENGINE


class Pyttsx3Backend:
    """Speak with espeak-ng through pyttsx3, in this process."""

    name = "pyttsx3"

    def __init__(self) -> None:
        self._lib = _choose_library()
        self._checked = False

    def check_voice(self, voice: str) -> None:
        """Raise UnknownVoiceError unless espeak-ng has ``voice`` (variants included)."""
        engine = _engine()
        _resolve_voice(voice, engine.voices, engine.variants)

    def voices(self) -> list[VoiceInfo]:
        """Return espeak-ng's voices (variants such as ``+f3`` may be appended to any id)."""
        return list(_engine().voices)

    def cache_token(self, voice: VoiceSettings) -> str:
        """Return pyttsx3's and espeak-ng's versions, which library, the voice and the rate."""
        lib = self._lib
        dll = _dlopen(lib)
        if not self._checked:
            # A build asks for tokens before any work starts: check here, once, what the
            # workers will need, so a broken install is one message, not a failed sentence.
            _data_path(dll, lib)
            if importlib.util.find_spec("pyttsx3") is None:
                raise EnvironmentProblem("pyttsx3 is missing: run  pip install pyttsx3==2.99")
            self._checked = True
        version = _library_version(dll)
        source = (
            f"bundled espeakng-loader {_dist_version('espeakng-loader')}"
            if lib.kind == "bundled"
            else "system"
        )
        return (
            f"pyttsx3 {_dist_version('pyttsx3')}; espeak-ng {version} ({source}); "
            f"voice {voice.voice}; rate {voice.rate}"
        )

    def synthesise(self, text: str, voice: VoiceSettings) -> Audio:
        """Speak ``text`` and return 22,050 Hz mono audio, verified against the word count."""
        if not text.strip():
            # save_to_file("") asserts and " " yields a 0-frame file: refuse both clearly.
            raise BackendError("nothing to speak: the text is empty or only whitespace")
        if not MIN_RATE <= voice.rate <= MAX_RATE:
            raise BackendError(
                f"rate {voice.rate} wpm is outside espeak-ng's range {MIN_RATE}-{MAX_RATE}"
            )
        if _can_fork():
            audio = _read_wav(_in_child(self._lib, text, voice))
        else:
            engine = _engine()
            voice_id = _resolve_voice(voice.voice, engine.voices, engine.variants)
            with _ENGINE_LOCK:
                audio = _read_wav(engine.synthesise(text, voice_id, voice.rate))
        _check_duration(audio, text, voice.rate)
        return audio

    def close(self) -> None:
        """Release nothing: the process-wide engine stays loaded, and no files are kept."""


# --- determinism -------------------------------------------------------------------------------
#
# espeak-ng's output depends on what the same process spoke before: its wave generator carries
# state from one message to the next (the same sentence twice in a row differs in its samples and
# by a few samples in length; seeding espeak's and libc's random numbers changes nothing). Only
# the first sentence after initialisation is always the same. So each sentence is spoken by a
# child forked from a process that has loaded, but not started, the engine: the child starts it,
# speaks once and exits. A build's audio then depends only on its text, voice and rate, never on
# how sentences were shared between workers or which were cached. Cost: ~15 ms a sentence.
# (espeak's synchronous output mode, which would let a started engine be forked, hangs
# pyttsx3's driver loop.)

FORK_SWITCH = "NARRATE_ENGINE_FORK"
"""Set to ``0`` to speak in this process instead of forked children (faster, not reproducible)."""
_CHILD_SECONDS_PER_CHAR = 0.5
"""A child that outlives this (its worker was killed, say) ends itself by SIGALRM."""


def _can_fork() -> bool:
    """Return whether sentences can be spoken in forked children here.

    Only from a process's main thread on POSIX: a Dask worker runs tasks in threads, where a
    fork could inherit another thread's held lock; there the engine speaks in-process.
    """
    return (
        hasattr(os, "fork")
        and os.environ.get(FORK_SWITCH, "1") != "0"
        and threading.current_thread() is threading.main_thread()
        and _ENGINE is None  # a started engine's thread would not survive the fork
    )


def _in_child(lib: _Library, text: str, voice: VoiceSettings) -> bytes:
    """Speak ``text`` in a forked child that starts its own engine; return the WAV bytes."""
    _data_path(_dlopen(lib), lib)  # a broken install is an EnvironmentProblem, raised here
    import pyttsx3  # noqa: F401 -- imported once here, so every child starts with it loaded

    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns about fork() in a process with threads; a worker's only other
        # thread waits to notice its parent's death and holds no lock the child needs.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: speak, send, and leave without any cleanup
        code = 0
        try:
            os.close(read_fd)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)  # even if inherited as ignored
            signal.alarm(int(30 + _CHILD_SECONDS_PER_CHAR * len(text)))
            try:
                engine = _Engine(lib, warm=False)
                voice_id = _resolve_voice(voice.voice, engine.voices, engine.variants)
                payload = b"ok" + engine.synthesise(text, voice_id, voice.rate)
            except BaseException as exc:  # noqa: BLE001 - reported to the parent
                kind = b"en" if isinstance(exc, EnvironmentProblem) else b"er"
                payload = kind + str(exc).encode("utf-8", "replace")
            view = memoryview(payload)
            while view:
                view = view[os.write(write_fd, view) :]
        except BaseException:  # noqa: BLE001 - nothing can be reported; the status says it
            code = 70
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if payload[:2] == b"ok" and os.waitstatus_to_exitcode(status) == 0:
        return payload[2:]
    if payload[:2] == b"en":
        raise EnvironmentProblem(payload[2:].decode("utf-8", "replace"))
    if payload[:2] == b"er":
        raise BackendError(payload[2:].decode("utf-8", "replace"))
    code = os.waitstatus_to_exitcode(status)
    raise BackendError(f"the engine's process ended without audio (status {code})")


def _resolve_voice(requested: str, voices: list[VoiceInfo], variants: set[str]) -> str:
    """Return the voice id to give espeak, or raise: espeak silently ignores unknown ids."""
    base, plus, variant = requested.partition("+")
    ids = {v.id.lower() for v in voices}
    if base.lower().rsplit("/", 1)[-1] not in ids:
        close = difflib.get_close_matches(base.lower(), sorted(ids), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UnknownVoiceError(
            f"unknown pyttsx3 voice {requested!r}{hint} (narrate voices lists them)",
            suggestion=close[0] if close else None,
        )
    if plus:
        if variant not in variants:
            by_lower = {v.lower(): v for v in variants}
            close = difflib.get_close_matches(variant.lower(), sorted(by_lower), n=1)
            match = f"{base}+{by_lower[close[0]]}" if close else None
            hint = f"; did you mean '{match}'?" if match else ""
            raise UnknownVoiceError(
                f"unknown espeak-ng voice variant {variant!r} in {requested!r}{hint}",
                suggestion=match,
            )
    return requested


def _read_wav(data: bytes) -> Audio:
    if not data:
        raise BackendError("espeak-ng wrote no audio file")
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            fmt = (w.getnchannels(), w.getsampwidth(), w.getframerate())
            pcm = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise BackendError(f"espeak-ng wrote an unreadable WAV file: {exc}") from exc
    if fmt != (1, SAMPLE_WIDTH, SAMPLE_RATE):
        raise BackendError(
            f"espeak-ng wrote an unexpected WAV format (channels, width, rate) {fmt}"
        )
    audio = Audio(pcm=pcm, sample_rate=SAMPLE_RATE)
    if audio.frames == 0:
        raise BackendError("espeak-ng returned no audio")
    return audio


def _check_duration(audio: Audio, text: str, rate: int) -> None:
    words = len(_WORD.findall(text))
    low = _MIN_WORD_SHARE * words * 60 / rate
    chars = len("".join(text.split()))
    high = _MAX_SECONDS_PER_CHAR_AT_160 * chars * 160 / rate + _SLACK_SECONDS
    if not low <= audio.duration <= high:
        raise BackendError(
            f"espeak-ng returned {audio.duration:.2f} s of audio for {words} words at {rate} wpm "
            f"(expected {low:.1f}-{high:.1f} s): truncated or mixed up"
        )
