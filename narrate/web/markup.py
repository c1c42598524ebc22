"""The fragment's markup: sentences with their words' times, the chapter list, the controls.

Pure functions of a :class:`~narrate.web.page.Narration`; every piece of article text is
HTML-escaped. :mod:`narrate.web.page` puts them together with the inlined style and script.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING
from urllib.parse import quote

from narrate.outputs.chapters import Cue, clock, displayed_words
from narrate.web import words

if TYPE_CHECKING:
    from narrate.web.page import Narration


def escape(text: str) -> str:
    return html.escape(text, quote=True)


def iso_duration(seconds: float) -> str:
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return "PT" + (f"{h}H" if h else "") + (f"{m}M" if h or m else "") + f"{s}S"


def secs(ms: int) -> str:
    return repr(ms / 1000)


def megabytes(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def asset_url(base_url: str, name: str, version: str = "") -> str:
    """Return the URL of a published file under ``base_url`` (relative when it is empty), with
    ``?v=version`` when one is given."""
    name = quote(name) + (f"?v={quote(version)}" if version else "")
    return f"{base_url.rstrip('/')}/{name}" if base_url else name


def transcript(n: Narration) -> str:
    """Render the transcript: one part per chapter, its heading cue apart, paragraphs by pauses."""
    parts: list[str] = []
    cues = list(n.cues)
    i = 0
    for number, chapter in enumerate(n.chapters):
        last = number == len(n.chapters) - 1
        mine: list[Cue] = []
        while i < len(cues) and (last or cues[i].start_ms < chapter.end_ms):
            mine.append(cues[i])
            i += 1
        if not mine:
            continue
        lines = [f'<div class="narrate-part" data-chapter="{number + 1}">']
        if mine[0].text == chapter.title:
            lines.append(f'<p class="narrate-part-title">{_cue(n, mine[0])}</p>')
            mine = mine[1:]
        paragraph: list[str] = []
        previous: Cue | None = None
        for cue in mine:
            gap = (cue.start_ms - previous.end_ms) / 1000 if previous else 0.0
            if paragraph and n.paragraph_gap is not None and gap >= n.paragraph_gap:
                lines.append("<p>" + " ".join(paragraph) + "</p>")
                paragraph = []
            paragraph.append(_cue(n, cue))
            previous = cue
        if paragraph:
            lines.append("<p>" + " ".join(paragraph) + "</p>")
        lines.append("</div>")
        parts.append("\n".join(lines))
    return "\n".join(parts)


def _cue(n: Narration, cue: Cue) -> str:
    """One sentence with its times. Exact word times ride in ``data-w`` (see
    :mod:`narrate.web.words`); without them it is ``data-word-estimated`` and the script spreads
    its time over its words by characters (:func:`narrate.web.words.estimate`), costing no bytes.
    """
    text = escape(cue.text).replace("\n", "<br>")
    exact = n.word_starts.get(cue.id)
    if exact and len(exact) > 1:
        timed = f' data-w="{words.encode(cue, exact)}"'
    else:  # one word starts with its sentence: no estimate
        timed = " data-word-estimated" if len(displayed_words(cue.text)) > 1 else ""
    return (
        f'<span id="narrate-{escape(n.slug)}-{escape(cue.id)}" data-cue="{escape(cue.id)}" '
        f'data-start="{secs(cue.start_ms)}" data-end="{secs(cue.end_ms)}"{timed}>{text}</span>'
    )


def chapter_list(n: Narration) -> str:
    items = []
    for number, chapter in enumerate(n.chapters, start=1):
        start = chapter.start_ms / 1000
        items.append(
            f'<li><button type="button" disabled data-start="{secs(chapter.start_ms)}" '
            f'data-end="{secs(chapter.end_ms)}">'
            f'<span class="narrate-n" aria-hidden="true">{number}</span>'
            f'<span class="narrate-title">{escape(chapter.title)}</span> '
            f'<time datetime="{iso_duration(start)}">{clock(start)}</time></button></li>'
        )
    return "\n".join(items)


_CONTROLS = (
    ("play", "k", "Play"),
    ("back", "j", "Back 15 s"),
    ("forward", "l", "Forward 30 s"),
    ("prev-chapter", "", "Previous chapter"),
    ("next-chapter", "", "Next chapter"),
)
_KEYS = (
    "Keys: <kbd>Space</kbd> or <kbd>k</kbd> play or pause, <kbd>j</kbd> <kbd>l</kbd> skip, "
    "<kbd>&lt;</kbd> <kbd>&gt;</kbd> speed; in the transcript the arrow keys move between "
    "sentences and words, <kbd>Enter</kbd> plays from there."
)


def controls(n: Narration, mp3: str) -> str:
    """The buttons (hidden until the script wires them) and the download link (always there)."""
    buttons = [
        f'<button type="button" data-narrate-action="{action}"'
        + (f' aria-keyshortcuts="{key}"' if key else "")
        + f">{label}</button>"
        for action, key, label in _CONTROLS
    ]
    buttons.append(
        '<button type="button" data-narrate-action="speed" aria-keyshortcuts="Shift+&lt; '
        'Shift+&gt;">Speed <span data-narrate-rate>1×</span></button>'
    )
    return (
        f'<div class="narrate-controls"><span data-narrate-buttons hidden>{"".join(buttons)}'
        f'</span><a data-narrate-action="download" href="{mp3}" download>Download MP3 '
        f"({megabytes(n.mp3_bytes)})</a></div>\n"
        f'<p class="narrate-keys" id="narrate-{escape(n.slug)}-keys" hidden>{_KEYS}</p>'
    )


def root_tag(n: Narration, lang: str) -> str:
    """The fragment's opening tag: what the script and the lock screen need to know."""
    extra = "".join(
        f' data-{name}="{escape(value)}"'
        for name, value in (("artist", n.artist), ("album", n.album), ("artwork", n.artwork))
        if value
    )
    title = escape(n.title)
    return (
        f'<section class="narrate" data-narrate="{escape(n.slug)}" lang="{escape(lang)}" '
        f'data-title="{title}"{extra} aria-label="Listen to the article: {title}">'
    )
