"""Where espeak-ng began each word: its word events, noted under pyttsx3, carried as marks.

pyttsx3's ``started-word`` notification passes a word's place in the text but drops the event's
``sample``, the one thing that says where the word is in the audio. So the driver's synthesis
callback is wrapped (:func:`note_word_events`): the wrapper notes (sample, text position, length)
of each word event and hands every call on unchanged. The one place narrate reaches into
pyttsx3's driver for what comes out of it (``pyttsx3._synth_options`` is the other, for what
goes in: the SSML flag and the word gap). Exact to the sample espeak-ng reports, which is
where it starts the word's first phoneme (a stop consonant's silent closure included).
"""

from __future__ import annotations

import json
import struct
from typing import Any

from narrate.errors import BackendError

__all__ = ["Mark", "note_word_events", "pack", "unpack", "words_of"]

Mark = tuple[int, str]
"""A word espeak-ng began: (sample, the word as it read it)."""


def note_word_events(tts: Any, sink: list[tuple[int, int, int]]) -> None:
    """Append (sample, text position, length) of every word ``tts`` begins to ``sink``."""
    from pyttsx3.drivers import _espeak

    driver = tts.proxy._driver
    on_synth = driver._onSynth

    def on_synth_noting_words(wav: Any, numsamples: int, events: Any) -> int:
        if driver._speaking:
            i = 0
            while (event := events[i]).type != _espeak.EVENT_LIST_TERMINATED:
                if event.type == _espeak.EVENT_WORD and event.length > 0:
                    sink.append((event.sample, event.text_position, event.length))
                i += 1
        result: int = on_synth(wav, numsamples, events)
        return result

    _espeak.SetSynthCallback(on_synth_noting_words)  # keeps the ctypes wrapper alive


def words_of(given: str, events: list[tuple[int, int, int]]) -> list[Mark]:
    """Return one mark per word of ``given`` espeak-ng began.

    espeak-ng reports a number it expands (``2009``) once per word it says for it: the first
    at the number's place, the others a character or more into it (``009``). Only the first
    is a word of the text; the others, inside the word before, are dropped. Positions count
    characters from 1.
    """
    marks: list[Mark] = []
    end = 0
    for sample, position, length in events:
        if position - 1 >= end:
            marks.append((sample, given[position - 1 : position - 1 + length]))
            end = position - 1 + length
    return marks


def pack(wav: bytes, marks: list[Mark]) -> bytes:
    """Return what a forked engine sends: its marks' JSON, length first (8 bytes), then the WAV."""
    words = json.dumps(marks, ensure_ascii=False).encode("utf-8")
    return struct.pack(">Q", len(words)) + words + wav


def unpack(data: bytes) -> tuple[bytes, list[Mark]]:
    """Split what :func:`pack` made into the WAV bytes and the marks."""
    try:
        (size,) = struct.unpack(">Q", data[:8])
        marks = [(int(at), str(word)) for at, word in json.loads(data[8 : 8 + size])]
    except (struct.error, ValueError, TypeError) as exc:
        raise BackendError(f"the engine's process sent damaged word marks ({exc})") from exc
    return data[8 + size :], marks
