"""`narrate init [DIR]`: a new site that builds as it stands, and never an overwrite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from narrate.project_init import CONFIG_TEMPLATE, EXAMPLE_ARTICLE
from narrate.settings.load import load_settings
from tests.helpers import invoke, run_cli


def test_init_writes_a_neutral_config_and_an_example(tmp_path: Path) -> None:
    site = tmp_path / "new-site"
    ran = invoke(["init", str(site)], tmp_path)
    assert ran.exit_code == 0, ran.stderr
    assert (site / "narrate.yaml").read_text("utf-8") == CONFIG_TEMPLATE
    assert (site / "content" / "example.yaml").read_text("utf-8") == EXAMPLE_ARTICLE
    settings = load_settings(site)
    assert settings.site_name == "My Site"
    assert "AI Milestones" not in CONFIG_TEMPLATE and "docs/" not in CONFIG_TEMPLATE
    assert "#" in CONFIG_TEMPLATE  # commented
    assert "narrate example" in ran.stderr


def test_init_refuses_to_overwrite_anything(tmp_path: Path) -> None:
    (tmp_path / "narrate.yaml").write_text("narrate: 1\n# mine\n")
    ran = invoke(["init"], tmp_path)
    assert ran.exit_code == 1
    assert "already exists; narrate init never overwrites" in ran.stderr
    assert (tmp_path / "narrate.yaml").read_text() == "narrate: 1\n# mine\n"
    assert not (tmp_path / "content").exists()  # nothing at all was written


def test_init_refuses_when_the_example_exists(tmp_path: Path) -> None:
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "example.yaml").write_text("mine")
    ran = invoke(["init"], tmp_path)
    assert ran.exit_code == 1
    assert not (tmp_path / "narrate.yaml").exists()
    assert (tmp_path / "content" / "example.yaml").read_text() == "mine"


@pytest.mark.usefixtures("fake_backends")
def test_the_example_builds_in_the_new_folder(tmp_path: Path) -> None:
    assert invoke(["init"], tmp_path).exit_code == 0
    config = tmp_path / "narrate.yaml"
    config.write_text(config.read_text().replace("backend: pyttsx3", "backend: fake"))
    built = invoke(["build", "example", "-q"], tmp_path)
    assert built.exit_code == 0, built.stderr
    chapters = json.loads((tmp_path / "audio" / "example.chapters.json").read_text())
    titles = [c["title"] for c in chapters["chapters"]]
    assert titles == ["Getting Started", "How It Works", "What Comes Next"]


@pytest.mark.slow
@pytest.mark.e2e
def test_init_then_build_with_the_real_engine(tmp_path: Path) -> None:
    ran = run_cli("init", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    built = run_cli("example", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    mp3 = (tmp_path / "audio" / "example.mp3").read_bytes()
    assert mp3[:3] == b"ID3" and len(mp3) > 100_000
    tags = json.loads((tmp_path / "audio" / "manifest.json").read_text())
    assert tags["articles"]["example"]["chapters"] == 3
