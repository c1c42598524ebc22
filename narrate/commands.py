"""The command table: every command's name and one-line summary, in the order help lists them.

The CLI registers its commands from this table (a test holds the two equal), and article slugs
may not take these names, nor the names reserved for commands to come, so ``narrate SLUG`` can
never be mistaken for a command.
"""

from __future__ import annotations

import difflib

COMMANDS: dict[str, str] = {
    "build": "Build articles (short form: `narrate SLUG`).",
    "script": "Print exactly what will be said.",
    "status": "List every article's state, with the reason.",
    "check": "Exit 0 if every article is fresh (for CI).",
    "clean": "Remove outputs whose article no longer exists.",
    "cache": "Manage the sentence cache.",
    "embed": "Print the article page's HTML fragment.",
    "preview": "Write audio/SLUG.html, a page with the player.",
    "voices": "List the voices a backend offers.",
    "say": "Speak one line exactly as a build would.",
    "doctor": "Show the engine and encoder in use, and test them.",
    "import": "Import a page's text as content/SLUG.yaml.",
    "feed": "Write audio/feed.xml, the podcast feed.",
    "init": "Start a site here: narrate.yaml and an example article.",
    "lint": "List every token the voice may still say wrong.",
    "verify": "Check the published MP3 by ear (offline Whisper).",
}
"""Command name -> summary."""

RESERVED = frozenset({*COMMANDS, "lint", "verify", "feed", "init", "help", "manifest", "index"})
"""Names no article may take: the commands, those planned, and site-wide output names."""


def closest_command(word: str) -> str | None:
    """Return the command ``word`` is most likely a typo of (``stauts`` -> ``status``), if any."""
    close = difflib.get_close_matches(word, list(COMMANDS), n=1, cutoff=0.75)
    return close[0] if close else None
