"""`narrate import PAGE.html`: a saved page (tests/data/html/imagenet.html) into an article."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from narrate.importer.html import html_lines, looks_like_html
from tests.helpers import ROOT, copy_site, invoke

PAGE = ROOT / "tests" / "data" / "html" / "imagenet.html"
HEADINGS = [
    "Introduction",
    "Technical Details",
    "Notable Quotes",
    "Timeline of Events",
    "Fun Facts",
]
CHROME = (
    "Skip to main content", "Home", "Eras", "Breadcrumbs", "Milestones ›", "Listen to Article",
    "Audio narration available", "Play", "Read about AlexNet", "Share on X", "Copy link",
    "Explore More Milestones", "All rights reserved", "Privacy", "trackScroll", "dataLayer",
    "font-family", "visualization",
)  # fmt: skip


def _import(site: Path, *args: str, input: str | None = None) -> dict[str, object]:
    ran = invoke(["import", *args], site, input=input)
    assert ran.exit_code == 0, ran.stderr
    data: dict[str, object] = yaml.safe_load((site / "content" / "imagenet.yaml").read_text())
    return data


def test_the_saved_page_imports_with_its_structure(tmp_path: Path) -> None:
    site = copy_site(tmp_path, slugs=())
    page = shutil.copy(PAGE, tmp_path / "imagenet.html")
    data = _import(site, str(page))  # --slug defaults to the file's stem
    assert data["title"] == "ImageNet"
    assert data["era"] == "Deep Learning Era"
    assert data["event"] == "Dataset Created"
    assert data["year"] == "2009"
    assert data["people"] == ["Fei-Fei Li", "Jia Deng"]
    assert str(data["summary"]).startswith("Fei-Fei Li's team created ImageNet")
    sections = data["sections"]
    assert isinstance(sections, list)
    assert [s["heading"] for s in sections] == HEADINGS
    by = {s["heading"]: s for s in sections}
    intro = by["Introduction"]["paragraphs"][0]
    assert "development of deep learning. The dataset was created" in intro  # <em> is plain
    assert by["Technical Details"]["paragraphs"] == [
        "The images in ImageNet were collected from the internet and hand-annotated by human "
        "workers using Amazon Mechanical Turk."
    ]  # link text kept, its URL gone
    assert by["Notable Quotes"]["quotes"] == [
        {
            "text": "If we want to teach computers to see, we need to show them lots and lots "
            "of pictures.",
            "author": "Fei-Fei Li",
            "context": "explaining the motivation behind creating ImageNet",
        }
    ]
    timeline = by["Timeline of Events"]["timeline"]
    assert [e["date"] for e in timeline] == ["2007", "2007-2009", "2009", "2012"]
    assert timeline[0]["event"] == "ImageNet project initiated at Stanford University"
    assert by["Fun Facts"]["items"][1] == "Contains 14+ million images across 20,000+ categories"
    text = (site / "content" / "imagenet.yaml").read_text()
    for chrome in CHROME:
        assert chrome not in text, chrome


def test_html_on_stdin_is_detected(tmp_path: Path) -> None:
    site = copy_site(tmp_path, slugs=())
    data = _import(site, "-", "--slug", "imagenet", input=PAGE.read_text("utf-8"))
    assert data["title"] == "ImageNet"
    assert len(data["sections"]) == 5  # type: ignore[arg-type]


def test_stdin_needs_a_slug(tmp_path: Path) -> None:
    ran = invoke(["import", "-"], copy_site(tmp_path, slugs=()), input="<html></html>")
    assert ran.exit_code == 2 and "--slug" in ran.stderr


def test_a_selector_picks_the_article(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><body><div id='x'><h1>Other</h1></div><div class='post'><h1>Picked</h1>"
        "<p>The summary of the post.</p><h2>First</h2><p>Some text here.</p></div></body></html>"
    )
    site = copy_site(tmp_path / "site", slugs=())
    ran = invoke(["import", str(page), "--slug", "picked", "--selector", "div.post"], site)
    assert ran.exit_code == 0, ran.stderr
    data = yaml.safe_load((site / "content" / "picked.yaml").read_text())
    assert data["title"] == "Picked" and data["sections"][0]["heading"] == "First"
    missing = invoke(["import", str(page), "--slug", "other", "--selector", "section.none"], site)
    assert missing.exit_code == 2 and "no element matching 'section.none'" in missing.stderr


def test_article_then_main_is_the_default() -> None:
    html = "<body><main><h1>In Main</h1><p>Main text.</p></main><nav><p>x</p></nav></body>"
    assert html_lines(html).splitlines()[0] == "In Main"
    assert looks_like_html("<!DOCTYPE html>\n<html>") and not looks_like_html("ImageNet\n\n<b>")


def test_a_separator_after_a_time_element_is_not_part_of_the_event(tmp_path: Path) -> None:
    page = tmp_path / "alexnet.html"
    page.write_text(
        "<html><body><article><h1>AlexNet</h1><p>The summary of the network that won.</p>"
        "<h2>Timeline of Events</h2><ul><li><time>2012</time>: AlexNet wins ImageNet</li>"
        "<li><time>Sep 2012</time> \u2014 The paper appears</li></ul></article></body></html>"
    )
    site = copy_site(tmp_path / "site", slugs=())
    ran = invoke(["import", str(page)], site)
    assert ran.exit_code == 0, ran.stderr
    data = yaml.safe_load((site / "content" / "alexnet.yaml").read_text())
    events = [e["event"] for e in data["sections"][0]["timeline"]]
    assert events == ["AlexNet wins ImageNet", "The paper appears"]


def test_flattened_text_still_imports(tmp_path: Path) -> None:
    site = copy_site(tmp_path, slugs=())
    text = site.parent / "page.txt"
    text.write_text(
        "Title Here\n\nThe summary sentence of the page.\n\nIntroduction\n\nA paragraph of text.\n"
    )
    data = _import_any(site, str(text), "--slug", "flat")
    assert data["title"] == "Title Here"


def _import_any(site: Path, *args: str) -> dict[str, object]:
    ran = invoke(["import", *args], site)
    assert ran.exit_code == 0, ran.stderr
    slug = args[args.index("--slug") + 1]
    data: dict[str, object] = yaml.safe_load((site / "content" / f"{slug}.yaml").read_text())
    return data


@pytest.mark.usefixtures("fake_backends")
def test_the_imported_page_narrates(tmp_path: Path) -> None:
    site = copy_site(tmp_path, slugs=(), config_edits={"backend: pyttsx3": "backend: fake"})
    _import(site, str(PAGE), "--slug", "imagenet")
    built = invoke(["build", "imagenet", "-q"], site)
    assert built.exit_code == 0, built.stderr
    chapters = json.loads((site / "audio" / "imagenet.chapters.json").read_text())["chapters"]
    assert [c["title"] for c in chapters] == ["ImageNet", *HEADINGS]
