"""Text for the ear (pure): sentences of displayed prose, and the spoken form of each.

``split_sentences`` cuts prose into one segment per sentence; ``normalise`` rewrites a segment
so a TTS engine says it as a person would; ``is_silent`` tells whether a text says nothing.
"""

from __future__ import annotations

from narrate.text.sentences import iter_sentences, split_sentences
from narrate.text.spoken import is_silent, normalise
from narrate.text.vocab import WORD_ACRONYMS

__all__ = ["WORD_ACRONYMS", "is_silent", "iter_sentences", "normalise", "split_sentences"]
