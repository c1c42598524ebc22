"""Where Piper began each word: the model's own phoneme durations, mapped onto the words.

**The times.** Piper's VITS model predicts how many frames of ``hop_length`` (256) samples each
phoneme id lasts, and its decoder renders exactly those frames: the durations *are* the audio's
timeline (they add up to its length, sample for sample), not an estimate made afterwards. The
bundled model computes them (the ``Ceil`` of its duration predictor) but does not return them.
piper-tts can expose them by rewriting the model with the ``onnx`` package (31 MB; its
``include_alignments``); :func:`alignment_model` makes that same edit without it, on the
model's protobuf bytes in memory: one more ``ValueInfoProto`` naming that tensor appended to
``GraphProto.output``. The graph computes what it did, so the audio is the same samples (same
noise seed, same bytes); it only hands back one more tensor, which ``PiperVoice.synthesize(...,
include_alignments=True)`` returns as each phoneme id's samples.

**The words.** espeak-ng phonemises a whole sentence and joins some words (``that has been``
comes out as one word) or splits others (``ImageNet``). So each word of the text is phonemised
alone and those phonemes are matched to the sentence's by difflib, sounds only (no stress marks,
spaces or punctuation): a word starts at the sentence phoneme its first sound matched, or, when
only a later sound matched (``the`` said ``ðɪ`` before a vowel), where that phoneme word
starts. A word with nothing matched (``a`` alone is ``eɪ``, in a sentence ``ɐ``) takes the
sounds between its neighbours' (a phoneme word's start among them first). A word left without
a start after the previous word's gets no mark: the timeline places it between its neighbours
(:mod:`narrate.pipeline.words`).

**How exact.** To the frame (256 samples, 11.6 ms), where the model put each phoneme; a word
starts at its first sound or at the stress mark before it (a vowel's onset is in the stress
mark's frames). Against speech onsets after pauses (RMS over 5 ms windows, -50 dBFS), 907 words
at 160 and 240 wpm: median 10 ms, 95th percentile 36 ms, worst 77 ms (a word starting with
``s`` after a pause: the voice begins the hiss a few frames early). Inside a phrase there is no
onset to measure; the same durations place those words (``tests/test_piper_words.py``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from narrate.pcm import WordMark

__all__ = ["alignment_model", "heard_words", "word_marks"]

_NOT_A_SOUND = frozenset(" ˈˌ!'(),-.:;?\"^$_")
"""Stress marks, word breaks, punctuation (which Piper keeps as pauses), BOS, EOS and pad."""
_STRESS = frozenset("ˈˌ")
_PAD = "_"
"""Piper's pad, after every phoneme: its frames belong to the phoneme before it."""
_BREAKS = _NOT_A_SOUND - _STRESS - {_PAD}
"""What ends a phoneme word."""
_EDGE = re.compile(r"^\W+|\W+$")

# --- the model: one more graph output ---------------------------------------------------------

_GRAPH, _NODE, _NODE_OUTPUT, _OP_TYPE, _GRAPH_OUTPUT, _NAME = 7, 1, 2, 4, 12, 1
"""Field numbers of ModelProto.graph, GraphProto.node, NodeProto.output, NodeProto.op_type,
GraphProto.output and ValueInfoProto.name (onnx.proto)."""


def _varint(buf: memoryview, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i
        shift += 7


def _encode(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _fields(buf: memoryview, start: int, end: int) -> Iterable[tuple[int, int, int]]:
    """Yield ``(field number, start, end)`` of each length-delimited field of one message."""
    i = start
    while i < end:
        key, i = _varint(buf, i)
        kind = key & 7
        if kind == 2:
            size, i = _varint(buf, i)
            yield key >> 3, i, i + size
            i += size
        elif kind == 0:
            i = _varint(buf, i)[1]
        elif kind in (1, 5):
            i += 8 if kind == 1 else 4
        else:
            raise ValueError(f"unexpected protobuf wire type {kind}")


def alignment_model(path: Path) -> bytes | None:
    """Return the ONNX model at ``path`` with its phoneme durations as a second output.

    ``None`` when the model is not the shape this expects (not one ``Ceil`` among the graph's
    nodes): Piper then speaks as before, without word marks. A model already giving them is
    returned as it is.
    """
    data = path.read_bytes()
    buf = memoryview(data)
    graphs = [(s, e) for field, s, e in _fields(buf, 0, len(data)) if field == _GRAPH]
    if len(graphs) != 1:
        return None
    start, end = graphs[0]
    ceil: set[bytes] = set()
    outputs: set[bytes] = set()
    for field, s, e in _fields(buf, start, end):
        if field == _NODE and data.find(b"Ceil", s, e) >= 0:
            parts = [(f, bytes(buf[a:b])) for f, a, b in _fields(buf, s, e)]
            if (_OP_TYPE, b"Ceil") in parts:
                ceil.update(v for f, v in parts if f == _NODE_OUTPUT)
        elif field == _GRAPH_OUTPUT:
            outputs.update(bytes(buf[a:b]) for f, a, b in _fields(buf, s, e) if f == _NAME)
    if len(ceil) != 1:
        return None
    (name,) = ceil
    if name in outputs:
        return data
    info = bytes([_NAME << 3 | 2]) + _encode(len(name)) + name
    extra = bytes([_GRAPH_OUTPUT << 3 | 2]) + _encode(len(info)) + info
    head = bytes([_GRAPH << 3 | 2]) + _encode(end - start)
    if data[start - len(head) : start] != head:
        return None
    graph = bytes([_GRAPH << 3 | 2]) + _encode(end - start + len(extra))
    return b"".join((data[: start - len(head)], graph, data[start:end], extra, data[end:]))


# --- the words ----------------------------------------------------------------------------------


def heard_words(pieces: Sequence[tuple[str, str | None]], voice: Any) -> list[tuple[str, str]]:
    """Return each word of the text with its phonemes as ``voice`` says it alone.

    ``pieces`` is the text as :func:`narrate.synth.backends.piper._pieces` cuts it: plain text
    (``None``) and words in another language with the phonemes Piper is given for them.
    """
    heard: list[tuple[str, str]] = []
    for text, ipa in pieces:
        words = [w for w in (_EDGE.sub("", t) for t in text.split()) if w]
        if ipa is None:
            for word in words:
                heard.append((word, "".join("".join(s) for s in voice.phonemize(word))))
        elif words:
            said = ipa.split()
            same = len(said) == len(words)
            heard.extend(zip(words, said, strict=True) if same else [(words[0], ipa)])
    return heard


def word_marks(
    heard: Sequence[tuple[str, str]], chunks: Iterable[Any], id_map: Mapping[str, Sequence[int]]
) -> tuple[WordMark, ...]:
    """Return where each heard word starts in the audio of ``chunks`` (Piper's, in order).

    ``id_map`` is the voice's phonemes -> ids. Empty when a chunk came without durations (a
    model they could not be exposed from).
    """
    phoneme_of = {i: phoneme for phoneme, ids in id_map.items() for i in ids}
    said: list[str] = []  # the sentence's sounds, one character each
    at: list[int] = []  # the sample where each of them starts
    head: list[int] = []  # the index in ``said`` of the first sound of its phoneme word
    base, word, stress = 0, None, None
    for chunk in chunks:
        samples = chunk.phoneme_id_samples
        if samples is None or len(samples) != len(chunk.phoneme_ids):
            return ()
        offset = base
        for phoneme_id, n in zip(chunk.phoneme_ids, samples, strict=True):
            phoneme = phoneme_of.get(phoneme_id, _PAD)
            if phoneme in _BREAKS:
                word = None
            elif phoneme in _STRESS:  # its frames are the start of the sound after it
                stress = offset if stress is None else stress
            for ch in phoneme:
                if ch not in _NOT_A_SOUND:
                    word = len(said) if word is None else word
                    said.append(ch)
                    at.append(offset if stress is None else stress)
                    head.append(word)
                    stress = None
            offset += int(n)
        base += len(chunk.audio_float_array)
    return _matched(heard, said, at, head)


def _matched(
    heard: Sequence[tuple[str, str]], said: list[str], at: list[int], head: list[int]
) -> tuple[WordMark, ...]:
    """Return a mark for each heard word whose start is found in ``said``, in order."""
    found = _found(heard, said, head)
    heads = sorted(set(head))
    marks: list[WordMark] = []
    last = reach = -1  # the last mark's sound; the last sound a word matched
    for k, (word, _) in enumerate(heard):
        pos, end = found[k]
        if pos is None:  # nothing matched (``a`` said alone is ``eɪ``): the sounds no word took
            following = next((f for f, _ in found[k + 1 :] if f is not None), len(said))
            gap = range(reach + 1, following)
            pos = next((h for h in heads if h in gap), gap[0] if gap else None)
        if pos is not None and pos > last:
            marks.append(WordMark(at[pos], word))
            last = pos
        reach = max(reach, last if end is None else end)
    return tuple(marks)


def _found(
    heard: Sequence[tuple[str, str]], said: list[str], head: list[int]
) -> list[tuple[int | None, int | None]]:
    """Return, for each heard word, where in ``said`` it starts and its last matched sound.

    It starts at its first sound's match; at the start of the phoneme word holding the first
    of its sounds that matched when the first did not; ``(None, None)`` when none did.
    """
    sounds: list[str] = []
    spans: list[tuple[int, int]] = []
    for _, ipa in heard:
        begin = len(sounds)
        sounds.extend(ch for ch in ipa if ch not in _NOT_A_SOUND)
        spans.append((begin, len(sounds)))
    to_said: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(None, sounds, said, autojunk=False)
    for a, b, size in matcher.get_matching_blocks():
        to_said.update((a + k, b + k) for k in range(size))
    found: list[tuple[int | None, int | None]] = []
    for begin, end in spans:
        matched = [to_said[i] for i in range(begin, end) if i in to_said]
        if not matched:
            found.append((None, None))
        else:
            first = matched[0] if begin in to_said else head[matched[0]]
            found.append((first, matched[-1]))
    return found
