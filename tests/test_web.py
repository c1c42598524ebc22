"""The page's player: fragment and preview from real outputs, the manifest, `preview --serve`.

A small site (two articles, one full of markup-like text) is built once with the real engine
through the CLI; the fragment is parsed back with an HTML parser and compared with the published
chapters and transcript. The server itself is checked over real sockets in test_server.py.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from narrate.content.load import load_article
from narrate.outputs.chapters import Chapter, Cue, clock, parse_vtt
from narrate.settings.effective import resolve
from narrate.settings.load import load_settings
from narrate.settings.model import Settings
from narrate.web.page import (
    Narration,
    asset_url,
    embed_fragment,
    preview_page,
    refresh_preview,
)

ROOT = Path(__file__).resolve().parent.parent

# Article text that is not markup, however much it looks like it.
TRICKY_TITLE = "Markup <script>document.title='pwned'</script> & friends"
TRICKY_YAML = """\
format: 1
era: "Test <Era> & Co"
title: "Markup <script>document.title='pwned'</script> & friends"
event: "A <b>bold</b> event"
year: "2024"
people: ["Ada <Lovelace>", "Tom & Jerry"]
summary: "This summary has <script>alert(1)</script> and an ampersand & in it."
sections:
  - heading: "Q&A <i>time</i>"
    paragraphs:
      - "First sentence with <em>tags</em> & symbols. Second sentence is plain."
      - "A new paragraph with &amp; an entity."
"""
PLAIN_YAML = """\
format: 1
title: Plain Article
event: Written
year: "2001"
people: [Someone]
summary: A short summary.
sections:
  - heading: Only Section
    paragraphs:
      - One sentence here. And another.
"""


def run_narrate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "narrate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )


def make_site(root: Path, articles: dict[str, str | None]) -> Path:
    """Return a site with the repository's config and articles (slug: YAML, or None to copy
    the repository's own ``content/SLUG.yaml``)."""
    (root / "content").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "narrate.yaml", root / "narrate.yaml")
    for slug, text in articles.items():
        target = root / "content" / f"{slug}.yaml"
        if text is None:
            shutil.copy(ROOT / "content" / f"{slug}.yaml", target)
        else:
            target.write_text(text, "utf-8")
    return root


def build(site: Path, slug: str) -> None:
    """Build one article with the real engine; fail the test with its stderr otherwise."""
    result = run_narrate(slug, cwd=site)
    assert result.returncode == 0, result.stderr


@dataclass
class Element:
    """A parsed HTML element: enough of a DOM to check the fragment's structure."""

    tag: str
    attrs: dict[str, str | None]
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Return the text content, entities decoded."""
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def iter(self) -> Iterator[Element]:
        """Yield this element and every element under it, in document order."""
        yield self
        for c in self.children:
            if isinstance(c, Element):
                yield from c.iter()

    def find_all(
        self, tag: str | None = None, attr: str | None = None, cls: str | None = None
    ) -> list[Element]:
        """Return descendants (and self) by tag name, attribute presence and/or class."""
        return [
            e
            for e in self.iter()
            if (tag is None or e.tag == tag)
            and (attr is None or attr in e.attrs)
            and (cls is None or cls in (e.attrs.get("class") or "").split())
        ]

    def one(
        self, tag: str | None = None, attr: str | None = None, cls: str | None = None
    ) -> Element:
        """Return the single matching element."""
        found = self.find_all(tag, attr, cls)
        assert len(found) == 1, f"expected one <{tag} {attr} .{cls}>, found {len(found)}"
        return found[0]


VOID = {"track", "meta", "link", "br", "input", "img", "source"}


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, dict(attrs))
        self.stack[-1].children.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_html(text: str) -> Element:
    """Parse HTML into an Element tree, asserting every element is closed in order."""
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root


# ---------------------------------------------------------------------------------------------
# A site built once with the real engine


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a site with `tricky` and `plain` built by two separate runs, `unbuilt` not built."""
    site = make_site(
        tmp_path_factory.mktemp("web") / "site",
        {"tricky": TRICKY_YAML, "plain": PLAIN_YAML, "unbuilt": PLAIN_YAML},
    )
    build(site, "tricky")
    build(site, "plain")
    return site


@pytest.mark.e2e
def test_manifest_lists_both_builds_with_checksums_and_no_timestamps(site: Path) -> None:
    audio = site / "audio"
    data = json.loads((audio / "manifest.json").read_text("utf-8"))
    assert sorted(data["articles"]) == ["plain", "tricky"]
    for slug, entry in data["articles"].items():
        mp3 = audio / f"{slug}.mp3"
        chapters = json.loads((audio / f"{slug}.chapters.json").read_text("utf-8"))["chapters"]
        assert entry["slug"] == slug
        assert entry["bytes"] == mp3.stat().st_size
        assert entry["sha256"] == hashlib.sha256(mp3.read_bytes()).hexdigest()
        assert entry["duration"] == pytest.approx(chapters[-1]["endTime"], abs=0.002)
        assert sorted(entry["files"].values()) == sorted(
            f"{slug}{s}"
            for s in (
                ".mp3",
                ".chapters.json",
                ".chapters.vtt",
                ".transcript.vtt",
                ".transcript.json",
            )
        )
        assert all((audio / name).is_file() for name in entry["files"].values())
    assert data["articles"]["tricky"]["title"] == TRICKY_TITLE
    text = (audio / "manifest.json").read_text("utf-8")
    assert not re.search(r"\d{4}-\d\d-\d\dT|\"(mtime|built|created|updated|date|time)", text)
    assert not list(audio.glob(".*.part")), "temporary files left behind"


@pytest.mark.e2e
@pytest.mark.parametrize("command", ["embed", "preview"])
def test_unbuilt_article_fails_in_one_line_saying_what_to_run(site: Path, command: str) -> None:
    result = run_narrate(command, "unbuilt", cwd=site)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "run `narrate unbuilt` first" in result.stderr
    assert "Traceback" not in result.stderr


def _truncate_mp3(audio: Path) -> None:
    mp3 = audio / "plain.mp3"
    mp3.write_bytes(mp3.read_bytes()[:-1000])


def _damage_record(audio: Path) -> None:
    record = audio / "plain.build.json"
    data = json.loads(record.read_text("utf-8"))
    record.write_text(json.dumps({**data, "outputs": None}), "utf-8")


def _list_record(audio: Path) -> None:
    (audio / "plain.build.json").write_text("[]", "utf-8")


@pytest.mark.e2e
@pytest.mark.parametrize("command", ["embed", "preview"])
@pytest.mark.parametrize("damage", [_truncate_mp3, _damage_record, _list_record])
def test_a_set_that_does_not_match_its_record_is_refused_in_one_line(
    site: Path, tmp_path: Path, command: str, damage: Callable[[Path], None]
) -> None:
    copy = tmp_path / "site"
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns(".*"))
    damage(copy / "audio")
    result = run_narrate(command, "plain", cwd=copy)
    assert result.returncode == 1, result.stdout
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert "rebuild them with `narrate plain`" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (copy / "audio" / "plain.html").exists()


@pytest.fixture(scope="module")
def tricky_fragment(site: Path) -> str:
    """Return `narrate embed tricky` output."""
    result = run_narrate("embed", "tricky", cwd=site)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.e2e
def test_fragment_matches_the_published_chapters_and_transcript(
    site: Path, tricky_fragment: str
) -> None:
    audio = site / "audio"
    chapters = json.loads((audio / "tricky.chapters.json").read_text("utf-8"))["chapters"]
    cues = parse_vtt((audio / "tricky.transcript.vtt").read_text("utf-8"))
    doc = parse_html(tricky_fragment)

    root = doc.one(attr="data-narrate")
    assert root.attrs["data-narrate"] == "tricky"
    player = root.one("audio")
    assert "controls" in player.attrs and player.attrs["preload"] == "metadata"
    # Every file URL carries the MP3's checksum, so no cache pairs an old MP3 with new tracks.
    v = "?v=" + hashlib.sha256((audio / "tricky.mp3").read_bytes()).hexdigest()[:12]
    assert player.attrs["src"] == "tricky.mp3" + v
    assert player.attrs["aria-label"] == f"Narration of {TRICKY_TITLE}"
    tracks = {t.attrs["kind"]: t for t in player.find_all("track")}
    assert tracks["chapters"].attrs["src"] == "tricky.chapters.vtt" + v
    assert "default" in tracks["chapters"].attrs
    assert tracks["captions"].attrs["src"] == "tricky.transcript.vtt" + v
    assert player.one("a").attrs["href"] == "tricky.mp3" + v  # fallback for no <audio> support
    head = root.one(attr="data-narrate-summary")  # the script replaces it from the real audio
    assert head.text == f"{clock(chapters[-1]['endTime'])} · {len(chapters)} chapters"

    buttons = root.one(attr="data-narrate-chapters").find_all("button")
    assert [b.attrs["type"] for b in buttons] == ["button"] * len(chapters)
    for button, chapter in zip(buttons, chapters, strict=True):
        assert float(button.attrs["data-start"] or "nan") == chapter["startTime"]
        assert button.one(cls="narrate-title").text == chapter["title"]
        assert clock(chapter["startTime"]) == button.one("time").text

    spoken = root.one(attr="data-narrate-transcript").find_all(attr="data-start")
    assert [e.attrs["data-cue"] for e in spoken] == [c.id for c in cues]
    for el, cue in zip(spoken, cues, strict=True):
        assert el.attrs["id"] == f"narrate-tricky-{cue.id}"
        assert float(el.attrs["data-start"] or "nan") == cue.start_ms / 1000
        assert float(el.attrs["data-end"] or "nan") == cue.end_ms / 1000
        assert el.text == cue.text

    # The article's text arrives as text: one script (ours), no markup from the content.
    assert len(root.find_all("script")) == 1
    assert not root.find_all("b") and not root.find_all("i") and not root.find_all("em")
    assert "<script>alert" not in tricky_fragment and "<b>bold" not in tricky_fragment
    assert "&amp;amp; an entity" in tricky_fragment  # a literal "&amp;" stays literal


@pytest.mark.e2e
def test_transcript_is_grouped_by_chapter_with_paragraphs_from_the_pauses(
    tricky_fragment: str,
) -> None:
    transcript = parse_html(tricky_fragment).one(attr="data-narrate-transcript")
    parts = transcript.find_all("div", "data-chapter")
    assert [p.one(cls="narrate-part-title").text for p in parts] == [
        TRICKY_TITLE,
        "Q&A <i>time</i>",
    ]
    paragraphs = [[s.text for s in p.find_all("span")] for p in parts[1].find_all("p")][1:]
    assert paragraphs == [
        ["First sentence with <em>tags</em> & symbols.", "Second sentence is plain."],
        ["A new paragraph with &amp; an entity."],
    ]


@pytest.mark.e2e
def test_base_url_comes_from_the_option_or_the_config(site: Path) -> None:
    result = run_narrate("embed", "plain", "--base-url", "https://cdn.example.org/a b/", cwd=site)
    assert result.returncode == 0, result.stderr
    player = parse_html(result.stdout).one("audio")
    v = hashlib.sha256((site / "audio" / "plain.mp3").read_bytes()).hexdigest()[:12]
    assert player.attrs["src"] == f"https://cdn.example.org/a b/plain.mp3?v={v}"
    config = (site / "narrate.yaml").read_text("utf-8")
    other = site / "other.yaml"
    other.write_text(
        config.replace('base_url: ""', 'base_url: "https://example.org/audio"'), "utf-8"
    )
    result = run_narrate("embed", "plain", "--config", str(other), cwd=site)
    assert result.returncode == 0, result.stderr
    tracks = parse_html(result.stdout).find_all("track")
    assert [t.attrs["src"] for t in tracks] == [
        f"https://example.org/audio/plain.chapters.vtt?v={v}",
        f"https://example.org/audio/plain.transcript.vtt?v={v}",
    ]


def test_the_artwork_for_lock_screens_comes_from_the_config(site: Path) -> None:
    config = (site / "narrate.yaml").read_text("utf-8")
    other = site / "art.yaml"
    art = 'base_url: ""\n  artwork: https://example.org/c.png'
    other.write_text(config.replace('base_url: ""', art), "utf-8")
    result = run_narrate("embed", "plain", "--config", str(other), cwd=site)
    assert result.returncode == 0, result.stderr
    assert 'data-artwork="https://example.org/c.png"' in result.stdout
    result = run_narrate("embed", "plain", cwd=site)
    assert "data-artwork=" not in result.stdout  # (the inlined script reads the attribute)


@pytest.mark.e2e
def test_preview_writes_a_standalone_page_atomically(site: Path, tricky_fragment: str) -> None:
    result = run_narrate("preview", "tricky", cwd=site)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wrote audio/tricky.html"
    page = (site / "audio" / "tricky.html").read_text("utf-8")
    assert page.startswith("<!doctype html>\n")
    doc = parse_html(page)
    assert doc.one("title").text == f"{TRICKY_TITLE} · narration preview"
    assert doc.one("h1").text == TRICKY_TITLE
    assert doc.one(cls="era").text == "Test <Era> & Co"
    assert [li.text for li in doc.one("ul").find_all("li")] == [
        "A <b>bold</b> event",
        "2024",
        "Ada <Lovelace>, Tom & Jerry",
    ]
    assert tricky_fragment.strip() in page
    assert not list((site / "audio").glob(".tricky.html.*"))


def _refresh(settings: Settings, slug: str) -> Path | None:
    """Refresh a preview page as a build does: with the article's effective pauses."""
    article = load_article(settings.content_dir / f"{slug}.yaml")
    pauses = resolve(settings, article.settings, article_file=article.source).pauses
    return refresh_preview(settings.audio_dir, article, pauses)


@pytest.mark.slow
@pytest.mark.e2e
def test_refresh_preview_rewrites_an_existing_preview_with_the_rebuilt_times(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path / "site", {"plain": PLAIN_YAML, "tricky": TRICKY_YAML})
    audio = site / "audio"
    build(site, "plain")
    build(site, "tricky")
    settings = load_settings(site)
    # No preview was asked for: none appears.
    assert _refresh(settings, "tricky") is None
    assert not (audio / "tricky.html").exists()

    result = run_narrate("preview", "plain", "--base-url", "/audio/", cwd=site)
    assert result.returncode == 0, result.stderr
    old_page = (audio / "plain.html").read_text("utf-8")
    old_chapters = json.loads((audio / "plain.chapters.json").read_text("utf-8"))["chapters"]
    # An editor lengthens the summary: the later sentences and the second chapter move.
    (site / "content" / "plain.yaml").write_text(
        PLAIN_YAML.replace(
            "A short summary.", "A much longer summary, which takes a good while longer to say."
        ),
        "utf-8",
    )
    build(site, "plain")
    assert _refresh(settings, "plain") == audio / "plain.html"

    chapters = json.loads((audio / "plain.chapters.json").read_text("utf-8"))["chapters"]
    cues = parse_vtt((audio / "plain.transcript.vtt").read_text("utf-8"))
    assert chapters[1]["startTime"] > old_chapters[1]["startTime"] + 1
    page = (audio / "plain.html").read_text("utf-8")
    doc = parse_html(page)
    buttons = doc.one(attr="data-narrate-chapters").find_all("button")
    assert [float(b.attrs["data-start"] or "nan") for b in buttons] == [
        c["startTime"] for c in chapters
    ]
    spoken = doc.one(attr="data-narrate-transcript").find_all(attr="data-start")
    assert [(e.attrs["data-cue"], e.attrs["data-start"], e.attrs["data-end"]) for e in spoken] == [
        (c.id, repr(c.start_ms / 1000), repr(c.end_ms / 1000)) for c in cues
    ]
    # The page keeps the base URL it was written with; the version follows the new MP3.
    v = hashlib.sha256((audio / "plain.mp3").read_bytes()).hexdigest()[:12]
    assert doc.one("audio").attrs["src"] == f"/audio/plain.mp3?v={v}"
    assert f"plain.mp3?v={v}" not in old_page
    # It is exactly the page `narrate preview` writes now, so a second refresh changes nothing.
    result = run_narrate("preview", "plain", "--base-url", "/audio/", cwd=site)
    assert result.returncode == 0, result.stderr
    assert (audio / "plain.html").read_text("utf-8") == page
    mtime = (audio / "plain.html").stat().st_mtime_ns
    assert _refresh(settings, "plain") == audio / "plain.html"
    assert (audio / "plain.html").stat().st_mtime_ns == mtime
    assert not list(audio.glob(".plain.html.*"))


def test_fragment_escapes_every_piece_of_text() -> None:
    evil = '"><img src=x onerror=alert(1)> & </script>'
    n = Narration(
        slug="x",
        title=evil,
        summary=evil,
        era=evil,
        event=evil,
        year=evil,
        people=(evil,),
        chapters=(Chapter(evil, 0, 5_000),),
        cues=(Cue("s-1", 100, 900, evil), Cue("s-2", 1_000, 2_000, f"{evil}\n{evil}")),
        mp3_bytes=1234,
    )
    for html in (embed_fragment(n, 'https://x/"q"'), preview_page(n)):
        doc = parse_html(html)
        assert not doc.find_all("img")
        assert len(doc.find_all("script")) == 1
        assert evil in doc.text
        assert all("onerror" not in k for e in doc.iter() for k in e.attrs)
    audio = parse_html(embed_fragment(n, 'https://x/"q"')).one("audio")
    assert audio.attrs["src"] == 'https://x/"q"/x.mp3'  # quoted in the attribute, intact
    page = parse_html(preview_page(n, 'https://x/"q"'))
    base = [m for m in page.find_all("meta") if m.attrs.get("name") == "narrate-base-url"]
    assert [m.attrs["content"] for m in base] == ['https://x/"q"']


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("", "a-b.mp3"),
        ("/audio", "/audio/a-b.mp3"),
        ("/audio/", "/audio/a-b.mp3"),
        ("https://cdn.example.org/x/", "https://cdn.example.org/x/a-b.mp3"),
    ],
)
def test_asset_url(base: str, expected: str) -> None:
    assert asset_url(base, "a-b.mp3") == expected
    assert asset_url(base, "a-b.mp3", "0123456789ab") == expected + "?v=0123456789ab"


def test_clock() -> None:
    assert [clock(s) for s in (0, 17.92, 59.999, 83.5, 3599, 3600, 3725.6)] == [
        "0:00",
        "0:17",
        "0:59",
        "1:23",
        "59:59",
        "1:00:00",
        "1:02:05",
    ]


# ---------------------------------------------------------------------------------------------
# `narrate preview --serve`


def _get(
    url: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        conn.request(method, parts.path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.mark.e2e
def test_preview_serve_prints_the_url_and_stops_cleanly_on_ctrl_c(site: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "narrate", "preview", "plain", "--serve", "--port", "0"],
        cwd=site,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        # Ctrl-C's default action, even if this test runs with SIGINT ignored (nohup, CI).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/plain\.html", url), url
        status, headers, page = _get(url)
        assert status == 200 and b"data-narrate-chapters" in page
        mp3 = (site / "audio" / "plain.mp3").read_bytes()
        status, headers, data = _get(url.replace(".html", ".mp3"), {"Range": "bytes=1000-"})
        assert (status, data) == (206, mp3[1000:])
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
