"""Article -> narration script: ordered segments (one per sentence) grouped into chapters.

Pure: no I/O. The script decides what is said, in what order, in which voice, with which pause
after it; the displayed text of every segment is kept for the transcript.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from functools import partial

from narrate.content.model import Article, Block, ListItem, Paragraph, Quote, TimelineEntry
from narrate.settings.effective import Effective
from narrate.settings.model import Boundary, Kind, VoiceSettings
from narrate.text import normalise, split_sentences
from narrate.text.vocab import month


@dataclass(frozen=True)
class Segment:
    """One utterance: the unit of synthesis and of the transcript."""

    id: str
    """Stable cue id: derived from the displayed text, so a sentence keeps it across rebuilds."""
    chapter: int
    """Index of the chapter it belongs to."""
    kind: Kind
    """What it is (voices can differ by kind)."""
    display: str
    """What the reader sees (the transcript shows this)."""
    spoken: str
    """What the engine is asked to say (normalised, lexicon applied)."""
    voice: VoiceSettings
    pause_after: float
    """Seconds of silence after this segment's speech ends."""
    boundary: Boundary = Boundary.SENTENCE
    """What follows it (which sets the pause after it)."""
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
    kind: Kind
    display: str
    spoken: str
    line: int
    pause: Boundary  # SENTENCE, PARAGRAPH or HEADING: the boundary after it


def _sentence(text: str) -> str:
    """Return text ending in sentence punctuation, so the engine drops its pitch at the end."""
    text = text.strip()
    return text if re.search(r"[.!?…][\"'”’)\]]*$", text) else text + "."


def _lower_first(text: str) -> str:
    """Lower-case a leading capitalised ordinary word ("Explaining" -> "explaining")."""
    m = re.match(r"([A-Z][a-z]+)\b", text)
    return m.group(1).lower() + text[m.end() :] if m else text


_DATE_PHRASES: tuple[tuple[str, str], ...] = (
    # (pattern, phrase): {1}, {2}, ... are the groups; {m1}, {m2} a group read as a month.
    (r"(\d{3,4})\s*[-–—]\s*(\d{2,4})", "From {1} to {2}"),
    (r"(\d{3,4})\s*\(([A-Za-z]+\.?)\)", "In {m2} {1}"),
    (r"([A-Za-z]+\.?)\s+(\d{3,4})", "In {m1} {2}"),
    (r"(\d{1,2})\s+([A-Za-z]+\.?)\s+(\d{3,4})", "On {1} {m2} {3}"),
    (r"([A-Za-z]+\.?)\s+(\d{1,2}),?\s+(\d{3,4})", "On {m1} {2}, {3}"),
    (r"(?i:c\.|ca\.|circa)\s*(\d{3,4})", "Around {1}"),
)


def timeline_phrase(date: str) -> str:
    """Return how a timeline date is introduced in speech: "In 2007", "From 2007 to 2009"."""
    d = " ".join(date.split())
    for pattern, phrase in _DATE_PHRASES:
        m = re.fullmatch(pattern, d)
        if not m:
            continue
        values: dict[str, str | None] = {str(n): g for n, g in enumerate(m.groups(), 1)}
        values |= {f"m{n}": month(g) for n, g in enumerate(m.groups(), 1)}
        wanted = re.findall(r"\{(m?\d)\}", phrase)
        if all(values[k] for k in wanted):  # a month slot holds a month name
            return re.sub(r"\{(m?\d)\}", partial(_slot, values), phrase)
    return f"In {d}"


def _slot(values: dict[str, str | None], m: re.Match[str]) -> str:
    return str(values[m[1]])


def _split(display: str, say: str | None, kind: Kind, line: int) -> list[_Utterance]:
    """Return one utterance per displayed sentence, or one for the block when ``say`` is set."""
    if say is not None:
        # A spoken override replaces the whole block: one cue shows the displayed text.
        return [_Utterance(kind, display, say, line, Boundary.SENTENCE)]
    return [_Utterance(kind, s, s, line, Boundary.SENTENCE) for s in split_sentences(display)]


def _block(block: Block) -> list[_Utterance]:
    """Return the utterances of one block; the last one carries a paragraph pause."""
    out: list[_Utterance]
    if isinstance(block, Paragraph):
        out = _split(block.text, block.say, Kind.PARAGRAPH, block.line)
    elif isinstance(block, Quote):
        who = block.author
        if block.context:
            intro = f"{who}, {_lower_first(block.context.rstrip('.'))}, said:"
        else:
            intro = f"{who} said:"
        out = [_Utterance(Kind.QUOTE, intro, intro, block.line, Boundary.SENTENCE)]
        out += _split(block.text, block.say, Kind.QUOTE, block.line)
    elif isinstance(block, TimelineEntry):
        display = f"{block.date}: {block.event}"
        spoken = (
            block.say
            if block.say is not None
            else (f"{timeline_phrase(block.date)}, {_lower_first(block.event)}")
        )
        out = [_Utterance(Kind.TIMELINE, display, _sentence(spoken), block.line, Boundary.SENTENCE)]
    elif isinstance(block, ListItem):
        spoken = block.say if block.say is not None else block.text
        out = [_Utterance(Kind.ITEM, block.text, _sentence(spoken), block.line, Boundary.SENTENCE)]
    else:  # pragma: no cover - the loader only builds the four kinds
        raise TypeError(f"unknown block {block!r}")
    if out:
        out[-1].pause = Boundary.PARAGRAPH
    return out


def _people(people: tuple[str, ...]) -> str:
    if len(people) <= 1:
        return "".join(people)
    return ", ".join(people[:-1]) + " and " + people[-1]


def _opening(article: Article) -> list[_Utterance]:
    """Return the opening chapter: title, event, year, people, then the summary."""
    a = article
    out = [_Utterance(Kind.TITLE, a.title, _sentence(a.title), a.summary.line, Boundary.HEADING)]
    facts = ", ".join(x for x in (a.event, a.year) if x)
    if a.people:
        facts = f"{facts}, by {_people(a.people)}" if facts else f"By {_people(a.people)}"
    if facts:
        out.append(
            _Utterance(Kind.TITLE, facts, _sentence(facts), a.summary.line, Boundary.PARAGRAPH)
        )
    summary = _split(a.summary.text, a.summary.say, Kind.SUMMARY, a.summary.line)
    if summary:
        summary[-1].pause = Boundary.PARAGRAPH
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


def build_script(article: Article, s: Effective) -> Script:
    """Flatten an article into the ordered, paused, normalised segments of its narration.

    ``s``: the article's effective settings (:func:`narrate.settings.effective.resolve`).
    """
    chapters: list[tuple[str, list[_Utterance]]] = [(article.title, _opening(article))]
    for section in article.sections:
        heading = _Utterance(
            Kind.HEADING,
            section.heading,
            _sentence(section.heading),
            section.line,
            Boundary.HEADING,
        )
        body = [u for b in section.blocks for u in _block(b)]
        chapters.append((section.heading, [heading, *body]))

    flat = [(ci, u) for ci, (_, us) in enumerate(chapters) for u in us]
    ids = _stable_ids(flat)
    p = s.pauses
    by_boundary = {
        Boundary.SENTENCE: p.sentence,
        Boundary.PARAGRAPH: p.paragraph,
        Boundary.HEADING: p.heading,
    }
    built: list[list[Segment]] = [[] for _ in chapters]
    for n, ((ci, u), sid) in enumerate(zip(flat, ids, strict=True)):
        last_of_chapter = n + 1 == len(flat) or flat[n + 1][0] != ci
        if n + 1 == len(flat):
            pause, boundary = p.end, Boundary.END
        elif last_of_chapter:
            pause, boundary = p.chapter, Boundary.CHAPTER
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
