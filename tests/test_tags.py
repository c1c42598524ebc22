"""ID3v2.3 tags and chapters on a real MP3, checked with mutagen and with ffmpeg."""

from __future__ import annotations

import math
import subprocess
from array import array
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import lameenc
import pytest
from mutagen.id3 import ID3, CTOCFlags, Encoding
from mutagen.mp3 import MP3

from narrate.outputs.chapters import Chapter
from narrate.outputs.tags import id3_tag
from tests.id3_read import read_chapters, read_tags

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
SAMPLE_RATE = 22_050
SECONDS = 4

# Titles of very different lengths: mutagen would order CHAP frames by size, not by time.
CHAPTERS = [
    Chapter("ImageNet: a very long opening chapter title — with an em dash", 0, 1_234),
    Chapter("Rock & Roll <script>\"x\"</script> --> 'q'", 1_234, 2_000),
    Chapter("Notes = a; b # c \\ d\nsecond line", 2_000, 2_001),
    Chapter("Fun 🎧", 2_001, 3_999),
]
METADATA: dict[str, Any] = {
    "title": "ImageNet",
    "artist": "Narrator",
    "album": "AI Milestones — Deep Learning Era",
    "year": "2009",
    "comment": "Narrated offline.\nSecond line.",
}


@pytest.fixture(scope="session")
def mp3_bytes() -> bytes:
    """A plain MP3 frame stream (no tag): a quiet 440 Hz tone, 22,050 Hz mono 64 kb/s."""
    samples = array(
        "h",
        (
            int(3000 * math.sin(2 * math.pi * 440 * n / SAMPLE_RATE))
            for n in range(SAMPLE_RATE * SECONDS)
        ),
    )
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(64)
    encoder.set_in_sample_rate(SAMPLE_RATE)
    encoder.set_channels(1)
    encoder.set_quality(7)
    return bytes(encoder.encode(samples.tobytes()) + encoder.flush())


@pytest.fixture
def mp3(tmp_path: Path, mp3_bytes: bytes) -> Path:
    path = tmp_path / "article.mp3"
    path.write_bytes(mp3_bytes)
    return path


def ffmpeg_metadata(path: Path) -> tuple[dict[str, str], list[tuple[int, int, str]]]:
    """Return ffmpeg's view of a file: global tags and (start ms, end ms, title) chapters."""
    # -copyts: otherwise ffmpeg shifts chapters by the stream's start time, which is the encoder
    # delay whenever the file has a LAME/Info header (ffmpeg-muxed files: 24 ms here), although
    # the CHAP frames hold the exact times. ffprobe would show them unshifted.
    result = subprocess.run(
        [FFMPEG, "-v", "error", "-copyts", "-i", str(path), "-f", "ffmetadata", "-"],
        capture_output=True,
        check=True,
    )
    assert result.stderr == b""
    return parse_ffmetadata(result.stdout.decode("utf-8"))


def parse_ffmetadata(text: str) -> tuple[dict[str, str], list[tuple[int, int, str]]]:
    """Parse ffmpeg's FFMETADATA1 output, undoing its backslash escapes."""
    # Split on unescaped newlines, keeping escapes, then split each line on its first bare '='.
    lines: list[list[tuple[bool, str]]] = [[]]
    chars = iter(text)
    for char in chars:
        if char == "\\":
            lines[-1].append((True, next(chars)))
        elif char == "\n":
            lines.append([])
        else:
            lines[-1].append((False, char))
    assert "".join(c for _, c in lines[0]) == ";FFMETADATA1"
    sections: list[dict[str, str]] = [{}]
    for line in lines[1:]:
        raw = "".join(c for _, c in line)
        if not line or raw.startswith((";", "#")):
            continue
        if raw == "[CHAPTER]" and not any(escaped for escaped, _ in line):
            sections.append({})
            continue
        split = next(i for i, (escaped, c) in enumerate(line) if c == "=" and not escaped)
        sections[-1][raw[:split]] = raw[split + 1 :]
    chapters = []
    for section in sections[1:]:
        assert section["TIMEBASE"] == "1/1000"
        chapters.append((int(section["START"]), int(section["END"]), section.get("title", "")))
    return sections[0], chapters


def write_id3(path: Path, **tags: Any) -> None:
    """Put the tag a build would write before the file's (untagged) frames."""
    path.write_bytes(id3_tag(**tags) + path.read_bytes())


def expected(chapters: list[Chapter]) -> list[tuple[int, int, str]]:
    return [(c.start_ms, c.end_ms, c.title) for c in chapters]


def test_mutagen_reads_back_what_was_written(mp3: Path) -> None:
    write_id3(mp3, chapters=CHAPTERS, **METADATA)
    assert read_chapters(mp3) == CHAPTERS
    assert read_tags(mp3) == {**METADATA, "language": "eng"}


def test_tag_is_id3v23_with_one_ordered_top_level_ctoc(mp3: Path) -> None:
    write_id3(mp3, chapters=CHAPTERS, **METADATA)
    # translate=False: see the frames as stored, not mutagen's v2.4 upgrade of them.
    tag = ID3(mp3, translate=False)
    assert tag.version == (2, 3, 0)
    assert tag["TYER"].text == ["2009"] and "TDRC" not in tag
    assert tag["TLAN"].text == ["eng"]
    (comment,) = tag.getall("COMM")
    assert (comment.lang, comment.desc) == ("eng", "")
    (toc,) = tag.getall("CTOC")
    assert toc.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    assert toc.child_element_ids == ["chp0", "chp1", "chp2", "chp3"]
    chaps = {frame.element_id: frame for frame in tag.getall("CHAP")}
    for index, chapter in enumerate(CHAPTERS):
        frame = chaps[f"chp{index}"]
        assert (frame.start_time, frame.end_time) == (chapter.start_ms, chapter.end_ms)
        assert (frame.start_offset, frame.end_offset) == (0xFFFFFFFF, 0xFFFFFFFF)
        assert frame.sub_frames["TIT2"].text == [chapter.title]
    # ID3v2.3 allows only Latin-1 and UTF-16: Latin-1 when it fits, UTF-16 otherwise.
    assert tag["TIT2"].encoding == Encoding.LATIN1
    assert tag["TALB"].encoding == Encoding.UTF16
    assert chaps["chp3"].sub_frames["TIT2"].encoding == Encoding.UTF16


def test_ffmpeg_reads_the_same_chapters_and_tags(mp3: Path) -> None:
    write_id3(mp3, chapters=CHAPTERS, **METADATA)
    tags, chapters = ffmpeg_metadata(mp3)
    # Same order, same milliseconds: ffmpeg lists CHAP frames in file order, ignoring the CTOC.
    assert chapters == expected(CHAPTERS)
    assert {key: tags[key] for key in ("title", "artist", "album", "date", "comment")} == {
        "title": "ImageNet",
        "artist": "Narrator",
        "album": "AI Milestones — Deep Learning Era",
        "date": "2009",
        "comment": "Narrated offline.\nSecond line.",
    }


def test_audio_is_untouched_and_decodes_cleanly(mp3: Path, mp3_bytes: bytes) -> None:
    write_id3(mp3, chapters=CHAPTERS, **METADATA)
    assert mp3.read_bytes().endswith(mp3_bytes)
    info = MP3(mp3).info
    assert info is not None and info.length == pytest.approx(SECONDS, abs=0.1)
    decoded = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(mp3), "-f", "null", "-"], capture_output=True
    )
    assert (decoded.returncode, decoded.stderr) == (0, b"")


def test_untagged_file_has_no_chapters_or_tags(mp3: Path) -> None:
    assert read_chapters(mp3) == []
    assert read_tags(mp3) == {}


def test_chapters_without_a_toc_are_refused(mp3: Path) -> None:
    write_id3(mp3, chapters=CHAPTERS, **METADATA)
    tag = ID3(mp3)
    tag.delall("CTOC")
    tag.save(mp3, v2_version=3)
    with pytest.raises(ValueError, match="no top-level CTOC"):
        read_chapters(mp3)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"year": "09"}, "four digits"),
        ({"year": "2009-05-01"}, "four digits"),
        ({"language": "en"}, "ISO 639-2"),
        ({"chapters": []}, "no chapters"),
        ({"chapters": [Chapter("A", 0, 10), Chapter("B", 5, 20)]}, "before the previous"),
    ],
)
def test_bad_arguments_are_refused_before_writing(
    mp3: Path, mp3_bytes: bytes, change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        write_id3(mp3, **{"chapters": CHAPTERS, **METADATA, **change})
    assert mp3.read_bytes() == mp3_bytes


def test_the_tag_is_deterministic(mp3_bytes: bytes) -> None:
    first = id3_tag(chapters=CHAPTERS, **METADATA)
    assert id3_tag(chapters=CHAPTERS, **METADATA) == first
    assert first.startswith(b"ID3\x03\x00")  # ID3v2.3, no flags
