"""Reading the page in and writing the article out as ``content/SLUG.yaml``.

:func:`to_yaml` builds the file's data in the documented key order and lets ``yaml.safe_dump``
do the quoting; :func:`write_article` only replaces a file once what it wrote loads back, through
the content loader, as the same article.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from narrate.content.load import FORMAT_VERSION, SUFFIX, load_article
from narrate.content.model import Article, Block, ListItem, Paragraph, Quote, Section, TimelineEntry
from narrate.errors import ContentError, NarrateError, OutputError, UsageError
from narrate.files import write_temp
from narrate.importer.parse import parse_page
from narrate.importer.report import Report, Unplaced

# --------------------------------------------------------------------------------------------
# Writing YAML
# --------------------------------------------------------------------------------------------

_KEYS: dict[type, str] = {
    Paragraph: "paragraphs",
    Quote: "quotes",
    TimelineEntry: "timeline",
    ListItem: "items",
}


def _dump(data: object) -> str:
    """Return ``data`` as block-style YAML: keys in order, text as written, never folded."""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=math.inf)


def _text(text: str, say: str | None) -> str | dict[str, str]:
    """Return a text as itself, or as ``text:`` and ``say:`` when it has a spoken form."""
    return text if say is None else {"text": text, "say": say}


def _fields(**values: str | None) -> dict[str, str]:
    """Return the given fields in order, those that are None left out."""
    return {key: value for key, value in values.items() if value is not None}


def _block(b: Block) -> str | dict[str, str]:
    if isinstance(b, Quote):
        return _fields(text=b.text, author=b.author, context=b.context, say=b.say)
    if isinstance(b, TimelineEntry):
        return _fields(date=b.date, event=b.event, say=b.say)
    return _text(b.text, b.say)


def _section(sec: Section) -> dict[str, Any]:
    """Return a section as ``heading:`` then one list per kind of block, in the order they come.

    ValueError when the blocks of a kind come in more than one run.
    """
    out: dict[str, Any] = {"heading": sec.heading}
    previous: str | None = None
    for b in sec.blocks:
        key = _KEYS[type(b)]
        if key != previous and key in out:
            raise ValueError(f"section {sec.heading!r}: {key} come in more than one run")
        out.setdefault(key, []).append(_block(b))
        previous = key
    return out


def _header_comments(article: Article, source: str | None, unplaced: Sequence[Unplaced]) -> str:
    origin = f" from {' '.join(source.split())}" if source else ""
    title = " ".join(article.title.split())
    lines = [
        f"# {title}: imported{origin} by `narrate import`, text as on the page.",
        f"# Check what will be said with `narrate script {article.slug or 'SLUG'}`. "
        "Format: docs/content-format.md",
        *(f"# Not imported (page line {u.line}, {u.why}): {u.text}" for u in unplaced),
    ]
    return "".join(f"{line}\n" for line in lines)


def to_yaml(
    article: Article, *, source: str | None = None, unplaced: Sequence[Unplaced] = ()
) -> str:
    """Return the article as a content file: ``format: 1`` first, then comments, one line per text.

    Writes the fields an import produces (not ``settings``), with a blank line between the
    header fields, the summary and each section. Each section's blocks must come in one run per
    kind, as :func:`~narrate.importer.parse_page` makes them; ValueError otherwise.
    """
    head = {key: getattr(article, key) for key in ("era", "title", "event", "year")}
    if article.people:
        head["people"] = list(article.people)
    sections = [_section(sec) for sec in article.sections]
    # Each part is a mapping (or the rest of the sections list) at the left margin, so the
    # parts joined are one document; write_article checks that it reads back as the article.
    parts = [
        _dump({"format": FORMAT_VERSION}) + _header_comments(article, source, unplaced),
        _dump({key: value for key, value in head.items() if value is not None}),
        _dump({"summary": _text(article.summary.text, article.summary.say)}),
        _dump({"sections": sections[:1]}),
        *(_dump([sec]) for sec in sections[1:]),
    ]
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------
# Reading the page, writing the article
# --------------------------------------------------------------------------------------------


def content_of(article: Article) -> Article:
    """Return ``article`` with every source line number set to 0, to compare content alone."""

    def bare(block: Block) -> Block:
        return dataclasses.replace(block, line=0)

    return dataclasses.replace(
        article,
        summary=dataclasses.replace(article.summary, line=0),
        sections=tuple(
            Section(s.heading, tuple(bare(b) for b in s.blocks), 0) for s in article.sections
        ),
    )


def read_page(where: str) -> str:
    """Return the text of the page at path ``where`` (``-``: standard input), UTF-8."""
    try:
        data = sys.stdin.buffer.read() if where == "-" else Path(where).read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"no page at {where}; give the path of a text file, or - for stdin"
        ) from None
    except IsADirectoryError:
        raise UsageError(f"{where} is a folder; give the path of the page's text file") from None
    except OSError as exc:
        raise NarrateError(f"cannot read {where}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ContentError(
            f"not valid UTF-8: byte 0x{data[exc.start : exc.start + 1].hex()} at byte offset "
            f"{exc.start}; save the page as UTF-8 text",
            path="<stdin>" if where == "-" else where,
            line=line,
        ) from None


def _refuse_to_replace(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise UsageError(
            f"{path} already exists; pass --force to replace it, or choose another --slug"
        )


def write_article(
    article: Article,
    path: Path,
    *,
    force: bool = False,
    source: str | None = None,
    unplaced: Sequence[Unplaced] = (),
) -> Article:
    """Write ``article`` to ``path`` atomically, once it reads back as the same article.

    Refuses to replace an existing file unless ``force``. Returns the article as loaded.
    """
    _refuse_to_replace(path, force)
    text = to_yaml(article, source=source, unplaced=unplaced)
    loaded = _read_back(text, path)
    slug = path.name.removesuffix(SUFFIX)
    if content_of(loaded) != content_of(dataclasses.replace(article, slug=slug)):
        raise NarrateError(
            f"{path}: the written article does not read back as the page; this is a bug in "
            "narrate import: please report it with the page"
        )
    _replace(path, text, force)
    return dataclasses.replace(loaded, source=str(path))


def _read_back(text: str, path: Path) -> Article:
    """Return ``text`` loaded as the article file ``path`` would be, from a scratch copy."""
    with tempfile.TemporaryDirectory(prefix="narrate-import-") as tmp:
        check = Path(tmp) / path.name
        check.write_text(text, encoding="utf-8")
        try:
            return load_article(check)
        except ContentError as exc:
            raise ContentError(
                f"the imported article would not load ({exc.detail}); this is a bug in "
                "narrate import: please report it with the page",
                path=path,
                line=exc.line,
                column=exc.column,
                field=exc.field,
            ) from None


def _replace(path: Path, text: str, force: bool) -> None:
    """Write ``text`` beside ``path`` and rename it into place (refused if one appeared)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = write_temp(path, text.encode("utf-8"))
        try:
            if path.exists() and not force:
                raise UsageError(f"{path} appeared while importing; pass --force to replace it")
            os.replace(part, path)
        finally:
            part.unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None


@dataclass(frozen=True)
class ImportResult:
    """What :func:`import_page` did."""

    path: Path
    """The article file written."""
    article: Article
    """The article as loaded back from that file."""
    report: Report
    """What was recognised and what could not be placed."""


def import_page(
    text: str, slug: str, content_dir: Path, *, force: bool = False, source: str | None = None
) -> ImportResult:
    """Parse a page and write it as ``content_dir/SLUG.yaml``; the slug must be validated."""
    path = content_dir / f"{slug}{SUFFIX}"
    _refuse_to_replace(path, force)
    article, report = parse_page(text, source=source or "the page")
    loaded = write_article(
        dataclasses.replace(article, slug=slug),
        path,
        force=force,
        source=source,
        unplaced=report.unplaced,
    )
    return ImportResult(path, loaded, report)
