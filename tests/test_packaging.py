"""A built wheel holds every module and asset (the quick start's `pip install -e` would hide a
subpackage missing from ``[tool.setuptools] packages``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow


def test_the_wheel_carries_every_module_and_asset(tmp_path: Path) -> None:
    # From a copy of the tracked files: a build/ folder left by an earlier build would
    # otherwise lend the wheel the files a missing package entry drops.
    src = tmp_path / "src"
    listed = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path), str(src)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [wheel] = tmp_path.glob("narrate-*.whl")
    inside = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "narrate"
    wanted = {
        p.relative_to(ROOT).as_posix()
        for p in package.rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and p.suffix in (".py", ".js", ".css", ".typed")
    }
    assert len(wanted) > 50
    assert sorted(wanted - inside) == []
