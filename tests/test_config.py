"""The site config: finding it, defaults, overrides, range checks, messages, the docs."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from narrate.errors import ConfigError
from narrate.settings.effective import resolve
from narrate.settings.load import BITRATES, CACHE_ENV, KINDS, find_root, load_settings
from narrate.settings.model import (
    CONFIG_NAME,
    Kind,
    Loudness,
    Pauses,
    Settings,
    VoiceOverride,
    VoiceSettings,
)
from tests.helpers import ROOT


@pytest.fixture(autouse=True)
def _no_cache_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's or CI's cache override must not leak into these tests.
    monkeypatch.delenv(CACHE_ENV, raising=False)


def write_config(root: Path, text: str) -> Path:
    path = root / CONFIG_NAME
    path.write_text(text, encoding="utf-8")
    return path


def refused(root: Path, text: str) -> ConfigError:
    write_config(root, text)
    with pytest.raises(ConfigError) as info:
        load_settings(root)
    return info.value


def test_find_root(tmp_path: Path) -> None:
    deep = tmp_path / "site" / "content" / "drafts"
    deep.mkdir(parents=True)
    assert find_root(deep) == deep.resolve()  # no config anywhere: the start folder
    write_config(tmp_path / "site", "narrate: 1\n")
    assert find_root(deep) == (tmp_path / "site").resolve()
    assert find_root(tmp_path / "site") == (tmp_path / "site").resolve()


def test_absent_config_gives_defaults_with_absolute_paths(tmp_path: Path) -> None:
    s = load_settings(tmp_path)
    assert s.root == tmp_path.resolve()
    assert s.content_dir == tmp_path.resolve() / "content"
    assert s.audio_dir == tmp_path.resolve() / "audio"
    assert s.cache_dir == tmp_path.resolve() / ".cache" / "narrate"
    defaults = Settings()
    for f in dataclasses.fields(Settings):
        if f.name not in ("root", "content_dir", "audio_dir", "cache_dir"):
            assert getattr(s, f.name) == getattr(defaults, f.name), f.name


def test_repo_config_is_the_defaults_plus_its_site_name_and_a_lexicon() -> None:
    s = load_settings(ROOT)
    root = ROOT.resolve()
    defaults = Settings(
        root=root,
        content_dir=root / "content",
        audio_dir=root / "audio",
        cache_dir=root / ".cache" / "narrate",
    )
    assert dataclasses.replace(s, lexicon={}, site_name=defaults.site_name) == defaults
    assert s.site_name == "AI Milestones"  # the default is neutral: "My Site"
    assert s.lexicon == {
        "Fei-Fei Li": "Fei-Fei Lee",
        "Jia Deng": "Jia Dung",
        "ILSVRC": "I L S V R C",
    }


FULL = """\
narrate: 1
site: {name: My Site, artist: Me, album: Talks, base_url: /media/}
paths: {content: articles, audio: /srv/audio, cache: ~/narrate-cache}
voice: {backend: fake, voice: en-gb, rate: 180}
kinds:
  quote: {voice: en-us+f3}
  heading: {rate: 140}
pauses: {sentence: 0.3, paragraph: 1, heading: 0, chapter: 10, start: 0.25, end: 2}
loudness: {integrated_lufs: -18.5, true_peak_db: -2}
mp3: {bitrate: 96}
lexicon:
  "Fei-Fei": Fay-Fay
  2010s: twenty-tens
"""


def test_every_field_overridden(tmp_path: Path) -> None:
    write_config(tmp_path, FULL)
    s = load_settings(tmp_path)
    root = tmp_path.resolve()
    assert (s.site_name, s.artist, s.album, s.base_url) == ("My Site", "Me", "Talks", "/media/")
    assert (s.id3_artist, s.id3_album) == ("Me", "Talks")
    assert s.content_dir == root / "articles"
    assert s.audio_dir == Path("/srv/audio")
    assert s.cache_dir == Path.home() / "narrate-cache"
    assert s.voice == VoiceSettings("fake", "en-gb", 180)
    assert s.kinds == {
        Kind.QUOTE: VoiceOverride(voice="en-us+f3"),
        Kind.HEADING: VoiceOverride(rate=140),
    }
    eff = resolve(s)
    assert eff.voice_for(Kind.QUOTE) == VoiceSettings("fake", "en-us+f3", 180)
    assert eff.voice_for(Kind.HEADING) == VoiceSettings("fake", "en-gb", 140)
    assert s.pauses == Pauses(0.3, 1.0, 0.0, 10.0, 0.25, 2.0)
    assert s.loudness == Loudness(-18.5, -2.0)
    assert s.bitrate == 96
    assert s.lexicon == {"Fei-Fei": "Fay-Fay", "2010s": "twenty-tens"}


def test_partial_sections_keep_other_defaults(tmp_path: Path) -> None:
    write_config(tmp_path, "narrate: 1\nvoice: {rate: 150}\npauses: {chapter: 3}\n")
    s = load_settings(tmp_path)
    assert s.voice == VoiceSettings(rate=150)
    assert s.pauses == dataclasses.replace(Pauses(), chapter=3.0)
    assert (s.site_name, s.id3_artist, s.base_url) == ("My Site", "My Site", "")


def test_explicit_config_file_paths_are_taken_from_root(tmp_path: Path) -> None:
    other = tmp_path / "elsewhere.yaml"
    other.write_text("narrate: 1\npaths: {audio: out}\n")
    s = load_settings(tmp_path / "site", other)
    assert s.audio_dir == (tmp_path / "site").resolve() / "out"
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path, tmp_path / "missing.yaml")


def test_cache_env_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(tmp_path, "narrate: 1\npaths: {cache: mine}\n")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "shared"))
    assert load_settings(tmp_path).cache_dir == tmp_path.resolve() / "shared"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(CACHE_ENV, "rel")  # from the shell: relative to where the command runs
    assert load_settings(tmp_path / "x").cache_dir == tmp_path.resolve() / "rel"
    monkeypatch.setenv(CACHE_ENV, "")
    assert load_settings(tmp_path).cache_dir == tmp_path.resolve() / "mine"


@pytest.mark.parametrize("rate", BITRATES)
def test_every_listed_bitrate_is_accepted(tmp_path: Path, rate: int) -> None:
    write_config(tmp_path, f"narrate: 1\nmp3: {{bitrate: {rate}}}\n")
    assert load_settings(tmp_path).bitrate == rate


ERRORS = [
    # (id, yaml, line, column, field, words in the message)
    ("empty", "", None, None, "", "the file is empty; start it with `narrate: 1`"),
    ("no marker", "voice: {rate: 150}\n", 1, 1, "narrate", "add `narrate:`"),
    ("article", "format: 1\ntitle: T\n", 1, 1, "", "looks like an article"),
    ("version", "narrate: 2\n", 1, 10, "narrate", "config version 2"),
    ("version text", "narrate: yes\n", 1, 10, "narrate", "got the true/false value yes"),
    ("list", "- narrate: 1\n", 1, 1, "", "expected a mapping"),
    ("unknown", "narrate: 1\nvoices: {}\n", 2, 1, "voices", "did you mean `voice`?"),
    ("rate low", "narrate: 1\nvoice:\n  rate: 79\n", 3, 9, "voice.rate", "from 80 to 400"),
    ("rate high", "narrate: 1\nvoice: {rate: 401}\n", 2, 15, "voice.rate", "401 is out of range"),
    ("rate text", "narrate: 1\nvoice: {rate: fast}\n", 2, 15, "voice.rate", "got text"),
    ("rate decimal", "narrate: 1\nvoice: {rate: 160.5}\n", 2, 15, "voice.rate", "whole"),
    ("rate hex junk", "narrate: 1\nvoice: {rate: 0x_}\n", 2, 15, "voice.rate", "not a valid"),
    ("voice typo", "narrate: 1\nvoice: {rat: 150}\n", 2, 9, "voice.rat", "did you mean `rate`?"),
    ("voice empty", "narrate: 1\nvoice: {voice: ''}\n", 2, 16, "voice.voice", "is empty"),
    ("voice map", "narrate: 1\nvoice: {}\n", 2, 8, "voice", "is empty"),
    ("pause neg", "narrate: 1\npauses:\n  end: -0.1\n", 3, 8, "pauses.end", "from 0 to 10"),
    (
        "pause long",
        "narrate: 1\npauses: {chapter: 10.5}\n",
        2,
        19,
        "pauses.chapter",
        "from 0 to 10",
    ),
    ("pause nan", "narrate: 1\npauses: {start: .nan}\n", 2, 17, "pauses.start", "out of range"),
    ("pause bool", "narrate: 1\npauses: {start: true}\n", 2, 17, "pauses.start", "true/false"),
    (
        "pause typo",
        "narrate: 1\npauses: {sentense: 1}\n",
        2,
        10,
        "pauses.sentense",
        "did you mean `sentence`?",
    ),
    ("bitrate", "narrate: 1\nmp3: {bitrate: 65}\n", 2, 16, "mp3.bitrate", "one of 32, 40"),
    ("bitrate high", "narrate: 1\nmp3: {bitrate: 320}\n", 2, 16, "mp3.bitrate", "32 to 160"),
    (
        "lufs",
        "narrate: 1\nloudness: {integrated_lufs: -31}\n",
        2,
        29,
        "loudness.integrated_lufs",
        "from -30 to -10",
    ),
    (
        "peak",
        "narrate: 1\nloudness: {true_peak_db: 0.5}\n",
        2,
        26,
        "loudness.true_peak_db",
        "from -6 to 0",
    ),
    ("kind", "narrate: 1\nkinds:\n  chapter: {rate: 150}\n", 3, 3, "kinds.chapter", "heading"),
    ("kind rate", "narrate: 1\nkinds: {quote: {rate: 1}}\n", 2, 23, "kinds.quote.rate", "80"),
    ("site", "narrate: 1\nsite: {title: X}\n", 2, 8, "site.title", "allowed here: album"),
    ("path list", "narrate: 1\npaths: {audio: [a]}\n", 2, 16, "paths.audio", "got a list"),
    (
        "lexicon value",
        "narrate: 1\nlexicon:\n  ImageNet: [a]\n",
        3,
        13,
        "lexicon.ImageNet",
        "got a list",
    ),
    (
        "lexicon dup",
        "narrate: 1\nlexicon:\n  Li: Lee\n  Li: Lie\n",
        4,
        3,
        "lexicon.Li",
        "duplicate key",
    ),
    ("tag", "narrate: 1\nsite: {name: !!python/name:os.system x}\n", 2, 14, "site.name", "tag"),
]


@pytest.mark.parametrize(
    ("text", "line", "column", "field", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in ERRORS],
)
def test_config_error_names_position_field_and_fix(
    tmp_path: Path, text: str, line: int | None, column: int | None, field: str, words: str
) -> None:
    err = refused(tmp_path, text)
    assert (err.line, err.column, err.field or "") == (line, column, field)
    where = f"{tmp_path.resolve() / CONFIG_NAME}"
    if line is not None:
        where += f":{line}:{column}"
    assert str(err).startswith(where + ": " + (f"{field}: " if field else ""))
    assert words in str(err)


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
KEYS = st.sampled_from(
    ["narrate", "site", "paths", "voice", "kinds", "pauses", "loudness", "mp3", "lexicon",
     "rate", "quote", "bitrate", "end", "name", "cache", "x"]
)  # fmt: skip
SHAPES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=20,
)


@pytest.mark.slow  # 150 examples: about 2.5 s
@FUZZ
@given(shape=st.dictionaries(KEYS, SHAPES, max_size=6))
def test_any_config_shape_loads_or_refuses(tmp_path: Path, shape: dict[str, object]) -> None:
    write_config(tmp_path, yaml.safe_dump({"narrate": 1, **shape}, allow_unicode=True))
    try:
        assert isinstance(load_settings(tmp_path), Settings)
    except ConfigError as err:
        assert str(err).startswith(str(tmp_path.resolve() / CONFIG_NAME))


@FUZZ
@given(data=st.binary(max_size=200))
def test_any_config_bytes_load_or_refuse(tmp_path: Path, data: bytes) -> None:
    (tmp_path / CONFIG_NAME).write_bytes(data)
    try:
        load_settings(tmp_path)
    except ConfigError:
        pass


def test_docs_list_every_field_with_its_default() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    d = Settings()
    expected = {
        "site.name": d.site_name,
        "site.artist": None,
        "site.album": None,
        "site.base_url": '""',
        "paths.content": d.content_dir,
        "paths.audio": d.audio_dir,
        "paths.cache": d.cache_dir,
        **{f"voice.{f.name}": getattr(d.voice, f.name) for f in dataclasses.fields(d.voice)},
        **{f"pauses.{f.name}": getattr(d.pauses, f.name) for f in dataclasses.fields(d.pauses)},
        **{
            f"loudness.{f.name}": getattr(d.loudness, f.name)
            for f in dataclasses.fields(d.loudness)
        },
        "mp3.bitrate": d.bitrate,
        "kinds": None,
        "lexicon": None,
    }
    for key, default in expected.items():
        row = re.search(rf"^\| `{re.escape(key)}` \|(.*)$", doc, re.MULTILINE)
        assert row, f"docs/configuration.md has no table row for `{key}`"
        if default is not None:
            shown = f"{default:g}" if isinstance(default, float) else str(default)
            assert f"`{shown}`" in row[1], f"{key}: default `{shown}` not in {row[1]!r}"
    for kind in KINDS:
        assert f"`{kind}`" in doc


def test_docs_example_config_loads(tmp_path: Path) -> None:
    """The example in docs/configuration.md is valid and shows the defaults."""
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", doc, re.DOTALL)
    assert example
    write_config(tmp_path, example[1])
    s = load_settings(tmp_path)
    assert s.kinds == {Kind.QUOTE: VoiceOverride(voice="en-us+f3")}
    assert s.lexicon == {"Fei-Fei Li": "Fei-Fei Lee"}
    # Everything else in the example is the default.
    root = tmp_path.resolve()
    assert dataclasses.replace(s, kinds={}, lexicon={}, artist=None, album=None) == Settings(
        root=root,
        content_dir=root / "content",
        audio_dir=root / "audio",
        cache_dir=root / ".cache" / "narrate",
    )
