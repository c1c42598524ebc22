"""Which characters text may hold: none that would corrupt the transcript, the page or a terminal.

A YAML file can only hold such characters through escapes in double quotes (``"\\e"``,
``"\\ud800"``): the YAML reader already refuses them written raw.
"""

from __future__ import annotations

import re

__all__ = ["FORBIDDEN", "shown", "why_forbidden"]

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff]")
"""Control characters other than the whitespace ones (tab, line feed, carriage return, NEL),
and UTF-16 surrogates, which are halves of a character and cannot be written as UTF-8."""


def why_forbidden(chars: str, written: str) -> str:
    """Return why ``chars`` (one forbidden character, or a surrogate pair) cannot be text.

    ``written`` is how the file spells them (``\\ud83d\\ude00``); the message says what to
    write instead.
    """
    code = ord(chars[0])
    if len(chars) == 2:
        joined = chr(0x10000 + ((code - 0xD800) << 10) + (ord(chars[1]) - 0xDC00))
        return (
            f"`{written}` is a UTF-16 surrogate pair, which YAML does not join into one "
            f"character; write {joined} itself, or `\\U{ord(joined):08X}`"
        )
    if 0xD800 <= code <= 0xDFFF:
        return (
            f"`{written}` is half of a UTF-16 surrogate pair, not a character; write the "
            "character itself, or its code as `\\U` and 8 hex digits"
        )
    return (
        f"`{written}` is the control character U+{code:04X}, which would reach the transcript, "
        "the page and the terminal; delete it"
    )


def shown(text: str, limit: int = 40) -> str:
    """Return ``text`` safe to put in a one-line message: what does not print as an escape.

    A line break, a zero-width space or a right-to-left override in a key or text would
    otherwise break the message's line or hide part of it (``"a\nb"`` shows as ``a\nb``).
    """
    out = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text[:limit])
    return out + "..." if len(text) > limit else out
