"""Rebuilds pay only for what changed (issue 3), proven on real outputs.

Most tests use the deterministic fake backend through the real CLI in-process (typer's
CliRunner); the last one repeats the key edit case with the real engine in a subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from narrate import cli
from narrate.audio.mp3 import SAMPLES_PER_FRAME, count_frames
from narrate.outputs.chapters import parse_vtt
from narrate.synth import backends
from tests.fakes import FakeBackend
from tests.id3_read import read_chapters

ROOT = Path(__file__).resolve().parent.parent
SLUG = "imagenet"
PARAGRAPH = (
    "The challenge included tasks such as image classification, object detection, "
    "and object localization."
)
EDITED = "The challenge included tasks such as image classification and object detection."


@pytest.fixture(autouse=True)
def _fake_backend() -> Iterator[None]:
    backends.register("fake", FakeBackend)
    yield
    backends.unregister("fake")


@pytest.fixture()
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site with the ImageNet article and a config that uses the fake backend."""
    (tmp_path / "content").mkdir()
    shutil.copy(ROOT / "content" / f"{SLUG}.yaml", tmp_path / "content" / f"{SLUG}.yaml")
    cfg = (ROOT / "narrate.yaml").read_text().replace("backend: pyttsx3", "backend: fake")
    (tmp_path / "narrate.yaml").write_text(cfg)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NARRATE_CACHE_DIR", raising=False)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    result = CliRunner().invoke(cli.app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def build_json(*args: str) -> dict[str, Any]:
    code, out, err = run("build", SLUG, "--json", *args)
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)["results"][0]
    return result


def outputs(site: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in (site / "audio").iterdir()
        if p.is_file() and not p.name.startswith(".")
    }


def frames_of(mp3: bytes) -> bytes:
    """Return the MP3 frame stream without the ID3 tag."""
    size = 0
    for b in mp3[6:10]:  # syncsafe: 7 bits a byte
        size = (size << 7) | (b & 0x7F)
    return mp3[10 + size :]


def edit(site: Path, old: str, new: str) -> None:
    path = site / "content" / f"{SLUG}.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.mark.slow
def test_first_build_then_noop_changes_no_byte(site: Path) -> None:
    first = build_json()
    assert first["status"] == "built" and first["synthesised"] == first["total"] > 40
    before = outputs(site)
    second = build_json()
    assert second["status"] == "up to date"
    assert second["synthesised"] == 0 and second["reused"] == second["total"]
    assert outputs(site) == before


@pytest.mark.slow
def test_editing_one_paragraph_resynthesises_only_its_sentences(site: Path) -> None:
    build_json()
    old_mp3 = (site / "audio" / f"{SLUG}.mp3").read_bytes()
    old_chapters = read_chapters(site / "audio" / f"{SLUG}.mp3")
    old_cues = parse_vtt((site / "audio" / f"{SLUG}.transcript.vtt").read_text())
    edit(site, PARAGRAPH, EDITED)

    result = build_json()
    assert result["synthesised"] == 1
    assert result["reused"] == result["total"] - 1
    assert result["chapters_reencoded"] == 1
    assert result["chunks_reencoded"] == 1  # only the edited sentence

    new_mp3 = (site / "audio" / f"{SLUG}.mp3").read_bytes()
    chapters = read_chapters(site / "audio" / f"{SLUG}.mp3")
    cues = parse_vtt((site / "audio" / f"{SLUG}.transcript.vtt").read_text())
    idx = [c.title for c in chapters].index("Technical Details")
    # Chapters before the edit keep their times; those after shift by one common amount.
    assert chapters[: idx + 1][:-1] == old_chapters[:idx]
    assert chapters[idx].start_ms == old_chapters[idx].start_ms
    shifts = {
        c.start_ms - o.start_ms
        for c, o in zip(chapters[idx + 1 :], old_chapters[idx + 1 :], strict=True)
    }
    # The shift is a whole number of MP3 frames; rounding each start to ms may differ by 1.
    assert max(shifts) - min(shifts) <= 1 and 0 not in shifts
    # The unchanged chapters' encoded frames are reused byte for byte.
    old_frames, new_frames = frames_of(old_mp3), frames_of(new_mp3)
    head = chapters[idx].start_ms  # every chapter before it is identical
    assert count_frames(new_frames) > 0
    prefix = 0
    while (
        prefix < min(len(old_frames), len(new_frames)) and old_frames[prefix] == new_frames[prefix]
    ):
        prefix += 1
    assert prefix >= head / 1000 * 64000 / 8 * 0.95
    # Cue ids: the same sentence keeps its id; only the edited one changes.
    old_ids = {c.text: c.id for c in old_cues}
    new_ids = {c.text: c.id for c in cues}
    changed = {t for t in new_ids if old_ids.get(t) != new_ids[t]}
    assert changed == {EDITED}


@pytest.mark.slow
def test_inserting_and_moving_paragraphs_reuses_every_other_sentence(site: Path) -> None:
    build_json()
    path = site / "content" / f"{SLUG}.yaml"
    text = path.read_text()
    inserted = text.replace(
        "  - heading: Legacy\n    paragraphs:\n",
        "  - heading: Legacy\n    paragraphs:\n"
        "      - A brand new opening sentence for the legacy.\n",
    )
    assert inserted != text
    path.write_text(inserted)
    result = build_json()
    assert result["synthesised"] == 1

    # Swap two sections: every sentence is already cached.
    import yaml

    data = yaml.safe_load(path.read_text())
    data["sections"][0], data["sections"][1] = data["sections"][1], data["sections"][0]
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    moved = build_json()
    assert moved["status"] == "built" and moved["synthesised"] == 0
    titles = [c.title for c in read_chapters(site / "audio" / f"{SLUG}.mp3")]
    assert titles[1:3] == ["Historical Context", "Introduction"]


@pytest.mark.slow
def test_force_resynthesises_everything(site: Path) -> None:
    build_json()
    forced = build_json("--force")
    assert forced["synthesised"] == forced["total"]


@pytest.mark.slow
def test_damaged_cache_entries_are_detected_and_remade(site: Path) -> None:
    build_json()
    cache = site / ".cache" / "narrate"
    sentences = sorted((cache / "sentence").glob("*/*.entry"))
    sentences[0].write_bytes(sentences[0].read_bytes()[:60])  # truncated
    sentences[1].write_bytes(b"")  # empty
    for chunk in (cache / "chunk").glob("*/*.entry"):
        chunk.write_bytes(chunk.read_bytes()[:-100])  # every encoded chunk truncated
    (site / "audio" / f"{SLUG}.mp3").unlink()
    result = build_json()
    assert result["synthesised"] == 2
    mp3 = (site / "audio" / f"{SLUG}.mp3").read_bytes()
    assert count_frames(frames_of(mp3)) * SAMPLES_PER_FRAME > 60 * 22050


@pytest.mark.slow
def test_status_check_clean_and_prune(site: Path) -> None:
    code, out, _ = run("check")
    assert code == 3 and "missing" in out
    build_json()
    code, out, _ = run("check")
    assert code == 0 and "up to date" in out
    code, out, _ = run("status", "--json")
    assert json.loads(out) == [{"slug": SLUG, "state": "fresh", "reason": "up to date"}]

    edit(site, PARAGRAPH, EDITED)
    code, out, _ = run("check", "--json")
    assert code == 3 and json.loads(out)[0]["state"] == "stale"

    build_json()
    (site / "audio" / f"{SLUG}.chapters.vtt").write_text("WEBVTT\n")
    code, out, _ = run("status")
    assert code == 0 and "mismatched" in out and f"{SLUG}.chapters.vtt" in out
    build_json()  # repairs the set
    assert run("check")[0] == 0

    shutil.copy(site / "content" / f"{SLUG}.yaml", site / "content" / "second.yaml")
    build_json()
    run("build", "second")
    (site / "content" / "second.yaml").unlink()
    code, out, _ = run("status")
    assert "second" in out and "orphaned" in out
    # No terminal and no --yes: it says what it would remove and removes nothing.
    code, out, err = run("clean")
    assert code == 2 and "run `narrate clean --yes`" in err
    assert f"would remove {site / 'audio' / 'second.mp3'} (no content/second.yaml)" in out
    assert (site / "audio" / "second.mp3").exists()
    code, out, _ = run("clean", "--dry-run")
    assert code == 0 and "would remove 6 files of 1 articles" in out
    assert (site / "audio" / "second.mp3").exists()
    code, out, _ = run("clean", "--yes")
    assert code == 0 and not list((site / "audio").glob("second.*"))
    # The orphan's lock file goes too; a current article's stays.
    assert f"removed {site / 'audio' / '.second.lock'}" in out
    assert not (site / "audio" / ".second.lock").exists()
    assert (site / "audio" / f".{SLUG}.lock").exists()
    assert "second" not in json.loads((site / "audio" / "manifest.json").read_text())["articles"]

    edit(site, EDITED, "A different sentence entirely.")
    build_json()
    code, out, _ = run("cache", "prune")
    assert code == 0 and "pruned" in out and "freed" in out
    assert build_json()["status"] == "up to date"
    assert run("build", SLUG, "--force", "--quiet")[0] == 0


@pytest.mark.slow
def test_build_all_continues_past_a_failing_article(site: Path) -> None:
    (site / "content" / "broken.yaml").write_text("format: 1\ntitle: Broken\n")
    shutil.copy(site / "content" / f"{SLUG}.yaml", site / "content" / "copy.yaml")
    code, out, err = run("build", "--all")
    assert code == 1
    assert "broken.yaml" in err and "1 of 3 articles failed: broken" in err
    assert (site / "audio" / f"{SLUG}.mp3").exists() and (site / "audio" / "copy.mp3").exists()
    # The short form routes to build as well.
    code, out, err = run(*cli.route(["--all", "--quiet"]))
    assert code == 1


@pytest.mark.slow
@pytest.mark.e2e
def test_real_engine_edit_resynthesises_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    shutil.copy(ROOT / "content" / f"{SLUG}.yaml", tmp_path / "content" / f"{SLUG}.yaml")
    shutil.copy(ROOT / "narrate.yaml", tmp_path / "narrate.yaml")
    env = {k: v for k, v in os.environ.items() if k != "NARRATE_CACHE_DIR"}

    def narrate() -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "narrate", SLUG],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert "synthesised 49 of 49" in narrate()
    edit(tmp_path, PARAGRAPH, EDITED)
    out = narrate()
    assert "synthesised 1 of 49 sentences, reused 48" in out
    assert "encoded 1 sentence in 1 of 11 chapters" in out


@pytest.mark.slow
@pytest.mark.e2e
def test_real_engine_clean_builds_are_byte_identical_whatever_the_workers(tmp_path: Path) -> None:
    # espeak-ng carries state from one sentence to the next inside a process; each sentence is
    # spoken in a fresh child, so how sentences are shared among workers cannot change a byte.
    hashes = set()
    for jobs in ("1", "2"):
        site = tmp_path / f"j{jobs}"
        (site / "content").mkdir(parents=True)
        shutil.copy(ROOT / "content" / f"{SLUG}.yaml", site / "content" / f"{SLUG}.yaml")
        shutil.copy(ROOT / "narrate.yaml", site / "narrate.yaml")
        env = {k: v for k, v in os.environ.items() if k != "NARRATE_CACHE_DIR"}
        proc = subprocess.run(
            [sys.executable, "-m", "narrate", SLUG, "-q", "-j", jobs],
            cwd=site,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        outputs = sorted((site / "audio").glob(f"{SLUG}.*"))
        hashes.add(tuple(p.read_bytes() for p in outputs))
    assert len(hashes) == 1


# --- why outputs are stale, and voices checked before any synthesis (fake backend) -------------


def reason() -> str:
    code, out, _ = run("status", "--json")
    assert code == 0
    state = json.loads(out)[0]
    assert state["state"] == "stale", state
    return str(state["reason"])


def set_config(site: Path, old: str, new: str) -> None:
    path = site / "narrate.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.mark.slow
def test_stale_reason_names_the_edited_sentences(site: Path) -> None:
    build_json()
    edit(site, PARAGRAPH, EDITED)
    assert reason() == "the article's text changed (1 sentence)"
    edit(site, "ImageNet is a large-scale dataset", "ImageNet is a big dataset")
    edit(
        site,
        "  - heading: Legacy\n    paragraphs:\n",
        "  - heading: Legacy\n    paragraphs:\n      - One more sentence here.\n",
    )
    assert reason() == "the article's text changed (3 sentences)"


@pytest.mark.slow
def test_stale_reason_after_a_build_with_rate_on_the_command_line(site: Path) -> None:
    build_json("--rate", "150")
    code, out, err = run("check")
    assert code == 3
    assert out.split(None, 2)[2].strip() == (
        "voice changed: the last build used --rate 150 (fake en-us 150 wpm), the config says "
        "160 wpm; a plain `narrate imagenet` restores the configured rate"
    )
    assert "1 of 1 article needs `narrate build --all`" in err
    build_json()
    assert run("check")[0] == 0
    set_config(site, "rate: 160", "rate: 170")
    assert reason() == "voice changed: built with fake en-us 160 wpm, the config says 170 wpm"


@pytest.mark.slow
def test_stale_reason_for_pauses_and_for_the_engine(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_json()
    set_config(site, "sentence: 0.45", "sentence: 0.5")
    assert reason() == "pauses, loudness or bitrate changed"
    set_config(site, "sentence: 0.5", "sentence: 0.45")
    assert run("check")[0] == 0
    monkeypatch.setattr(FakeBackend, "cache_token", lambda self, v: f"fake-2/{v.voice}/{v.rate}")
    assert reason() == "the engine changed (fake-2/en-us/160; built with fake-1/en-us/160)"


@pytest.mark.slow
def test_stale_reason_of_an_old_build_record_stays_generic(site: Path) -> None:
    build_json()
    path = site / "audio" / f"{SLUG}.build.json"
    record = json.loads(path.read_text())
    old = {k: record[k] for k in ("format", "slug", "input", "duration", "chapters", "segments",
                                  "outputs")}  # fmt: skip
    path.write_text(json.dumps(old))
    edit(site, PARAGRAPH, EDITED)
    assert reason() == "the article, the settings or the engine changed since the last build"


@pytest.mark.slow
def test_an_unknown_voice_is_refused_before_any_synthesis(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run("build", SLUG, "--voice", "fake-hihg")
    assert code == 2
    assert err.strip() == (
        "narrate: error: the fake backend has no voice `fake-hihg` (given with --voice); "
        "did you mean `fake-high`? run `narrate voices` to list its voices"
    )
    assert not (site / ".cache").exists() and not (site / "audio" / f"{SLUG}.mp3").exists()
    set_config(site, "voice: en-us", "voice: nosuch")
    code, _, err = run("build", SLUG)
    assert code == 1
    assert err.strip() == (
        "narrate: error: the fake backend has no voice `nosuch` (set in narrate.yaml); "
        "run `narrate voices` to list its voices"
    )
    set_config(site, "voice: nosuch", "voice: en-us")
    build_json()  # a language the fake's voices speak is a voice
    edit(site, "format: 1\n", "format: 1\nsettings:\n  kinds:\n    quote: {voice: fake-lo}\n")
    code, _, err = run("build", SLUG)
    assert code == 1 and f"`fake-lo` (set in {Path('content', SLUG + '.yaml')})" in err

    # A no-op build asks no backend for its voices (which could load an engine).
    edit(site, "quote: {voice: fake-lo}", "quote: {voice: fake-low}")
    build_json()

    def no_engine(self: FakeBackend) -> list[object]:
        raise AssertionError("voices() called")

    monkeypatch.setattr(FakeBackend, "voices", no_engine)
    assert build_json()["status"] == "up to date"
