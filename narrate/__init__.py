"""narrate: offline article narration with chapters, transcripts and edit-proportional rebuilds."""

__version__ = "0.1.0"

#: Bump whenever a change alters the produced audio for the same input (invalidates caches).
FORMAT_VERSION = 1
