"""`narrate lint` and `narrate say --phonemes`: what the voice may still say wrong.

``risks`` checks one text (pure): each :class:`Risk` names the token as written, where it starts,
why an English voice may get it wrong, and the fix to paste (a lexicon entry, or a ``say:``).
``lint_site`` runs it on what each block of an article says (its ``say:`` if it has one) with
the article's effective lexicon, and places each finding at FILE:LINE:COL; it starts no engine.
``phonemes`` asks the bundled espeak-ng for IPA in a child process: a started espeak-ng cannot
be forked safely (see ``narrate/synth/backends/pyttsx3.py``), so the engine is never initialised
in the calling process (``python -m narrate.lint`` with the texts on stdin).
"""

from __future__ import annotations

import ctypes
import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from narrate.content.model import Article, ListItem, Paragraph, Quote, TimelineEntry
from narrate.errors import EnvironmentProblem
from narrate.settings.model import Settings
from narrate.text import normalise
from narrate.text.abbreviations import is_shouting
from narrate.text.foreign import LANG_SPAN, fold, foreign_words
from narrate.text.vocab import (
    KNOWN_ABBREVIATIONS,
    MONTH_ABBREVIATIONS,
    NAMES,
    SPELLED_ACRONYMS,
    SPOKEN_ACRONYMS,
    WORD_ACRONYMS,
)
from narrate.text.web import WEB_ADDRESS, speak_address

__all__ = ["Finding", "Risk", "lint_article", "lint_site", "phonemes", "render", "risks"]


KINDS = ("address", "foreign", "acronym", "abbreviation", "symbol", "glued")
"""Every kind of risk, in the order a text is checked."""


@dataclass(frozen=True)
class Risk:
    """One risky token of a text."""

    kind: str
    """One of :data:`KINDS`."""
    token: str
    """The token as written."""
    offset: int
    """Where it starts in the text (-1: only in the spoken form)."""
    why: str
    """What the voice would do with it."""
    fix: str
    """What to paste (a lexicon entry), or what to do."""


def _entry(key: str, value: str) -> str:
    """Return a lexicon entry to paste under ``lexicon:`` (narrate.yaml or the article's)."""
    return f"lexicon entry {json.dumps(key, ensure_ascii=False)}: {json.dumps(value)}"


def _apart(token: str) -> str:
    """Return letters and digits apart, a start for the words: "word2vec" -> "word 2 vec"."""
    return " ".join(re.findall(r"[0-9]+|[^\W\d_]+", token))


_ROMAN = re.compile(r"(?=[IVXLC])C{0,3}(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_CAPS = re.compile(r"(?<![\w.&])([A-Z]{2,})(?:s|'s)?(?![\w&])")
_ABBREV = re.compile(r"(?<![\w.])([A-Za-z][a-z]{0,6})\.(?=\s+[a-z0-9(])")
_ALLOWED = frozenset(".,;:!?'\"()-–—\u2060")
_GLUED = re.compile(r"(?<![\w.])\w*(?:[0-9][a-z]|[a-z][0-9])\w*")
_FINE_GLUED = re.compile(r"[0-9]+(?:st|nd|rd|th|s)|[0-9]+'s")


def _addresses(text: str) -> Iterator[Risk]:
    for m in WEB_ADDRESS.finditer(text):
        said = speak_address(m.group())
        yield Risk(
            "address", m.group(), m.start(), f'said "{said}" ({len(said.split())} words)',
            "if that is too long to listen to, give the block a say: with a short form "
            f'("{said.split(" slash ")[0]}")',
        )  # fmt: skip


def _foreign(text: str, lexicon: Mapping[str, str]) -> Iterator[Risk]:
    for offset, word in foreign_words(text):
        if word in lexicon or word in NAMES:
            continue
        yield Risk(
            "foreign", word, offset,
            f'not English: said as "{fold(word)}" with its marks dropped',
            f"{_entry(word, fold(word))} respelled as it is said (hear it with "
            f'narrate say "{fold(word)}", see it with narrate say --phonemes)',
        )  # fmt: skip


def _acronyms(text: str, spoken: str, lexicon: Mapping[str, str]) -> Iterator[Risk]:
    if is_shouting(text):
        return
    known = WORD_ACRONYMS | SPELLED_ACRONYMS | set(SPOKEN_ACRONYMS) | set(lexicon)
    said = set(re.findall(r"[A-Z]{2,}", spoken.replace(".", "")))
    for m in _CAPS.finditer(text):
        caps = m.group(1)
        # A unit ("MW") or an address the rules turned into words is no acronym any more.
        if caps in known or _ROMAN.fullmatch(caps) or caps not in said:
            continue
        yield Risk(
            "acronym", caps, m.start(), f"not a known acronym: spelled \"{' '.join(caps)}\"",
            f"{_entry(caps, ' '.join(caps))} if it is spelled, or "
            f"{_entry(caps, caps.capitalize())} if it is said as a word",
        )  # fmt: skip


def _abbreviations(text: str, lexicon: Mapping[str, str]) -> Iterator[Risk]:
    for m in _ABBREV.finditer(text):
        word = m.group(1)
        if (
            word in KNOWN_ABBREVIATIONS
            or word.lower() in KNOWN_ABBREVIATIONS
            or word.rstrip(".") in MONTH_ABBREVIATIONS
            or f"{word}." in lexicon
            or len(word) == 1
        ):
            continue
        yield Risk(
            "abbreviation", f"{word}.", m.start(), "an unknown abbreviation: said as written, "
            "and its stop may end the clause", f'{_entry(f"{word}.", "...")} with the word in full',
        )  # fmt: skip


def _spoken(text: str, spoken: str) -> Iterator[Risk]:
    for ch in spoken:
        if ch.isalnum() or ch.isspace() or ch in _ALLOWED:
            continue
        at = text.find(ch)
        yield Risk(
            "symbol", ch, at, f"the symbol {ch!r} is left after normalisation",
            "write it in words, or give the block a say:",
        )  # fmt: skip
    for m in _GLUED.finditer(spoken):
        token = m.group()
        if _FINE_GLUED.fullmatch(token):
            continue
        yield Risk(
            "glued", token, text.find(token), "digits glued to letters: read piece by piece",
            f"{_entry(token, _apart(token))}, or the words it is said as",
        )  # fmt: skip


def risks(text: str, lexicon: Mapping[str, str] | None = None) -> list[Risk]:
    """Return every risky token of ``text`` (what is spoken: a ``say:`` if the block has one)."""
    lex = lexicon or {}
    spoken = normalise(text, lex)
    found = [
        *_addresses(text),
        *_foreign(text, lex),
        *_acronyms(text, spoken, lex),
        *_abbreviations(text, lex),
        *_spoken(text, spoken),
    ]
    seen: set[tuple[str, str]] = set()
    out = []
    for r in found:
        if (r.kind, r.token) not in seen:
            seen.add((r.kind, r.token))
            out.append(r)
    return out


@dataclass(frozen=True)
class Finding:
    """One risky token at its place in a file."""

    path: str
    line: int
    column: int
    kind: str
    token: str
    why: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}"
        return f"{where}: {self.kind}: {self.token}: {self.why}; fix: {self.fix}"


def _texts(article: Article) -> Iterator[tuple[str, int]]:
    """Yield (spoken source text, line to search from) for every text the article says."""
    a = article
    yield a.title, 1
    for extra in (a.event, a.year, *a.people):
        if extra:
            yield extra, 1
    yield (a.summary.say if a.summary.say is not None else a.summary.text), a.summary.line
    for section in a.sections:
        yield section.heading, section.line
        for b in section.blocks:
            if isinstance(b, Quote):
                yield b.author, b.line
                if b.context:
                    yield b.context, b.line
            if isinstance(b, TimelineEntry):
                yield (b.say if b.say is not None else f"{b.date}: {b.event}"), b.line
            elif isinstance(b, Paragraph | Quote | ListItem):
                yield (b.say if b.say is not None else b.text), b.line


def _locate(lines: Sequence[str], token: str, start: int) -> tuple[int, int]:
    """Return the 1-based line and column of ``token`` at or after line ``start``."""
    if token:
        for order in (range(max(start - 1, 0), len(lines)), range(len(lines))):
            for i in order:
                col = lines[i].find(token)
                if col >= 0:
                    return i + 1, col + 1
    return max(start, 1), 1


def lint_article(
    article: Article, path: Path, lexicon: Mapping[str, str], shown: str | None = None
) -> list[Finding]:
    """Return the findings of one article, in file order, each reported once per place."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out: dict[tuple[int, int, str], Finding] = {}
    for text, line in _texts(article):
        for r in risks(text, lexicon):
            ln, col = _locate(lines, _needle(r), line)
            out.setdefault(
                (ln, col, r.token),
                Finding(shown or str(path), ln, col, r.kind, r.token, r.why, r.fix),
            )
    return sorted(out.values(), key=lambda f: (f.line, f.column, f.kind))


def _needle(r: Risk) -> str:
    return r.token if r.offset >= 0 else ""


def lint_site(site: Settings, slugs: Sequence[str] | None) -> list[Finding]:
    """Return the findings of the articles ``slugs`` (None: every article of the site)."""
    from narrate.content.load import list_articles
    from narrate.pipeline.run import load_resolved

    found: list[Finding] = []
    for slug in list_articles(site.content_dir) if slugs is None else slugs:
        article, settings = load_resolved(site, slug)  # as a build reads it
        path = Path(article.source)
        found += lint_article(article, path, settings.lexicon, _relative(path))
    return found


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def render(findings: Sequence[Finding], *, as_json: bool = False) -> str:
    """Return the findings as lines (or JSON), ending with a count."""
    if as_json:
        import json

        return json.dumps([asdict(f) for f in findings], indent=2, ensure_ascii=False) + "\n"
    body = "".join(f"{f}\n" for f in findings)
    n = len(findings)
    return body + (f"{n} risky token{'s' if n != 1 else ''}\n" if n else "")


_CHARS_UTF8 = 1
_PHONEMES_IPA = 0x02
_OUTPUT_SYNCHRONOUS = 2


def phonemes(texts: list[str], voice: str = "en-us", *, ssml: bool = False) -> list[str]:
    """Return espeak-ng's IPA for each text, spoken by ``voice`` (computed in a child)."""
    request = json.dumps({"texts": texts, "voice": voice, "ssml": ssml})
    done = subprocess.run(
        [sys.executable, "-m", "narrate.lint"],
        input=request,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()[-1:] or ["no message"]
        raise EnvironmentProblem(f"espeak-ng could not give phonemes: {detail[0]}")
    out: list[str] = json.loads(done.stdout)
    return out


def _in_this_process(texts: list[str], voice: str, ssml: bool) -> list[str]:
    """Initialise espeak-ng here and phonemise each text. Only ever run in a child."""
    from narrate.synth.backends.espeak import _choose_library, _data_path, _dlopen

    lib = _choose_library()
    dll = _dlopen(lib)
    data = _data_path(dll, lib)
    dll.espeak_Initialize.restype = ctypes.c_int
    dll.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    if dll.espeak_Initialize(_OUTPUT_SYNCHRONOUS, 0, data.encode(), 0) < 0:
        raise EnvironmentProblem("espeak-ng did not start")
    dll.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    dll.espeak_TextToPhonemes.restype = ctypes.c_char_p
    dll.espeak_TextToPhonemes.argtypes = [
        ctypes.POINTER(ctypes.c_char_p),
        ctypes.c_int,
        ctypes.c_int,
    ]

    def ipa(text: str, lang: str) -> str:
        if dll.espeak_SetVoiceByName(lang.encode()) != 0:
            raise EnvironmentProblem(f"espeak-ng has no voice {lang!r}")
        # The final newline ends the last clause: without it espeak keeps it for the next call.
        buf = ctypes.c_char_p((text + "\n").encode())
        pieces = []
        # Each call returns one clause and advances the pointer; NULL when the text is used up.
        while buf.value:
            got = dll.espeak_TextToPhonemes(ctypes.byref(buf), _CHARS_UTF8, _PHONEMES_IPA)
            if got:
                pieces.append(got.decode(errors="replace").strip())
        return " ".join(p for p in pieces if p)

    out = []
    for text in texts:
        # A lexicon entry's language mark ("⟦de|Jürgen⟧") is read with that language's voice.
        parts, pos = [], 0
        for m in LANG_SPAN.finditer(text):
            parts += [(text[pos : m.start()], voice), (m[2], m[1])]
            pos = m.end()
        parts.append((text[pos:], voice))
        out.append(" ".join(filter(None, (ipa(t, lang) for t, lang in parts if t.strip()))))
    return out


if __name__ == "__main__":
    req = json.loads(sys.stdin.read())
    json.dump(_in_this_process(req["texts"], req["voice"], req["ssml"]), sys.stdout)
