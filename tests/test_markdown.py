"""Markdown articles (content/SLUG.md): front matter, chapters, quotes, lists and non-prose."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import ROOT, copy_site, invoke, run_cli

DATA = ROOT / "tests" / "data" / "markdown"
FAKE = {"backend: pyttsx3": "backend: fake"}


def _site(tmp_path: Path, files: dict[str, str], config_extra: str = "") -> Path:
    site = copy_site(tmp_path / "site", slugs=(), config_edits=FAKE, config_extra=config_extra)
    for name, source in files.items():
        shutil.copy(DATA / source, site / "content" / name)
    return site


def _script(site: Path, slug: str) -> str:
    ran = invoke(["script", slug], site)
    assert ran.exit_code == 0, ran.stderr
    return ran.stdout


def test_a_hugo_article_has_its_chapters_and_no_code_spoken(tmp_path: Path) -> None:
    site = _site(tmp_path, {"imagenet.md": "hugo.md"})
    script = _script(site, "imagenet")
    chapters = [ln.split(": ", 1)[1] for ln in script.splitlines() if ln.startswith("## Chapter")]
    assert chapters == [
        "ImageNet", "Introduction", "Notable Quotes", "Numbers", "Timeline of Events", "Fun Facts"
    ]  # fmt: skip
    said = "\n".join(ln.split("] ", 1)[1].split("   (shown")[0] for ln in script.splitlines()
                     if ln.startswith("s-"))  # fmt: skip
    assert "torchvision import" not in said and "split=" not in said  # the code block
    assert "Code example skipped." in said and "Table skipped." in said
    assert "1.2 million" not in said  # the table's cells
    assert "with torchvision.datasets.ImageNet in two lines" in said  # inline code is read
    assert "described on the project site." in said and "image-net.org" not in said
    assert "A grid of thumbnails from the dataset" in said  # the image's alt text
    assert "footnote" not in said.lower() and "*" not in said
    assert ", explaining the motivation behind creating ImageNet, said:" in said
    assert "If we want to teach computers to see" in said
    assert "In 2007, ImageNet project initiated at Stanford University." in said
    assert "Took 2.5 years to build." in said
    assert "layout" not in script and "milestone" not in script  # generator keys ignored


def test_markdown_and_yaml_with_the_same_text_give_the_same_script(tmp_path: Path) -> None:
    md = _site(tmp_path / "md", {"same.md": "same.md"})
    yml = _site(tmp_path / "yaml", {"same.yaml": "same.yaml"})
    assert _script(md, "same") == _script(yml, "same")


@pytest.mark.usefixtures("fake_backends")
def test_markdown_and_yaml_with_the_same_text_give_the_same_mp3(tmp_path: Path) -> None:
    mp3 = {}
    for kind in ("md", "yaml"):
        site = _site(tmp_path / kind, {f"same.{kind}": f"same.{kind}"})
        built = invoke(["build", "same", "-q"], site)
        assert built.exit_code == 0, built.stderr
        mp3[kind] = (site / "audio" / "same.mp3").read_bytes()
    assert mp3["md"] == mp3["yaml"]


@pytest.mark.slow
@pytest.mark.e2e
def test_the_same_mp3_with_the_real_engine(tmp_path: Path) -> None:
    mp3 = {}
    for kind in ("md", "yaml"):
        site = copy_site(tmp_path / kind, slugs=())
        shutil.copy(DATA / f"same.{kind}", site / "content" / f"same.{kind}")
        built = run_cli("same", cwd=site)
        assert built.returncode == 0, built.stderr
        mp3[kind] = (site / "audio" / "same.mp3").read_bytes()
    assert mp3["md"] == mp3["yaml"]


def test_the_policy_is_configurable(tmp_path: Path) -> None:
    extra = (
        "markdown:\n  code: read\n  table: skip\n"
        "  inline_code: {policy: placeholder, cue: a name}\n"
        "  image: skip\n  math: read\n"
    )
    site = _site(tmp_path, {"imagenet.md": "hugo.md"}, config_extra=extra)
    script = _script(site, "imagenet")
    assert "from torchvision import datasets" in script
    assert "Table skipped" not in script and "Code example skipped" not in script
    assert "Load it with a name in two lines:" in script
    assert "A grid of thumbnails" not in script


def test_a_bad_policy_names_its_line(tmp_path: Path) -> None:
    site = _site(tmp_path, {"imagenet.md": "hugo.md"}, config_extra="markdown:\n  code: mumble\n")
    ran = invoke(["script", "imagenet"], site)
    assert ran.exit_code == 1 and "markdown.code" in ran.stderr and "not a policy" in ran.stderr


def test_drafts_are_left_out_and_a_twin_is_an_error(tmp_path: Path) -> None:
    site = _site(tmp_path, {"same.md": "same.md", "imagenet.md": "hugo.md"})
    draft = site / "content" / "imagenet.md"
    draft.write_text(draft.read_text().replace("draft: false", "draft: true"))
    ran = invoke(["status", "--json"], site)
    assert ran.exit_code == 0, ran.stderr
    assert "imagenet" not in ran.stdout and "same" in ran.stdout
    shutil.copy(DATA / "same.yaml", site / "content" / "same.yaml")
    twin = invoke(["script", "same"], site)
    assert twin.exit_code == 2 and "same.yaml and" in twin.stderr and "same.md exist" in twin.stderr


def test_errors_point_into_the_markdown_file(tmp_path: Path) -> None:
    site = _site(tmp_path, {"same.md": "same.md"})
    path = site / "content" / "same.md"
    text = path.read_text()
    path.write_text(text.replace("- It filled a room", "- It filled a room\n\n## Empty\n"))
    ran = invoke(["script", "same"], site)
    assert ran.exit_code == 1
    line = text.count("\n") + 2  # the heading, after the last line and a blank one
    assert f"same.md:{line}: section 'Empty' has no content" in ran.stderr
    path.write_text("---\ntitle: T\ndate: 2020-02-31\n---\n\nSummary.\n\n## H\n\nText.\n")
    bad = invoke(["script", "same"], site)
    assert "same.md:3:7: date: `2020-02-31` is not a date" in bad.stderr


def test_a_yaml_front_matter_title_and_a_lead_paragraph(tmp_path: Path) -> None:
    site = _site(tmp_path, {})
    (site / "content" / "lead.md").write_text(
        "# Shown Title\n\nThe lead paragraph is the summary.\n\n## First\n\nBody text.\n"
    )
    script = _script(site, "lead")
    assert "[title] Shown Title." in script and "[summary] The lead paragraph" in script
    chapters = json.dumps([ln for ln in script.splitlines() if ln.startswith("## Chapter")])
    assert "First" in chapters
