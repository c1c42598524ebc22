"""Article -> narration script: ordered segments (one per sentence) grouped into chapters.

Pure: no I/O. The script decides what is said, in what order, in which voice, with which pause
after it; the displayed text of every segment is kept for the transcript.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass

from narrate.article import Article, Block, ListItem, Paragraph, Quote, TimelineEntry
from narrate.config import Settings, VoiceSettings
from narrate.speech import normalise, split_sentences

_MONTHS = {
    "jan": "January", "feb": "February", "mar": "March", "apr": "April", "may": "May",
    "jun": "June", "jul": "July", "aug": "August", "sep": "September", "sept": "September",
    "oct": "October", "nov": "November", "dec": "December",
}  # fmt: skip


@dataclass(frozen=True)
class Segment:
    """One utterance: the unit of synthesis and of the transcript."""

    id: str
    """Stable cue id: derived from the displayed text, so a sentence keeps it across rebuilds."""
    chapter: int
    """Index of the chapter it belongs to."""
    kind: str
    """title, summary, heading, paragraph, quote, timeline or item (voices can differ by kind)."""
    display: str
    """What the reader sees (the transcript shows this)."""
    spoken: str
    """What the engine is asked to say (normalised, lexicon applied)."""
    voice: VoiceSettings
    pause_after: float
    """Seconds of silence after this segment's speech ends."""
    boundary: str = "sentence"
    """What follows: "sentence", "heading" (after a heading), "paragraph", "chapter" or "end"."""
    line: int = 0
    """Source line of the block it came from (for error messages)."""


@dataclass(frozen=True)
class Chapter:
    """A chapter of the narration: the opening one, then one per section."""

    title: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Script:
    """The whole narration of one article."""

    slug: str
    title: str
    chapters: tuple[Chapter, ...]
    lead_in: float
    """Room tone before the first word."""
    tail: float
    """Room tone after the last word."""

    @property
    def segments(self) -> tuple[Segment, ...]:
        """Return every segment in order."""
        return tuple(s for c in self.chapters for s in c.segments)


@dataclass
class _Utterance:
    kind: str
    display: str
    spoken: str
    line: int
    pause: str  # "sentence", "paragraph" or "heading": the boundary after it


def _sentence(text: str) -> str:
    """Return text ending in sentence punctuation, so the engine drops its pitch at the end."""
    text = text.strip()
    return text if re.search(r"[.!?…][\"'”’)\]]*$", text) else text + "."


def _lower_first(text: str) -> str:
    """Lower-case a leading capitalised ordinary word ("Explaining" -> "explaining")."""
    m = re.match(r"([A-Z][a-z]+)\b", text)
    return m.group(1).lower() + text[m.end() :] if m else text


def _month(word: str) -> str | None:
    """Return the full month name for "Dec", "Dec.", "December" or "Sept"; None otherwise."""
    w = word.lower().rstrip(".")
    full = _MONTHS.get(w[:3])
    if full and len(w) >= 3 and (full.lower().startswith(w) or w == "sept"):
        return full
    return None


def timeline_phrase(date: str) -> str:
    """Return how a timeline date is introduced in speech: "In 2007", "From 2007 to 2009"."""
    d = " ".join(date.split())
    m = re.fullmatch(r"(\d{3,4})\s*[-–—]\s*(\d{2,4})", d)
    if m:
        return f"From {m.group(1)} to {m.group(2)}"
    m = re.fullmatch(r"(\d{3,4})\s*\(([A-Za-z]+\.?)\)", d)
    if m and _month(m.group(2)):
        return f"In {_month(m.group(2))} {m.group(1)}"
    m = re.fullmatch(r"([A-Za-z]+\.?)\s+(\d{3,4})", d)
    if m and _month(m.group(1)):
        return f"In {_month(m.group(1))} {m.group(2)}"
    m = re.fullmatch(r"(\d{1,2})\s+([A-Za-z]+\.?)\s+(\d{3,4})", d)
    if m and _month(m.group(2)):
        return f"On {m.group(1)} {_month(m.group(2))} {m.group(3)}"
    m = re.fullmatch(r"([A-Za-z]+\.?)\s+(\d{1,2}),?\s+(\d{3,4})", d)
    if m and _month(m.group(1)):
        return f"On {_month(m.group(1))} {m.group(2)}, {m.group(3)}"
    m = re.fullmatch(r"(?:c\.|ca\.|circa)\s*(\d{3,4})", d, re.I)
    if m:
        return f"Around {m.group(1)}"
    return f"In {d}"


def _split(display: str, say: str | None, kind: str, line: int) -> list[_Utterance]:
    """Return one utterance per displayed sentence, or one for the block when ``say`` is set."""
    if say is not None:
        # A spoken override replaces the whole block: one cue shows the displayed text.
        return [_Utterance(kind, display, say, line, "sentence")]
    return [_Utterance(kind, s, s, line, "sentence") for s in split_sentences(display)]


def _block(block: Block) -> list[_Utterance]:
    """Return the utterances of one block; the last one carries a paragraph pause."""
    out: list[_Utterance]
    if isinstance(block, Paragraph):
        out = _split(block.text, block.say, "paragraph", block.line)
    elif isinstance(block, Quote):
        who = block.author
        if block.context:
            intro = f"{who}, {_lower_first(block.context.rstrip('.'))}, said:"
        else:
            intro = f"{who} said:"
        out = [_Utterance("quote", intro, intro, block.line, "sentence")]
        out += _split(block.text, block.say, "quote", block.line)
    elif isinstance(block, TimelineEntry):
        display = f"{block.date}: {block.event}"
        spoken = (
            block.say
            if block.say is not None
            else (f"{timeline_phrase(block.date)}, {_lower_first(block.event)}")
        )
        out = [_Utterance("timeline", display, _sentence(spoken), block.line, "sentence")]
    elif isinstance(block, ListItem):
        spoken = block.say if block.say is not None else block.text
        out = [_Utterance("item", block.text, _sentence(spoken), block.line, "sentence")]
    else:  # pragma: no cover - the loader only builds the four kinds
        raise TypeError(f"unknown block {block!r}")
    if out:
        out[-1].pause = "paragraph"
    return out


def _people(people: tuple[str, ...]) -> str:
    if len(people) <= 1:
        return "".join(people)
    return ", ".join(people[:-1]) + " and " + people[-1]


def _opening(article: Article) -> list[_Utterance]:
    """Return the opening chapter: title, event, year, people, then the summary."""
    a = article
    out = [_Utterance("title", a.title, _sentence(a.title), a.summary.line, "heading")]
    facts = ", ".join(x for x in (a.event, a.year) if x)
    if a.people:
        facts = f"{facts}, by {_people(a.people)}" if facts else f"By {_people(a.people)}"
    if facts:
        out.append(_Utterance("title", facts, _sentence(facts), a.summary.line, "paragraph"))
    summary = _split(a.summary.text, a.summary.say, "summary", a.summary.line)
    if summary:
        summary[-1].pause = "paragraph"
    return out + summary


def _stable_ids(utterances: list[tuple[int, _Utterance]]) -> list[str]:
    """Return an id per utterance from its kind and displayed text; repeats get a suffix."""
    seen: Counter[str] = Counter()
    ids = []
    for _, u in utterances:
        base = "s-" + hashlib.sha256(f"{u.kind}\0{u.display}".encode()).hexdigest()[:10]
        seen[base] += 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids


def build_script(article: Article, settings: Settings) -> Script:
    """Flatten an article into the ordered, paused, normalised segments of its narration."""
    s = settings.with_overrides(article.settings)
    chapters: list[tuple[str, list[_Utterance]]] = [(article.title, _opening(article))]
    for section in article.sections:
        heading = _Utterance(
            "heading", section.heading, _sentence(section.heading), section.line, "heading"
        )
        body = [u for b in section.blocks for u in _block(b)]
        chapters.append((section.heading, [heading, *body]))

    flat = [(ci, u) for ci, (_, us) in enumerate(chapters) for u in us]
    ids = _stable_ids(flat)
    p = s.pauses
    by_boundary = {"sentence": p.sentence, "paragraph": p.paragraph, "heading": p.heading}
    built: list[list[Segment]] = [[] for _ in chapters]
    for n, ((ci, u), sid) in enumerate(zip(flat, ids, strict=True)):
        last_of_chapter = n + 1 == len(flat) or flat[n + 1][0] != ci
        if n + 1 == len(flat):
            pause, boundary = p.end, "end"
        elif last_of_chapter:
            pause, boundary = p.chapter, "chapter"
        else:
            pause, boundary = by_boundary[u.pause], u.pause
        built[ci].append(
            Segment(
                id=sid,
                chapter=ci,
                kind=u.kind,
                display=u.display,
                spoken=normalise(u.spoken, s.lexicon),
                voice=s.voice_for(u.kind),
                pause_after=pause,
                boundary=boundary,
                line=u.line,
            )
        )
    return Script(
        slug=article.slug,
        title=article.title,
        chapters=tuple(
            Chapter(t, tuple(segs)) for (t, _), segs in zip(chapters, built, strict=True)
        ),
        lead_in=p.start,
        tail=p.end,
    )


def render(script: Script) -> str:
    """Return the script as proof-reading text: chapters, spoken text, pause marks."""
    lines = [
        f"# {script.title} ({script.slug}): {len(script.chapters)} chapters, "
        f"{len(script.segments)} segments",
        f"[pause {script.lead_in:.2f}s]",
    ]
    for ci, ch in enumerate(script.chapters, 1):
        lines.append("")
        lines.append(f"## Chapter {ci}: {ch.title}")
        for seg in ch.segments:
            changed = "" if seg.spoken == seg.display else f"   (shown: {seg.display})"
            lines.append(f"{seg.id} [{seg.kind}] {seg.spoken}{changed}")
            lines.append(f"    [pause {seg.pause_after:.2f}s]")
    return "\n".join(lines) + "\n"
