"""Where each displayed word starts, from the engine's marks for the words it was given to say.

The engine reads the spoken form (``two thousand nine``, ``Image`` ``Net``, a lexicon respelling)
and marks where it began each of *its* words; listeners and the page follow the *displayed*
words (``2009``, ``ImageNet``). The two word lists are aligned by difflib's longest matching
blocks on their letters and digits (case folded): a word said as written takes its mark; in a
run said differently, each displayed word takes the start of the said words that read most
like it (``2009`` the start of ``two thousand nine``, ``ILSVRC`` of ``I L S V R C``). A
displayed word the engine marked no start for (espeak-ng folds ``has been`` and ``the`` into
the word after them; a dash is not said) is placed between the marks around it, by characters.
Written by hand because no library maps normalised speech back to its source; difflib does the
alignment itself.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from narrate.outputs.chapters import displayed_words
from narrate.pcm import WordMark

__all__ = ["word_starts"]


def _key(word: str) -> str:
    return "".join(ch for ch in word.casefold() if ch.isalnum())


_NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty "
    "ninety hundred thousand million billion trillion point and oh plus percent".split()
)
_LONGEST_GROUP = 12
"""Most said words one displayed word can stand for (``1,234,567`` is nine)."""
_LARGEST_BLOCK = 4_000
"""Past this many displayed x said words, a differing stretch is spread evenly instead."""


def _similarity(shown: str, said: Sequence[str]) -> float:
    """Return how well the said words ``said`` stand for the displayed word ``shown`` (0-1)."""
    if not said:
        return 0.0
    if any(c.isdigit() for c in shown) and all(w.isdigit() or w in _NUMBER_WORDS for w in said):
        return 1.0  # a number, said in words (or by the engine from its digits)
    return difflib.SequenceMatcher(None, shown, "".join(said), autojunk=False).ratio()


def _grouped(shown: Sequence[str], said: Sequence[str]) -> list[int | None]:
    """Split ``said`` into one run per displayed word, in order, so that the runs read most
    like the words (``ILSVRC`` / ``I L S V R C``, ``ImageNet`` / ``Image Net``); return each
    displayed word's first said index, or None for an empty run. Dynamic programming."""
    n, m = len(shown), len(said)
    best = [[-1.0] * (m + 1) for _ in range(n + 1)]
    came: list[list[int]] = [[0] * (m + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    for i in range(1, n + 1):
        for j in range(m + 1):
            for k in range(max(0, j - _LONGEST_GROUP), j + 1):
                if best[i - 1][k] < 0:
                    continue
                score = best[i - 1][k] + _similarity(shown[i - 1], said[k:j])
                if score > best[i][j]:
                    best[i][j], came[i][j] = score, k
    firsts: list[int | None] = [None] * n
    j = m
    for i in range(n, 0, -1):
        k = came[i][j]
        firsts[i - 1] = k if k < j else None
        j = k
    return firsts


def _matched(shown: list[str], said: list[str]) -> list[int | None]:
    """Return, for each displayed word, the index of the mark it takes, or None."""
    taken: list[int | None] = [None] * len(shown)
    matcher = difflib.SequenceMatcher(None, shown, said, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            taken[i1:i2] = range(j1, j2)
        elif tag == "replace" and (i2 - i1) * (j2 - j1) <= _LARGEST_BLOCK:
            groups = _grouped(shown[i1:i2], said[j1:j2])
            taken[i1:i2] = [None if g is None else j1 + g for g in groups]
        elif tag == "replace":  # too long to search: spread the said words evenly
            n, m = i2 - i1, j2 - j1
            for k in range(min(n, m)):
                taken[i1 + k * n // min(n, m)] = j1 + k * m // min(n, m)
    return taken


def word_starts(display: str, marks: Sequence[WordMark], frames: int) -> tuple[int, ...]:
    """Return the sample where each displayed word of ``display`` starts (non-decreasing).

    ``frames`` is the length of the audio the marks are in. Empty when the engine marked no
    words, or nothing of the sentence is displayed.
    """
    words = displayed_words(display)
    if not marks or not words:
        return ()
    taken = _matched([_key(w) for w in words], [_key(m.text) for m in marks])
    # The first displayed word starts with the speech, even when the engine said more before
    # it (``In 2007,`` for the timeline's ``2007:``): nothing of a sentence goes unmarked.
    taken[0] = 0
    anchors = [(i, marks[j].start) for i, j in enumerate(taken) if j is not None]
    anchors.append((len(words), max(frames, anchors[-1][1])))
    starts: list[int] = []
    for (i, at), (following, until) in zip(anchors, anchors[1:], strict=False):
        # The engine marks no start for some words (``has been`` in ``that has been
        # instrumental``): they were said between the marks around them, so that stretch is
        # shared by the marked word and those after it, by their lengths in characters.
        weights = [len(w) + 1 for w in words[i:following]]
        total, before = sum(weights), 0
        for weight in weights:
            starts.append(max(at + (until - at) * before // total, starts[-1] if starts else 0))
            before += weight
    return tuple(starts)
