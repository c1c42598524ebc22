"""The shape of a normalisation rule, and the word-boundary patterns every rule module shares."""

from __future__ import annotations

import re
from collections.abc import Callable

Rule = Callable[[str], str]
"""One rewrite of spoken text (a compiled substitution)."""

W = r"\w\u0300-\u036f"
"""Word characters for boundary tests; combining marks count, so "É" written as E + U+0301 is
one word."""
NOT_AFTER_WORD = rf"(?<![{W}])"
NOT_BEFORE_WORD = rf"(?![{W}])"


def sub(pattern: str, repl: str | Callable[[re.Match[str]], str], flags: int = 0) -> Rule:
    """Return a rule that applies one compiled substitution."""
    rx = re.compile(pattern, flags)
    return lambda text: rx.sub(repl, text)
