"""`narrate import`: a page's flattened text in, content/SLUG.yaml out.

The ImageNet seed must import to the same article as content/imagenet.yaml; three more milestone
pages (tests/data/pages/) vary the sections, quotes, dates and symbols, and each is imported and
then narrated end to end with the real engine.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from narrate.cli import app
from narrate.content.load import load_article
from narrate.content.model import Article, Block, ListItem, Paragraph, Quote, TimelineEntry
from narrate.errors import ContentError, NarrateError, UsageError
from narrate.importer import content_of, import_page, parse_page, to_yaml, write_article
from narrate.outputs.chapters import parse_vtt
from narrate.text import split_sentences

ROOT = Path(__file__).resolve().parent.parent
PAGES = Path(__file__).resolve().parent / "data" / "pages"
# The seed is not copied into the repository: it sits in the shared folder beside the clone.
SEED = ROOT / ".." / "shared" / "seeds" / "000_0e6e54483fbeaa1d.txt"
IMAGENET = ROOT / "content" / "imagenet.yaml"

CHROME = (
    "Skip to main content",
    "Listen to Article",
    "Audio narration available",
    "Explore More Milestones",
    "visualization:",
    "🎧",
    "🧠",
)


def parse(text: str) -> tuple[Article, list[str]]:
    """Parse a page; return the article and the report's lines."""
    article, report = parse_page(text)
    return article, report.lines()


def page(*body: str, header: str | None = None) -> str:
    """Return a page in the seed's shape with the given body lines (blank-line separated)."""
    head = header or (
        "Skip to main content\n🧠Deep Learning Era\n\nT\n\nE\n\n2009By A B\n"
        "T visualization: E - S... Historic AI milestone from 2009\n🎧\n\nListen to Article\n\n"
        "Audio narration available\n\nThe summary of the page.\n\n"
    )
    return head + "\n\n".join(body) + "\n\nExplore More Milestones\n"


def blocks(article: Article, heading: str) -> list[Block]:
    """Return the blocks of the section with ``heading``."""
    return [list(s.blocks) for s in article.sections if s.heading == heading][0]


def texts(article: Article) -> str:
    """Return every displayed text of the article, one per line."""
    out = [article.title, article.summary.text, *article.people]
    out += [t for t in (article.era, article.event, article.year) if t]
    for s in article.sections:
        out.append(s.heading)
        for b in s.blocks:
            if isinstance(b, Quote):
                out += [b.text, b.author, b.context or ""]
            elif isinstance(b, TimelineEntry):
                out += [b.date, b.event]
            elif isinstance(b, (Paragraph, ListItem)):
                out.append(b.text)
    return "\n".join(out)


# --- the ImageNet seed ------------------------------------------------------------------------


@pytest.fixture
def seed() -> str:
    if not SEED.is_file():
        pytest.skip(f"no ImageNet seed at {SEED.resolve()} (the shared folder beside the clone)")
    return SEED.read_text(encoding="utf-8")


def test_seed_imports_to_the_imagenet_article(seed: str, tmp_path: Path) -> None:
    result = import_page(seed, "imagenet", tmp_path, source=SEED.name)
    expected = load_article(IMAGENET)
    # Same article object once both are loaded; only the YAML line numbers differ.
    assert content_of(result.article) == content_of(expected)
    assert content_of(load_article(tmp_path / "imagenet.yaml")) == content_of(expected)
    report = result.report
    assert report.recognised() == (
        "recognised: 10 sections, 1 quote, 7 timeline entries, 3 list items, 7 paragraphs"
    )
    assert report.unplaced == [] and report.notes == []


def test_seed_yaml_is_written_as_the_hand_made_file(seed: str, tmp_path: Path) -> None:
    import_page(seed, "imagenet", tmp_path)
    written = (tmp_path / "imagenet.yaml").read_text(encoding="utf-8")
    assert written.startswith("format: 1\n")
    # The document an editor wrote by hand: the same keys in the same order with the same values
    # (JSON keeps the order); quoting and indentation are safe_dump's own.
    by_hand = IMAGENET.read_text(encoding="utf-8")
    assert json.dumps(yaml.safe_load(written)) == json.dumps(yaml.safe_load(by_hand))
    # Every text stands on one line as displayed, however long: nothing folded or escaped.
    lines = written.splitlines()
    for text in texts(load_article(IMAGENET)).splitlines():
        assert any(text in line for line in lines), text


LAYOUTS: dict[str, Callable[[str], str]] = {
    "CRLF line ends": lambda t: t.replace("\n", "\r\n"),
    "no blank lines": lambda t: re.sub(r"\n+", "\n", t),
    "every line blank-separated": lambda t: t.replace("\n", "\n\n"),
    "indented, trailing spaces": lambda t: "\n".join(f"  {ln}  " for ln in t.splitlines()),
    "listen box on one line": lambda t: t.replace(
        "🎧\n\nListen to Article", "🎧 Listen to Article"
    ),
    "badge emoji on its own line": lambda t: t.replace("🧠Deep", "🧠\nDeep"),
    "a byte order mark": lambda t: "\ufeff" + t,
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_seed_layout_does_not_matter(seed: str, layout: str) -> None:
    article, report = parse_page(LAYOUTS[layout](seed))
    assert content_of(dataclasses.replace(article, slug="imagenet")) == content_of(
        load_article(IMAGENET)
    )
    assert report.unplaced == []


# --- the pages written for these tests --------------------------------------------------------

EXPECTED = {
    "alexnet-2012": {
        "header": ("Deep Learning Era", "AlexNet", "Breakthrough Achieved", "2012"),
        "people": ("Alex Krizhevsky", "Ilya Sutskever", "Geoffrey Hinton"),
        "headings": [
            "Introduction",
            "Historical Context",
            "Technical Details",
            "Notable Quotes",
            "Key Figures",
            "Contemporary Reactions",
            "Timeline of Events",
            "Legacy",
            "Impact on AI",
            "Fun Facts",
        ],
        "recognised": "10 sections, 2 quotes, 7 timeline entries, 6 list items, 6 paragraphs",
        "dates": ["2011", "Sep 2012", "2012 (October)", "Dec 2012", "Mar 2013", "2014", "Dec 2015"],
        "authors": ["Krizhevsky, Sutskever & Hinton", "Krizhevsky et al."],
    },
    "transformer-2017": {
        "header": ("Modern AI Era", "Attention Is All You Need", "Paper Published", "2017"),
        "people": (
            "Ashish Vaswani",
            "Noam Shazeer",
            "Niki Parmar",
            "Jakob Uszkoreit",
            "Llion Jones",
            "Aidan N. Gomez",
            "Łukasz Kaiser",
            "Illia Polosukhin",
        ),
        "headings": [
            "Introduction",
            "Technical Details",
            "Key Innovations",
            "Notable Quotes",
            "Timeline of Events",
            "Legacy",
            "Impact on AI",
        ],
        "recognised": "7 sections, 2 quotes, 6 timeline entries, 4 list items, 5 paragraphs",
        "dates": ["June 2017", "Dec 2017", "June 2018", "Oct 2018", "2018-2019", "2020 (October)"],
        "authors": ["Vaswani et al.", "Ashish Vaswani et al."],
    },
    "perceptron-1958": {
        "header": ("Birth of AI Era", "Perceptron", "Model Introduced", "1958"),
        "people": ("Frank Rosenblatt",),
        "headings": [
            "Introduction",
            "Key Figures",
            "Technical Details",
            "Notable Quotes",
            "Criticism",
            "Timeline of Events",
            "Legacy",
            "Fun Facts",
        ],
        "recognised": "8 sections, 1 quote, 6 timeline entries, 6 list items, 4 paragraphs",
        "dates": ["1943", "1957", "July 1958", "June 23, 1960", "1969", "1986"],
        "authors": ["The New York Times"],
    },
}


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_page_is_recognised(slug: str) -> None:
    want = EXPECTED[slug]
    article, report = parse_page((PAGES / f"{slug}.txt").read_text(encoding="utf-8"))
    assert (article.era, article.title, article.event, article.year) == want["header"]
    assert article.people == want["people"]
    assert [s.heading for s in article.sections] == want["headings"] == report.headings
    assert report.recognised() == "recognised: " + str(want["recognised"])
    assert report.unplaced == []
    timeline = [b for s in article.sections for b in s.blocks if isinstance(b, TimelineEntry)]
    assert [t.date for t in timeline] == want["dates"]
    quotes = [b for s in article.sections for b in s.blocks if isinstance(b, Quote)]
    assert [q.author for q in quotes] == want["authors"]
    assert all(q.context for q in quotes)
    impact = [s for s in article.sections if s.heading == "Impact on AI"]
    assert all(len(s.blocks) == 1 and isinstance(s.blocks[0], Paragraph) for s in impact)


@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_page_loses_nothing_and_invents_nothing(slug: str) -> None:
    text = (PAGES / f"{slug}.txt").read_text(encoding="utf-8")
    article, _ = parse_page(text)
    corpus = texts(article)
    body = text.split("Explore More Milestones")[0]
    for line in body.splitlines():
        line = re.sub(r'^[^\w"“]+', "", line.strip())  # a badge emoji or a bullet
        if not line or any(c in line for c in CHROME):
            continue
        if m := re.fullmatch(r"(\d{4})By (.+)", line):
            assert m[1] in corpus and all(p in corpus for p in m[2].split(", "))
            continue
        # A quote loses its marks (the page adds them); an inline author is its own field.
        for part in re.split(r"(?<=[\"”]) — ", line):
            assert part.strip('"“”') in corpus, part
    for t in corpus.splitlines():
        assert t in text, f"invented: {t!r}"
    assert not any(c in corpus for c in CHROME)


def test_alexnet_quotes_symbols_and_list() -> None:
    article, _ = parse_page((PAGES / "alexnet-2012.txt").read_text(encoding="utf-8"))
    q1, q2 = blocks(article, "Notable Quotes")
    assert isinstance(q1, Quote) and isinstance(q2, Quote)
    assert q1.text.startswith("All of our experiments") and q1.text.endswith("available.")
    assert q1.context == "From the introduction of the 2012 paper"
    assert q2.context == "On why depth mattered, in the paper's discussion"
    figures = blocks(article, "Key Figures")
    assert all(isinstance(b, ListItem) for b in figures) and len(figures) == 3
    assert "15.3%" in article.summary.text
    assert "SIFT & HOG" in texts(article)


def test_transformer_mixes_a_paragraph_and_a_list() -> None:
    article, _ = parse_page((PAGES / "transformer-2017.txt").read_text(encoding="utf-8"))
    intro, *items = blocks(article, "Key Innovations")
    assert isinstance(intro, Paragraph) and intro.text.endswith("one simple design:")
    assert [type(b) for b in items] == [ListItem] * 4
    first = blocks(article, "Introduction")[0]
    assert isinstance(first, Paragraph) and first.text.startswith('"Attention Is All You Need" is')


def test_perceptron_footer_bullets_and_inline_attribution() -> None:
    article, report = parse_page((PAGES / "perceptron-1958.txt").read_text(encoding="utf-8"))
    assert blocks(article, "Key Figures") == [
        ListItem("Frank Rosenblatt"),
        ListItem("Marvin Minsky"),
        ListItem("Seymour Papert"),
    ]
    facts = blocks(article, "Fun Facts")
    assert all(isinstance(b, ListItem) and not b.text.startswith("•") for b in facts)
    (quote,) = blocks(article, "Notable Quotes")
    assert isinstance(quote, Quote) and quote.author == "The New York Times"
    assert quote.text.endswith("conscious of its existence.")
    assert any("page footer" in n for n in report.notes)


# --- what is recognised, line by line ---------------------------------------------------------


@pytest.mark.parametrize(
    "date",
    [
        "2007",
        "2007-2009",
        "2007–2009",
        "Dec 2015",
        "Dec. 2015",
        "2012 (September)",
        "Sep 2012",
        "Sept 2012",
        "June 2017",
        "2018-2019",
        "June 23, 1960",
        "23 June 1960",
        "1980s",
        "c. 1950",
        "2012-09-30",
        "Jan–Mar 2013",
        "Early 2010s",
        "2019-present",
    ],
)
def test_dates_of_a_timeline(date: str) -> None:
    article, _ = parse(page("Timeline of Events", f"{date}\nSomething happened\n2020\nLater"))
    (section,) = article.sections
    assert section.blocks == (
        TimelineEntry(date, "Something happened"),
        TimelineEntry("2020", "Later"),
    )


def test_a_date_and_its_event_on_one_line() -> None:
    article, _ = parse(page("Timeline of Events", "2007: Started\n\nDec 2015 – Finished"))
    assert article.sections[0].blocks == (
        TimelineEntry("2007", "Started"),
        TimelineEntry("Dec 2015", "Finished"),
    )


def test_unknown_headings_are_found_by_their_shape() -> None:
    article, _ = parse(
        page(
            "Introduction",
            "First paragraph of the article.",
            "Key Figures",
            "Geoffrey Hinton",
            "Yann LeCun",
            "Criticism",
            "Some said it would never work. They were wrong.",
            "What Came After",
            "A later paragraph.",
        )
    )
    assert [s.heading for s in article.sections] == [
        "Introduction",
        "Key Figures",
        "Criticism",
        "What Came After",
    ]
    assert blocks(article, "Key Figures") == [ListItem("Geoffrey Hinton"), ListItem("Yann LeCun")]


def test_a_title_case_author_or_context_is_not_a_heading() -> None:
    article, _ = parse(
        page(
            "Notable Quotes",
            '"First quote."',
            "Fei-Fei Li",
            "TED Talk 2015",
            "“Second quote.”",
            "— Geoffrey Hinton",
            '"Third quote, no context." — Yann LeCun',
            "Legacy",
            "Text.",
        )
    )
    assert blocks(article, "Notable Quotes") == [
        Quote("First quote.", "Fei-Fei Li", "TED Talk 2015"),
        Quote("Second quote.", "Geoffrey Hinton"),
        Quote("Third quote, no context.", "Yann LeCun"),
    ]


def test_a_quote_without_anyone_to_attribute_it_stays_prose() -> None:
    line = '"A line in quote marks followed by a paragraph." Then more, with another sentence.'
    article, _ = parse(page("Introduction", '"Just this."', "A normal paragraph follows it.", line))
    assert blocks(article, "Introduction") == [
        Paragraph('"Just this."'),
        Paragraph("A normal paragraph follows it."),
        Paragraph(line),
    ]


def test_lists_bullets_and_one_line_sections() -> None:
    article, _ = parse(
        page(
            "Fun Facts",
            "• First fact.\n• Second fact",
            "Impact on AI",
            "Changed everything",
            "Legacy",
            "It lasted.",
            "Short line one",
            "Short line two",
        )
    )
    assert blocks(article, "Fun Facts") == [ListItem("First fact."), ListItem("Second fact")]
    assert blocks(article, "Impact on AI") == [Paragraph("Changed everything")]
    assert blocks(article, "Legacy") == [
        Paragraph("It lasted."),
        ListItem("Short line one"),
        ListItem("Short line two"),
    ]


def test_a_wrapped_paragraph_is_joined() -> None:
    article, _ = parse(
        page(
            "Introduction\n\nThis paragraph was wrapped by whoever copied the page, so\nit goes on."
        )
    )
    assert blocks(article, "Introduction") == [
        Paragraph("This paragraph was wrapped by whoever copied the page, so it goes on.")
    ]


def test_later_blocks_of_a_kind_join_the_first_with_a_note() -> None:
    article, report = parse_page(
        page("Legacy", "A paragraph.", "2001\nAn event", "Another paragraph.")
    )
    assert blocks(article, "Legacy") == [
        Paragraph("A paragraph."),
        Paragraph("Another paragraph."),
        TimelineEntry("2001", "An event"),
    ]
    assert "moved up" in report.notes[0]


def test_what_cannot_be_placed_is_reported() -> None:
    article, report = parse_page(
        page(
            "A stray second paragraph before any heading.",
            "Introduction",
            "Text.",
            "Timeline of Events",
            "2001\nAn event\n2002",
            "Legacy",
            "Fun Facts",
            "A fact",
        )
    )
    assert [s.heading for s in article.sections] == [
        "Introduction",
        "Timeline of Events",
        "Fun Facts",
    ]
    assert [(u.text, u.why) for u in report.unplaced] == [
        (
            "A stray second paragraph before any heading.",
            "between the summary and the first heading",
        ),
        ("2002", "a date with no event after it"),
        ("Legacy", "a heading with nothing under it"),
    ]
    lines = report.lines()
    assert (
        lines[0] == "recognised: 3 sections, 0 quotes, 1 timeline entry, 1 list item, 1 paragraph"
    )
    assert lines[2].startswith("could not place 3 lines")
    yaml_text = to_yaml(dataclasses.replace(article, slug="x"), unplaced=report.unplaced)
    assert "# Not imported (page line" in yaml_text


def test_header_without_listen_box_or_badge() -> None:
    text = (
        "AlexNet\nBreakthrough\n2012By A, B and C\n\n"
        "The summary sentence of this page.\n\nLegacy\n\nText.\n"
    )
    article, report = parse_page(text)
    assert (article.era, article.title, article.event, article.year) == (
        None,
        "AlexNet",
        "Breakthrough",
        "2012",
    )
    assert article.people == ("A", "B", "C")
    assert article.summary.text == "The summary sentence of this page."
    assert report.unplaced == []


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("", ["no title", "no summary", "no sections"]),
        ("Only a title", ["no summary", "no sections"]),
        (page("Just prose, no headings at all."), ["no sections"]),
        (page("Introduction", "Text.", header="🧠Era\n\nTitle\n\n"), ["no summary"]),
    ],
)
def test_a_page_without_title_summary_or_sections_is_refused(text: str, missing: list[str]) -> None:
    with pytest.raises(ContentError) as info:
        parse_page(text, source="page.txt")
    message = str(info.value)
    assert message.startswith("cannot import page.txt: found ")
    for what in missing:
        assert what in message
    for what in {"no title", "no summary", "no sections"} - set(missing):
        assert what not in message


# --- the YAML writer ---------------------------------------------------------------------------

AWKWARD = [
    '"Quoted" at the start',
    "& an ampersand first",
    "% percent first",
    "@handle first",
    "`code` first",
    "- looks like a list",
    "a colon: then space",
    "ends with a colon:",
    "a #hash after a space",
    "yes",
    "null",
    "Null",  # (a bare "~" is also YAML's null, but says nothing aloud: refused as text)
    "1.10",
    "2012-01-05",
    "[brackets]",
    "{braces}",
    "50% & more, 14M+",
    "back\\slash and 'single' quotes",
    "Łukasz Kaiser, 深度学习 and 🧠 emoji",
    "<< merge",
    "=",
]


def test_awkward_texts_round_trip_through_the_file(tmp_path: Path) -> None:
    from narrate.content.model import Section

    article = Article(
        slug="awkward",
        title=AWKWARD[0],
        summary=Paragraph(AWKWARD[1]),
        era=AWKWARD[2],
        event=AWKWARD[3],
        year="1.10",
        people=tuple(AWKWARD),
        sections=tuple(
            Section(
                text,
                (
                    Paragraph(text),
                    Quote(text.strip('"') or "q", text, text),
                    TimelineEntry(text, text),
                    ListItem(text),
                ),
            )
            for text in AWKWARD
        ),
    )
    loaded = write_article(article, tmp_path / "awkward.yaml")
    assert content_of(loaded) == content_of(article)


def test_yaml_is_block_style_in_the_documented_order(tmp_path: Path) -> None:
    from narrate.content.model import Section
    from narrate.importer import Unplaced

    article = Article(
        slug="kaiser",
        title="Łukasz: a life",
        summary=Paragraph('He said "yes" — 50% & more.', say="He said yes, half and more."),
        era="Modern AI Era",
        year="2017",
        people=("Łukasz Kaiser", "Aidan N. Gomez"),
        sections=(
            Section(
                "Notable Quotes",
                (
                    Paragraph("# not a comment"),
                    Quote("Attention is all you need.", "Vaswani et al.", "NeurIPS 2017"),
                    Quote("yes", "Null"),
                ),
            ),
            Section(
                "Timeline of Events",
                (
                    TimelineEntry("2017", "Published", say="In 2017 it was published"),
                    TimelineEntry("Dec 2017", "Shown"),
                    ListItem("深度学习 🧠"),
                    ListItem("null"),
                ),
            ),
        ),
    )
    unplaced = [Unplaced(3, "Stray line", "in the page header")]
    assert to_yaml(article, source="page.txt", unplaced=unplaced) == (
        "format: 1\n"
        "# Łukasz: a life: imported from page.txt by `narrate import`, text as on the page.\n"
        "# Check what will be said with `narrate script kaiser`. Format: docs/content-format.md\n"
        "# Not imported (page line 3, in the page header): Stray line\n"
        "\n"
        "era: Modern AI Era\n"
        "title: 'Łukasz: a life'\n"
        "year: '2017'\n"
        "people:\n"
        "- Łukasz Kaiser\n"
        "- Aidan N. Gomez\n"
        "\n"
        "summary:\n"
        '  text: He said "yes" — 50% & more.\n'
        "  say: He said yes, half and more.\n"
        "\n"
        "sections:\n"
        "- heading: Notable Quotes\n"
        "  paragraphs:\n"
        "  - '# not a comment'\n"
        "  quotes:\n"
        "  - text: Attention is all you need.\n"
        "    author: Vaswani et al.\n"
        "    context: NeurIPS 2017\n"
        "  - text: 'yes'\n"
        "    author: 'Null'\n"
        "\n"
        "- heading: Timeline of Events\n"
        "  timeline:\n"
        "  - date: '2017'\n"
        "    event: Published\n"
        "    say: In 2017 it was published\n"
        "  - date: Dec 2017\n"
        "    event: Shown\n"
        "  items:\n"
        "  - 深度学习 🧠\n"
        "  - 'null'\n"
    )
    loaded = write_article(article, tmp_path / "kaiser.yaml", unplaced=unplaced)
    assert content_of(loaded) == content_of(article)


def test_blocks_of_a_kind_in_two_runs_are_refused() -> None:
    from narrate.content.model import Section

    section = Section("Legacy", (Paragraph("One."), ListItem("An item"), Paragraph("Two.")))
    article = Article(slug="x", title="T", summary=Paragraph("S."), sections=(section,))
    with pytest.raises(ValueError, match="paragraphs come in more than one run"):
        to_yaml(article)


def test_existing_article_is_kept_unless_forced(tmp_path: Path) -> None:
    target = tmp_path / "t.yaml"
    target.write_text("keep me\n", encoding="utf-8")
    with pytest.raises(UsageError, match="already exists; pass --force"):
        import_page(page("Legacy", "Text."), "t", tmp_path)
    assert target.read_text(encoding="utf-8") == "keep me\n"
    import_page(page("Legacy", "Text."), "t", tmp_path, force=True)
    assert load_article(target).title == "T"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.yaml"], "temporary file left behind"


# --- property: any text gives a result or a NarrateError -------------------------------------

LINES = st.sampled_from(
    [
        "",
        "Skip to main content",
        "🧠Deep Learning Era",
        "🎧",
        "Listen to Article",
        "Audio narration available",
        "Explore More Milestones",
        "2009By Fei-Fei Li, Jia Deng",
        "X visualization: y",
        "Introduction",
        "Notable Quotes",
        "Timeline of Events",
        "Key Figures",
        "Fei-Fei Li",
        '"A quote."',
        "“Another quote.” — Someone",
        "— Author Name",
        "2007",
        "2012 (September)",
        "Dec 2015: Something",
        "• A bullet",
        "A short item",
        "A full sentence of prose. And another one.",
        '"',
        '""',
        '""x""',
        "-",
        "---",
        "#",
        ": :",
        "yes",
        "By ",
    ]
)
PAGE_LINES = st.lists(st.one_of(LINES, st.text(max_size=40)), max_size=40).map("\n".join)
# The same under a valid header, so most examples get as far as writing the file.
PAGE_BODIES = st.lists(st.one_of(LINES, st.text(max_size=30)), max_size=40).map(
    lambda lines: page(*lines)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), PAGE_LINES, PAGE_BODIES))
def test_any_text_gives_an_article_or_a_narrate_error(text: str) -> None:
    try:
        article, report = parse_page(text)
    except NarrateError:
        return
    assert article.title and article.summary.text and article.sections
    # Whatever was recognised is written as a file that loads back as the same article.
    with tempfile.TemporaryDirectory() as tmp:
        loaded = write_article(dataclasses.replace(article, slug="p"), Path(tmp) / "p.yaml")
    assert content_of(loaded) == content_of(dataclasses.replace(article, slug="p"))
    assert len(report.headings) == len(article.sections)


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Return an empty site (the repository's config, no content folder yet) as the cwd."""
    shutil.copy(ROOT / "narrate.yaml", tmp_path / "narrate.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(site: Path, *args: str, stdin: str | None = None) -> Result:
    """Run the command in-process from the site's folder."""
    assert Path.cwd() == site
    return CliRunner().invoke(app, list(args), input=stdin)


def test_cli_imports_and_reports_on_stderr(site: Path) -> None:
    result = invoke(site, "import", str(PAGES / "alexnet-2012.txt"), "--slug", "alexnet")
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert "wrote content/alexnet.yaml: AlexNet (Deep Learning Era" in err
    assert "recognised: 10 sections, 2 quotes, 7 timeline entries, 6 list items" in err
    assert "could not place: nothing" in err
    assert result.stdout == ""
    assert load_article(site / "content" / "alexnet.yaml").title == "AlexNet"


def test_cli_reads_standard_input(site: Path) -> None:
    text = (PAGES / "transformer-2017.txt").read_text(encoding="utf-8")
    result = invoke(site, "import", "-", "--slug", "transformer", stdin=text)
    assert result.exit_code == 0, result.output
    written = (site / "content" / "transformer.yaml").read_text(encoding="utf-8")
    assert "imported from standard input" in written


def test_cli_refuses_to_overwrite_unless_forced(site: Path) -> None:
    where = str(PAGES / "perceptron-1958.txt")
    assert invoke(site, "import", where, "--slug", "p").exit_code == 0
    before = (site / "content" / "p.yaml").read_bytes()
    (site / "content" / "p.yaml").write_text("edited\n", encoding="utf-8")
    result = invoke(site, "import", where, "--slug", "p")
    assert result.exit_code == 2
    assert "already exists; pass --force" in result.stderr
    assert (site / "content" / "p.yaml").read_text(encoding="utf-8") == "edited\n"
    assert invoke(site, "import", where, "--slug", "p", "--force").exit_code == 0
    assert (site / "content" / "p.yaml").read_bytes() == before


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("import", "narrate command name"),
        ("build", "narrate command name"),
        ("AlexNet", "not a valid article slug"),
        ("content/alexnet.yaml", "not a path or file name"),
    ],
)
def test_cli_refuses_reserved_and_invalid_slugs(site: Path, slug: str, message: str) -> None:
    result = invoke(site, "import", str(PAGES / "alexnet-2012.txt"), "--slug", slug)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (site / "content").exists()


def test_cli_errors_name_the_problem(site: Path) -> None:
    missing = invoke(site, "import", "nope.txt", "--slug", "x")
    assert missing.exit_code == 2 and "no page at nope.txt" in missing.stderr
    (site / "flat.txt").write_text("Just a title\n", encoding="utf-8")
    empty = invoke(site, "import", "flat.txt", "--slug", "x")
    assert empty.exit_code == 1
    assert "no summary" in empty.stderr and "no sections" in empty.stderr
    assert "Traceback" not in empty.output
    (site / "bad.txt").write_bytes(b"Title\n\xff\n")
    bad = invoke(site, "import", "bad.txt", "--slug", "x")
    assert bad.exit_code == 1 and "not valid UTF-8" in bad.stderr


# --- end to end: import, then narrate with the real engine ------------------------------------


def run(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as an editor would."""
    return subprocess.run(
        [sys.executable, "-m", "narrate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=300,
    )


@pytest.fixture(scope="module")
def e2e_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a site with only the repository's config: every article comes from an import."""
    site = tmp_path_factory.mktemp("import-site")
    shutil.copy(ROOT / "narrate.yaml", site / "narrate.yaml")
    return site


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("slug", sorted(EXPECTED))
def test_imported_page_is_narrated_end_to_end(e2e_site: Path, slug: str) -> None:
    imported = run("import", str(PAGES / f"{slug}.txt"), "--slug", slug, cwd=e2e_site)
    assert imported.returncode == 0, imported.stderr
    assert "could not place: nothing" in imported.stderr
    built = run(slug, cwd=e2e_site)
    assert built.returncode == 0, built.stderr
    audio = e2e_site / "audio"
    for suffix in (".mp3", ".chapters.json", ".chapters.vtt", ".transcript.vtt"):
        assert (audio / f"{slug}{suffix}").stat().st_size > 0
    article = load_article(e2e_site / "content" / f"{slug}.yaml")
    chapters = json.loads((audio / f"{slug}.chapters.json").read_text(encoding="utf-8"))
    titles = [c["title"] for c in chapters["chapters"]]
    assert titles == [EXPECTED[slug]["header"][1], *EXPECTED[slug]["headings"]]
    cues = {c.text for c in parse_vtt((audio / f"{slug}.transcript.vtt").read_text("utf-8"))}
    paragraphs = [article.summary] + [
        b for s in article.sections for b in s.blocks if isinstance(b, Paragraph)
    ]
    for p in paragraphs:
        first = split_sentences(p.text)[0]
        assert first in cues, f"missing from the transcript: {first!r}"
