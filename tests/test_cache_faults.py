"""A cache that proves its bytes: every kind of damage to every kind of cache file.

Property (with the real engine, whose output is reproducible): whatever is done to a file under
the cache (truncated, a byte flipped in its header or its audio, two entries of one kind swapped,
replaced by a folder, its folder replaced by a file), a build publishes outputs byte-identical to
a clean build's, or fails with one line and the next run does. Unit tests of the entry format
follow, on a fake sentence.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from narrate import cli
from narrate.pcm import Audio
from narrate.pipeline.cache import Cache

pytestmark = pytest.mark.e2e

ARTICLE = """\
format: 1
title: Cache Test
summary: A short article that proves the cache.
sections:
  - heading: One
    paragraphs:
      - The first sentence is here. The second one follows it.
  - heading: Two
    paragraphs:
      - A last sentence closes the article.
"""
SLUG = "cachetest"
Damage = Callable[[list[Path]], None]


def run(site: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, ["build", SLUG, "-q", *args], catch_exceptions=False)
    return result.exit_code, result.stderr


def outputs(site: Path) -> dict[str, bytes]:
    audio = site / "audio"
    return {
        p.name: p.read_bytes()
        for p in sorted(audio.iterdir())
        if p.is_file() and not p.name.startswith(".")
    }


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A site built once with the real engine: its folder and its published bytes."""
    site = tmp_path_factory.mktemp("clean")
    (site / "content").mkdir()
    (site / "content" / f"{SLUG}.yaml").write_text(ARTICLE)
    (site / "narrate.yaml").write_text("narrate: 1\n")
    mp = pytest.MonkeyPatch()
    mp.chdir(site)
    mp.delenv("NARRATE_CACHE_DIR", raising=False)
    try:
        code, err = run(site)
    finally:
        mp.undo()
    assert code == 0, err
    return site, outputs(site)


def truncate(files: list[Path]) -> None:
    files[0].write_bytes(files[0].read_bytes()[:-7])


def flip_payload(files: list[Path]) -> None:
    data = bytearray(files[0].read_bytes())
    data[-3] ^= 0x10
    files[0].write_bytes(bytes(data))


def flip_header(files: list[Path]) -> None:
    data = bytearray(files[0].read_bytes())
    at = data.index(b'"frames"') if b'"frames"' in data else data.index(b'"sample_rate"')
    data[at + 12] ^= 0x01  # a digit of the frame count or the sample rate
    files[0].write_bytes(bytes(data))


def swap(files: list[Path]) -> None:
    a, b = files[0].read_bytes(), files[1].read_bytes()
    files[0].write_bytes(b)
    files[1].write_bytes(a)


def folder(files: list[Path]) -> None:
    files[0].unlink()
    files[0].mkdir()
    (files[0] / "x").write_text("x")


def shard_is_file(files: list[Path]) -> None:
    shard = files[0].parent
    shutil.rmtree(shard)
    shard.write_text("not a folder")


def garbage(files: list[Path]) -> None:
    files[0].write_bytes(b"narrate-cache 2\n{not json}\n\x00\x01")


DAMAGES: dict[str, Damage] = {
    "truncate": truncate,
    "flip-payload": flip_payload,
    "flip-header": flip_header,
    "swap": swap,
    "folder": folder,
    "shard-is-file": shard_is_file,
    "garbage": garbage,
}


@pytest.mark.parametrize("kind", ["sentence", "chunk"])
@pytest.mark.parametrize("damage", list(DAMAGES))
def test_any_damage_gives_identical_outputs_or_one_line_then_identical(
    clean: tuple[Path, dict[str, bytes]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    damage: str,
) -> None:
    source, want = clean
    site = tmp_path / "site"
    shutil.copytree(source, site)
    shutil.rmtree(site / "audio")  # the build must take everything from the cache
    cache = site / ".cache" / "narrate"
    if kind == "sentence":
        shutil.rmtree(cache / "chunk")  # so the sentences themselves are read
    files = sorted((cache / kind).glob("*/*.entry"))
    assert len(files) >= 2
    DAMAGES[damage](files)
    monkeypatch.chdir(site)
    monkeypatch.delenv("NARRATE_CACHE_DIR", raising=False)
    code, err = run(site)
    if code != 0:
        assert code == 1 and len(err.strip().splitlines()) == 1, err
        code, err = run(site)
    assert code == 0, err
    assert outputs(site) == want
    assert "Traceback" not in err


def test_a_cache_folder_that_is_a_file_is_one_clear_error(
    clean: tuple[Path, dict[str, bytes]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, _ = clean
    site = tmp_path / "site"
    shutil.copytree(source, site)
    shutil.rmtree(site / "audio")
    shutil.rmtree(site / ".cache")
    (site / ".cache").mkdir()
    (site / ".cache" / "narrate").write_text("a file where the cache should be")
    monkeypatch.chdir(site)
    code, err = run(site)
    assert code == 1
    assert err.strip().endswith(
        "is not a folder; remove it or choose another with --cache-dir or NARRATE_CACHE_DIR"
    ), err


# --- the entry format, without an engine -------------------------------------------------------

KEY_A, KEY_B = "a" * 64, "b" * 64
AUDIO = Audio(pcm=b"\x01\x00\x02\x00" * 100, sample_rate=22050)


def test_an_entry_reads_back_only_under_its_own_key(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.put_audio(KEY_A, AUDIO)
    assert cache.get_audio(KEY_A) == AUDIO
    path_a = next((tmp_path / "sentence").glob("*/*.entry"))
    path_b = tmp_path / "sentence" / KEY_B[:2] / f"{KEY_B}.entry"
    path_b.parent.mkdir(parents=True)
    shutil.copy(path_a, path_b)  # the same bytes under another key
    lines: list[str] = []
    assert Cache(tmp_path, log=lines.append).get_audio(KEY_B) is None
    assert not path_b.exists()  # discarded, to be made again
    assert lines == [
        "cache: discarded a damaged sentence entry (it was made for another key); remaking it"
    ]


def test_an_edited_field_with_a_matching_size_is_caught_by_the_digest(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.put_chunk(KEY_A, b"\xff\xf3" + b"\0" * 100, 2, 1000, [[10, 900]])
    path = next((tmp_path / "chunk").glob("*/*.entry"))
    data = path.read_bytes().replace(b'"frames": 2', b'"frames": 3')
    path.write_bytes(data)
    assert cache.get_chunk(KEY_A) is None


@pytest.mark.parametrize(
    "meta",
    [
        {"frames": 0, "pcm_samples": 10, "placements": [[0, 5]]},
        {"frames": 2, "pcm_samples": 10, "placements": []},
        {"frames": 2, "pcm_samples": 10, "placements": [[5, 3]]},
        {"frames": 2, "pcm_samples": 10, "placements": [[0, 11]]},
        {"frames": 2, "pcm_samples": 10, "placements": "0-5"},
        {"frames": "2", "pcm_samples": 10, "placements": [[0, 5]]},
        {"frames": 1, "pcm_samples": 5000, "placements": [[0, 5]]},
    ],
)
def test_inconsistent_chunk_metadata_is_refused_even_with_a_valid_digest(
    tmp_path: Path, meta: dict[str, object]
) -> None:
    cache = Cache(tmp_path)
    cache._store("chunk", KEY_A, meta, b"\xff\xf3\0\0")  # what a bug could have written
    assert cache.get_chunk(KEY_A) is None


def test_prune_leaves_in_flight_files_alone(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.put_audio(KEY_A, AUDIO)
    shard = next((tmp_path / "sentence").glob("*"))
    inflight = shard / f".{KEY_B}.entry.x1y2.tmp"
    inflight.write_bytes(b"being written by another run")
    old_format = tmp_path / "seg" / "ab" / "abc.wav"
    old_format.parent.mkdir(parents=True)
    old_format.write_bytes(b"RIFF")
    files, _ = cache.prune(keep={KEY_A})
    assert files == 1 and not old_format.exists()  # entries of the old format go
    assert inflight.exists() and cache.get_audio(KEY_A) == AUDIO


def test_entries_state_their_key_and_digest(tmp_path: Path) -> None:
    Cache(tmp_path).put_audio(KEY_A, AUDIO)
    data = next((tmp_path / "sentence").glob("*/*.entry")).read_bytes()
    magic, header, payload = data.split(b"\n", 2)
    head = json.loads(header)
    assert magic == b"narrate-cache 2"
    assert head["key"] == KEY_A and head["kind"] == "sentence" and len(head["digest"]) == 64
    meta = {"sample_rate": 22050, "samples": 200, "words": []}
    assert head["meta"] == meta and payload == AUDIO.pcm
