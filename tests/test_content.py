"""The article loader: the ImageNet article, the format's rules, its error messages, slugs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from narrate.content.load import (
    MAX_SENTENCES,
    find_article,
    list_articles,
    load_article,
    validate_slug,
)
from narrate.content.model import Article, ListItem, Paragraph, Quote, Section, TimelineEntry
from narrate.errors import ConfigError, ContentError, UnknownArticleError, UsageError
from narrate.settings.effective import resolve
from narrate.settings.load import load_settings
from narrate.settings.model import Kind, Overrides, Settings, VoiceOverride
from narrate.yamlread import parse

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "content"
IMAGENET = REPO / "content" / "imagenet.yaml"
RESERVED = ("list", "check", "voices", "doctor", "clean")

HEAD = "format: 1\ntitle: T\nsummary: S\n"
"""A valid article head (lines 1-3); error cases append from line 4."""


def write(tmp_path: Path, text: str | bytes, name: str = "article.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def refused(tmp_path: Path, text: str | bytes) -> ContentError:
    path = write(tmp_path, text)
    with pytest.raises(ContentError) as info:
        load_article(path)
    return info.value


# --- the ImageNet article -------------------------------------------------------------------


def test_imagenet_structure() -> None:
    a = load_article(IMAGENET)
    assert (a.slug, a.title, a.era, a.event, a.year) == (
        "imagenet",
        "ImageNet",
        "Deep Learning Era",
        "Dataset Created",
        "2009",
    )
    assert a.people == ("Fei-Fei Li", "Jia Deng")
    assert a.summary.text.startswith("Fei-Fei Li's team created ImageNet, a massive dataset")
    assert a.settings == Overrides() and not a.settings
    assert [s.heading for s in a.sections] == [
        "Introduction",
        "Historical Context",
        "Technical Details",
        "Notable Quotes",
        "Cultural Impact",
        "Contemporary Reactions",
        "Timeline of Events",
        "Legacy",
        "Impact on AI",
        "Fun Facts",
    ]
    kinds = {s.heading: {type(b) for b in s.blocks} for s in a.sections}
    assert kinds["Notable Quotes"] == {Quote}
    assert kinds["Timeline of Events"] == {TimelineEntry}
    assert kinds["Fun Facts"] == {ListItem}
    prose = [s for s in a.sections if kinds[s.heading] == {Paragraph}]
    assert len(prose) == 7 and all(len(s.blocks) == 1 for s in prose)
    sections = {s.heading: s for s in a.sections}
    assert sections["Notable Quotes"].blocks == (
        Quote(
            "If we want to teach computers to see, we need to show them lots and lots of pictures.",
            "Fei-Fei Li",
            "Explaining the motivation behind creating ImageNet",
            None,
            line=34,
        ),
    )
    timeline = sections["Timeline of Events"].blocks
    assert [(e.date, e.event[:20]) for e in timeline if isinstance(e, TimelineEntry)] == [
        ("2007", "ImageNet project ini"),
        ("2007-2009", "2.5 years of image c"),
        ("2009", "ImageNet dataset pub"),
        ("2010", "First ImageNet Large"),
        ("2012", "AlexNet achieves bre"),
        ("2015", "ResNet achieves huma"),
        ("2017", "Final ILSVRC competi"),
    ]
    assert [b.text for b in sections["Fun Facts"].blocks if isinstance(b, ListItem)] == [
        "Took 2.5 years to build using Amazon Mechanical Turk",
        "Contains 14+ million images across 20,000+ categories",
        "Annual competition drove rapid AI progress",
    ]
    impact = sections["Impact on AI"].blocks[0]
    assert isinstance(impact, Paragraph)
    assert impact.text == (
        "Provided the training data fuel that powered the deep learning explosion in "
        "computer vision."
    )
    # Lines point into the file, so later errors can name them.
    assert a.summary.line == 11 and a.sections[0].line == 20 and timeline[1].line == 50
    assert all(b.say is None for s in a.sections for b in s.blocks)


# Page chrome (field notes): never article content.
CHROME = (
    "Skip to main content",
    "🎧",
    "Listen to Article",
    "Audio narration available",
    "Explore More Milestones",
)


def _page_parts() -> list[str]:
    """Return the article's displayed parts from the flattened page, chrome removed."""
    parts: list[str] = []
    for line in (DATA / "imagenet-page.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line in CHROME or line.startswith("ImageNet visualization:"):
            continue
        line = line.removeprefix("🧠")  # the era badge's emoji
        if m := re.fullmatch(r"(\d{4})By (.+)", line):  # "2009By Fei-Fei Li, Jia Deng"
            parts.append(m[1])
            parts.extend(m[2].split(", "))
            continue
        parts.append(line.strip('"'))
    return parts


def _article_texts(a: Article) -> list[str]:
    texts = [a.title, a.summary.text, *a.people]
    texts += [t for t in (a.era, a.event, a.year) if t]
    for s in a.sections:
        texts.append(s.heading)
        for b in s.blocks:
            if isinstance(b, Quote):
                texts += [b.text, b.author, *([b.context] if b.context else [])]
            elif isinstance(b, TimelineEntry):
                texts += [b.date, b.event]
            else:
                texts.append(b.text)
    return texts


def test_imagenet_has_every_sentence_of_the_page_and_nothing_else() -> None:
    texts = _article_texts(load_article(IMAGENET))
    corpus = "\n".join(texts)
    sentences = [s for part in _page_parts() for s in re.split(r"(?<=[.!?])\s+", part)]
    assert len(sentences) > 40
    missing = [s for s in sentences if s not in corpus]
    assert missing == []
    page = "\n".join(_page_parts())
    invented = [t for t in texts if t not in page]
    assert invented == []
    assert not any(c in corpus for c in CHROME + ("visualization", "Explore More"))


# --- the format's features --------------------------------------------------------------------


def test_full_example_uses_every_feature() -> None:
    a = load_article(DATA / "full-example.yaml")
    assert a.slug == "full-example" and a.year == "2009" and a.people == ("Ada Lovelace",)
    assert a.summary == Paragraph("The summary, displayed.", "The summary, spoken.", line=9)
    first, second = a.sections
    # Blocks follow the order of the keys in the file: quotes, then paragraphs, then items.
    assert [type(b).__name__ for b in first.blocks] == [
        "Quote",
        "Paragraph",
        "Paragraph",
        "Paragraph",
        "ListItem",
        "ListItem",
    ]
    assert first.blocks[0] == Quote("A quote.", "Someone", "Said once", "A spoken quote.", 21)
    assert first.blocks[2] == Paragraph(
        "Second paragraph with 14M+ things.", "Second paragraph with fourteen million things.", 27
    )
    folded = first.blocks[3]
    assert isinstance(folded, Paragraph) and folded.text == "A folded paragraph over two lines."
    assert first.blocks[5] == ListItem("Another item", "Another spoken item", 34)
    assert second.heading == "2012"
    assert [b.date for b in second.blocks if isinstance(b, TimelineEntry)] == [
        "2007",
        "2012-01-05",
        "Dec 2015",
        "2012 (September)",
        "1.10",  # as written, not the float 1.1
    ]
    assert a.settings == Overrides(
        voice=VoiceOverride(rate=150),
        kinds={Kind.QUOTE: VoiceOverride(voice="en-us+f3", rate=140)},
        pauses={"paragraph": 1.2, "chapter": 3.0},
        lexicon={"Lovelace": "Luv-lace"},
    )
    s = resolve(Settings(), a.settings)
    assert s.voice.rate == 150 and s.pauses.paragraph == 1.2 and s.pauses.sentence == 0.45
    assert s.voice_for(Kind.QUOTE).voice == "en-us+f3" and s.lexicon == {"Lovelace": "Luv-lace"}


def test_literal_block_and_bom_are_accepted(tmp_path: Path) -> None:
    text = (
        "\ufeff"
        + HEAD
        + "sections:\n  - heading: H\n    paragraphs:\n      - |\n        a\n        b\n"
    )
    a = load_article(write(tmp_path, text))
    assert a.sections[0].blocks == (Paragraph("a b", None, 7),)


# --- errors: each names file:line:col, the field path and what to do ---------------------------

SECTION = HEAD + "sections:\n  - heading: H\n"  # the section's mapping starts on line 5, column 5

ERRORS = [
    # (id, yaml, line, column, field, words in the message)
    ("missing format", "title: T\n", 1, 1, "format", "add `format: 1`"),
    ("format 2", "format: 2\n", 1, 9, "format", "reads 1"),
    ("format text", 'format: "1"\n', 1, 9, "format", "expected the number 1 (`format: 1`)"),
    (
        "missing title",
        "format: 1\nsummary: S\nsections:\n  - {heading: H, items: [a]}\n",
        1,
        1,
        "title",
        "add `title:`",
    ),
    ("missing summary", "format: 1\ntitle: T\n", 1, 1, "summary", "add `summary:`"),
    ("missing sections", HEAD, 1, 1, "sections", "add `sections:`"),
    ("empty title", "format: 1\ntitle: ''\n", 2, 8, "title", "is empty; write the title"),
    ("null title", "format: 1\ntitle:\n", 2, 7, "title", "is empty"),
    ("blank title", "format: 1\ntitle: '   '\n", 2, 8, "title", "is empty"),
    ("title list", "format: 1\ntitle: [a]\n", 2, 8, "title", "expected text (title), got a list"),
    ("summary list", "format: 1\ntitle: T\nsummary: [a]\n", 3, 10, "summary", "got a list"),
    ("summary no text", "format: 1\ntitle: T\nsummary: {say: x}\n", 3, 10, "summary.text", "add"),
    ("unknown top", "format: 1\ntitel: T\n", 2, 1, "titel", "did you mean `title`?"),
    ("empty sections", HEAD + "sections: []\n", 4, 11, "sections", "empty list"),
    ("sections text", HEAD + "sections: hi\n", 4, 11, "sections", "expected a list"),
    ("empty section", SECTION, 5, 5, "sections[0]", "add paragraphs:, quotes:"),
    ("no heading", HEAD + "sections:\n  - items: [a]\n", 5, 5, "sections[0].heading", "add"),
    (
        "unknown block",
        SECTION + "    paragraph: [a]\n",
        6,
        5,
        "sections[0].paragraph",
        "did you mean `paragraphs`?",
    ),
    ("empty list", SECTION + "    items: []\n", 6, 12, "sections[0].items", "empty list"),
    ("empty item", SECTION + "    items: ['']\n", 6, 13, "sections[0].items[0]", "is empty"),
    (
        "paragraph map",
        SECTION + "    paragraphs:\n      - [a]\n",
        7,
        9,
        "sections[0].paragraphs[0]",
        "got a list",
    ),
    (
        "quote no author",
        SECTION + "    quotes:\n      - text: Q\n",
        7,
        9,
        "sections[0].quotes[0].author",
        "add `author:`",
    ),
    (
        "quote no text",
        SECTION + "    quotes:\n      - author: A\n",
        7,
        9,
        "sections[0].quotes[0].text",
        "add `text:`",
    ),
    (
        "quote marks",
        SECTION + "    quotes:\n      - text: '\"Q\"'\n        author: A\n",
        7,
        15,
        "sections[0].quotes[0].text",
        "leave out the surrounding quote marks",
    ),
    (
        "quote author typo",
        SECTION + "    quotes:\n      - text: Q\n        auther: A\n",
        8,
        9,
        "sections[0].quotes[0].auther",
        "did you mean `author`?",
    ),
    (
        "timeline no date",
        SECTION + "    timeline:\n      - event: E\n",
        7,
        9,
        "sections[0].timeline[0].date",
        "add `date:`",
    ),
    (
        "timeline no event",
        SECTION + "    timeline:\n      - date: 2007\n",
        7,
        9,
        "sections[0].timeline[0].event",
        "add `event:`",
    ),
    (
        "timeline as text",
        SECTION + "    timeline:\n      - 2007 started\n",
        7,
        9,
        "sections[0].timeline[0]",
        "expected a mapping",
    ),
    (
        "fourth quote",
        SECTION
        + "    quotes:\n"
        + "      - {text: a, author: b}\n" * 3
        + "      - text: d\n        author: [x]\n",
        11,
        17,
        "sections[0].quotes[3].author",
        "expected text (name of who said it), got a list",
    ),
    ("people empty", "format: 1\ntitle: T\npeople: []\n", 3, 9, "people", "empty list"),
    ("people map", "format: 1\ntitle: T\npeople: {a: b}\n", 3, 9, "people", "got a mapping"),
    # YAML-level refusals
    ("duplicate", "format: 1\ntitle: a\ntitle: b\n", 3, 1, "title", "duplicate key `title`"),
    (
        "nested duplicate",
        SECTION + "    items: [a]\n    items: [b]\n",
        7,
        5,
        "sections[0].items",
        "first at line 6",
    ),
    (
        "python tag",
        "format: 1\ntitle: !!python/object:os.system x\n",
        2,
        8,
        "title",
        "remove the tag",
    ),
    ("local tag", "format: 1\ntitle: !foo x\n", 2, 8, "title", "content is data"),
    ("binary tag", "format: 1\ntitle: !!binary aGk=\n", 2, 8, "title", "!!binary"),
    ("set tag", "format: 1\npeople: !!set {a, b}\n", 2, 9, "people", "!!set"),
    ("alias", "format: 1\ntitle: &t T\nsummary: *t\n", 2, 8, "title", "aliases"),
    ("merge", "format: 1\n<<: {title: T}\n", 2, 1, "", "merge keys"),
    ("list key", "format: 1\n? [a]\n: b\n", 2, 3, "", "a key must be plain text"),
    ("syntax", "format: 1\ntitle: a: b\n", 2, 9, "", "invalid YAML: mapping values"),
    ("tab indent", "format: 1\nsections:\n\t- a\n", 3, 1, "", "invalid YAML"),
    ("two documents", "format: 1\n---\nformat: 1\n", 2, 1, "", "remove this `---`"),
    ("control char", "format: 1\ntitle: a\x07\n", 2, 9, "", "U+0007"),
    ("not a mapping", "- format: 1\n", 1, 1, "", "expected an article"),
    ("site config", "narrate: 1\n", 1, 1, "", "site config"),
    # Per-article settings follow the site config's rules.
    (
        "settings typo",
        HEAD + "settings:\n  voise: {rate: 150}\n",
        5,
        3,
        "settings.voise",
        "did you mean `voice`?",
    ),
    (
        "settings site-only",
        HEAD + "settings:\n  loudness: {integrated_lufs: -16}\n",
        5,
        3,
        "settings.loudness",
        "set it in narrate.yaml",
    ),
    (
        "settings rate",
        HEAD + "settings:\n  voice:\n    rate: 500\n",
        6,
        11,
        "settings.voice.rate",
        "from 80 to 400",
    ),
    (
        "settings kind",
        HEAD + "settings:\n  kinds:\n    quotes: {voice: x}\n",
        6,
        5,
        "settings.kinds.quotes",
        "did you mean `quote`?",
    ),
    (
        "settings pause",
        HEAD + "settings:\n  pauses: {sentence: -1}\n",
        5,
        22,
        "settings.pauses.sentence",
        "from 0 to 10",
    ),
    (
        "settings lexicon",
        HEAD + "settings:\n  lexicon:\n    Fei-Fei: ''\n",
        6,
        14,
        'settings.lexicon["Fei-Fei"]',
        "is empty",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "field", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in ERRORS],
)
def test_error_names_position_field_and_fix(
    tmp_path: Path, text: str, line: int, column: int, field: str, words: str
) -> None:
    err = refused(tmp_path, text)
    path = tmp_path / "article.yaml"
    assert (err.line, err.column, err.field or "") == (line, column, field)
    prefix = f"{path}:{line}:{column}: " + (f"{field}: " if field else "")
    assert str(err).startswith(prefix)
    assert words in str(err)


@pytest.mark.parametrize(
    ("data", "words", "line"),
    [
        (b"", "the file is empty; an article starts with `format: 1`", None),
        (b"# only a comment\n\n", "the file is empty", None),
        (b"format: 1\ntitle: Caf\xe9\n", "not valid UTF-8: byte 0xe9 at byte offset 20", 2),
        (b"\xff\xfef\x00", "byte 0xff at byte offset 0", 1),
        (b"[" * 5000, "nested too deeply (more than 50 levels", 1),
    ],
    ids=["empty", "comments only", "latin-1", "utf-16", "deep"],
)
def test_unreadable_files(tmp_path: Path, data: bytes, words: str, line: int | None) -> None:
    err = refused(tmp_path, data)
    assert words in str(err) and err.line == line
    assert str(err).startswith(str(tmp_path / "article.yaml"))


def test_missing_file_and_bad_file_name(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="file not found"):
        load_article(tmp_path / "nope.yaml")
    bad = write(tmp_path, HEAD, "Image Net.yaml")
    with pytest.raises(ContentError, match=r"rename it to image-net\.yaml"):
        load_article(bad)


# --- never a traceback ------------------------------------------------------------------------


# The fixture's folder is reused across examples on purpose: each example overwrites one file.
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _loads_or_refuses(path: Path) -> None:
    try:
        assert isinstance(load_article(path), Article)
    except ContentError as err:
        assert str(err).startswith(str(path))


@settings(FUZZ, max_examples=150)
@given(data=st.binary(max_size=300))
def test_any_bytes_load_or_refuse(tmp_path: Path, data: bytes) -> None:
    _loads_or_refuses(write(tmp_path, data))


YAML_CHARS = st.sampled_from(list("abc: -[]{}#&*!|>'\"%@`,?\n\t ~.01\\") + ["\u00e9", "\u2028"])


@settings(FUZZ, max_examples=150)
@given(text=st.one_of(st.text(max_size=200), st.text(YAML_CHARS, max_size=120)))
def test_any_text_loads_or_refuses(tmp_path: Path, text: str) -> None:
    _loads_or_refuses(write(tmp_path, text))


KEYS = st.sampled_from(
    [
        "format", "title", "summary", "sections", "era", "year", "people", "settings", "heading",
        "paragraphs", "quotes", "timeline", "items", "text", "say", "author", "context", "date",
        "event", "voice", "rate", "pauses", "kinds", "lexicon", "quote", "sentence", "x",
    ]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["1", "2007", "2007-2009", "2012-01-05", "", " ", "~", "0x_", "1.10"]),
)
SHAPES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(KEYS, st.text(max_size=8)), inner, max_size=5),
    ),
    max_leaves=30,
)


@settings(FUZZ, max_examples=200)
@given(shape=st.dictionaries(KEYS, SHAPES, max_size=8), with_format=st.booleans())
@pytest.mark.slow
def test_any_yaml_shape_loads_or_refuses(
    tmp_path: Path, shape: dict[str, object], with_format: bool
) -> None:
    if with_format:
        shape = {"format": 1, **shape}
    _loads_or_refuses(write(tmp_path, yaml.safe_dump(shape, allow_unicode=True)))


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


IMAGENET_DATA = yaml.safe_load(IMAGENET.read_text(encoding="utf-8"))
IMAGENET_PATHS = _paths(IMAGENET_DATA)[1:]


@settings(FUZZ, max_examples=200)
@given(where=st.sampled_from(IMAGENET_PATHS), replacement=SHAPES, drop=st.booleans())
@pytest.mark.slow
def test_mutated_imagenet_loads_or_refuses(
    tmp_path: Path, where: tuple[object, ...], replacement: object, drop: bool
) -> None:
    """Any one value of a real article replaced by any shape (or removed) loads or is refused."""
    import copy

    data = copy.deepcopy(IMAGENET_DATA)
    parent = data
    for step in where[:-1]:
        parent = parent[step]
    if drop:
        del parent[where[-1]]
    else:
        parent[where[-1]] = replacement
    _loads_or_refuses(write(tmp_path, yaml.safe_dump(data, allow_unicode=True), "imagenet.yaml"))


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=200))
def test_yamlread_parse_gives_node_or_content_error(data: bytes) -> None:
    try:
        node = parse(data, Path("x.yaml"))
    except ContentError as err:
        assert str(err).startswith("x.yaml")
    else:
        assert node.line >= 1 and node.field == ""


# --- slugs and finding articles ---------------------------------------------------------------


@pytest.mark.parametrize("slug", ["imagenet", "alexnet-2012", "2012-alexnet", "a", "gpt-3"])
def test_valid_slugs(slug: str) -> None:
    assert validate_slug(slug, RESERVED) == slug


@pytest.mark.parametrize(
    ("slug", "words"),
    [
        ("", "no article given"),
        ("ImageNet", "did you mean `imagenet`?"),
        ("-imagenet", "starting with a letter or digit"),
        ("image_net", "did you mean `image-net`?"),
        ("image net", "lowercase letters, digits and hyphens"),
        ("café", "lowercase letters"),
        ("imagenet.yaml", "give `imagenet`"),
        ("content/imagenet.yaml", "give `imagenet`"),
        ("../etc/passwd", "not a path"),
        ("..", "not a path"),
        ("/abs", "not a path"),
        ("a\\b", "not a path"),
        ("~root", "not a path"),
        ("list", "is a narrate command name"),
    ],
)
def test_invalid_slugs(slug: str, words: str) -> None:
    with pytest.raises(UsageError) as info:
        validate_slug(slug, RESERVED)
    assert words in str(info.value)


def test_list_and_find_articles(tmp_path: Path) -> None:
    assert list_articles(tmp_path / "missing") == []
    for name in ("imagenet.yaml", "alexnet.yaml", ".imagenet.yaml", "notes.txt", "old.yml"):
        (tmp_path / name).write_text(HEAD)
    (tmp_path / "folder.yaml").mkdir()
    assert list_articles(tmp_path) == ["alexnet", "imagenet"]
    assert find_article(tmp_path, "imagenet", RESERVED) == tmp_path / "imagenet.yaml"
    with pytest.raises(UnknownArticleError) as info:
        find_article(tmp_path, "imagnet", RESERVED)
    assert "Did you mean `imagenet`?" in str(info.value)
    assert "Available: alexnet, imagenet" in str(info.value)
    with pytest.raises(UnknownArticleError, match=r"articles end in \.yaml: rename it"):
        find_article(tmp_path, "old", RESERVED)
    with pytest.raises(UsageError, match="command name"):
        find_article(tmp_path, "list", RESERVED)
    with pytest.raises(UnknownArticleError, match=r"has no \*\.yaml or \*\.md articles yet"):
        find_article(tmp_path / "folder.yaml", "imagenet", RESERVED)
    with pytest.raises(UnknownArticleError, match="no content folder"):
        find_article(tmp_path / "missing", "imagenet", RESERVED)


def test_repo_content_lists_imagenet() -> None:
    assert "imagenet" in list_articles(REPO / "content")


def test_sections_model_is_frozen() -> None:
    # The loader hands out immutable values; script and cache rely on that.
    s = load_article(IMAGENET).sections[0]
    assert isinstance(s, Section)
    with pytest.raises(AttributeError):
        s.heading = "x"  # type: ignore[misc]


def test_docs_examples_load(tmp_path: Path) -> None:
    """The examples in docs/content-format.md are valid articles (the docs match the loader)."""
    doc = (REPO / "docs" / "content-format.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", doc, re.DOTALL)
    whole = load_article(write(tmp_path, blocks[0], "whole.yaml"))
    assert [s.heading for s in whole.sections][:2] == ["Introduction", "Notable Quotes"]
    settings_block = next(b for b in blocks if b.startswith("settings:"))
    a = load_article(
        write(tmp_path, HEAD + settings_block + "sections: [{heading: H, items: [a]}]")
    )
    assert a.settings.voice and a.settings.kinds and a.settings.pauses and a.settings.lexicon


# --- hostile text: escapes, separators, silent text, size, syntax hints ------------------------

ESCAPES = [
    # (id, the summary as written in double quotes, column of the escape, words)
    ("lone surrogate", r"a \ud800 b", 13, r"`\ud800` is half of a UTF-16 surrogate pair"),
    ("low surrogate", r"\uDC00", 11, r"`\uDC00` is half of a UTF-16 surrogate pair"),
    ("surrogate pair", r"smile \ud83d\ude00", 17, r"write 😀 itself, or `\U0001F600`"),
    ("escape and bell", r"bell \e\a", 16, r"`\e` is the control character U+001B"),
    ("bell", r"ding\a", 15, "U+0007"),
    ("null", r"\0", 11, "U+0000"),
    ("hex control", r"x\x01", 12, "U+0001"),
    ("C1 control", r"x\x9b", 12, "U+009B"),
    ("vertical tab", r"x\v", 12, "U+000B"),
    ("beyond unicode", r"\U00110000", 11, r"`\U00110000` is not a character"),
    ("far beyond", r"\UFFFFFFFF", 11, r"`\UFFFFFFFF` is not a character"),
    ("after a backslash", r"a\\ \e", 15, r"`\e`"),
]


@pytest.mark.parametrize(
    ("written", "column", "words"), [pytest.param(*c[1:], id=c[0]) for c in ESCAPES]
)
def test_escapes_of_surrogates_and_controls_are_refused_where_written(
    tmp_path: Path, written: str, column: int, words: str
) -> None:
    err = refused(tmp_path, f'format: 1\ntitle: T\nsummary: "{written}"\nsections: []\n')
    assert (err.line, err.column) == (3, column), str(err)
    assert words in str(err) and "\n" not in str(err)
    str(err).encode("utf-8")  # printable: no surrogate reaches the terminal


def test_control_escape_in_a_key_or_the_site_config_is_refused(tmp_path: Path) -> None:
    err = refused(tmp_path, HEAD + 'settings:\n  lexicon:\n    "GPU\\e": gee\n')
    assert (err.line, err.column) == (6, 9) and "U+001B" in str(err)
    (tmp_path / "narrate.yaml").write_text('narrate: 1\nsite:\n  name: "x \\ud800"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    assert str(info.value).startswith(f"{tmp_path / 'narrate.yaml'}:3:12: ")
    assert "surrogate" in str(info.value)


def test_whitespace_escapes_are_whitespace(tmp_path: Path) -> None:
    text = HEAD.replace("summary: S", r'summary: "a\tb\nc\rd\Ne\Lf\Pg\_h"')
    a = load_article(write(tmp_path, text + "sections: [{heading: H, items: [i]}]\n"))
    assert a.summary.text == "a b c d e f g h"


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_line_separators_in_text_do_not_shift_lines(tmp_path: Path, separator: str) -> None:
    """An editor ends lines only at \\n, \\r\\n and \\r; PyYAML also at U+2028, U+2029, U+0085."""
    text = f"format: 1\ntitle: T{separator}more\nsummary: S\nsections:\n  - heading: H\n"
    a = load_article(write(tmp_path, text + "    items: [a]\n"))
    assert a.title == "T more" and a.sections[0].line == 5
    err = refused(tmp_path, text + "    items: []\n")
    assert (err.line, err.column) == (6, 12)
    err = refused(tmp_path, "format: 1\r\ntitle: T\u2028\rsummary: [\r\n")
    assert err.line == 4


SILENT = [
    # (id, YAML from line 5, line, column, field, words)
    ("emoji paragraph", "  - heading: H\n    paragraphs: ['🎉🎉']\n", 6, 18,
     "sections[0].paragraphs[0]", "\"🎉🎉\" says nothing aloud"),
    ("pipe item", "  - heading: H\n    items: ['|', b]\n", 6, 13, "sections[0].items[0]",
     "give what to say with `text:` and `say:`"),
    ("marks heading", "  - heading: ™®\n    items: [a]\n", 5, 14, "sections[0].heading",
     "says nothing aloud (no letter or digit is left once emoji and symbols are dropped); "
     "write it in words"),
    ("zero width", '  - heading: H\n    items: ["\\u200b\\u200d\\ufeff"]\n', 6, 13,
     "sections[0].items[0]", '"\\u200b\\u200d\\ufeff"'),
    ("private use", "  - heading: H\n    items: [\ue000\U000f0000]\n", 6, 13,
     "sections[0].items[0]", '"\\ue000\\U000f0000"'),
    ("emoji say", "  - heading: H\n    items: [{text: ok, say: 🎧}]\n", 6, 29,
     "sections[0].items[0].say", "write in words what to say"),
    ("second sentence", "  - heading: H\n    paragraphs: ['Hello there. 🎉']\n", 6, 18,
     "sections[0].paragraphs[0]", 'sentence 2, "🎉", says nothing'),
    ("quote author", "  - heading: H\n    quotes: [{text: Q, author: 👤}]\n", 6, 32,
     "sections[0].quotes[0].author", "write it in words"),
    ("timeline event", "  - heading: H\n    timeline: [{date: 2007, event: ➡}]\n", 6, 36,
     "sections[0].timeline[0].event", "with `say:`"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "line", "column", "field", "words"), [pytest.param(*c[1:], id=c[0]) for c in SILENT]
)
def test_text_that_says_nothing_is_refused_when_loaded(
    tmp_path: Path, text: str, line: int, column: int, field: str, words: str
) -> None:
    err = refused(tmp_path, HEAD + "sections:\n" + text)
    assert (err.line, err.column, err.field) == (line, column, field), str(err)
    assert words in str(err)


def test_silent_title_and_text_with_a_spoken_form(tmp_path: Path) -> None:
    err = refused(tmp_path, "format: 1\ntitle: 🧠\n")
    assert (err.line, err.field) == (2, "title") and "says nothing aloud" in str(err)
    body = "sections: [{heading: H, items: [{text: 🎉🎉, say: Hooray}]}]\n"
    a = load_article(write(tmp_path, HEAD + body))
    assert a.sections[0].blocks == (ListItem("🎉🎉", "Hooray", 4),)
    assert load_article(write(tmp_path, HEAD + "era: 🧠\n" + body)).era == "🧠"  # never spoken


def test_an_article_of_too_many_sentences_is_refused(tmp_path: Path) -> None:
    assert MAX_SENTENCES == 20_000
    # title, summary, heading, then the paragraph's sentences: 3 + 5 = 8 segments.
    body = "sections:\n  - heading: H\n    paragraphs: [One. Two. Three. Four. Five.]\n"
    path = write(tmp_path, HEAD + body)
    assert len(load_article(path, max_sentences=8).sections[0].blocks) == 1
    with pytest.raises(ContentError) as info:
        load_article(path, max_sentences=7)
    assert str(info.value).startswith(f"{path}:6:18: sections[0].paragraphs[0]: ")
    assert "more than 7 sentences" in str(info.value) and "split it" in str(info.value)


def test_a_long_text_is_refused_without_splitting_it_all(tmp_path: Path) -> None:
    path = write(tmp_path, HEAD + "sections:\n  - heading: H\n    paragraphs:\n      - ")
    with path.open("a") as f:
        f.write("Word. " * 400_000 + "\n")
    with pytest.raises(ContentError, match="more than 20,000 sentences"):
        load_article(path)


MISSING_COLON = [
    # (id, file, line, column, words): reported at the line to fix, not the line after
    ("top key", "format: 1\ntitle T\nsummary: S\n", 2, 1, "`title T` has no `:` after its key"),
    ("first key", "format 1\ntitle: T\n", 1, 1, "`format 1` has no `:`"),
    ("last key", "format: 1\ntitle: T\nsummary S\n", 3, 1, "(YAML noticed only on line 4)"),
    ("list item key", SECTION.replace("heading: H", "heading H") + "    items: [a]\n", 5, 5,
     "`heading H` has no `:`"),
    ("block key", SECTION + "    paragraphs\n    items: [a]\n", 6, 5, "`paragraphs` has no"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "line", "column", "words"), [pytest.param(*c[1:], id=c[0]) for c in MISSING_COLON]
)
def test_a_missing_colon_is_reported_on_its_line(
    tmp_path: Path, text: str, line: int, column: int, words: str
) -> None:
    err = refused(tmp_path, text)
    assert (err.line, err.column) == (line, column), str(err)
    assert words in str(err) and "write it as `key: value`" in str(err)


def test_prose_with_a_colon_gets_the_quoting_hint(tmp_path: Path) -> None:
    err = refused(tmp_path, SECTION + "    paragraphs:\n      - This is long\n        and so: on\n")
    assert err.line == 8 and "mapping values are not allowed here" in str(err)
    assert "in quotes" in str(err)


@pytest.mark.parametrize(
    ("text", "line", "column", "field", "words"),
    [
        (
            SECTION + "    paragraphs:\n      - Note: the dataset was small.\n",
            7, 9, "sections[0].paragraphs[0].Note",
            'if this is the paragraph text, put it in quotes: - "Note: the dataset was small."',
        ),
        (SECTION + "    items:\n      - 'Fun fact':\n", 7, 9, "sections[0].items[0][\"Fun fact\"]",
         '- "Fun fact:"'),
        ("format: 1\ntitle: T\nsummary:\n  Warning: it is \"hot\"\n", 4, 3, "summary.Warning",
         'summary: "Warning: it is \\"hot\\""'),
    ],
    ids=["paragraph", "item", "summary"],
)  # fmt: skip
def test_text_read_as_a_field_gets_a_hint_to_quote_it(
    tmp_path: Path, text: str, line: int, column: int, field: str, words: str
) -> None:
    err = refused(tmp_path, text)
    assert (err.line, err.column, err.field) == (line, column, field), str(err)
    assert "unknown field" in str(err) and words in str(err)


def test_files_too_big_deep_or_many_valued_are_refused_quickly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = write(tmp_path, b"format: 1\ntitle: " + b"a" * (50 * 2**20))
    with pytest.raises(ContentError, match=r"larger than 8 MB, more than narrate reads; split"):
        load_article(big)
    deep = b"format: 1\nsummary:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 300))
    err = refused(tmp_path, deep)
    assert err.line == 52 and err.detail.startswith("nested too deeply (more than 50 levels")
    monkeypatch.setattr("narrate.yamlsyntax.MAX_VALUES", 50)
    err = refused(tmp_path, HEAD + "sections:\n  - heading: H\n    items:\n" + "      - a\n" * 60)
    assert err.line == 43 and "more than 50 values" in str(err)  # the 51st value


def test_billion_laughs_is_refused_at_its_anchor(tmp_path: Path) -> None:
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    pairs = zip("abcdefgh", "bcdefghi", strict=True)
    rows += [f"{b}: &{b} [{', '.join(['*' + a] * 9)}]" for a, b in pairs]
    err = refused(tmp_path, "\n".join(rows) + "\n")
    assert (err.line, err.column, err.field) == (1, 4, "a") and "aliases" in str(err)


@pytest.mark.parametrize("length", [201, 255, 300, 5000])
def test_a_slug_too_long_for_a_file_name_is_a_usage_error(tmp_path: Path, length: int) -> None:
    assert validate_slug("a" * 200, RESERVED) == "a" * 200
    with pytest.raises(UsageError, match=rf"is {length} characters long; a slug is at most 200"):
        validate_slug("a" * length, RESERVED)
    with pytest.raises(UsageError):
        find_article(tmp_path, "a" * length, RESERVED)


def test_keys_and_texts_that_do_not_print_are_escaped_in_messages(tmp_path: Path) -> None:
    """Found by tests/test_fuzz.py: a key holding a line break broke the one-line message."""
    err = refused(tmp_path, 'format: 1\n"ti\\ntle": T\n')
    assert err.field == '["ti\\ntle"]' and "unknown field `ti\\ntle`" in str(err)
    err = refused(tmp_path, 'format: 1\n"a\\u202eb": 1\n"a\\u202eb": 2\n')
    assert "duplicate key `a\\u202eb`" in str(err)
    (tmp_path / "narrate.yaml").write_text('narrate: 1\nsite:\n  "\\n": x\n')
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path)
    assert "\n" not in str(info.value) and 'site["\\n"]: unknown field `\\n`' in str(info.value)


def test_a_lexicon_entry_that_says_nothing_is_refused(tmp_path: Path) -> None:
    err = refused(tmp_path, HEAD + 'settings:\n  lexicon:\n    GPU: "🎉"\n')
    assert (err.line, err.column, err.field) == (6, 10, "settings.lexicon.GPU")
    assert "write in words how it is said" in str(err)
