"""Trust: damaged published metadata, runs side by side, a clean that cannot hurt, paper cuts.

Each test is a case that once gave a traceback, a hang, a silent wrong answer or a lost file.
They run the real CLI in this process on the fake backend (fast); the cache's own damage
harness is in tests/test_cache_faults.py, interrupts in tests/test_interrupts.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from narrate import cli
from narrate.outputs import publish as pub
from narrate.say import play
from tests.helpers import FAKES_RUNNER, ROOT, copy_site, excerpt, invoke

SLUG = "imagenet"
FAKE = {"backend: pyttsx3": "backend: fake"}
OUTPUTS = [f"{SLUG}{s}" for s in (*pub.OUTPUTS, pub.RECORD)]


@pytest.fixture
def site(tmp_path: Path, fake_backends: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("NARRATE_CACHE_DIR", raising=False)
    # The opening and one section: the cases need a whole set, not a long one.
    small = {SLUG: excerpt(SLUG, ["Introduction"])}
    return copy_site(tmp_path / "site", (), articles=small, config_edits=FAKE)


def published(site: Path) -> dict[str, bytes]:
    return {n: (site / "audio" / n).read_bytes() for n in OUTPUTS}


def build(site: Path, *args: str) -> tuple[int, str]:
    r = invoke(["build", SLUG, "-q", *args], site)
    return r.exit_code, r.stderr


def status_of(site: Path) -> dict[str, str]:
    r = invoke(["status", "--json"], site)
    return {s["slug"]: f"{s['state']}: {s['reason']}" for s in json.loads(r.stdout)}


# --- damaged published metadata -----------------------------------------------------------------


@pytest.mark.parametrize("record", ['{"outputs": null}', "[1, 2]", "{", '{"outputs": {"x": 1}}'])
def test_a_damaged_build_record_is_mismatched_and_the_next_build_repairs_it(
    site: Path, record: str
) -> None:
    assert build(site)[0] == 0
    good = published(site)
    (site / "audio" / f"{SLUG}.build.json").write_text(record)
    assert status_of(site)[SLUG].startswith("mismatched")
    assert invoke(["check"], site).exit_code == 3
    code, err = build(site)
    assert code == 0, err
    assert published(site) == good  # repaired, byte for byte
    assert status_of(site)[SLUG] == "fresh: up to date"


@pytest.mark.parametrize("manifest", ["[]", "{", '{"articles": []}', '"x"'])
def test_a_damaged_manifest_is_rebuilt_by_the_next_build(site: Path, manifest: str) -> None:
    assert build(site)[0] == 0
    good = (site / "audio" / pub.MANIFEST).read_bytes()
    (site / "audio" / pub.MANIFEST).write_text(manifest)
    code, err = build(site)  # up to date, and the manifest made whole again
    assert code == 0, err
    assert (site / "audio" / pub.MANIFEST).read_bytes() == good


def test_an_empty_folder_where_an_output_goes_is_repaired(site: Path) -> None:
    assert build(site)[0] == 0
    good = published(site)
    vtt = site / "audio" / f"{SLUG}.chapters.vtt"
    vtt.unlink()
    vtt.mkdir()
    assert "is not a regular file" in status_of(site)[SLUG]
    assert build(site)[0] == 0
    assert published(site) == good


def test_a_full_folder_where_an_output_goes_is_refused_before_any_file_changes(
    site: Path,
) -> None:
    assert build(site)[0] == 0
    before = {n: (site / "audio" / n).read_bytes() for n in OUTPUTS if n.endswith(".mp3")}
    article = site / "content" / f"{SLUG}.yaml"
    article.write_text(article.read_text().replace("summary: ", "summary: Indeed, ", 1))
    vtt = site / "audio" / f"{SLUG}.transcript.vtt"
    vtt.unlink()
    vtt.mkdir()
    (vtt / "keep.txt").write_text("an editor's file")
    code, err = build(site)
    assert code == 1
    assert err.strip() == (
        f"narrate: error: cannot publish `{SLUG}`: {vtt} is a folder (Directory not empty); "
        "move it away and run again; the published files were not changed"
    )
    assert (site / "audio" / f"{SLUG}.mp3").read_bytes() == before[f"{SLUG}.mp3"]
    assert (vtt / "keep.txt").exists() and not list((site / "audio").glob(".*.part"))


def test_a_lock_that_cannot_be_created_fails_at_once(site: Path) -> None:
    start = time.monotonic()
    r = invoke(["build", SLUG, "-q", "--audio-dir", "/proc/narrate-test"], site)
    assert r.exit_code == 1 and time.monotonic() - start < 10
    assert r.stderr.startswith("narrate: error: cannot write to the audio folder /proc/")


# --- names -------------------------------------------------------------------------------------


def test_an_article_named_like_a_command_is_invalid_not_missing(site: Path) -> None:
    shutil.copy(site / "content" / f"{SLUG}.yaml", site / "content" / "status.yaml")
    assert status_of(site)["status"] == (
        "invalid: `status` is a narrate command name, so it cannot name an article; "
        "rename content/status.yaml"
    )
    assert invoke(["check"], site).exit_code == 1  # an error to fix, not a build to run


@pytest.mark.parametrize("name", ["manifest", "feed", "lint", "init"])
def test_site_wide_and_future_command_names_are_reserved(site: Path, name: str) -> None:
    shutil.copy(site / "content" / f"{SLUG}.yaml", site / "content" / f"{name}.yaml")
    code, err = build(site.parent / "site", "--all")
    assert code == 1 and f"`{name}` is a narrate command name" in err
    assert not (site / "audio" / f"{name}.mp3").exists()
    assert (site / "audio" / f"{SLUG}.mp3").exists()  # the others are built


def test_a_mistyped_command_suggests_the_command(site: Path) -> None:
    r = invoke(cli.route(["stauts"]), site)
    assert r.exit_code == 2
    assert r.stderr.strip().endswith("Did you mean the command `narrate status`?")


def test_build_options_may_come_before_the_slug(site: Path) -> None:
    r = invoke(cli.route(["-q", SLUG]), site)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "" and (site / "audio" / f"{SLUG}.mp3").exists()
    r = invoke(cli.route(["--force", "--json", SLUG]), site)
    assert json.loads(r.stdout)["results"][0]["status"] == "built"


# --- clean ---------------------------------------------------------------------------------------


def test_clean_with_another_content_folder_removes_nothing(site: Path, tmp_path: Path) -> None:
    assert build(site)[0] == 0
    good = published(site)
    other = tmp_path / "other"
    other.mkdir()
    for args in (["--content-dir", str(other)], ["--content-dir", str(other), "--yes"]):
        r = invoke(["clean", *args], site)
        assert r.exit_code == 0 and r.stdout.strip() == "nothing to remove", r.stdout
    assert published(site) == good


def test_clean_names_the_real_folder_and_never_the_site_wide_files(site: Path) -> None:
    shutil.copy(site / "content" / f"{SLUG}.yaml", site / "content" / "gone.yaml")
    assert invoke(["build", "--all", "-q"], site).exit_code == 0
    (site / "content" / "gone.yaml").unlink()
    assert status_of(site)["gone"] == (
        "orphaned: no content/gone.yaml; `narrate clean` removes them"
    )
    r = invoke(["clean", "--yes"], site)
    assert r.exit_code == 0
    left = sorted(p.name for p in (site / "audio").iterdir() if not p.name.startswith("."))
    assert left == sorted([*OUTPUTS, pub.MANIFEST])
    assert "gone" not in json.loads((site / "audio" / pub.MANIFEST).read_text())["articles"]


def _clean_on_a_terminal(site: Path, answer: bytes) -> tuple[int, str]:
    """Run `narrate clean` with a terminal as its standard input, answer its question."""
    import os
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, str(FAKES_RUNNER), "clean"],
        cwd=site, stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    os.close(follower)
    os.write(leader, answer)
    out, _ = proc.communicate(timeout=60)
    os.close(leader)
    return proc.returncode, out.decode()


@pytest.mark.slow
def test_clean_on_a_terminal_asks_and_a_no_keeps_everything(site: Path) -> None:
    shutil.copy(site / "content" / f"{SLUG}.yaml", site / "content" / "gone.yaml")
    assert invoke(["build", "--all", "-q"], site).exit_code == 0
    (site / "content" / "gone.yaml").unlink()
    code, out = _clean_on_a_terminal(site, b"n\n")
    assert code == 0 and "remove 6 files of 1 articles? [y/N]" in out and "nothing removed" in out
    assert (site / "audio" / "gone.mp3").exists()
    code, out = _clean_on_a_terminal(site, b"y\n")
    assert code == 0 and "removed 7 files" in out  # and its lock
    assert not list((site / "audio").glob("gone.*"))


# --- side by side --------------------------------------------------------------------------------


@pytest.mark.slow
def test_prune_during_a_build_does_not_fail_it(site: Path, tmp_path: Path) -> None:
    """`cache prune` in a loop while a slow build writes the cache: the build never notices."""
    env = {"NARRATE_FAKE_DELAY": "0.4", "PYTHONPATH": str(ROOT)}
    cfg = site / "narrate.yaml"
    cfg.write_text(cfg.read_text().replace("backend: fake", "backend: slow"))
    proc = subprocess.Popen(
        [sys.executable, str(FAKES_RUNNER), "build", SLUG, "-q"],
        cwd=site, env={**__import__("os").environ, **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    prunes = 0
    stop = threading.Event()

    def prune_loop() -> None:
        nonlocal prunes
        while not stop.is_set() and proc.poll() is None:
            r = subprocess.run(
                [sys.executable, str(FAKES_RUNNER), "cache", "prune"],
                cwd=site, capture_output=True, text=True, env={**__import__("os").environ, **env},
            )  # fmt: skip
            assert r.returncode == 0, r.stderr
            prunes += 1

    pruner = threading.Thread(target=prune_loop)
    pruner.start()
    out, err = proc.communicate(timeout=120)
    stop.set()
    pruner.join(30)
    assert proc.returncode == 0, err
    assert prunes >= 2  # they really ran side by side
    assert status_of(site)[SLUG] == "fresh: up to date"


# --- say --------------------------------------------------------------------------------------


def test_failed_playback_is_reported_even_when_the_player_exits_0(tmp_path: Path) -> None:
    player = tmp_path / "player"
    player.write_text(
        "#!/bin/sh\necho 'No more combinations to try, audio open failed' >&2\nexit 0\n"
    )
    player.chmod(0o755)
    wav = tmp_path / "line.wav"
    wav.write_bytes(b"RIFF")
    problem = play(wav, [str(player)])
    assert problem is not None and "audio open failed" in problem
    quiet = tmp_path / "quiet"
    quiet.write_text("#!/bin/sh\nexit 0\n")
    quiet.chmod(0o755)
    assert play(wav, [str(quiet)]) is None


# --- limits ------------------------------------------------------------------------------------


def test_the_sentence_limit_is_configurable_and_found_before_any_work(site: Path) -> None:
    cfg = site / "narrate.yaml"
    cfg.write_text(cfg.read_text() + "\nlimits:\n  sentences: 5\n")
    r = invoke(["script", SLUG], site)
    assert r.exit_code == 1
    assert "the article has more than 5 sentences" in r.stderr and "split it" in r.stderr
    assert status_of(site)[SLUG].startswith("invalid: ")
    assert not (site / ".cache").exists()  # refused before anything was synthesised
    cfg.write_text(cfg.read_text().replace("sentences: 5", "sentences: 0"))
    r = invoke(["status"], site)
    assert r.exit_code == 1 and "narrate.yaml:" in r.stderr and "limits.sentences" in r.stderr


def test_a_config_lexicon_entry_that_says_nothing_is_refused_at_its_line(site: Path) -> None:
    cfg = site / "narrate.yaml"
    cfg.write_text(cfg.read_text().replace("lexicon:\n", 'lexicon:\n  GPU: "🎉"\n', 1))
    r = invoke(["script", SLUG], site)
    assert r.exit_code == 1
    assert r.stderr.startswith(f"narrate: error: {cfg}:") and "says nothing aloud" in r.stderr


def test_a_markdown_articles_outputs_are_never_orphans(site: Path) -> None:
    md = (ROOT / "tests" / "data" / "markdown" / "same.md").read_text()
    (site / "content" / "same.md").write_text(md)
    assert invoke(["build", "same", "-q"], site).exit_code == 0
    assert status_of(site)["same"] == "fresh: up to date"
    r = invoke(["clean", "--yes"], site)
    assert r.stdout.strip() == "nothing to remove" and (site / "audio" / "same.mp3").exists()


def test_the_console_script_starts_where_python_m_narrate_does() -> None:
    """Both get the early signal and memory handling of narrate/__main__.py."""
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "narrate"]
    assert script.value == "narrate.__main__:run"
