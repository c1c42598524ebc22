"""Letters the English voice does not know: "Jürgen" is said "Jurgen" unless the lexicon says.

espeak-ng's English voice reads "ü" and "ö" by their names or guesses ("yoo-er-jen",
"moon-chen"); with the marks folded it reads the word as an English speaker would. A lexicon
entry gives a respelling or a language instead (``narrate lint`` lists every such word).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "foreign_words"]

_SPECIAL = {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "Ae", "œ": "oe",
            "Œ": "Oe", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ı": "i",
            "ħ": "h", "Ħ": "H"}  # fmt: skip
_WORD = re.compile(r"[^\W\d_][\w\u0300-\u036f'’-]*")


def _fold_char(ch: str) -> str:
    if ch.isascii():
        return ch
    if ch in _SPECIAL:
        return _SPECIAL[ch]
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    # Only Latin letters fold ("é" -> "e"); Greek, Cyrillic, CJK and symbols stay as they are.
    return base if base.isascii() and base.isalpha() else ch


def fold(text: str) -> str:
    """Return ``text`` with the diacritics of Latin letters removed: "München" -> "Munchen"."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFC", text)
    return "".join(_fold_char(ch) for ch in text if not unicodedata.combining(ch))


def foreign_words(text: str) -> list[tuple[int, str]]:
    """Return (offset, word) for every word with a non-ASCII letter ("Jürgen", "Łukasz")."""
    return [
        (m.start(), m.group())
        for m in _WORD.finditer(text)
        if any(not c.isascii() and (c.isalpha() or unicodedata.combining(c)) for c in m.group())
    ]


# A lexicon entry ``Jürgen: {lang: de}`` speaks the word in another language, inside the one
# utterance. Its spoken form carries the language as "⟦de|Jürgen⟧"; the backends turn that into
# their own markup (espeak-ng SSML ``<voice xml:lang="de">``, Piper ``[[ phonemes ]]``). Articles
# cannot forge the marks: clean_chars makes "⟦" and "⟧" plain brackets in their text.
LANG_SPAN = re.compile(r"⟦([a-z]{2,3}(?:-[a-z0-9]{2,8})*)\|([^⟦⟧|]*)⟧")
"""A span of text in another language: group 1 the language, group 2 the text."""
LANG_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")
"""An espeak-ng language name: "de", "fr", "pt-br", "en-gb-x-rp"."""


def in_language(lang: str, text: str) -> str:
    """Return ``text`` marked to be spoken in ``lang``: "⟦de|Jürgen⟧"."""
    return f"⟦{lang}|{text}⟧"


def plain(text: str) -> str:
    """Return ``text`` without language marks: "⟦de|Jürgen⟧ said" -> "Jürgen said"."""
    return LANG_SPAN.sub(lambda m: m[2], text)


def to_ssml(text: str) -> str:
    """Return spoken text with language marks as espeak-ng SSML (one ``<speak>`` document)."""
    from xml.sax.saxutils import escape, quoteattr

    out, pos = [], 0
    for m in LANG_SPAN.finditer(text):
        out.append(escape(text[pos : m.start()]))
        out.append(f"<voice xml:lang={quoteattr(m[1])}>{escape(m[2])}</voice>")
        pos = m.end()
    out.append(escape(text[pos:]))
    return "<speak>" + "".join(out) + "</speak>"
