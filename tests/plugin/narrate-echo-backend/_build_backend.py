"""A minimal in-tree PEP 517 build backend: builds this plugin's wheel with the standard library.

A published plugin would use setuptools, hatchling or flit here. The test installs this one
with ``pip install --no-build-isolation --no-deps`` into a temporary folder, and that must work
offline in any venv: Python 3.12+ venvs carry no setuptools, and older setuptools cannot build
wheels without the ``wheel`` package. So the wheel is written here from ``pyproject.toml``'s
``[project]`` table: metadata, the entry points, the package's files and a RECORD.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import zipfile
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # narrate depends on tomli for Python 3.10
    import tomli as tomllib

HERE = Path(__file__).resolve().parent


def _project() -> dict[str, Any]:
    with (HERE / "pyproject.toml").open("rb") as f:
        project: dict[str, Any] = tomllib.load(f)["project"]
    return project


def _dist_name(project: dict[str, Any]) -> str:
    return str(project["name"]).replace("-", "_")


def _metadata(project: dict[str, Any]) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project.get('description', '')}",
        f"Requires-Python: {project.get('requires-python', '>=3')}",
    ]
    lines += [f"Requires-Dist: {dep}" for dep in project.get("dependencies", [])]
    return "\n".join(lines) + "\n"


def _entry_points(project: dict[str, Any]) -> str:
    out = []
    for group, entries in project.get("entry-points", {}).items():
        out.append(f"[{group}]")
        out += [f"{name} = {target}" for name, target in entries.items()]
        out.append("")
    return "\n".join(out)


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    """Build the wheel into ``wheel_directory`` and return its file name (PEP 517)."""
    project = _project()
    dist = _dist_name(project)
    info = f"{dist}-{project['version']}.dist-info"
    files: dict[str, bytes] = {}
    for path in sorted((HERE / "narrate_echo").rglob("*.py")):
        files[path.relative_to(HERE).as_posix()] = path.read_bytes()
    files[f"{info}/METADATA"] = _metadata(project).encode()
    files[f"{info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: narrate-echo in-tree backend\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{info}/entry_points.txt"] = _entry_points(project).encode()
    record = [_record_line(name, data) for name, data in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    name = f"{dist}-{project['version']}-py3-none-any.whl"
    with zipfile.ZipFile(Path(wheel_directory) / name, "w", zipfile.ZIP_DEFLATED) as whl:
        for arcname, data in files.items():
            whl.writestr(arcname, data)
    return name


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    """Return nothing: the standard library builds this wheel (PEP 517)."""
    return []
