"""Byte-identical outputs: ImageNet and a three-article site against hashes recorded in one file.

``tests/golden/outputs.json`` holds the sha256 of every published file (and of the embed
fragment) from a build with the real engine and encoder, with the versions of the packages that
make those bytes. A change that alters audio, chapters or transcripts on purpose re-records them
(``NARRATE_RECORD_GOLDEN=1 pytest tests/test_golden.py``) in a commit that says why. Build
records are left out: they are bookkeeping (cache keys, engine tokens) that changes when the
cache format does, and what they promise is checked by ``status`` tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.helpers import ROOT, copy_site, run_cli_ok

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GOLDEN = ROOT / "tests" / "golden" / "outputs.json"
SITE = ROOT / "tests" / "data" / "site"
PACKAGES = ("espeakng-loader", "lameenc", "numpy")
RECORD = os.environ.get("NARRATE_RECORD_GOLDEN") == "1"


def _versions() -> dict[str, str]:
    return {name: version(name) for name in PACKAGES}


def _hashes(audio: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(audio.iterdir())
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".build.json")
    }


def _built(tmp: Path) -> dict[str, dict[str, str]]:
    one = copy_site(tmp / "imagenet")
    run_cli_ok("imagenet", cwd=one)
    r = run_cli_ok("embed", "imagenet", cwd=one)
    imagenet = _hashes(one / "audio")
    imagenet["embed.html"] = hashlib.sha256(r.stdout.encode()).hexdigest()

    many = tmp / "site"
    shutil.copytree(SITE, many)
    shutil.copy(ROOT / "narrate.yaml", many / "narrate.yaml")
    run_cli_ok("build", "--all", cwd=many)
    return {"imagenet": imagenet, "site": _hashes(many / "audio")}


def test_outputs_are_byte_identical_to_the_recorded_build(tmp_path: Path) -> None:
    got = _built(tmp_path)
    if RECORD:
        GOLDEN.write_text(json.dumps({"versions": _versions(), **got}, indent=2) + "\n")
        pytest.skip(f"recorded {GOLDEN}")
    want = json.loads(GOLDEN.read_text())
    if want["versions"] != _versions():
        pytest.fail(
            f"the recorded hashes were made with {want['versions']}, this run has "
            f"{_versions()}: re-record them (NARRATE_RECORD_GOLDEN=1) in a commit that says why"
        )
    assert got["imagenet"] == want["imagenet"]
    assert got["site"] == want["site"]
