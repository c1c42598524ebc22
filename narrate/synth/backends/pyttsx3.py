"""The default backend: pyttsx3 driving espeak-ng inside this process.

By default the espeak-ng library and data bundled by the PyPI package ``espeakng-loader`` are
used, so every machine with the same lock file produces the same audio. ``NARRATE_ESPEAK=system``
opts into the system ``libespeak-ng.so.1`` instead (Debian: ``apt-get install libespeak-ng1``).

espeak-ng keeps global state and can be initialised only once per process, so one engine serves
every :class:`Pyttsx3Backend` in a process, behind a lock. Nothing is loaded until the first
synthesis or voice listing: constructing a backend and asking for its cache token is cheap and
never starts the engine, so a no-op build loads none. (A build that has sentences to speak lists
the voices first, starting it in the worker pool's parent, which spawns its workers: they inherit
nothing of it; see ``narrate.synth.pool``.)
The engine never starts child processes, so it also runs inside a daemonic Dask worker.
"""

from __future__ import annotations

import contextlib
import ctypes
import difflib
import importlib.util
import io
import os
import re
import signal
import threading
import warnings
import wave
from collections.abc import Iterator
from typing import Any

from narrate.errors import BackendError, EnvironmentProblem, UnknownVoiceError
from narrate.pcm import SAMPLE_RATE, marks_inside
from narrate.settings.model import VoiceSettings
from narrate.synth.backends.base import SAMPLE_WIDTH, Audio, VoiceInfo
from narrate.synth.backends.espeak import (
    _choose_library,
    _dlopen,
    _Library,
    _library_version,
    engine_info,
)
from narrate.synth.backends.espeak import _data_path as _resolve_data_path
from narrate.synth.backends.espeak_words import (
    Mark,
    note_word_events,
    pack,
    unpack,
    words_of,
)
from narrate.text.foreign import LANG_SPAN, plain, to_ssml
from narrate.versions import dist_version

__all__ = ["SAMPLE_RATE", "Pyttsx3Backend", "engine_info"]

MIN_RATE, MAX_RATE = 80, 450
"""espeak-ng silently clamps rates outside this range (words per minute)."""

_WORD = re.compile(r"[^\W_]+")

WORD_GAP = 2
"""espeak-ng's word gap (espeakWORDGAP, in its units of 10 ms at its own default speed). Chosen
by ear, with bench/bench_listen.py: Whisper tiny.en, standing in for a listener, heard 0.77 of
ImageNet's words without it and 0.83 with it. At 160 wpm it adds about 60 ms a word (espeak-ng
also stops running words into each other), so speech is about 11% longer than the rate alone."""
_WORDGAP = 7
"""espeak_PARAMETER's espeakWORDGAP (speak_lib.h)."""

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


def _data_path(dll: ctypes.CDLL, lib: _Library) -> str:
    """Return the checked data folder, or the running engine's (never re-resolved under it)."""
    if _ENGINE is not None:
        return _ENGINE.data_path
    return _resolve_data_path(dll, lib)


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
        self._marks: list[tuple[int, int, int]] = []
        note_word_events(self._tts, self._marks)
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

    def synthesise(self, text: str, voice: str, rate: int) -> tuple[bytes, list[Mark]]:
        """Return ``text`` spoken with ``voice`` at ``rate``: a WAV file's bytes, word marks.

        A mark is (sample, word) for each word espeak-ng began, in the order it spoke them;
        the word is the stretch of what espeak read (``Image`` and ``Net`` of ``ImageNet``).
        """
        self._finished.clear()
        self._errors.clear()
        self._marks.clear()
        self._tts.setProperty("voice", voice)
        self._tts.setProperty("rate", rate)
        # The driver hands its "file name" to wave.open(), which takes a file object as well:
        # in memory, no disk is involved. (When saving a file fails, the driver raises inside
        # espeak's callback, where nothing can catch it, and runAndWait() never returns: a full
        # disk would look like a hung engine.)
        out = io.BytesIO()
        ssml = LANG_SPAN.search(text) is not None
        given = to_ssml(text) if ssml else text
        self._tts.save_to_file(given, out)
        # The driver prints "Audio saved to ..." for each file; narrate's stdout is for output.
        with contextlib.redirect_stdout(io.StringIO()), _synth_options(ssml):
            self._tts.runAndWait()
            # runAndWait() returns after the end-of-message callback wrote the file (given the
            # warm-up above); waiting on the callback too keeps a regression from going unseen.
            finished = self._finished.wait(_FINISH_WAIT_SECONDS)
        if self._errors:
            raise BackendError(f"espeak-ng failed: {self._errors[0]}")
        if not finished:
            raise BackendError("espeak-ng never reported the end of the utterance")
        return out.getvalue(), words_of(given, self._marks)


@contextlib.contextmanager
def _synth_options(ssml: bool) -> Iterator[None]:
    """Set what pyttsx3 2.99's driver cannot, for the one utterance spoken inside.

    - The word gap (:data:`WORD_GAP`): espeak-ng's ``espeakWORDGAP`` parameter, which
      pyttsx3 does not expose, set just before the driver's ``Synth`` call.
    - SSML (``<voice xml:lang="de">``), when asked: the driver calls
      ``_espeak.Synth(text, flags=ENDPAUSE | CHARS_UTF8)`` and never sets espeakSSML, so the
      flag is added to that call.

    Still one message, spoken once.
    """
    from pyttsx3.drivers import _espeak

    synth = _espeak.Synth

    def with_options(text: bytes, *args: Any, flags: int = 0, **kwargs: Any) -> Any:
        _espeak.SetParameter(_WORDGAP, WORD_GAP, 0)
        return synth(text, *args, flags=flags | (_espeak.SSML if ssml else 0), **kwargs)

    _espeak.Synth = with_options
    try:
        yield
    finally:
        _espeak.Synth = synth


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
            f"bundled espeakng-loader {dist_version('espeakng-loader')}"
            if lib.kind == "bundled"
            else "system"
        )
        return (
            f"pyttsx3 {dist_version('pyttsx3')}; espeak-ng {version} ({source}); "
            f"voice {voice.voice}; rate {voice.rate}; word gap {WORD_GAP}"
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
            audio = _read_wav(*_in_child(self._lib, text, voice))
        else:
            engine = _engine()
            voice_id = _resolve_voice(voice.voice, engine.voices, engine.variants)
            with _ENGINE_LOCK:
                audio = _read_wav(*engine.synthesise(text, voice_id, voice.rate))
        _check_duration(audio, plain(text), voice.rate)
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


def _in_child(lib: _Library, text: str, voice: VoiceSettings) -> tuple[bytes, list[Mark]]:
    """Speak ``text`` in a forked child that starts its own engine; return WAV bytes, marks.

    The child sends ``ok``, the length of its marks' JSON (8 bytes), the JSON and the WAV file;
    or ``en``/``er`` and a message.
    """
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
            from narrate.synth.worker import die_with_parent

            die_with_parent()  # even stopped (SIGSTOP), it goes when its worker goes
            signal.signal(signal.SIGALRM, signal.SIG_DFL)  # even if inherited as ignored
            signal.alarm(int(30 + _CHILD_SECONDS_PER_CHAR * len(text)))
            try:
                engine = _Engine(lib, warm=False)
                voice_id = _resolve_voice(voice.voice, engine.voices, engine.variants)
                payload = b"ok" + pack(*engine.synthesise(text, voice_id, voice.rate))
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
        return unpack(payload[2:])
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


def _read_wav(data: bytes, marks: list[Mark]) -> Audio:
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
    frames = len(pcm) // SAMPLE_WIDTH
    if frames == 0:
        raise BackendError("espeak-ng returned no audio")
    return Audio(pcm=pcm, sample_rate=SAMPLE_RATE, words=marks_inside(marks, frames))


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
