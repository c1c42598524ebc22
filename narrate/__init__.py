"""narrate: offline article narration with chapters, transcripts and edit-proportional rebuilds."""

__version__ = "0.1.0"

AUDIO_VERSION = 2
"""Bump whenever a change alters the produced audio for the same input (part of every cache key)."""
