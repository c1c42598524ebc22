"""Publication: outputs written beside their targets, renamed into place in a fixed order, a build
record that lets ``status`` see a half-published set and the next build repair it, and readers
that never see a truncated file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import narrate.cli
from narrate.outputs import publish as pub
from narrate.pipeline import plan_article
from narrate.pipeline.freshness import freshness
from narrate.settings.load import load_settings

ROOT = Path(__file__).resolve().parent.parent
SLUG = "imagenet"

SLOW_FIXTURES = ("two_builds",)
"""Real-engine (or cluster) builds: every test using one is marked slow (tests/conftest.py)."""
ORDER = [f"{SLUG}{s}" for s in (*pub.OUTPUTS, pub.RECORD)]
"""The MP3 first, then the chapter and transcript files, the build record last."""


def outputs(audio: Path) -> dict[str, bytes]:
    """Return the article's four outputs and its record by name."""
    return {name: (audio / name).read_bytes() for name in ORDER}


def files(n: int) -> dict[str, bytes]:
    """Return a set of outputs whose bytes (and sizes) differ with ``n``."""
    return {suffix: f"{suffix} version {n} ".encode() * (1000 + 300 * n) for suffix in pub.OUTPUTS}


# --- the rename order and where temporary files go ------------------------------------------


def test_outputs_are_written_beside_their_targets_and_renamed_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace
    renames: list[tuple[Path, Path]] = []

    def spy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        renames.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    pub.publish(tmp_path, SLUG, files(1), {"input": "x"})
    assert [dst.name for _, dst in renames] == ORDER
    for src, dst in renames:
        assert src.parent == dst.parent == tmp_path  # same folder: the rename is atomic
        assert src.name.startswith(f".{dst.name}.") and src.name.endswith(".part")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(ORDER)
    record = json.loads((tmp_path / f"{SLUG}{pub.RECORD}").read_text())
    assert pub.outputs_intact(tmp_path, SLUG, record) is None
    assert (tmp_path / f"{SLUG}.mp3").stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.slow
def test_a_reader_never_sees_a_truncated_file(tmp_path: Path) -> None:
    versions = [files(1), files(2)]
    whole = {f"{SLUG}{suffix}": {v[suffix] for v in versions} for suffix in pub.OUTPUTS}
    pub.publish(tmp_path, SLUG, versions[0], {})
    stop = threading.Event()
    seen: list[tuple[str, int]] = []

    def read() -> None:
        while not stop.is_set():
            for name, allowed in whole.items():
                data = (tmp_path / name).read_bytes()
                if data not in allowed:
                    seen.append((name, len(data)))

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    try:
        for i in range(200):
            pub.publish(tmp_path, SLUG, versions[i % 2], {})
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert seen == []
    assert not list(tmp_path.glob("*.part"))


def test_ctrl_c_waits_until_the_renames_are_done() -> None:
    # A SIGINT that arrives while the set is being renamed is held and delivered after.
    code = (
        "import os, signal\n"
        "from narrate.outputs.publish import _signals_deferred\n"
        "got = []\n"
        "signal.signal(signal.SIGINT, lambda *a: got.append('sigint'))\n"
        "with _signals_deferred():\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    got.append('renamed')\n"
        "print(got)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['renamed', 'sigint']"


# --- a half-published set: status sees it, build repairs it ---------------------------------


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A site built with the real engine twice: returns it (at version 2) and version 1."""
    site = tmp_path_factory.mktemp("site")
    shutil.copy(ROOT / "narrate.yaml", site / "narrate.yaml")
    shutil.copytree(ROOT / "content", site / "content")
    run = [sys.executable, "-m", "narrate", SLUG, "-q"]
    subprocess.run(run, cwd=site, check=True, timeout=300)
    v1 = outputs(site / "audio")
    article = site / "content" / f"{SLUG}.yaml"
    article.write_text(article.read_text("utf-8").replace("Fun Facts", "Some Fun Facts"), "utf-8")
    subprocess.run(run, cwd=site, check=True, timeout=300)
    return site, v1


@pytest.fixture
def site(two_builds: tuple[Path, dict[str, bytes]], tmp_path: Path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(two_builds[0], copy)
    return copy


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    runner = CliRunner()

    def run(*args: str) -> Result:
        result = runner.invoke(narrate.cli.app, list(args))
        assert result.exception is None or isinstance(result.exception, SystemExit)
        return result

    yield run


def state(site: Path) -> tuple[str, str]:
    settings = load_settings(site, None)
    return freshness(plan_article(settings, SLUG), site / "audio")


def test_interrupted_publish_is_reported_and_repaired(
    site: Path,
    two_builds: tuple[Path, dict[str, bytes]],
    cli: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a run killed just after the first rename leaves: a new MP3 beside the old rest."""
    monkeypatch.chdir(site)
    audio = site / "audio"
    v2 = outputs(audio)
    v1 = two_builds[1]
    assert v1[f"{SLUG}.mp3"] != v2[f"{SLUG}.mp3"]
    for name, data in v1.items():
        (audio / name).write_bytes(data)
    (audio / f"{SLUG}.mp3").write_bytes(v2[f"{SLUG}.mp3"])
    reason = f"{SLUG}.mp3 does not match its build record (edited, or a publish was interrupted)"
    assert state(site) == ("mismatched", reason)

    status = cli("status")
    assert status.exit_code == 0
    assert status.stdout.split(None, 2) == [SLUG, "mismatched", reason + "\n"]
    check = cli("check")
    assert check.exit_code == 3
    assert check.stderr == (
        "narrate: error: 1 of 1 article needs `narrate build --all` "
        "(or `narrate clean` for orphaned outputs)\n"
    )

    build = cli("build", SLUG, "-q")
    assert build.exit_code == 0, build.stderr
    assert outputs(audio) == v2  # the same bytes as the uninterrupted build
    assert state(site) == ("fresh", "up to date")
    assert cli("check").exit_code == 0


def test_edited_output_is_reported_and_repaired(
    site: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(site)
    audio = site / "audio"
    good = outputs(audio)
    (audio / f"{SLUG}.chapters.vtt").write_text("WEBVTT\n\nedited by hand\n")
    assert state(site) == (
        "mismatched",
        f"{SLUG}.chapters.vtt does not match its build record "
        "(edited, or a publish was interrupted)",
    )
    assert cli("build", SLUG, "-q").exit_code == 0
    assert outputs(audio) == good


def test_missing_record_or_output_is_reported_and_repaired(
    site: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(site)
    audio = site / "audio"
    good = outputs(audio)
    (audio / f"{SLUG}{pub.RECORD}").unlink()
    assert state(site) == ("mismatched", "outputs exist but their build record is missing")
    assert cli("build", SLUG, "-q").exit_code == 0
    (audio / f"{SLUG}.transcript.vtt").unlink()
    assert state(site) == ("mismatched", f"{SLUG}.transcript.vtt is missing")
    assert cli("build", SLUG, "-q").exit_code == 0
    assert outputs(audio) == good


def test_publish_stopped_between_renames_says_how_to_repair(
    site: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rename that fails part-way (injected): one line, then status and build as above."""
    monkeypatch.chdir(site)
    audio = site / "audio"
    article = site / "content" / f"{SLUG}.yaml"
    article.write_text(article.read_text("utf-8").replace("Some Fun Facts", "Fun Facts"))
    real_replace = os.replace
    calls = []

    def failing(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(5, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    result = cli("build", SLUG, "-q")
    monkeypatch.setattr(os, "replace", real_replace)
    assert result.exit_code == 1
    assert result.stderr == (
        f"narrate: error: publishing `{SLUG}` in {audio} stopped part-way (Input/output error); "
        "`narrate status` shows the mismatch and the next build repairs it\n"
    )
    assert not list(audio.glob(".*.part"))
    assert state(site)[0] == "mismatched"
    assert cli("build", SLUG, "-q").exit_code == 0
    assert state(site) == ("fresh", "up to date")


def test_manifest_left_behind_is_brought_up_to_date(
    site: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run killed after publishing but before the manifest: the next (no-op) run fixes it."""
    monkeypatch.chdir(site)
    manifest = site / "audio" / pub.MANIFEST
    good = manifest.read_bytes()
    manifest.write_text(json.dumps({"version": 1, "articles": {}}))
    result = cli("build", SLUG)
    assert result.exit_code == 0
    assert "up to date" in result.stdout
    assert manifest.read_bytes() == good
    mtime = manifest.stat().st_mtime_ns
    assert cli("build", SLUG, "-q").exit_code == 0
    assert manifest.stat().st_mtime_ns == mtime  # when it is current, not even touched
