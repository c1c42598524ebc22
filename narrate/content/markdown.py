"""Markdown articles: ``content/SLUG.md`` (front matter + CommonMark body) into an :class:`Article`.

The front matter (YAML between ``---`` lines, or TOML between ``+++`` lines) holds the same
top-level fields as the YAML format (title, era, event, year, date, people, summary, settings);
any other key (``draft``, ``tags``, ``slug``, ``layout``, ...) belongs to the site generator and
is ignored, except ``draft: true``, which leaves the article out of ``--all``, ``status`` and
the feed, and ``description``, the summary when there is no ``summary``. The body is parsed with
markdown-it-py (CommonMark, GFM tables) and mdit-py-plugins (front matter, footnotes, ``$``
math):

- a ``#`` heading is the title when the front matter has none (it is never spoken twice);
- the first paragraph before any ``##`` heading is the summary when the front matter has none;
- every ``##`` heading starts a section (a chapter); ``###`` and deeper are spoken as paragraphs;
- a paragraph is a paragraph; link text is spoken and its URL is not; emphasis is plain text;
  footnote references and the footnotes themselves are not spoken;
- a blockquote whose last line starts with a dash (``— Name, context``) is a quote by Name, in
  that context; one without is spoken as paragraphs;
- a list item ``DATE: event`` (``2007: ...``, ``**Dec 2015**: ...``) is a timeline entry; any
  other list item is a list item;
- non-prose follows the site's ``markdown:`` policy, per kind: :data:`DEFAULTS`.

Line numbers in errors point into the ``.md`` file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from narrate.content.model import Article, Block, ListItem, Paragraph, Quote, Section, TimelineEntry
from narrate.errors import ContentError
from narrate.text import is_silent, iter_sentences
from narrate.text.characters import shown
from narrate.yamlread import Node, parse

__all__ = ["DEFAULTS", "KINDS", "POLICIES", "SUFFIX", "Treatment", "is_draft", "load_markdown"]

SUFFIX = ".md"
POLICIES = ("skip", "placeholder", "read")
KINDS = ("code", "inline_code", "table", "math", "image", "html")


@dataclass(frozen=True)
class Treatment:
    """What is spoken for one kind of non-prose: nothing, a short cue, or the thing itself."""

    policy: str
    cue: str


DEFAULTS: Mapping[str, Treatment] = {
    "code": Treatment("placeholder", "code example skipped"),
    "inline_code": Treatment("read", "code"),
    "table": Treatment("placeholder", "table skipped"),
    "math": Treatment("placeholder", "formula skipped"),
    "image": Treatment("read", "image"),
    "html": Treatment("skip", "embedded content skipped"),
}
"""Defaults: code blocks and tables are skipped with a cue, inline code is read, math is skipped
with a cue, an image speaks its alt text (nothing without one), raw HTML is skipped."""

_ARTICLE_KEYS = ("title", "era", "event", "year", "date", "people", "summary", "settings")
_FRONT = re.compile(r"\A(---|\+\+\+)[ \t]*\n(.*?)^\1[ \t]*$\n?", re.S | re.M)
_CREDIT = re.compile(r"^\s*(?:—|–|--|-)\s*(?P<who>[^,]+?)\s*(?:,\s*(?P<context>.+?))?\s*$")
_ENTRY = re.compile(r"^(?P<date>[^:]{1,40}?):\s+(?P<event>\S.*)$")
_QUOTES = (('"', '"'), ("\u201c", "\u201d"))


def parse_policy(node: Node) -> dict[str, tuple[str, str]]:
    """Validate ``markdown:`` in narrate.yaml: kind -> ``skip``/``placeholder``/``read``, or
    ``{policy: ..., cue: ...}`` (the cue is what a placeholder says)."""
    out: dict[str, tuple[str, str]] = {}
    for kind, value in node.mapping(KINDS, what=", ".join(k + ":" for k in KINDS)).items():
        fields = (
            value.mapping(("policy", "cue"), what="policy: and cue:")
            if value.is_mapping()
            else {"policy": value}
        )
        policy = (
            fields["policy"].text(what="skip, placeholder or read")
            if "policy" in fields
            else DEFAULTS[kind].policy
        )
        if policy not in POLICIES:
            fields["policy"].fail(
                f"`{shown(policy)}` is not a policy; use skip, placeholder or read"
            )
        cue = fields["cue"].text(what="spoken cue") if "cue" in fields else DEFAULTS[kind].cue
        if is_silent(cue):
            fields["cue"].fail(f'"{shown(cue)}" says nothing aloud; write the cue in words')
        out[kind] = (policy, cue)
    return out


def policy_of(site: Mapping[str, tuple[str, str]] | None) -> dict[str, Treatment]:
    """Return the site's ``markdown:`` policy (kind -> (policy, cue)) as treatments."""
    return {k: Treatment(*v) for k, v in (site or {}).items()}


def treatments(site: Mapping[str, Treatment] | None) -> dict[str, Treatment]:
    """Return the policy for every kind: the site's ``markdown:`` over :data:`DEFAULTS`."""
    return {**DEFAULTS, **(site or {})}


def _front(text: str, path: Path) -> tuple[dict[str, Node], int, bool]:
    """Return the front matter's fields, the body's first line (0-based), and whether TOML."""
    m = _FRONT.match(text)
    if m is None:
        return {}, 0, False
    toml = m.group(1) == "+++"
    inner = m.group(2)
    first = text[: m.end()].count("\n")
    if toml:
        inner = _toml_as_yaml(inner, path)
    pad = "\n"  # so a line of the front matter keeps its number in the .md file
    root = parse((pad + inner).encode("utf-8"), path, empty_hint="") if inner.strip() else None
    if root is None:
        return {}, first, toml
    if not root.is_mapping():
        root.fail(f"the front matter must be key: value lines, not {root.kind}")
    return dict(root.mapping(None).items()), first, toml


def _toml_as_yaml(inner: str, path: Path) -> str:
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef,import-not-found,unused-ignore]
    import yaml

    try:
        data = tomllib.loads(inner)
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"the TOML front matter is not valid: {exc}", path=path) from None
    data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}
    dumped: str = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return dumped


def is_draft(path: Path) -> bool:
    """Return whether a Markdown article says ``draft: true`` (unreadable: not a draft)."""
    try:
        head = path.read_text("utf-8")[:20_000]
    except (OSError, UnicodeDecodeError):
        return False
    m = _FRONT.match(head)
    return bool(m and re.search(r"(?m)^draft\s*[:=]\s*(?:true|yes|on)\s*$", m.group(2), re.I))


class _Body:
    """Walks markdown-it's tokens, building sections from the body."""

    def __init__(self, path: Path, policy: Mapping[str, Treatment], offset: int) -> None:
        self.path = path
        self.policy = policy
        self.offset = offset
        self.title: tuple[str, int] | None = None
        self.lead: list[tuple[str, str | None, int]] = []
        self.sections: list[tuple[str, int, list[Block]]] = []

    def line(self, token: Any) -> int:
        return int(token.map[0]) + 1 + self.offset if token.map else 0

    def fail(self, line: int, message: str) -> NoReturn:
        raise ContentError(message, path=self.path, line=line or None)

    def inline(self, token: Any, *, breaks: bool = False) -> tuple[str, str]:
        """Return (displayed, spoken) text of an inline token (``breaks``: keep line breaks)."""
        shown_parts: list[str] = []
        said: list[str] = []
        for child in token.children or []:
            kind = child.type
            if kind in ("text", "code_inline", "math_inline"):
                pol = {"text": None, "code_inline": "inline_code", "math_inline": "math"}[kind]
                shown_parts.append(child.content)
                said.append(child.content if pol is None else self.cue(pol, child.content, True))
            elif kind in ("softbreak", "hardbreak"):
                shown_parts.append("\n" if breaks else " ")
                said.append(" ")
            elif kind == "image":
                alt = child.content or "".join(c.content for c in child.children or [])
                said.append(self.cue("image", alt, True) if alt or self.policy["image"].policy
                            == "placeholder" else "")  # fmt: skip
            elif kind == "html_inline":
                said.append(self.cue("html", "", True) if self.policy["html"].policy
                            == "placeholder" else "")  # fmt: skip
        if breaks:
            return "".join(shown_parts), ""
        return " ".join("".join(shown_parts).split()), " ".join("".join(said).split())

    def cue(self, kind: str, content: str, inline: bool) -> str:
        t = self.policy[kind]
        if t.policy == "read":
            return content
        if t.policy == "skip":
            return ""
        return t.cue if inline else t.cue[:1].upper() + t.cue[1:].rstrip(".") + "."

    def add(self, block: Block, line: int) -> None:
        if self.sections:
            self.sections[-1][2].append(block)
        elif isinstance(block, Paragraph):
            self.lead.append((block.text, block.say, line))
        else:
            self.fail(line, "content before the first `##` heading; put it under a heading")

    def paragraph(self, text: str, said: str, line: int) -> None:
        if not said:
            return  # only skipped non-prose in it
        if not text:  # an image alone: its alt text is what the page shows in words
            text = said
        self.add(Paragraph(text, None if said == text else said, line), line)


def _walk(b: _Body, tokens: list[Any]) -> None:
    i = 0
    while i < len(tokens):
        t = tokens[i]
        kind = t.type
        if kind == "heading_open":
            text, _ = b.inline(tokens[i + 1])
            line = b.line(t)
            if t.tag == "h1" and b.title is None and not b.sections:
                b.title = (text, line)
            elif t.tag in ("h1", "h2"):
                b.sections.append((text, line, []))
            else:
                b.paragraph(text, text, line)
            i += 3
            continue
        if kind == "paragraph_open":
            text, said = b.inline(tokens[i + 1])
            b.paragraph(text, said, b.line(t))
            i += 3
            continue
        if kind == "blockquote_open":
            i = _blockquote(b, tokens, i)
            continue
        if kind in ("bullet_list_open", "ordered_list_open"):
            i = _list(b, tokens, i)
            continue
        if kind in ("fence", "code_block", "math_block", "math_block_label", "html_block"):
            pol = {"fence": "code", "code_block": "code", "html_block": "html"}.get(kind, "math")
            said = b.cue(pol, " ".join(t.content.split()), False)
            if said:
                b.add(Paragraph(said, None, b.line(t)), b.line(t))
        elif kind == "table_open":
            i = _table(b, tokens, i)
            continue
        elif kind == "footnote_block_open":
            i = _skip_to(tokens, i, "footnote_block_close")
        i += 1


def _skip_to(tokens: list[Any], i: int, close: str) -> int:
    while tokens[i].type != close:
        i += 1
    return i


def _blockquote(b: _Body, tokens: list[Any], i: int) -> int:
    """Read a blockquote: a quote when its last line credits someone, else paragraphs."""
    start = b.line(tokens[i])
    end, depth = i, 0
    while True:
        depth += {"blockquote_open": 1, "blockquote_close": -1}.get(tokens[end].type, 0)
        if depth == 0:
            break
        end += 1
    inlines = [t for t in tokens[i:end] if t.type == "inline"]
    lines = [ln for t in inlines for ln in b.inline(t, breaks=True)[0].split("\n")]
    lines = [" ".join(ln.split()) for ln in lines if ln.strip()]
    credit = _CREDIT.match(lines[-1]) if len(lines) > 1 else None
    if credit is None:
        for t in inlines:
            b.paragraph(*b.inline(t), b.line(t))
        return end + 1
    body = " ".join(lines[:-1])
    for open_mark, close_mark in _QUOTES:
        if len(body) > 1 and body.startswith(open_mark) and body.endswith(close_mark):
            body = body[1:-1].strip()
    b.add(Quote(body, credit["who"], credit["context"], None, start), start)
    return end + 1


def _list(b: _Body, tokens: list[Any], i: int) -> int:
    from narrate.importer.shapes import is_date

    close = tokens[i].type.replace("_open", "_close")
    level = tokens[i].level
    i += 1
    while not (tokens[i].type == close and tokens[i].level == level):
        t = tokens[i]
        if t.type == "inline" and t.level == level + 3:
            text, said = b.inline(t)
            line = b.line(t)
            m = _ENTRY.match(text)
            if m and is_date(m["date"].strip()) and said == text:
                b.add(TimelineEntry(m["date"].strip(), m["event"].strip(), None, line), line)
            elif said:
                b.add(ListItem(text, None if said == text else said, line), line)
        i += 1
    return i + 1


def _table(b: _Body, tokens: list[Any], i: int) -> int:
    line = b.line(tokens[i])
    end = _skip_to(tokens, i, "table_close")
    t = b.policy["table"]
    if t.policy == "placeholder":
        b.add(Paragraph(b.cue("table", "", False), None, line), line)
    elif t.policy == "read":
        row: list[str] = []
        for tok in tokens[i:end]:
            if tok.type == "inline":
                row.append(b.inline(tok)[0])
            elif tok.type == "tr_close" and row:
                text = ", ".join(x for x in row if x).rstrip(".") + "."
                b.add(Paragraph(text, None, line), line)
                row = []
    return end + 1


def _parser() -> Any:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.front_matter import front_matter_plugin

    md = MarkdownIt("commonmark").enable("table").use(front_matter_plugin).use(footnote_plugin)
    return md.use(dollarmath_plugin, allow_space=True, double_inline=True)


def _header(fields: dict[str, Node], reader: Any) -> dict[str, Any]:
    """Validate the front matter's article fields (anything else is the site generator's)."""
    from narrate.content.load import parse_date
    from narrate.settings.load import parse_overrides

    values: dict[str, Any] = {}
    for key, node in fields.items():
        if key not in _ARTICLE_KEYS and key != "description":
            continue
        if key == "title":
            reader.count(node)
            values[key] = reader.spoken(node, key)
        elif key == "era":
            values[key] = node.text(what=key, optional=True)
        elif key in ("event", "year"):
            values[key] = reader.spoken(node, key, optional=True)
        elif key == "date":
            values[key] = parse_date(node)
        elif key == "people":
            names = node.sequence(what="names", single=True, optional=True)
            values[key] = tuple(reader.spoken(p, "person's name") for p in names)
        elif key == "settings":
            values[key] = parse_overrides(node)
        elif key == "summary" or "summary" not in fields:
            values["summary"] = reader.paragraph(node, "summary", written=f"{key}: ")
    return values


def _check(b: _Body, sections: list[Section], reader: Any) -> None:
    """Count every spoken sentence and refuse one that says nothing aloud, at its line."""
    for sec in sections:
        reader.sentences += 1
        for block in sec.blocks:
            if isinstance(block, TimelineEntry):
                text = block.say or f"{block.date} {block.event}"
            else:
                text = block.say or block.text
            for sentence in iter_sentences(text) if not block.say else [text]:
                reader.sentences += 1
                if is_silent(sentence):
                    b.fail(block.line, f'"{shown(sentence)}" says nothing aloud; write it in words')
    if reader.sentences > reader.max_sentences:
        b.fail(0, f"the article has more than {reader.max_sentences:,} sentences; split it")


def load_markdown(
    path: Path, *, max_sentences: int, policy: Mapping[str, Treatment] | None = None
) -> Article:
    """Read and validate a Markdown article; ContentError names the .md file and line."""
    from narrate.content.load import _Reader

    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ContentError(
            f"not valid UTF-8 at byte {exc.start}; save it as UTF-8", path=path
        ) from None
    except OSError as exc:
        raise ContentError(f"cannot read the file: {exc.strerror or exc}", path=path) from None
    fields, first, _ = _front(text, path)
    reader = _Reader(max_sentences)
    values = _header(fields, reader)
    body = _Body(path, treatments(policy), 0)
    # The front matter's lines stay as blank lines, so a body line keeps its number.
    rest = text[len("".join(text.splitlines(True)[:first])) :]
    _walk(body, _parser().parse("\n" * first + rest))
    if "title" not in values:
        if body.title is None:
            body.fail(1, "no title: add `title:` to the front matter, or a `# Title` line")
        values["title"] = body.title[0]
    if "summary" not in values:
        if not body.lead:
            body.fail(
                1,
                "no summary: add `summary:` to the front matter, "
                "or a paragraph before the first `##` heading",
            )
        t, say, line = body.lead.pop(0)
        values["summary"] = Paragraph(t, say, line)
    if body.lead:
        body.fail(
            body.lead[0][2],
            "a paragraph before the first `##` heading besides the summary; put it under a heading",
        )
    sections = [Section(h, tuple(blocks), line) for h, line, blocks in body.sections]
    if not sections:
        body.fail(1, "no sections: start each with a `## Heading` line")
    for h, line, blocks in body.sections:
        if not blocks:
            body.fail(
                line, f"section {h!r} has no content; add a paragraph, quote or list under it"
            )
    _check(body, sections, reader)
    return Article(slug=path.stem, source=str(path), sections=tuple(sections), **values)
