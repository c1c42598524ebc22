"""`narrate feed`: audio/feed.xml read back by two real podcast parsers and as XML.

Built with the fake backend (fast); the lengths, hashes and durations checked are the real
published files' and build records'.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import podcastparser
import pytest

from narrate.outputs.feed import EPISODE_GUID_NAMESPACE, PODCAST_GUID_NAMESPACE
from tests.helpers import copy_site, invoke

pytestmark = pytest.mark.usefixtures("fake_backends")

BASE = "https://example.org/audio/"
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
PODCAST = "{https://podcastindex.org/namespace/1.0}"
ATOM = "{http://www.w3.org/2005/Atom}"

SHORT = """\
format: 1
title: The Short One
date: 2021-03-04
year: "1999"
summary: A short article & its summary.
sections:
  - heading: Only Section
    paragraphs:
      - One sentence here. Another sentence there.
"""
FEED_CONFIG = """
feed:
  title: Milestones Podcast
  description: Spoken milestones.
  link: https://example.org/
  language: en-gb
  author: The Editors
  image: cover.jpg
  category: Technology
  explicit: false
"""


def _site(tmp_path: Path) -> Path:
    root = copy_site(
        tmp_path / "site",
        articles={"short": SHORT},
        config_edits={"backend: pyttsx3": "backend: fake", 'base_url: ""': f'base_url: "{BASE}"'},
        config_extra=FEED_CONFIG,
    )
    built = invoke(["build", "--all", "-q"], root)
    assert built.exit_code == 0, built.stderr
    return root


def _feed(root: Path) -> bytes:
    ran = invoke(["feed"], root)
    assert ran.exit_code == 0, ran.stderr
    return (root / "audio" / "feed.xml").read_bytes()


def _record(root: Path, slug: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((root / "audio" / f"{slug}.build.json").read_text())
    return data


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return _site(tmp_path)


def test_feedparser_reads_every_field(site: Path) -> None:
    data = _feed(site)
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    f = parsed.feed
    assert f.title == "Milestones Podcast"
    assert f.link == "https://example.org/"
    assert f.subtitle == "Spoken milestones."
    assert f.language == "en-gb"
    assert f.author == "The Editors"
    assert f.image.href == BASE + "cover.jpg"
    assert [t.term for t in f.tags] == ["Technology"]
    assert not f.itunes_explicit  # feedparser knows only "yes"/"clean"; Apple's is "false"
    explicit = ET.fromstring(data).find(f"channel/{ITUNES}explicit")
    assert explicit is not None and explicit.text == "false"
    self_links = [x.href for x in f.links if x.rel == "self"]
    assert self_links == [BASE + "feed.xml"]
    assert f.podcast_guid == str(uuid.uuid5(PODCAST_GUID_NAMESPACE, "example.org/audio/feed.xml"))
    by_title = {e.title: e for e in parsed.entries}
    assert list(by_title) == ["The Short One", "ImageNet"]  # newest first
    for slug, title in (("short", "The Short One"), ("imagenet", "ImageNet")):
        e = by_title[title]
        mp3 = site / "audio" / f"{slug}.mp3"
        sha = hashlib.sha256(mp3.read_bytes()).hexdigest()
        (enc,) = e.enclosures
        assert enc.href == f"{BASE}{slug}.mp3?v={sha[:12]}"
        assert int(enc.length) == mp3.stat().st_size > 0
        assert enc.type == "audio/mpeg"
        assert e.id == str(uuid.uuid5(EPISODE_GUID_NAMESPACE, slug))
        assert e.guidislink is False
        duration = float(str(_record(site, slug)["duration"]))
        h, m, s = map(int, e.itunes_duration.split(":"))
        assert h * 3600 + m * 60 + s == round(duration)
    assert by_title["The Short One"].summary == "A short article & its summary."
    assert by_title["The Short One"].published == "Thu, 04 Mar 2021 00:00:00 +0000"
    # ImageNet has no date: 1 January of its year (2009), documented as the fallback.
    assert by_title["ImageNet"].published_parsed[:3] == (2009, 1, 1)


def test_podcastparser_reads_rss_and_itunes_fields(site: Path) -> None:
    data = _feed(site)
    import io

    parsed = podcastparser.parse(BASE + "feed.xml", io.BytesIO(data))
    assert parsed["title"] == "Milestones Podcast"
    assert parsed["link"] == "https://example.org/"
    assert parsed["description"] == "Spoken milestones."
    assert parsed["cover_url"] == BASE + "cover.jpg"
    assert parsed["itunes_author"] == "The Editors"
    assert parsed["itunes_categories"] == [["Technology"]]
    assert parsed["explicit"] is False
    episodes = {e["guid"]: e for e in parsed["episodes"]}
    for slug in ("short", "imagenet"):
        e = episodes[str(uuid.uuid5(EPISODE_GUID_NAMESPACE, slug))]
        mp3 = site / "audio" / f"{slug}.mp3"
        (enc,) = e["enclosures"]
        assert enc["file_size"] == mp3.stat().st_size
        assert enc["mime_type"] == "audio/mpeg"
        assert e["total_time"] == round(float(str(_record(site, slug)["duration"])))
    assert episodes[str(uuid.uuid5(EPISODE_GUID_NAMESPACE, "short"))]["published"] == 1614816000


def test_podcast_namespace_tags_on_the_xml(site: Path) -> None:
    channel = ET.fromstring(_feed(site)).find("channel")
    assert channel is not None
    atom = channel.find(f"{ATOM}link")
    assert atom is not None and atom.get("rel") == "self"
    for item in channel.findall("item"):
        enclosure = item.find("enclosure")
        assert enclosure is not None
        slug = enclosure.get("url", "").rsplit("/", 1)[1].split(".")[0]
        v = enclosure.get("url", "").rsplit("?v=", 1)[1]
        chapters = item.find(f"{PODCAST}chapters")
        transcripts = item.findall(f"{PODCAST}transcript")
        assert chapters is not None
        assert chapters.attrib == {
            "url": f"{BASE}{slug}.chapters.json?v={v}",
            "type": "application/json+chapters",
        }
        assert [(t.get("url"), t.get("type")) for t in transcripts] == [
            (f"{BASE}{slug}.transcript.vtt?v={v}", "text/vtt"),
            (f"{BASE}{slug}.transcript.json?v={v}", "application/json"),
        ]
        chapters_json = json.loads((site / "audio" / f"{slug}.chapters.json").read_text())
        assert chapters_json["chapters"], "the file the tag points at is the built chapters"
        words = json.loads((site / "audio" / f"{slug}.transcript.json").read_text())
        assert words["version"] == "1.0.0" and words["segments"], "the JSON transcript is built"


def test_no_op_is_byte_identical_and_untouched(site: Path) -> None:
    first = _feed(site)
    path = site / "audio" / "feed.xml"
    mtime = path.stat().st_mtime_ns
    again = invoke(["feed"], site)
    assert again.exit_code == 0 and again.stdout.startswith("unchanged:")
    rebuilt = invoke(["build", "--all", "-q"], site)  # up to date: nothing built
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert path.read_bytes() == first and path.stat().st_mtime_ns == mtime


def test_edit_and_rebuild_keeps_guids_and_updates_the_enclosure(site: Path) -> None:
    before = feedparser.parse(_feed(site))
    article = site / "content" / "short.yaml"
    article.write_text(SHORT.replace("Another sentence there.", "A new, longer sentence there."))
    built = invoke(["build", "short", "-q"], site)  # the build refreshes the existing feed
    assert built.exit_code == 0, built.stderr
    after = feedparser.parse((site / "audio" / "feed.xml").read_bytes())
    assert [e.id for e in after.entries] == [e.id for e in before.entries]
    old, new = before.entries[0].enclosures[0], after.entries[0].enclosures[0]
    mp3 = site / "audio" / "short.mp3"
    assert new.href != old.href
    assert new.href.endswith("?v=" + hashlib.sha256(mp3.read_bytes()).hexdigest()[:12])
    assert int(new.length) == mp3.stat().st_size != int(old.length)
    assert after.entries[1].enclosures[0].href == before.entries[1].enclosures[0].href


def test_a_build_without_a_feed_writes_none(site: Path) -> None:
    assert not (site / "audio" / "feed.xml").exists()


def test_mismatched_and_unbuilt_articles_are_left_out(site: Path) -> None:
    (site / "audio" / "short.chapters.vtt").write_text("WEBVTT\n\nedited\n")
    (site / "content" / "later.yaml").write_text(SHORT.replace("The Short One", "Later"))
    ran = invoke(["feed"], site)
    assert ran.exit_code == 0, ran.stderr
    assert "left out `short`: short.chapters.vtt does not match" in ran.stderr
    assert "left out `later`: not built" in ran.stderr
    titles = [e.title for e in feedparser.parse(site / "audio" / "feed.xml").entries]
    assert titles == ["ImageNet"]


@pytest.mark.parametrize("base", ['""', '"/audio/"'])
def test_a_relative_or_empty_base_url_is_refused(tmp_path: Path, base: str) -> None:
    root = copy_site(tmp_path, config_edits={'base_url: ""': f"base_url: {base}"})
    ran = invoke(["feed"], root)
    assert ran.exit_code == 2
    assert "the feed needs site.base_url in narrate.yaml" in ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1
    assert not (root / "audio" / "feed.xml").exists()


def test_a_bad_feed_setting_names_its_line(tmp_path: Path) -> None:
    root = copy_site(tmp_path, config_extra="feed:\n  explicit: maybe\n")
    ran = invoke(["feed"], root)
    assert ran.exit_code == 1
    assert "narrate.yaml:" in ran.stderr and "feed.explicit" in ran.stderr


def test_an_article_date_must_be_a_date(tmp_path: Path) -> None:
    root = copy_site(tmp_path, articles={"short": SHORT.replace("2021-03-04", "2021-02-30")})
    ran = invoke(["script", "short"], root)
    assert ran.exit_code == 1
    assert "short.yaml:3:7: date: `2021-02-30` is not a date" in ran.stderr
