"""URLs, e-mail addresses and domains for the ear: "github dot com slash openai".

espeak-ng reads a URL character by character ("aitch tee tee pee ess colon slash slash ...",
one sentence took 20.9 s) and a bare domain as one long word. A person says the host with "dot"
and the path with "slash", and leaves out the scheme and "www".
"""

from __future__ import annotations

import re

__all__ = ["WEB_ADDRESS", "speak_address"]

TLDS = "com|org|net|edu|gov|mil|int|io|ai|dev|app|co|uk|us|de|fr|ch|nl|jp|cn|ca|au|eu|info|tech"
"""Top-level domains a bare domain may end in ("arxiv.org"); others need a scheme or "www."."""

_URL = r"(?:https?://|www\.)[^\s<>\"]*[^\s<>\".,;:!?)\]']"
_EMAIL = r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}"
_DOMAIN = (
    rf"(?<![\w@./-])(?:[A-Za-z0-9][A-Za-z0-9-]*\.)+(?:{TLDS})(?![\w-])"
    r"(?:/[^\s<>\"]*[^\s<>\".,;:!?)\]'])?"
)
WEB_ADDRESS = re.compile(f"{_URL}|{_EMAIL}|{_DOMAIN}")
"""A URL, an e-mail address or a bare domain (with an optional path)."""

_SCHEME = re.compile(r"\A(?:https?://)?(?:www\.)?")
_PATH_SYMBOLS = {"/": " slash ", "_": " underscore ", "~": " tilde ", "@": " at ", "#": " hash ",
                 "?": " question mark ", "=": " equals ", "&": " and ", "+": " plus ",
                 "%": " percent ", ":": " colon "}  # fmt: skip


def _words(part: str) -> str:
    """Return one host or path piece with its dots and symbols said as words."""
    out = []
    for ch in part:
        if ch == ".":
            out.append(" dot ")
        else:
            out.append(_PATH_SYMBOLS.get(ch, ch))
    return "".join(out)


def speak_address(address: str) -> str:
    """Return how a person says a URL, e-mail address or domain.

    >>> speak_address("https://www.github.com/openai/gpt-2/")
    'github dot com slash openai slash gpt-2'
    """
    if "@" in address and "/" not in address:
        user, _, host = address.partition("@")
        return " ".join(f"{_words(user)} at {_words(host)}".split())
    rest = _SCHEME.sub("", address).rstrip("/")
    host, _, path = rest.partition("/")
    spoken = _words(host.lower() if host.isupper() else host)
    if path:
        spoken += " slash " + _words(path)
    return " ".join(spoken.split())
