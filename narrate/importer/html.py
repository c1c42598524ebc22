"""A saved HTML page as the text lines :func:`narrate.importer.parse_page` reads.

The page is parsed with Beautiful Soup (Python's own ``html.parser`` underneath, so nothing
compiled is needed). The article is the first element the CSS selector matches (default:
``article``, then ``main``, then ``body``). Page chrome is dropped before any text is taken:
``nav``, ``footer`` (except a quote's own), ``aside``, ``header`` navigation, scripts, styles,
forms, buttons, media, images, and any element whose class, id or ``aria-label`` names a
"Listen to Article" box, a player, a share bar or breadcrumbs. What is left becomes one line per
block (heading, paragraph, list item), with a blank line between blocks, so the flattened-text
importer places it exactly as it places a page copied from a browser. A ``blockquote`` gives its
quotation in quote marks, then its ``cite`` (the author) and the rest of its footer (the
context) on lines of their own; a list item that starts with a ``<time>`` gives the date, then
the event; other list items start with a bullet.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from narrate.errors import UsageError

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

__all__ = ["DEFAULT_SELECTORS", "html_lines", "looks_like_html"]

DEFAULT_SELECTORS = ("article", "main", "body")
"""Where the article is looked for, in order, unless a selector is given."""

_DROP = frozenset(
    "nav aside script style noscript template svg form button iframe audio video img picture "
    "canvas select input textarea label dialog object embed source track map head".split()
)
_BLOCK = frozenset(
    "p div section article main header h1 h2 h3 h4 h5 h6 li ul ol dl dt dd figure figcaption "
    "table thead tbody tr td th pre address hr br hgroup details summary".split()
)
_WIDGET = re.compile(
    r"\b(?:listen\w*|narrate|(?:audio-)?player|share\w*|social|breadcrumbs?|skip-link|"
    r"newsletter|cookies?|sr-only|visually-hidden)\b",
    re.I,
)
_HTML_START = re.compile(
    r"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|article)\b", re.I | re.S
)


def looks_like_html(text: str) -> bool:
    """Return whether ``text`` is an HTML page rather than flattened page text."""
    return bool(_HTML_START.match(text.removeprefix("\ufeff")[:4096]))


def _is_widget(tag: Tag) -> bool:
    attrs = [tag.get("id"), tag.get("aria-label"), tag.get("role"), *(tag.get("class") or [])]
    text = " ".join(str(a) for a in attrs if a)
    return bool(_WIDGET.search(text)) or tag.get("hidden") is not None


def _strip_chrome(root: Tag) -> None:
    """Remove every chrome element under ``root`` (and ``root``'s own comments)."""
    for tag in list(root.find_all(True)):
        if tag.decomposed:
            continue
        name = tag.name
        in_quote = tag.find_parent(["blockquote", "figure"]) is not None
        if (
            name in _DROP
            or (name == "footer" and not in_quote)
            or (name == "header" and tag.find("nav") is not None)
            or _is_widget(tag)
        ):
            tag.decompose()


def _text(tag: Tag) -> str:
    return " ".join(tag.get_text(" ").split())


def _inline_text(tag: Tag) -> str:
    """Return the text of an element whose children are inline (no space added inside words)."""
    return " ".join(tag.get_text("").split())


def _quote_lines(bq: Tag) -> list[str]:
    """Return a blockquote as the quotation in quote marks, its author and its context."""
    cite = bq.find("cite")
    author = _text(cite) if cite is not None else ""
    credit = bq.find(["footer", "figcaption"])
    if credit is None and cite is not None:
        credit = cite
    context = ""
    if credit is not None:
        rest = _text(credit)
        if author and rest.startswith(author):
            rest = rest[len(author) :]
        elif author and author in rest:
            rest = rest.replace(author, "", 1)
        context = rest.strip(" ,;:—–-")
        author = author or rest.lstrip("—–- ").split(",")[0].strip()
        if not cite:
            context = rest.lstrip("—–- ").partition(",")[2].strip()
        credit.decompose()
    if cite is not None and not cite.decomposed:
        cite.decompose()
    text = _text(bq).strip()
    if text and text[0] not in '"“':
        text = f"“{text}”"
    return [x for x in (text, author, context) if x]


def _item_lines(li: Tag, ordered: bool) -> list[str]:
    first = next((c for c in li.children if getattr(c, "name", None) or str(c).strip()), None)
    if getattr(first, "name", None) == "time":
        date = _text(first)  # type: ignore[arg-type]
        first.extract()  # type: ignore[union-attr]
        # "<time>2012</time>: AlexNet wins": the separator belongs to neither line.
        return [date, _text(li).lstrip(" :—–-").strip()]
    text = _text(li)
    return [text if ordered else f"• {text}"] if text else []


def _walk(node: Tag, out: list[str]) -> None:
    """Append the block lines under ``node`` to ``out`` (inline runs joined into one line)."""
    run: list[str] = []

    def flush() -> None:
        line = " ".join("".join(run).split())
        if line:
            out.append(line)
        run.clear()

    for child in node.children:
        name = getattr(child, "name", None)
        if name is None:
            if type(child).__name__ in (
                "Comment",
                "Doctype",
                "Declaration",
                "ProcessingInstruction",
            ):
                continue
            run.append(str(child))
        elif name == "blockquote":
            flush()
            out.extend(_quote_lines(child))  # type: ignore[arg-type]
        elif name == "li":
            flush()
            parent = child.parent
            out.extend(_item_lines(child, getattr(parent, "name", "") == "ol"))  # type: ignore[arg-type]
        elif name in _BLOCK:
            flush()
            _walk(child, out)  # type: ignore[arg-type]
        else:
            run.append(child.get_text(""))
    flush()


def _select(soup: BeautifulSoup, selector: str | None) -> Tag:
    tried = (selector,) if selector else DEFAULT_SELECTORS
    for css in tried:
        try:
            found = soup.select_one(css)
        except Exception as exc:  # soupsieve's SelectorSyntaxError and friends
            raise UsageError(f"--selector {css!r} is not a CSS selector: {exc}") from None
        if found is not None:
            return found
    raise UsageError(
        f"the page has no element matching {' or '.join(repr(c) for c in tried)}; "
        "give the article's CSS selector with --selector"
    )


def html_lines(html: str, selector: str | None = None) -> str:
    """Return the article of an HTML page as flattened text, one block a line."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    root = _select(soup, selector)
    _strip_chrome(root)
    lines: list[str] = []
    _walk(root, lines)
    return "\n\n".join(lines) + "\n"
