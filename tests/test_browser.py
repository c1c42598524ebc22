"""The player in a real browser: headless Chromium (Debian's) driven by playwright.

The ImageNet article and a markup-laden one are built with the real engine, their preview pages
written by `narrate preview`, and a bare page holds both fragments pasted from `narrate embed`.
narrate's own Range-capable server serves the audio folder on 127.0.0.1. Every test fails on
any page error or console error. The last tests edit and rebuild an article under a fragment
pasted before the edit, as a site that never re-pastes it would.

Without Chromium (or playwright) these tests skip, saying why; with NARRATE_REQUIRE_BROWSER=1
(CI) they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from narrate.outputs.chapters import clock, parse_vtt
from narrate.web.page import server_url, serving
from tests.helpers import TRICKY_TITLE, TRICKY_YAML, copy_site, run_cli_ok

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]  # builds, then a browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SEEK_TOLERANCE = 0.05
TIMEOUT_MS = 10_000


def _unavailable() -> str | None:
    if not CHROMIUM.exists():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install 'narrate[test]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Launch Debian's headless Chromium once for the module, or skip (fail in CI)."""
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("NARRATE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"NARRATE_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build imagenet and tricky, write their previews and a bare page with both fragments."""
    site = copy_site(tmp_path_factory.mktemp("browser") / "site", articles={"tricky": TRICKY_YAML})
    fragments = []
    for slug in ("imagenet", "tricky"):
        run_cli_ok(slug, cwd=site)
        for command in ("preview", "embed"):
            result = run_cli_ok(command, slug, cwd=site)
        fragments.append(result.stdout)
    bare = (
        "<!doctype html>\n<html lang=en><meta charset=utf-8><title>Bare page</title>"
        '<link rel="icon" href="data:,">\n'
        "<body><h1>A site's own page</h1><p>Some text before.</p>\n"
        + "\n<p>Some text between.</p>\n".join(fragments)
        + "</body></html>\n"
    )
    (site / "audio" / "bare.html").write_text(bare, "utf-8")
    return site / "audio"


@pytest.fixture(scope="module")
def base_url(audio: Path) -> Iterator[str]:
    """Serve the audio folder with narrate's server for the module."""
    with serving(audio) as server:
        yield server_url(server)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """Return a fresh page; fail the test on any page error or console error."""
    # Reduced motion: the transcript's auto-scroll jumps instead of gliding, so a click is never
    # aimed at a sentence still moving under a smooth scroll (the one flake under load).
    context = browser.new_context(viewport={"width": 1100, "height": 900}, reduced_motion="reduce")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text}")

    def on_dialog(dialog: Dialog) -> None:  # alert() would mean article text ran as script
        errors.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", on_console)
    page.on("dialog", on_dialog)
    yield page
    context.close()
    assert errors == []


def chapters_of(audio: Path, slug: str) -> list[dict[str, Any]]:
    """Return the published JSON chapters."""
    data = json.loads((audio / f"{slug}.chapters.json").read_text("utf-8"))
    return list(data["chapters"])


def open_player(page: Page, url: str | None, slug: str = "imagenet") -> str:
    """Load ``url`` (None: reload the page), wait until the player's metadata is in, mute it;
    return its root selector."""
    root = f'[data-narrate="{slug}"]'
    if url is None:
        page.reload()
    else:
        page.goto(url)
    page.wait_for_function(
        "r => { const a = document.querySelector(r + ' audio');"
        " return a.readyState >= 1 && a.closest('[data-narrate-ready]'); }",
        arg=root,
    )
    page.evaluate("r => { document.querySelector(r + ' audio').muted = true; }", root)
    return root


def current_time(page: Page, root: str) -> float:
    """Return the player's currentTime."""
    return float(page.evaluate("r => document.querySelector(r + ' audio').currentTime", root))


PAGES = {"preview": "imagenet.html", "bare": "bare.html"}


@pytest.mark.parametrize("where", PAGES)
def test_chapter_track_has_one_cue_per_chapter(
    page: Page, base_url: str, audio: Path, where: str
) -> None:
    root = open_player(page, base_url + PAGES[where])
    cues = page.wait_for_function(
        """r => {
          const t = [...document.querySelector(r + ' audio').textTracks]
            .find(t => t.kind === 'chapters');
          return t && t.cues && t.cues.length
            && [...t.cues].map(c => [c.startTime, c.endTime, c.text]);
        }""",
        arg=root,
    ).json_value()
    expected = chapters_of(audio, "imagenet")
    assert [c[2] for c in cues] == [c["title"] for c in expected]
    for cue, chapter in zip(cues, expected, strict=True):
        assert cue[0] == pytest.approx(chapter["startTime"], abs=0.001)
        assert cue[1] == pytest.approx(chapter["endTime"], abs=0.001)


@pytest.mark.parametrize("where", PAGES)
def test_each_chapter_button_seeks_to_its_chapter_and_marks_it(
    page: Page, base_url: str, audio: Path, where: str
) -> None:
    root = open_player(page, base_url + PAGES[where])
    page.evaluate(
        """r => { const a = document.querySelector(r + ' audio'); window.seeks = [];
                  a.addEventListener('seeked', () => window.seeks.push(a.currentTime)); }""",
        root,
    )
    buttons = page.locator(f"{root} [data-narrate-chapters] button")
    chapters = chapters_of(audio, "imagenet")
    assert buttons.count() == len(chapters)
    for i, chapter in enumerate(chapters):
        button = buttons.nth(i)
        assert chapter["title"] in button.inner_text()
        button.click()
        page.wait_for_function("n => window.seeks.length === n", arg=i + 1)
        landed = page.evaluate("window.seeks[window.seeks.length - 1]")
        assert abs(landed - chapter["startTime"]) <= SEEK_TOLERANCE, chapter["title"]
        assert button.get_attribute("aria-current") == "true"
        assert page.locator(f"{root} [data-narrate-chapters] [aria-current]").count() == 1
    # Playing on from the last seek: the position did not snap back (Range requests work).
    page.wait_for_timeout(300)
    assert current_time(page, root) >= chapters[-1]["startTime"]
    assert not page.evaluate("r => document.querySelector(r + ' audio').paused", root)


@pytest.mark.parametrize("where", PAGES)
def test_playing_marks_the_sentence_being_spoken(
    page: Page, base_url: str, audio: Path, where: str
) -> None:
    root = open_player(page, base_url + PAGES[where])
    cues = parse_vtt((audio / "imagenet.transcript.vtt").read_text("utf-8"))
    chapter = chapters_of(audio, "imagenet")[1]
    # The first two sentences of the chapter: its heading, then the first of its prose.
    heading, first = [c for c in cues if c.start_ms / 1000 >= chapter["startTime"]][:2]
    page.locator(f"{root} [data-narrate-chapters] button").nth(1).click()
    for cue in (heading, first):
        page.wait_for_function(
            "id => document.querySelector('#narrate-imagenet-' + id)"
            ".getAttribute('aria-current') === 'true'",
            arg=cue.id,
            timeout=TIMEOUT_MS,
        )
        t = current_time(page, root)
        assert cue.start_ms / 1000 - 0.3 <= t <= cue.end_ms / 1000 + 0.5, (cue.text, t)
        marked = page.locator(f"{root} [data-narrate-transcript] [aria-current]")
        assert marked.count() == 1
        assert marked.inner_text() == cue.text


def test_clicking_a_sentence_seeks_there(page: Page, base_url: str, audio: Path) -> None:
    root = open_player(page, base_url + PAGES["preview"])
    cue = parse_vtt((audio / "imagenet.transcript.vtt").read_text("utf-8"))[20]
    sentence = page.locator(f"#narrate-imagenet-{cue.id}")
    sentence.click()
    page.wait_for_function(
        "id => document.getElementById(id).getAttribute('aria-current') === 'true'",
        arg=f"narrate-imagenet-{cue.id}",
    )
    assert current_time(page, root) >= cue.start_ms / 1000 - SEEK_TOLERANCE
    assert current_time(page, root) < cue.end_ms / 1000


def test_keyboard_tab_and_enter_plays_a_chapter(page: Page, base_url: str, audio: Path) -> None:
    root = open_player(page, base_url + PAGES["preview"])
    third = page.locator(f"{root} [data-narrate-chapters] button").nth(2)
    third.focus()
    page.keyboard.press("Enter")
    chapter = chapters_of(audio, "imagenet")[2]
    page.wait_for_function("r => !document.querySelector(r + ' audio').paused", arg=root)
    assert current_time(page, root) == pytest.approx(chapter["startTime"], abs=0.5)
    assert third.get_attribute("aria-current") == "true"
    # Every control has a name a screen reader can announce.
    assert page.get_attribute(f"{root} audio", "aria-label") == "Narration of ImageNet"
    assert page.get_attribute(f"{root} [data-narrate-chapters]", "aria-label") == "Chapters"
    assert page.get_attribute(f"{root} [data-narrate-transcript]", "aria-label") == "Transcript"


@pytest.mark.parametrize(
    ("link", "expected"), [("#t=83.5", 83.5), ("?t=1:23.5", 83.5), ("#t=200", 200.0)]
)
def test_deep_link_seeks_on_load(
    page: Page, base_url: str, audio: Path, link: str, expected: float
) -> None:
    root = open_player(page, base_url + PAGES["preview"] + link)
    page.wait_for_function(
        "([r, t]) => Math.abs(document.querySelector(r + ' audio').currentTime - t) < 0.05",
        arg=[root, expected],
    )
    chapters = chapters_of(audio, "imagenet")
    marked = [c for c in chapters if c["startTime"] <= expected][-1]
    assert (
        page.locator(f"{root} [data-narrate-chapters] [aria-current]")
        .inner_text()
        .startswith(f"{chapters.index(marked) + 1}")
    )


def test_deep_link_to_a_sentence_in_the_second_fragment(
    page: Page, base_url: str, audio: Path
) -> None:
    cue = parse_vtt((audio / "tricky.transcript.vtt").read_text("utf-8"))[-1]
    root = open_player(page, f"{base_url}bare.html#narrate-tricky-{cue.id}", slug="tricky")
    page.wait_for_function(
        "([r, t]) => Math.abs(document.querySelector(r + ' audio').currentTime - t) < 0.05",
        arg=[root, cue.start_ms / 1000],
    )
    assert current_time(page, '[data-narrate="imagenet"]') == 0


def test_two_fragments_on_one_page_play_one_at_a_time(page: Page, base_url: str) -> None:
    first = open_player(page, base_url + PAGES["bare"])
    second = '[data-narrate="tricky"]'
    page.evaluate("r => { document.querySelector(r + ' audio').muted = true; }", second)
    page.locator(f"{first} [data-narrate-chapters] button").nth(1).click()
    page.wait_for_function("r => !document.querySelector(r + ' audio').paused", arg=first)
    page.locator(f"{second} [data-narrate-chapters] button").nth(1).click()
    page.wait_for_function("r => !document.querySelector(r + ' audio').paused", arg=second)
    # paused turns false at play(); the other player is paused on the "play" event just after.
    page.wait_for_function("r => document.querySelector(r + ' audio').paused", arg=first)
    marked = page.locator(f"{second} [data-narrate-chapters] [aria-current]")
    assert "Q&A <i>time</i>" in marked.inner_text()


@pytest.mark.parametrize("where", ["tricky.html", "bare.html"])
def test_article_text_that_looks_like_markup_shows_as_text(
    page: Page, base_url: str, where: str
) -> None:
    root = open_player(page, base_url + where, slug="tricky")
    assert page.title() != "pwned"
    if where == "tricky.html":
        assert page.locator("h1").inner_text() == TRICKY_TITLE
        assert page.locator(".era").inner_text().lower() == "test <era> & co"
    assert page.locator("script").count() == (1 if where == "tricky.html" else 2)
    assert page.locator(f"{root} b, {root} i, {root} em").count() == 0
    titles = page.locator(f"{root} [data-narrate-chapters] .narrate-title").all_inner_texts()
    assert titles == [TRICKY_TITLE, "Q&A <i>time</i>"]
    spoken = page.locator(f"{root} [data-narrate-transcript] [data-start]").all_inner_texts()
    assert "This summary has <script>alert(1)</script> and an ampersand & in it." in spoken
    assert "A new paragraph with &amp; an entity." in spoken


def test_screenshot_of_the_preview_while_playing(page: Page, base_url: str, tmp_path: Path) -> None:
    root = open_player(page, base_url + PAGES["preview"])
    page.locator(f"{root} [data-narrate-chapters] button").nth(3).click()
    page.wait_for_function(
        "r => document.querySelector(r + ' [data-narrate-transcript] [aria-current]')", arg=root
    )
    page.wait_for_timeout(1500)
    shot = tmp_path / "preview.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


# ---------------------------------------------------------------------------------------------
# A fragment pasted before a rebuild

OLD_SENTENCE = (
    "Created between 2007 and 2009, ImageNet became a transformative force in AI research."
)
NEW_SENTENCE = (
    "Created between 2007 and 2009 by a small team of researchers at Princeton University, "
    "ImageNet soon became a transformative force in AI research."
)
ADDED_SECTION = """\
  - heading: "Added <b>later</b> & more"
    paragraphs:
      - "A sentence that was not there before."
"""


@pytest.fixture
def pasted(audio: Path, tmp_path: Path) -> Path:
    """Return a site with imagenet and tricky built and their fragments pasted in bare.html."""
    site = copy_site(tmp_path / "site", articles={"tricky": TRICKY_YAML})
    cache = audio.parent / ".cache"
    if cache.is_dir():  # the module's sentences: only edited ones are synthesised again
        shutil.copytree(cache, site / ".cache")
    fragments = []
    for slug in ("imagenet", "tricky"):
        run_cli_ok(slug, cwd=site)
        fragments.append(run_cli_ok("embed", slug, cwd=site).stdout)
    page = "<!doctype html>\n<html lang=en><meta charset=utf-8><title>Pasted</title>"
    page += '<link rel="icon" href="data:,">\n<body>\n' + "\n".join(fragments) + "</body></html>\n"
    (site / "audio" / "bare.html").write_text(page, "utf-8")
    return site


def wait_synced(page: Page, root: str) -> None:
    """Wait until the fragment has taken its times from both published tracks."""
    page.wait_for_function(
        "r => document.querySelector(r).hasAttribute('data-narrate-synced')", arg=root
    )


def seek_by_click(page: Page, locator: Any) -> float:
    """Click ``locator`` and return where the player's next seek landed."""
    page.evaluate(
        """() => { window.landed = null; document.querySelectorAll('audio').forEach(a =>
             a.addEventListener('seeked', () => { window.landed = a.currentTime; },
                                { once: true })); }"""
    )
    locator.click()
    page.wait_for_function("window.landed !== null")
    return float(page.evaluate("window.landed"))


def test_a_fragment_pasted_before_a_rebuild_seeks_by_the_new_tracks(
    page: Page, pasted: Path
) -> None:
    audio = pasted / "audio"
    old_chapters = chapters_of(audio, "imagenet")
    old_cues = {c.text: c for c in parse_vtt((audio / "imagenet.transcript.vtt").read_text())}
    edited = old_cues[OLD_SENTENCE]
    with serving(audio) as server:
        root = open_player(page, server_url(server, "bare.html"))
        wait_synced(page, root)
        buttons = page.locator(f"{root} [data-narrate-chapters] button")
        landed = seek_by_click(page, buttons.nth(4))
        assert abs(landed - old_chapters[4]["startTime"]) <= SEEK_TOLERANCE

        # An editor changes one sentence of the introduction and rebuilds; nobody re-pastes.
        article = pasted / "content" / "imagenet.yaml"
        text = article.read_text("utf-8")
        assert text.count(OLD_SENTENCE) == 1
        article.write_text(text.replace(OLD_SENTENCE, NEW_SENTENCE), "utf-8")
        run_cli_ok("imagenet", cwd=pasted)
        chapters = chapters_of(audio, "imagenet")
        cues = parse_vtt((audio / "imagenet.transcript.vtt").read_text("utf-8"))
        moved = [
            c
            for c, o in zip(chapters, old_chapters, strict=True)
            if c["startTime"] - o["startTime"] > 0.5
        ]
        assert len(moved) >= len(chapters) - 3, "the edit should move the later chapters"
        bare = (audio / "bare.html").read_text("utf-8")
        assert f'data-start="{old_chapters[4]["startTime"]!r}"' in bare  # still the old times

        root = open_player(page, None)
        wait_synced(page, root)
        assert buttons.count() == len(chapters)
        for i, chapter in enumerate(chapters):
            landed = seek_by_click(page, buttons.nth(i))
            assert abs(landed - chapter["startTime"]) <= SEEK_TOLERANCE, chapter["title"]
            assert buttons.nth(i).get_attribute("aria-current") == "true"
            assert buttons.nth(i).locator("time").inner_text() == clock(chapter["startTime"])

        # Every sentence still in the track has its new times; the edited one is marked stale.
        spans = page.locator(f"{root} [data-narrate-transcript] [data-cue]")
        shown = spans.evaluate_all(
            "els => els.map(e => [e.dataset.cue, +e.dataset.start, +e.dataset.end,"
            " e.hasAttribute('data-stale')])"
        )
        new = {c.id: c for c in cues}
        for cue_id, start, end, stale in shown:
            if cue_id == edited.id:
                assert stale and start == edited.start_ms / 1000
            else:
                assert not stale
                assert (start, end) == (new[cue_id].start_ms / 1000, new[cue_id].end_ms / 1000)
        assert edited.id not in new and len(shown) == len(cues)
        # A stale sentence still plays from where it was.
        landed = seek_by_click(page, page.locator(f"#narrate-imagenet-{edited.id}"))
        assert abs(landed - edited.start_ms / 1000) <= SEEK_TOLERANCE

        # The length shown is the rebuilt audio's, not the one baked into the fragment.
        duration = float(page.evaluate("r => document.querySelector(r + ' audio').duration", root))
        assert duration == pytest.approx(chapters[-1]["endTime"], abs=0.2)
        head = page.locator(f"{root} [data-narrate-summary]").inner_text()
        assert head == f"{clock(duration)} · {len(chapters)} chapters"


def test_a_pasted_chapter_list_is_rebuilt_when_chapters_are_added(page: Page, pasted: Path) -> None:
    audio = pasted / "audio"
    (pasted / "content" / "tricky.yaml").write_text(TRICKY_YAML + ADDED_SECTION, "utf-8")
    run_cli_ok("tricky", cwd=pasted)
    chapters = chapters_of(audio, "tricky")
    assert len(chapters) == 3
    with serving(audio) as server:
        root = open_player(page, server_url(server, "bare.html"), slug="tricky")
        wait_synced(page, root)
        nav = f"{root} [data-narrate-chapters]"
        titles = page.locator(f"{nav} .narrate-title").all_inner_texts()
        assert titles == [c["title"] for c in chapters]
        assert titles[-1] == "Added <b>later</b> & more"  # text from the track, not markup
        assert page.locator(f"{root} b, {root} i, {root} em").count() == 0
        numbers = page.locator(f"{nav} .narrate-n").all_inner_texts()
        assert numbers == ["1", "2", "3"]
        last = page.locator(f"{nav} button").nth(2)
        landed = seek_by_click(page, last)
        assert abs(landed - chapters[2]["startTime"]) <= SEEK_TOLERANCE
        assert last.get_attribute("aria-current") == "true"
        assert page.locator(f"{root} [data-narrate-summary]").inner_text().endswith("3 chapters")
        assert page.locator(f"{root} [data-stale]").count() == 0
