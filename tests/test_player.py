"""The listener's player in a real browser: words, controls, keys, resume, lock screen, axe.

ImageNet and a markup-laden article are built with the fake backend (fast: speech-like audio
of known length), their previews written, and a bare page holds both fragments. Headless
Chromium plays them muted (its fake audio output needs no sound device). The first tests need
no browser: the word times the page is given, from estimates or a JSON transcript.

axe-core (the npm package's ``axe.min.js``) is looked for at ``$NARRATE_AXE_JS``, then
``node_modules/axe-core`` in the repository, then npm's global folder. Without it the axe
tests skip; with NARRATE_REQUIRE_BROWSER=1 (CI) they fail, as every browser test does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from narrate.outputs.chapters import Cue, displayed_words, parse_vtt
from narrate.web import words
from narrate.web.page import server_url, serving
from tests.helpers import ROOT, TRICKY_YAML, copy_site, run_cli_ok
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, _unavailable, open_player

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [pytest.mark.browser]  # all but the first three drive Chromium

FAKE = {"backend: pyttsx3": "backend: fake"}
RATES = [0.75, 1, 1.25, 1.5, 1.75, 2]
SLOW_FIXTURES = ("browser", "site")
# Record the Media Session handlers and position states the page sets: they cannot be read back.
CAPTURE = """
window.__ms = {}; window.__pos = [];
if (navigator.mediaSession) {
  const ms = navigator.mediaSession;
  const set = ms.setActionHandler.bind(ms), pos = ms.setPositionState.bind(ms);
  ms.setActionHandler = (a, h) => { window.__ms[a] = h; set(a, h); };
  ms.setPositionState = s => { window.__pos.push(s); pos(s); };
}
"""


def _require_or_skip(reason: str) -> None:
    if os.environ.get("NARRATE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"NARRATE_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


# ---------------------------------------------------------------------------------------------
# Word times given to the page (no browser)


def test_estimates_spread_a_sentence_by_characters() -> None:
    cue = Cue("s-1", 1000, 2000, "a bbb cc")
    # weights 2, 4, 3 of 9
    assert words.estimate(cue) == (1000, 1000 + 2000 // 9, 1000 + 6000 // 9)


def test_encoded_word_times_do_not_accumulate_rounding() -> None:
    cue = Cue("s-1", 1000, 5000, "one two three four")
    starts = [1004, 1338, 1672, 2006]
    encoded = words.encode(cue, starts)
    total, back = 0, []
    for delta in map(int, encoded.split()):
        total += delta
        back.append(1000 + total * 10)
    assert all(abs(a - b) <= 5 for a, b in zip(back, starts, strict=True))


def test_json_segments_map_to_the_words_of_each_cue() -> None:
    cues = [Cue("s-a", 0, 1000, "Hello there."), Cue("s-b", 1500, 2600, "Two words, three")]
    seg = words.Segment
    segments = [seg(10, 400, "Hello"), seg(420, 990, "there.")]
    segments += [seg(1500, 1800, "Two"), seg(1820, 2100, "words,"), seg(2120, 2600, "three")]
    assert words.from_segments(cues, segments) == {"s-a": (10, 420), "s-b": (1500, 1820, 2120)}
    # A cue whose segments do not match its words keeps estimates.
    assert words.from_segments(cues, segments[:4]) == {"s-a": (10, 420)}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build imagenet with the fake backend (no word times: the page estimates them) and
    tricky with the one that marks its words; previews and a bare page with both."""
    site = copy_site(
        tmp_path_factory.mktemp("player") / "site",
        articles={"tricky": TRICKY_YAML},
        config_edits=FAKE,
    )
    fragments = []
    for slug in ("imagenet", "tricky"):
        marking = ["--backend", "fake-words"] if slug == "tricky" else []
        run_cli_ok(slug, *marking, cwd=site, fakes=True)
        run_cli_ok("preview", slug, cwd=site, fakes=True)
        fragments.append(run_cli_ok("embed", slug, cwd=site, fakes=True).stdout)
    bare = (
        "<!doctype html>\n<html lang=en><meta charset=utf-8><title>Bare page</title>"
        '<link rel="icon" href="data:,">\n<body><main><h1>A site\'s own page</h1>\n'
        + "\n<p>Some text between.</p>\n".join(fragments)
        + "</main></body></html>\n"
    )
    (site / "audio" / "bare.html").write_text(bare, "utf-8")
    plain = re.sub(r"<script>.*?</script>", "", fragments[0], flags=re.S)
    (site / "audio" / "noscript.html").write_text(
        "<!doctype html><html lang=en><meta charset=utf-8><title>No script</title>"
        f'<link rel="icon" href="data:,"><body><main><h1>Plain</h1>{plain}</main></body></html>',
        "utf-8",
    )
    return site


def cues_of(site: Path, slug: str = "imagenet") -> list[Cue]:
    return parse_vtt((site / "audio" / f"{slug}.transcript.vtt").read_text("utf-8"))


def chapters_of(site: Path, slug: str = "imagenet") -> list[dict[str, Any]]:
    data = json.loads((site / "audio" / f"{slug}.chapters.json").read_text("utf-8"))
    return list(data["chapters"])


def test_word_times_from_the_build_ride_in_the_fragment(tmp_path: Path) -> None:
    """Built by an engine that marks its words: each sentence's ``data-w`` decodes to the
    starts of its words in the JSON transcript (to the centisecond), none is estimated."""
    work = copy_site(tmp_path / "site", config_edits=FAKE)
    run_cli_ok("imagenet", "--backend", "fake-words", cwd=work, fakes=True)
    fragment = run_cli_ok("embed", "imagenet", cwd=work, fakes=True).stdout
    assert re.search(r'data-cue="[^"]*"[^>]*data-word-estimated', fragment) is None
    segments = json.loads((work / "audio" / "imagenet.transcript.json").read_text("utf-8"))
    starts = [round(s["startTime"] * 1000) for s in segments["segments"]]
    checked = 0
    for cue in cues_of(work):
        n = len(displayed_words(cue.text))
        mine, starts = starts[:n], starts[n:]
        span = re.search(rf'data-cue="{cue.id}"[^>]*?(?: data-w="([^"]*)")?>', fragment)
        assert span is not None
        if n == 1:  # one word starts with its sentence (its sound, a few ms in): nothing to carry
            assert span.group(1) is None and 0 <= mine[0] - cue.start_ms <= 20
            continue
        total, back = 0, []
        for delta in map(int, span.group(1).split()):
            total += delta
            back.append(cue.start_ms + 10 * total)
        assert all(abs(a - b) <= 5 for a, b in zip(back, mine, strict=True)), cue.id
        checked += 1
    assert checked > 40 and not starts


# ---------------------------------------------------------------------------------------------
# The browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Launch Debian's headless Chromium once for the module, or skip (fail in CI)."""
    reason = _unavailable()
    if reason is not None:
        _require_or_skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        args = [*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    with serving(site / "audio") as server:
        yield server_url(server)


def new_page(browser: Browser, **options: Any) -> tuple[Page, list[str]]:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, **options)
    context.add_init_script(CAPTURE)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page, errors


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page (its own storage); the test fails on any page or console error."""
    page, errors = new_page(browser)
    yield page
    page.context.close()
    assert errors == []


def js(page: Page, root: str, body: str, arg: Any = None) -> Any:
    """Evaluate ``body`` with ``a`` the player's audio and ``root`` its root element."""
    return page.evaluate(
        f"([r, arg]) => {{ const root = document.querySelector(r), a = root.querySelector('audio');"
        f" {body} }}",
        [root, arg],
    )


def seek(page: Page, root: str, t: float) -> None:
    """Seek the player (as the native bar would) and wait for it to land."""
    js(
        page,
        root,
        "window.__landed = false; a.addEventListener('seeked', () => "
        "{ window.__landed = true; }, { once: true }); a.currentTime = arg;",
        t,
    )
    page.wait_for_function("window.__landed")


def current_word(page: Page, root: str) -> dict[str, Any] | None:
    result: dict[str, Any] | None = js(
        page,
        root,
        "const w = root.querySelectorAll('[data-current]'); if (w.length !== 1) return null;"
        " return { text: w[0].textContent, start: +w[0].dataset.wordStart,"
        " cue: w[0].closest('[data-cue]').dataset.cue, n: w.length };",
    )
    return result


def word_list(page: Page, root: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = js(
        page,
        root,
        "return [...root.querySelectorAll('[data-word-start]')].map(w => ({ text: w.textContent,"
        " start: +w.dataset.wordStart, cue: w.closest('[data-cue]').dataset.cue }));",
    )
    return result


def test_every_word_is_an_element_with_its_start(page: Page, base_url: str, site: Path) -> None:
    root = open_player(page, base_url + "imagenet.html")
    page.wait_for_function(
        "r => document.querySelector(r).hasAttribute('data-narrate-synced')", arg=root
    )
    shown = word_list(page, root)
    cues = {c.id: c for c in cues_of(site)}
    assert [w["text"] for w in shown] == [w for c in cues_of(site) for w in displayed_words(c.text)]
    for w in shown:
        cue = cues[w["cue"]]
        assert cue.start_ms / 1000 - 0.001 <= w["start"] <= cue.end_ms / 1000
    # Estimates until the build writes word times, and marked so (but a one-word sentence).
    exact = page.locator(f"{root} [data-cue]:not([data-word-estimated])").all_inner_texts()
    assert exact and all(len(displayed_words(text)) == 1 for text in exact)
    # The script adds the words: the text as pasted is unchanged.
    assert page.locator(f"{root} [data-cue]").nth(3).inner_text() == cues_of(site)[3].text


def test_the_word_at_each_seek_is_highlighted(page: Page, base_url: str) -> None:
    root = open_player(page, base_url + "imagenet.html")
    shown = word_list(page, root)
    for i in (5, 40, 41, len(shown) // 2, len(shown) - 2, 12):
        target = shown[i]
        gap = shown[i + 1]["start"] - target["start"]
        seek(page, root, target["start"] + min(0.05, gap / 2))
        got = current_word(page, root)
        assert got is not None and got["start"] == target["start"], (i, target, got)
        marked = page.locator(f"{root} [data-narrate-transcript] [aria-current]")
        assert marked.get_attribute("data-cue") == target["cue"]


def test_the_engines_word_times_reach_the_page(page: Page, base_url: str, site: Path) -> None:
    root = open_player(page, base_url + "tricky.html", slug="tricky")
    shown = word_list(page, root)
    data = json.loads((site / "audio" / "tricky.transcript.json").read_text("utf-8"))
    assert [w["text"] for w in shown] == [s["body"] for s in data["segments"]]
    cue = None
    for w, s in zip(shown, data["segments"], strict=True):  # centiseconds in the fragment
        # A sentence's first word is shown from its start (its sound begins a few ms in).
        first, cue = w["cue"] != cue, w["cue"]
        assert abs(w["start"] - s["startTime"]) <= (0.02 if first else 0.0051), (w, s)
    assert page.locator(f"{root} [data-word-estimated]").count() == 0
    for i in (3, len(shown) // 2, len(shown) - 2):
        seek(page, root, shown[i]["start"] + 0.02)
        got = current_word(page, root)
        assert got is not None and got["start"] == shown[i]["start"], (i, got)


def sample_while_playing(page: Page, root: str, seconds: float) -> dict[str, Any]:
    """Play and check, on every animation frame, which word is marked against currentTime."""
    result: dict[str, Any] = page.evaluate(
        """([r, ms]) => new Promise(done => {
          const root = document.querySelector(r), a = root.querySelector('audio');
          const starts = [...root.querySelectorAll('[data-word-start]')];
          let frames = 0, right = 0, off = [];
          const t0 = performance.now(), c0 = a.currentTime;
          function frame() {
            const t = a.currentTime, cur = root.querySelector('[data-current]');
            let k = -1;
            for (let i = 0; i < starts.length; i++) {
              if (+starts[i].dataset.wordStart <= t + 0.001) k = i;
            }
            frames++;
            // A frame may sample before the player's own frame ran: one word behind, just late.
            const late = k > 0 && cur === starts[k - 1] && t - starts[k].dataset.wordStart < 0.1;
            if (cur && (starts[k] === cur || late)) right++;
            else off.push([t, k >= 0 ? starts[k].textContent : null, cur && cur.textContent]);
            if (performance.now() - t0 < ms) requestAnimationFrame(frame);
            else done({ frames, right, off: off.slice(0, 5), media: a.currentTime - c0,
                        wall: (performance.now() - t0) / 1000, paused: a.paused });
          }
          requestAnimationFrame(frame);
        })""",
        [root, seconds * 1000],
    )
    return result


@pytest.mark.parametrize("rate", [1.0, 1.5])
def test_the_spoken_word_is_highlighted_while_playing(
    page: Page, base_url: str, rate: float
) -> None:
    root = open_player(page, base_url + "imagenet.html")
    shown = word_list(page, root)
    seek(page, root, shown[30]["start"])
    js(page, root, "a.playbackRate = arg; a.play().catch(() => {});", rate)
    page.wait_for_function(
        "([r, t]) => document.querySelector(r + ' audio').currentTime > t",
        arg=[root, shown[30]["start"] + 0.2],
    )
    got = sample_while_playing(page, root, 2.5)
    assert not got["paused"] and got["frames"] > 20
    assert got["right"] >= 0.97 * got["frames"], got
    assert got["media"] == pytest.approx(got["wall"] * rate, rel=0.25), got


def test_clicking_a_word_seeks_to_it_and_plays(page: Page, base_url: str) -> None:
    root = open_player(page, base_url + "imagenet.html")
    word = page.locator(f"{root} [data-word-start]").nth(77)
    start = float(word.get_attribute("data-word-start") or "nan")
    js(
        page,
        root,
        "window.__landed = null; window.__marked = null;"
        " a.addEventListener('seeked', () => { window.__landed = a.currentTime; }, { once: true });"
        " const o = new MutationObserver(list => { for (const m of list) {"
        "   if (window.__marked === null && m.target.hasAttribute('data-current'))"
        "     window.__marked = +m.target.dataset.wordStart; } });"
        " o.observe(root, { subtree: true, attributes: true, attributeFilter: ['data-current'] });",
    )
    word.click()
    page.wait_for_function("window.__landed !== null && window.__marked !== null")
    assert page.evaluate("window.__landed") == pytest.approx(start, abs=0.05)
    assert page.evaluate("window.__marked") == start  # the clicked word lights up first
    page.wait_for_function("r => !document.querySelector(r + ' audio').paused", arg=root)


def test_each_control_does_what_it_says(page: Page, base_url: str, site: Path) -> None:
    root = open_player(page, base_url + "imagenet.html")
    chapters = chapters_of(site)
    button = {
        name: page.locator(f'{root} button[data-narrate-action="{name}"]')
        for name in ("play", "back", "forward", "prev-chapter", "next-chapter", "speed")
    }
    for b in button.values():
        assert b.is_visible() and b.inner_text().strip()
    button["play"].click()
    page.wait_for_function("r => !document.querySelector(r + ' audio').paused", arg=root)
    assert button["play"].inner_text() == "Pause"
    button["play"].click()
    page.wait_for_function("r => document.querySelector(r + ' audio').paused", arg=root)
    assert button["play"].inner_text() == "Play"

    def lands(name: str, expected: float) -> None:
        js(
            page,
            root,
            "window.__landed = null; a.addEventListener('seeked', () => "
            "{ window.__landed = a.currentTime; }, { once: true });",
        )
        button[name].click()
        page.wait_for_function("window.__landed !== null")
        assert page.evaluate("window.__landed") == pytest.approx(expected, abs=0.05), name

    seek(page, root, 100)
    lands("back", 85)
    lands("forward", 115)
    here = [c for c in chapters if c["startTime"] <= 115][-1]
    following = chapters[chapters.index(here) + 1]
    lands("next-chapter", following["startTime"])
    lands("prev-chapter", here["startTime"])  # within 3 s of its start: the one before
    seek(page, root, following["startTime"] + 10)
    lands("prev-chapter", following["startTime"])  # well into it: its start
    shown = []
    for _ in RATES:
        button["speed"].click()
        shown.append((button["speed"].inner_text(), js(page, root, "return a.playbackRate;")))
    assert shown == [(f"Speed {r}×", r) for r in [*RATES[2:], *RATES[:2]]]
    download = page.locator(f'{root} a[data-narrate-action="download"]')
    assert download.get_attribute("download") == ""
    assert re.fullmatch(r"imagenet\.mp3\?v=[0-9a-f]{12}", download.get_attribute("href") or "")
    assert download.inner_text().startswith("Download MP3 (")


def test_keyboard_shortcuts(page: Page, base_url: str) -> None:
    root = open_player(page, base_url + "imagenet.html")

    def rate() -> float:
        return float(js(page, root, "return a.playbackRate;"))

    page.locator(f'{root} button[data-narrate-action="speed"]').focus()
    page.keyboard.press("k")
    page.wait_for_function("r => !document.querySelector(r + ' audio').paused", arg=root)
    page.keyboard.press("k")
    page.wait_for_function("r => document.querySelector(r + ' audio').paused", arg=root)
    page.keyboard.press(">")
    page.keyboard.press(">")
    assert rate() == 1.5
    page.keyboard.press("<")
    assert rate() == 1.25
    seek(page, root, 60)
    page.keyboard.press("j")
    page.wait_for_function(
        "r => Math.abs(document.querySelector(r + ' audio').currentTime - 45) < 0.05", arg=root
    )
    page.keyboard.press("l")
    page.wait_for_function(
        "r => Math.abs(document.querySelector(r + ' audio').currentTime - 75) < 0.05", arg=root
    )
    # Space plays or pauses anywhere in the player but on a button or link (which it presses).
    page.locator(f"{root} [data-cue]").first.focus()
    page.keyboard.press(" ")
    page.wait_for_function("r => !document.querySelector(r + ' audio').paused", arg=root)
    page.keyboard.press(" ")
    page.wait_for_function("r => document.querySelector(r + ' audio').paused", arg=root)
    assert js(page, root, "return a.paused;")


def focused(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        "() => { const e = document.activeElement, s = e.closest('[data-cue]');"
        " return { cue: s && s.dataset.cue, word: e.hasAttribute('data-word-start') ?"
        " e.textContent : null, tabbable: [...document.querySelectorAll("
        "'[data-narrate-transcript] [tabindex=\"0\"]')].map(x => x.dataset.cue) }; }"
    )
    return result


def test_the_transcript_is_one_tab_stop_with_arrow_keys_inside(
    page: Page, base_url: str, site: Path
) -> None:
    root = open_player(page, base_url + "imagenet.html")
    cues = cues_of(site)
    page.locator(f"{root} [data-narrate-chapters] button").last.focus()
    page.keyboard.press("Tab")
    assert focused(page) == {"cue": cues[0].id, "word": None, "tabbable": [cues[0].id]}
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert focused(page) == {"cue": cues[2].id, "word": None, "tabbable": [cues[2].id]}
    page.keyboard.press("ArrowUp")
    assert focused(page)["cue"] == cues[1].id
    first, second = displayed_words(cues[1].text)[:2]
    page.keyboard.press("ArrowRight")
    assert focused(page)["word"] == first
    page.keyboard.press("ArrowRight")
    assert focused(page)["word"] == second
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")  # from the first word back to the last of the sentence before
    assert focused(page) == {
        "cue": cues[0].id,
        "word": displayed_words(cues[0].text)[-1],
        "tabbable": [cues[0].id],
    }
    # Focus is visible: an outline in the accent.
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    word = page.evaluate("() => +document.activeElement.dataset.wordStart")
    # Where it landed, caught as it lands: read afterwards, a loaded machine has played on.
    js(
        page,
        root,
        "window.__landed = null; a.addEventListener('seeked', () =>"
        " { window.__landed = a.currentTime; }, { once: true });",
    )
    page.keyboard.press("Enter")  # plays from the focused word
    page.wait_for_function("r => !document.querySelector(r + ' audio').paused", arg=root)
    page.wait_for_function("window.__landed !== null")
    assert page.evaluate("window.__landed") == pytest.approx(word, abs=0.05)
    page.keyboard.press("Shift+Tab")  # out of the transcript in one step
    assert (
        page.evaluate("() => document.activeElement.closest('[data-narrate-transcript]')") is None
    )


def test_reload_resumes_at_the_same_sentence_without_playing(
    page: Page, base_url: str, site: Path
) -> None:
    root = open_player(page, base_url + "imagenet.html")
    cue = cues_of(site)[25]
    seek(page, root, cue.start_ms / 1000 + 0.8)
    js(page, root, "a.play().catch(() => {});")
    page.wait_for_timeout(1200)
    js(page, root, "a.pause();")
    here = js(page, root, "return a.currentTime;")
    spot = page.evaluate("() => JSON.parse(localStorage.getItem('narrate:position:imagenet'))")
    assert spot["cue"] in {c.id for c in cues_of(site)}
    root = open_player(page, None)
    page.wait_for_function(
        "([r, t]) => Math.abs(document.querySelector(r + ' audio').currentTime - t) < 0.05",
        arg=[root, here],
    )
    assert js(page, root, "return a.paused;")
    assert page.locator(f"{root} [data-narrate-transcript] [aria-current]").count() == 1
    # After a rebuild the sentence may start elsewhere: the sentence key wins over the time.
    # (Written from a page without the player, which would save its own position on leaving.)
    page.goto(base_url + "noscript.html")
    page.evaluate(
        "id => localStorage.setItem('narrate:position:imagenet',"
        " JSON.stringify({ cue: id, offset: 0.25, t: 3.0 }))",
        cue.id,
    )
    root = open_player(page, base_url + "imagenet.html")
    page.wait_for_function(
        "([r, t]) => Math.abs(document.querySelector(r + ' audio').currentTime - t) < 0.05",
        arg=[root, cue.start_ms / 1000 + 0.25],
    )
    assert js(page, root, "return a.paused;")


def test_a_finished_article_starts_over(page: Page, base_url: str) -> None:
    root = open_player(page, base_url + "tricky.html", slug="tricky")
    duration = js(page, root, "return a.duration;")
    seek(page, root, duration - 1.0)
    js(page, root, "a.play().catch(() => {});")
    page.wait_for_function("r => document.querySelector(r + ' audio').ended", arg=root)
    assert page.evaluate("() => localStorage.getItem('narrate:position:tricky')") is None
    root = open_player(page, None, slug="tricky")
    page.wait_for_timeout(300)
    assert js(page, root, "return a.currentTime;") == 0


def test_speed_is_remembered_for_the_site_and_players_stay_independent(
    page: Page, base_url: str
) -> None:
    root = open_player(page, base_url + "imagenet.html")
    speed = page.locator(f'{root} button[data-narrate-action="speed"]')
    speed.click()
    speed.click()
    assert speed.inner_text() == "Speed 1.5×"
    first = open_player(page, base_url + "bare.html")  # same site, another page
    second = '[data-narrate="tricky"]'
    for r in (first, second):
        assert js(page, r, "return a.playbackRate;") == 1.5
        assert page.locator(f"{r} [data-narrate-rate]").inner_text() == "1.5×"
    page.locator(f'{second} button[data-narrate-action="speed"]').click()
    assert js(page, second, "return a.playbackRate;") == 1.75
    assert js(page, first, "return a.playbackRate;") == 1.5  # the other player is its own
    seek(page, first, 50)
    page.locator(f'{second} button[data-narrate-action="forward"]').click()
    page.wait_for_function("r => document.querySelector(r + ' audio').currentTime > 0", arg=second)
    assert js(page, first, "return a.currentTime;") == pytest.approx(50, abs=0.05)


def test_media_session_metadata_and_handlers(page: Page, base_url: str, site: Path) -> None:
    root = open_player(page, base_url + "imagenet.html")
    chapters = chapters_of(site)
    js(page, root, "a.play().catch(() => {});")
    page.wait_for_function("() => navigator.mediaSession.metadata")
    meta = page.evaluate(
        "() => { const m = navigator.mediaSession.metadata;"
        " return [m.title, m.artist, m.album, navigator.mediaSession.playbackState]; }"
    )
    assert meta == ["ImageNet", "AI Milestones", "AI Milestones", "playing"]
    handlers = page.evaluate("() => Object.keys(window.__ms).sort()")
    assert handlers == sorted(
        ["play", "pause", "seekbackward", "seekforward", "seekto", "previoustrack", "nexttrack"]
    )

    def call(action: str, details: dict[str, Any], expected: float | None = None) -> None:
        js(
            page,
            root,
            "window.__ms[arg[0]](Object.assign({ action: arg[0] }, arg[1]));",
            [action, details],
        )
        if expected is not None:
            page.wait_for_function(
                "([r, t]) => Math.abs(document.querySelector(r + ' audio').currentTime - t) < 0.05",
                arg=[root, expected],
            )

    call("pause", {})
    page.wait_for_function("r => document.querySelector(r + ' audio').paused", arg=root)
    call("seekto", {"seekTime": 100}, 100)
    call("seekforward", {}, 130)
    call("seekbackward", {"seekOffset": 10}, 120)
    here = [c for c in chapters if c["startTime"] <= 120][-1]
    call("nexttrack", {}, chapters[chapters.index(here) + 1]["startTime"])
    call("previoustrack", {}, here["startTime"])
    call("play", {})
    page.wait_for_function("r => !document.querySelector(r + ' audio').paused", arg=root)
    last = page.evaluate("() => window.__pos[window.__pos.length - 1]")
    assert last["duration"] == pytest.approx(js(page, root, "return a.duration;"))
    assert last["playbackRate"] == 1
    assert abs(last["position"] - js(page, root, "return a.currentTime;")) < 1.0


def axe_source() -> str | None:
    """Return the text of axe-core's axe.min.js, or None if it cannot be found."""
    places = [os.environ.get("NARRATE_AXE_JS", ""), str(ROOT / "node_modules")]
    npm = shutil.which("npm")
    if npm:
        result = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, timeout=30)
        places.append(result.stdout.strip())
    for place in filter(None, places):
        path = Path(place)
        if path.is_dir():
            path = path / "axe-core" / "axe.min.js"
        if path.is_file():
            return path.read_text("utf-8")
    return None


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("where", ["imagenet.html", "bare.html"])
def test_axe_finds_no_wcag_a_or_aa_violation(
    browser: Browser, base_url: str, scheme: str, where: str
) -> None:
    source = axe_source()
    if source is None:
        _require_or_skip("axe-core is not installed (npm install axe-core; or set NARRATE_AXE_JS)")
    page, errors = new_page(browser, color_scheme=scheme)
    try:
        root = open_player(page, base_url + where)
        page.add_script_tag(content=source)
        # While playing: the current chapter, sentence and word are marked.
        page.locator(f"{root} [data-narrate-chapters] button").nth(2).click()
        page.wait_for_function("r => document.querySelector(r + ' [data-current]')", arg=root)
        js(page, root, "a.pause();")
        result = page.evaluate(
            """() => axe.run(document, { runOnly: { type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
               .then(r => r.violations.map(v => ({ id: v.id, nodes: v.nodes.slice(0, 3)
                 .map(n => n.target.join(' ') + ': ' + n.failureSummary) })))"""
        )
        assert result == [], json.dumps(result, indent=1)
    finally:
        page.context.close()
    assert errors == []


def test_headings_and_reduced_motion(browser: Browser, base_url: str) -> None:
    page, errors = new_page(browser, reduced_motion="reduce")
    try:
        root = open_player(page, base_url + "imagenet.html")
        headings = page.locator(f"{root} h2, {root} h3").all_text_contents()
        assert headings == ["Listen to this article", "Chapters", "Transcript"]
        style = page.evaluate(
            "r => getComputedStyle(document.querySelector(r + ' [data-narrate-transcript]'))"
            ".scrollBehavior",
            root,
        )
        assert style == "auto"
    finally:
        page.context.close()
    assert errors == []


def test_without_the_script_the_text_and_the_native_player_work(
    page: Page, base_url: str, site: Path
) -> None:
    page.goto(base_url + "noscript.html")
    root = '[data-narrate="imagenet"]'
    page.wait_for_function("r => document.querySelector(r + ' audio').readyState >= 1", arg=root)
    assert page.locator(f"{root} [data-narrate-buttons]").is_hidden()
    assert page.locator(f'{root} a[data-narrate-action="download"]').is_visible()
    text = page.locator(f"{root} [data-narrate-transcript]").inner_text()
    assert cues_of(site)[10].text in text
    js(page, root, "a.muted = true; a.play().catch(() => {});")
    page.wait_for_function("r => document.querySelector(r + ' audio').currentTime > 0.3", arg=root)


def _vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def test_a_pasted_fragment_takes_word_times_from_the_tracks_inline_timestamps(
    page: Page, site: Path, tmp_path: Path
) -> None:
    """A build that writes WebVTT inline timestamps reaches a page pasted before it."""
    work = tmp_path / "site"
    shutil.copytree(site, work)
    vtt = work / "audio" / "imagenet.transcript.vtt"
    cues = cues_of(work)
    expected: dict[str, list[float]] = {}
    blocks = ["WEBVTT\n"]
    for cue in cues:
        shown = displayed_words(cue.text)
        step = (cue.end_ms - cue.start_ms) / 1000 / len(shown)
        starts = [cue.start_ms / 1000 + i * step for i in range(len(shown))]
        expected[cue.id] = [round(t, 3) for t in starts]
        text = shown[0] + "".join(
            f" <{_vtt_time(t)}>{w}" for t, w in zip(starts[1:], shown[1:], strict=True)
        )
        text = text.replace("&", "&amp;")
        head = f"{_vtt_time(cue.start_ms / 1000)} --> {_vtt_time(cue.end_ms / 1000)}"
        blocks.append(f"{cue.id}\n{head}\n{text}\n")
    vtt.write_text("\n".join(blocks), "utf-8")
    with serving(work / "audio") as server:
        root = open_player(page, server_url(server, "bare.html"))
        page.wait_for_function(
            "r => document.querySelector(r).hasAttribute('data-narrate-synced')", arg=root
        )
        got: dict[str, list[float]] = {}
        for w in word_list(page, root):
            got.setdefault(w["cue"], []).append(w["start"])
        for cue_id, starts in expected.items():
            assert got[cue_id] == pytest.approx(starts, abs=0.002), cue_id
        assert page.locator(f"{root} [data-word-estimated]").count() == 0
