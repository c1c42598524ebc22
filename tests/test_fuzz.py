"""Every loader of user files, fuzzed: it returns, or raises a one-line NarrateError; nothing else.

The loaders: articles (``load_article``), the site config (``load_settings``), the page importer
(``parse_page``), and the script built from any article that loads (``build_script``). Inputs
are raw bytes, text made of YAML's special characters and hostile Unicode, and documents of the
right shape with hostile text in every field. Budgets are fixed and examples derandomized, so a
run is repeatable and takes a few seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from narrate.content.load import load_article
from narrate.content.model import Article
from narrate.errors import NarrateError
from narrate.importer import parse_page, to_yaml
from narrate.script import build_script
from narrate.settings.effective import resolve
from narrate.settings.load import load_settings
from narrate.settings.model import Settings

T = TypeVar("T")


def fuzz(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Return the settings of one fuzz test: a fixed budget, repeatable, no deadline."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder reused by every example of a test: each example overwrites its file."""
    yield tmp_path_factory.mktemp("fuzz")


def returns_or_refuses(call: Callable[[], T]) -> T | None:
    """Return ``call()``, or None if it raised a NarrateError whose message is one clean line."""
    try:
        return call()
    except NarrateError as err:
        message = str(err)
        assert message and "\n" not in message and "\r" not in message, repr(message)
        message.encode("utf-8")  # no surrogate: it can be printed
        return None


# --- what the inputs are made of ---------------------------------------------------------------

ODD_UNICODE = [
    "\u2028", "\u2029", "\x85", "\t", "\ufeff", "\u200b", "\u200d", "\u202e", "\ue000",
    "\U000f0000", "🎉", "👍🏽", "🇫🇷", "™", "®", "|", "•", "…", "é", "e\u0301", "½", "①",
]  # fmt: skip
"""Separators PyYAML breaks lines at, invisible and private characters, emoji, marks."""
ESCAPES = [
    "\\e", "\\a", "\\0", "\\x01", "\\x9b", "\\ud800", "\\udfff", "\\ud83d\\ude00",
    "\\U00110000", "\\UFFFFFFFF", "\\N", "\\L", "\\_", "\\",
]  # fmt: skip
"""Escapes of controls, surrogates, non-characters and separators (escapes in double quotes)."""
SYNTAX = [
    '"', "'", "Note: ", ": ", " #", "&a ", "*a", "!!", "%", "@", "`", "{", "}", "[", "]", ",",
    "? ", "- ", "---", "...", "<<: ", "\r", "\r\n",
]  # fmt: skip
"""YAML's special characters."""
HOSTILE = ODD_UNICODE + ESCAPES + SYNTAX

WORDS = ["ImageNet", "Fei-Fei Li", "2009", "14M+", "20,000+", "Dr.", "A.I.", "One.", "two"]

TEXT = (
    st.lists(st.sampled_from(HOSTILE + WORDS + [" ", "\n", "  ", "x"]), max_size=12).map("".join)
    | st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20)
    | st.text(max_size=10)
)
"""A field's text: words, hostile pieces and YAML syntax, or any Unicode (controls rarer)."""


SPEAKABLE = st.lists(
    st.sampled_from(WORDS * 6 + [" "] * 6 + ODD_UNICODE + ESCAPES[-4:-1]), min_size=1, max_size=6
).map("".join)
"""A field's text, mostly words: most articles made of it load, so their scripts are built."""


@st.composite
def scalar(draw: st.DrawFn, texts: st.SearchStrategy[str] = TEXT) -> str:
    """Return a text written as a YAML scalar: plain, single-quoted or double-quoted."""
    text = draw(texts)
    style = draw(st.sampled_from(["plain", "single", "double"]))
    if style == "single":
        return "'" + text.replace("'", "''").replace("\n", " ") + "'"
    if style == "double":
        return '"' + text.replace("\n", " ") + '"'  # escapes stay escapes: "\\e" reads as ESC
    return text.replace("\n", " ")


@st.composite
def article_yaml(draw: st.DrawFn, texts: st.SearchStrategy[str] = TEXT) -> str:
    """Return an article in the content format, each text a scalar drawn from ``texts``."""
    scalar_ = scalar(texts)
    lines = ["format: 1", f"title: {draw(scalar_)}", f"summary: {draw(scalar_)}"]
    keys = st.lists(st.sampled_from(["era", "event", "year", "people"]), max_size=3, unique=True)
    lines += [f"{key}: {draw(scalar_)}" for key in draw(keys)]
    lines.append("sections:")
    for _ in range(draw(st.integers(1, 2))):
        lines += [f"  - heading: {draw(scalar_)}", "    " + draw(_block(scalar_))]
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n", "\n\n"]))


@st.composite
def _block(draw: st.DrawFn, scalar_: st.SearchStrategy[str]) -> str:
    s = draw(scalar_)
    return draw(
        st.sampled_from(
            [
                f"paragraphs:\n      - {s}",
                f"paragraphs:\n      - text: {s}\n        say: {draw(scalar_)}",
                f"items:\n      - {s}",
                f"quotes:\n      - text: {s}\n        author: {draw(scalar_)}",
                f"timeline:\n      - date: {s}\n        event: {draw(scalar_)}",
                f"items:\n      - {{text: {s}, say: {draw(scalar_)}}}",
            ]
        )
    )


@st.composite
def config_yaml(draw: st.DrawFn) -> str:
    """Return a site config, each text a hostile scalar."""
    lines = ["narrate: 1"]
    parts = {
        "site": lambda: f"site:\n  name: {draw(scalar())}\n  base_url: {draw(scalar())}",
        "paths": lambda: f"paths:\n  content: {draw(scalar())}",
        "voice": lambda: f"voice:\n  voice: {draw(scalar())}\n  rate: {draw(scalar())}",
        "lexicon": lambda: f"lexicon:\n  {draw(scalar())}: {draw(scalar())}",
        "kinds": lambda: f"kinds:\n  quote: {{voice: {draw(scalar())}}}",
    }
    for key in draw(st.lists(st.sampled_from(sorted(parts)), max_size=4, unique=True)):
        lines.append(parts[key]())
    return "\n".join(lines) + "\n"


def _shape(leaf: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    keys = st.sampled_from(["format", "title", "summary", "sections", "heading", "items", "text"])
    return st.recursive(
        leaf,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys | TEXT, inner, max_size=4),
        max_leaves=12,
    )


SHAPES = _shape(st.none() | st.integers() | st.floats() | TEXT)
"""Any YAML shape, leaves hostile; ``yaml.safe_dump`` writes its surrogates as escapes."""

_LAUGHS = "".join(
    f"{b}: &{b} [{','.join(['*' + a] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)
BOMBS = [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + _LAUGHS,
    "[" * 10_000,
    "{a: " * 5_000,
    "".join(" " * i + "- \n" for i in range(2_000)),
    "".join(" " * i + "k:\n" for i in range(2_000)),
    "x: " + "- " * 5_000,
]
"""The billion laughs, and nesting deeper than narrate reads (tests/test_content.py checks the
limits on size and on the number of values)."""


# --- articles ----------------------------------------------------------------------------------


def _load(folder: Path, data: str | bytes) -> Article | None:
    path = folder / "article.yaml"
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    return returns_or_refuses(lambda: load_article(path))


@fuzz(300)
@given(data=st.binary(max_size=400))
def test_article_from_any_bytes(folder: Path, data: bytes) -> None:
    _load(folder, data)


@fuzz(300)
@given(
    text=st.lists(st.sampled_from(HOSTILE + WORDS + ["\n", "  ", "format: 1\n"]), max_size=40).map(
        "".join
    )
)
def test_article_from_yaml_syntax_and_hostile_text(folder: Path, text: str) -> None:
    _load(folder, text)


@fuzz(200)
@given(shape=SHAPES)
def test_article_from_any_shape(folder: Path, shape: Any) -> None:
    _load(folder, yaml.safe_dump({"format": 1, "x": shape} if shape is None else shape))


@pytest.mark.parametrize("bomb", BOMBS, ids=["laughs", "[", "{", "dashes", "keys", "- "])
def test_article_bombs_are_refused(folder: Path, bomb: str) -> None:
    assert _load(folder, bomb) is None


# --- articles that load, spoken ----------------------------------------------------------------


@fuzz(300)
@given(text=article_yaml())
def test_article_with_hostile_text(folder: Path, text: str) -> None:
    _load(folder, text)


@fuzz(300)
@given(text=article_yaml(SPEAKABLE))
def test_article_and_its_script(folder: Path, text: str) -> None:
    """A hostile article loads or is refused; if it loads, every segment says something."""
    article = _load(folder, text)
    if article is None:
        return
    script = returns_or_refuses(
        lambda: build_script(article, resolve(Settings(), article.settings))
    )
    assert script is not None  # an article that loads can be narrated
    for segment in script.segments:
        segment.display.encode("utf-8")
        assert any(c.isalnum() for c in segment.spoken), segment


# --- the site config ---------------------------------------------------------------------------


def _config(folder: Path, data: str | bytes) -> Settings | None:
    path = folder / "narrate.yaml"
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    return returns_or_refuses(lambda: load_settings(folder))


@fuzz(200)
@given(data=st.binary(max_size=300))
def test_config_from_any_bytes(folder: Path, data: bytes) -> None:
    _config(folder, data)


@fuzz(300)
@given(text=config_yaml())
def test_config_with_hostile_text(folder: Path, text: str) -> None:
    _config(folder, text)


@fuzz(100)
@given(shape=SHAPES)
def test_config_from_any_shape(folder: Path, shape: Any) -> None:
    _config(folder, yaml.safe_dump({"narrate": 1, "site": shape}))


@pytest.mark.parametrize("bomb", BOMBS[:3], ids=["laughs", "[", "{"])
def test_config_bombs_are_refused(folder: Path, bomb: str) -> None:
    assert _config(folder, bomb) is None


# --- the page importer -------------------------------------------------------------------------

PAGE_LINES = [
    "Skip to main content", "🧠 Deep Learning Era", "ImageNet", "Dataset Created",
    "2009By Fei-Fei Li, Jia Deng", "🎧", "Listen to Article", "Audio narration available",
    "Fei-Fei Li's team created ImageNet, a massive dataset of 14M+ labeled images.",
    "Introduction", "Notable Quotes", '"We need to show them lots of pictures."', "Fei-Fei Li",
    "Explaining the motivation", "Timeline of Events", "2007", "Project starts", "Fun Facts",
    "Took 2.5 years", "Explore More Milestones", "", "• bullet",
]  # fmt: skip


@fuzz(300)
@given(lines=st.lists(st.sampled_from(PAGE_LINES) | TEXT, max_size=25))
def test_page_import(folder: Path, lines: list[str]) -> None:
    """A page parses or is refused; what it parses to is written and read back, or refused."""
    result = returns_or_refuses(lambda: parse_page("\n".join(lines)))
    if result is not None:
        _load(folder, to_yaml(result[0]))


# --- Markdown articles and HTML pages ----------------------------------------------------------

MARKDOWN = [
    "---\n", "+++\n", "title: T\n", 'title = "T"\n', "summary: S\n", "draft: true\n",
    "date: 2009\n",
    "## Heading\n", "# Title\n", "\n", "Some prose here.\n", "> A quote.\n", "> — Name, context\n",
    "- 2007: An event\n", "- item\n", "1. first\n", "```\ncode\n```\n", "`x`", "$x^2$", "$$\n",
    "| a | b |\n|---|---|\n| 1 | 2 |\n", "![alt](i.png)", "[link](https://x.org)", "<div>h</div>\n",
    "[^1]", "[^1]: note\n", "*em*", "**strong**", "    indented code\n", "***\n",
]  # fmt: skip


@fuzz(300)
@given(
    head=st.sampled_from(["", "---\ntitle: T\nsummary: S\n---\n", '+++\ntitle = "T"\n+++\n']),
    parts=st.lists(st.sampled_from(MARKDOWN + HOSTILE + WORDS), max_size=40),
)
def test_markdown_article(folder: Path, head: str, parts: list[str]) -> None:
    """A Markdown article loads (and its script is built) or is refused in one line."""
    path = folder / "article.md"
    path.write_bytes((head + "".join(parts)).encode("utf-8", "surrogatepass"))
    article = returns_or_refuses(lambda: load_article(path))
    if article is not None:
        returns_or_refuses(lambda: build_script(article, resolve(Settings(), article.settings)))


HTML_PARTS = [
    "<html>", "<body>", "<article>", "</article>", "<main>", "<nav>Home</nav>", "<h1>ImageNet</h1>",
    "<h2>Introduction</h2>", "<p>The summary of the page, long enough.</p>", "<ul>", "</ul>",
    "<li><time>2007</time>: starts</li>", "<blockquote>Words<footer>— Name, role</footer>",
    "</blockquote>", "<script>x()</script>", "<footer>c</footer>", "<div class=listen>Listen",
    "</div>", "&amp;", "&#0;", "<", ">", "<!--", "-->",
]  # fmt: skip


@fuzz(200)
@given(parts=st.lists(st.sampled_from(HTML_PARTS) | TEXT, max_size=30))
def test_html_page_import(folder: Path, parts: list[str]) -> None:
    """A saved page imports or is refused in one line; what it imports to reads back."""
    from narrate.importer.html import html_lines

    lines = returns_or_refuses(lambda: html_lines("".join(parts)))
    if lines is not None:
        result = returns_or_refuses(lambda: parse_page(lines))
        if result is not None:
            _load(folder, to_yaml(result[0]))
