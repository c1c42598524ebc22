"""The preview server over real sockets on 127.0.0.1, and what the page refuses to read or write.

Every server test talks HTTP to a live server (http.client, or a raw socket for what http.client
will not send), with socket timeouts and bounded loops, and checks that nothing reached stderr:
a malformed request gets an answer, never a traceback or a dropped connection.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from narrate.content.model import Article, Paragraph
from narrate.errors import NarrateError, OutputError
from narrate.outputs import publish as pub
from narrate.outputs.chapters import (
    Chapter,
    Cue,
    chapters_json,
    chapters_vtt,
    transcript_json,
    transcript_vtt,
)
from narrate.web.page import load_narration, write_preview
from narrate.web.server import REQUEST_TIMEOUT, RangeRequestHandler, parse_range, serving

BODY = bytes(range(256)) * 40
SIZE = len(BODY)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", (0, 9)),
        ("bytes=10-", (10, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=-500", (0, 99)),
        ("bytes=90-500", (90, 99)),
        ("bytes=99-99", (99, 99)),
        ("bytes=100-", False),
        ("bytes=-0", False),
        ("bytes=5-2", None),
        ("bytes=0-1,5-6", None),
        ("items=0-1", None),
        ("bytes=-", None),
        # Thousands of digits: read as numbers past any end, not handed to int() (which refuses).
        ("bytes=" + "9" * 5000 + "-", False),
        ("bytes=0-" + "9" * 5000, (0, 99)),
        ("bytes=-" + "9" * 5000, (0, 99)),
        ("bytes=" + "0" * 5000 + "7-8", (7, 8)),
        ("bytes=\u0661-\u0662", None),  # only ASCII digits
    ],
)
def test_parse_range(header: str, expected: object) -> None:
    assert parse_range(header, 100) == expected


def test_the_handler_times_out_requests_by_default() -> None:
    assert RangeRequestHandler.timeout == REQUEST_TIMEOUT
    assert 1 <= REQUEST_TIMEOUT <= 30


# ---------------------------------------------------------------------------------------------
# Over real sockets


def _request(
    base: str, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    host, port = base.removeprefix("http://").rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def _get(
    url: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    base, _, path = url.removeprefix("http://").partition("/")
    return _request("http://" + base, "/" + path, headers, method)


def _raw(base: str, data: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes and return everything the server sends until it closes (bounded)."""
    host, port = base.removeprefix("http://").rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        for _ in range(1000):
            block = sock.recv(65536)
            if not block:
                break
            received += block
    return received


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Return an audio folder with files named like narrate's outputs, locks and temporaries."""
    audio = tmp_path / "audio"
    audio.mkdir()
    for name in ("a.mp3", "a.chapters.json", "a.transcript.vtt", "a.html", "manifest.json"):
        (audio / name).write_bytes(BODY)
    (audio / "a.build.json").write_text('{"outputs": {}}', "utf-8")  # a record, not a dot-file
    for name in (".a.lock", ".manifest.json.lock", ".a.mp3.x1y2.part"):
        (audio / name).write_bytes(b"x")
    return audio


@pytest.fixture
def base(folder: Path, capfd: pytest.CaptureFixture[str]) -> Iterator[str]:
    """Serve ``folder``; yield its base URL; then check the server wrote nothing to stderr."""
    with serving(folder) as server:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}/"
    err = capfd.readouterr().err
    assert err == "", err


def test_server_answers_range_requests_with_206(base: str) -> None:
    status, headers, data = _get(base + "a.mp3", {"Range": "bytes=100-199"})
    assert status == 206
    assert headers["content-range"] == f"bytes 100-199/{SIZE}"
    assert headers["content-length"] == "100"
    assert headers["content-type"] == "audio/mpeg"
    assert data == BODY[100:200]

    status, headers, data = _get(base + "a.mp3", {"Range": "bytes=-16"})
    assert (status, headers["content-range"], data) == (
        206,
        f"bytes {SIZE - 16}-{SIZE - 1}/{SIZE}",
        BODY[-16:],
    )

    status, headers, data = _get(base + "a.mp3", {"Range": f"bytes={SIZE}-"})
    assert (status, headers["content-range"], data) == (416, f"bytes */{SIZE}", b"")

    status, headers, data = _get(base + "a.mp3", {"Range": "bytes=5-"}, method="HEAD")
    assert (status, headers["content-length"], data) == (206, str(SIZE - 5), b"")

    # If-Range naming another version: the whole (new) file, as RFC 9110 asks.
    status, headers, data = _get(
        base + "a.mp3", {"Range": "bytes=0-0", "If-Range": "Mon, 01 Jan 2001 00:00:00 GMT"}
    )
    assert (status, data) == (200, BODY)
    # If-Range naming this version: the range.
    modified = _get(base + "a.mp3", method="HEAD")[1]["last-modified"]
    status, headers, data = _get(base + "a.mp3", {"Range": "bytes=0-0", "If-Range": modified})
    assert (status, data) == (206, BODY[:1])


def test_server_without_range_sends_everything_and_the_right_types(base: str) -> None:
    status, headers, data = _get(base + "a.mp3")
    assert (status, data, headers["accept-ranges"]) == (200, BODY, "bytes")
    assert headers["content-length"] == str(SIZE)
    types = {
        "a.chapters.json": "application/json+chapters",
        "manifest.json": "application/json",
        "a.transcript.vtt": "text/vtt; charset=utf-8",
        "a.html": "text/html; charset=utf-8",
    }
    for name, expected in types.items():
        assert _get(base + name)[1]["content-type"] == expected
    assert _get(base + "missing.mp3")[0] == 404
    assert _get(base + "a.mp3?v=0123456789ab")[2] == BODY  # the fragment's cache-busting URLs


@pytest.mark.parametrize(
    "path",
    [
        "/a.mp3%00",
        "/%00",
        "/a%00.mp3",
        "/a.mp3%",
        "/a.mp3%zz",
        "/a.mp3%2",
        "/%ff.mp3",  # not UTF-8
        "/a%0A.mp3",  # a control character
        "/a%7F.mp3",
        "a.mp3",  # not a path
    ],
)
def test_server_answers_a_bad_path_with_400(base: str, path: str) -> None:
    for headers in ({}, {"Range": "bytes=0-"}):
        status, _, data = _request(base, path, headers)
        assert status == 400, (path, headers)
        assert b"Bad path" in data


def test_server_answers_a_raw_non_ascii_path_and_garbage_with_400(base: str) -> None:
    for request in (
        b"GET /a\xe9.mp3 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /a\x00.mp3 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/1.1 extra words\r\n\r\n",
    ):
        answer = _raw(base, request)
        assert answer.startswith(b"HTTP/1.") and b" 400 " in answer.split(b"\r\n")[0], request


def test_server_answers_other_methods_with_501(base: str) -> None:
    assert _request(base, "/a.mp3", method="POST")[0] == 501
    assert _request(base, "/a.mp3", method="DELETE")[0] == 501


def test_server_reads_huge_range_numbers_without_failing(base: str) -> None:
    nines = "9" * 5000
    status, headers, data = _get(base + "a.mp3", {"Range": f"bytes={nines}-"})
    assert (status, headers["content-range"], data) == (416, f"bytes */{SIZE}", b"")
    status, headers, data = _get(base + "a.mp3", {"Range": f"bytes=0-{nines}"})
    assert (status, headers["content-range"], data) == (206, f"bytes 0-{SIZE - 1}/{SIZE}", BODY)
    status, headers, data = _get(base + "a.mp3", {"Range": f"bytes=-{nines}"})
    assert (status, data) == (206, BODY)
    status, headers, data = _get(base + "a.mp3", {"Range": f"bytes={nines}-{nines}"})
    assert (status, headers["content-range"]) == (416, f"bytes */{SIZE}")


@pytest.mark.parametrize(
    "header",
    [f"bytes={SIZE}-", f"bytes={SIZE + 100}-{SIZE + 200}", "bytes=-0", f"bytes={SIZE}-{SIZE}"],
)
def test_server_answers_a_range_past_the_end_with_416(base: str, header: str) -> None:
    for method in ("GET", "HEAD"):
        status, headers, data = _get(base + "a.mp3", {"Range": header}, method)
        assert (status, headers["content-range"], data) == (416, f"bytes */{SIZE}", b"")
        assert headers["content-length"] == "0"


@pytest.mark.parametrize(
    "header", ["bytes=0-1,5-6", "bytes=5-2", "items=0-1", "bytes=-", "bytes=0-1, 3-", "bytes=x-y"]
)
def test_server_ignores_a_range_it_does_not_take_and_sends_the_file(base: str, header: str) -> None:
    status, headers, data = _get(base + "a.mp3", {"Range": header})
    assert (status, headers["content-length"], data) == (200, str(SIZE), BODY)
    assert "content-range" not in headers


def test_server_never_serves_dot_files(folder: Path, base: str) -> None:
    # narrate's zero-byte locks and temporary files live beside the outputs.
    for path in (".a.lock", ".manifest.json.lock", "%2Ea.lock", ".a.mp3.x1y2.part"):
        assert _get(base + path)[0] == 404, path
        assert _get(base + path, {"Range": "bytes=0-"})[0] == 404, path
    assert _get(base + "a.mp3")[0] == 200
    # A build record is SLUG.build.json: an ordinary name, served.
    assert _get(base + "a.build.json")[:1] == (200,)


def test_listing_shows_no_dot_files(folder: Path, base: str) -> None:
    (folder / ".hidden").mkdir()
    (folder / "sub").mkdir()
    status, headers, page = _get(base)
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    text = page.decode("utf-8")
    for name in ("a.mp3", "a.build.json", "manifest.json", 'href="sub/"'):
        assert name in text, name
    assert "lock" not in text and ".part" not in text and "hidden" not in text
    assert _get(base + "sub")[0] == 301
    assert _get(base + ".hidden/")[0] == 404


def test_server_never_leaves_the_folder(folder: Path, base: str) -> None:
    outside = folder.parent / "outside"
    outside.mkdir()
    (outside / "secret.mp3").write_bytes(b"secret")
    (folder / "link.mp3").symlink_to(outside / "secret.mp3")
    (folder / "elsewhere").symlink_to(outside, target_is_directory=True)
    (folder / "dotlink.mp3").symlink_to(folder / ".a.lock")
    (folder / "alias.mp3").symlink_to(folder / "a.mp3")  # inside: fine
    for path in (
        "/link.mp3",
        "/elsewhere/secret.mp3",
        "/elsewhere/",
        "/dotlink.mp3",
        "/../outside/secret.mp3",
        "/%2e%2e/outside/secret.mp3",
        "/a.mp3/../../outside/secret.mp3",
        "/..%2Foutside%2Fsecret.mp3",
        "/./a.mp3",
    ):
        for headers in ({}, {"Range": "bytes=0-"}):
            status, _, data = _request(base, path, headers)
            assert status == 404 and b"secret" not in data, (path, headers)
    assert _get(base + "alias.mp3")[2] == BODY
    listing = _get(base)[2].decode("utf-8")
    assert "alias.mp3" in listing
    assert "link.mp3" not in listing.replace("dotlink", "") and "elsewhere" not in listing
    assert "dotlink" not in listing


def test_server_answers_a_fifo_with_404_at_once(folder: Path, base: str) -> None:
    os.mkfifo(folder / "b.mp3")  # opening it to read would wait for a writer forever
    started = time.monotonic()
    assert _get(base + "b.mp3")[0] == 404
    assert _get(base + "b.mp3", {"Range": "bytes=0-"})[0] == 404
    assert time.monotonic() - started < 5


@pytest.fixture
def quick(folder: Path, capfd: pytest.CaptureFixture[str]) -> Iterator[tuple[str, int]]:
    """Serve ``folder`` with a 0.5 s request timeout; yield the host and port."""
    with serving(folder, timeout=0.5) as server:
        host, port = server.server_address[:2]
        yield str(host), int(port)
    assert capfd.readouterr().err == ""


def _read_until_closed(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    """Return what arrives until the server closes the connection, and when it closed."""
    sock.settimeout(limit)
    started, received = time.monotonic(), b""
    for _ in range(1000):
        block = sock.recv(65536)  # a socket.timeout here fails the test: it never closed
        if not block:
            break
        received += block
    return received, time.monotonic() - started


def test_server_closes_an_idle_connection(quick: tuple[str, int]) -> None:
    with socket.create_connection(quick, timeout=5) as sock:
        received, took = _read_until_closed(sock, 5)
    assert received == b"" and took < 3  # it sent nothing, so it gets nothing


def test_server_closes_an_idle_keep_alive_connection_after_an_answer(
    quick: tuple[str, int],
) -> None:
    with socket.create_connection(quick, timeout=5) as sock:
        sock.sendall(b"GET /a.chapters.json HTTP/1.1\r\nHost: x\r\n\r\n")
        received, took = _read_until_closed(sock, 5)
    assert received.startswith(b"HTTP/1.1 200") and received.endswith(BODY)
    assert took < 3


def test_server_answers_a_trickling_client_with_408(quick: tuple[str, int]) -> None:
    # One byte every 0.1 s keeps any per-read timeout happy; the request's deadline does not.
    request = b"GET /a.mp3 HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"y" * 100
    started = time.monotonic()
    with socket.create_connection(quick, timeout=5) as sock:
        for byte in request:
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered (or closed): stop sending
            sock.sendall(bytes([byte]))
            time.sleep(0.1)
            if time.monotonic() - started > 3:
                break
        received, _ = _read_until_closed(sock, 5)
    assert time.monotonic() - started < 4
    assert received.startswith(b"HTTP/1.1 408 "), received


def test_a_slow_client_does_not_hold_up_the_others(quick: tuple[str, int]) -> None:
    with socket.create_connection(quick, timeout=5) as slow:
        slow.sendall(b"GET /a.mp3 HTT")
        base = f"http://{quick[0]}:{quick[1]}/"
        assert _get(base + "a.mp3", {"Range": "bytes=0-3"})[2] == BODY[:4]
        received, _ = _read_until_closed(slow, 5)
    assert b" 408 " in received.split(b"\r\n")[0]


def test_a_folder_serves_its_index_only_from_inside(folder: Path, base: str) -> None:
    outside = folder.parent / "outside.html"
    outside.write_text("secret", "utf-8")
    (folder / "in").mkdir()
    (folder / "in" / "index.html").write_text("mine", "utf-8")
    (folder / "out").mkdir()
    (folder / "out" / "index.html").symlink_to(outside)
    assert _get(base + "in/")[:3:2] == (200, b"mine")
    status, _, page = _get(base + "out/")
    assert status == 200 and b"secret" not in page and b"index.html" not in page


# ---------------------------------------------------------------------------------------------
# What the page reads (the build record) and where it writes (SLUG.html)


ARTICLE = Article(slug="p", title="P", summary=Paragraph("A summary."), sections=())


def _publish(audio: Path) -> None:
    """Publish a small, consistent output set for `p`, with its build record."""
    chapters = [Chapter("P", 0, 1_000), Chapter("Part", 1_000, 2_000)]
    cues = [Cue("s-1", 0, 900, "P"), Cue("s-2", 1_000, 1_900, "Part")]
    files: dict[str, bytes | Path] = {
        pub.MP3: BODY,
        pub.CHAPTERS_JSON: chapters_json(chapters).encode(),
        pub.CHAPTERS_VTT: chapters_vtt(chapters).encode(),
        pub.TRANSCRIPT_VTT: transcript_vtt(cues).encode(),
        pub.TRANSCRIPT_JSON: transcript_json(cues).encode(),
    }
    pub.publish(audio, "p", files, {"format": 1})


@pytest.fixture
def published(tmp_path: Path) -> Path:
    audio = tmp_path / "audio"
    _publish(audio)
    return audio


def test_load_narration_reads_a_set_that_matches_its_record(published: Path) -> None:
    n = load_narration(ARTICLE, published)
    assert [c.title for c in n.chapters] == ["P", "Part"]
    assert [c.id for c in n.cues] == ["s-1", "s-2"]
    assert n.version == hashlib.sha256(BODY).hexdigest()[:12]
    assert n.mp3_bytes == SIZE


def _refused(audio: Path) -> str:
    with pytest.raises(NarrateError) as info:
        load_narration(ARTICLE, audio)
    message = str(info.value)
    assert "\n" not in message
    assert "rebuild them with `narrate p`" in message
    return message


@pytest.mark.parametrize(
    "name", ["p.mp3", "p.transcript.vtt", "p.transcript.json", "p.chapters.json", "p.chapters.vtt"]
)
def test_load_narration_refuses_a_truncated_output(published: Path, name: str) -> None:
    path = published / name
    path.write_bytes(path.read_bytes()[:-10])
    assert f"{name} does not match its build record" in _refused(published)


def test_load_narration_refuses_an_edited_transcript(published: Path) -> None:
    path = published / "p.transcript.vtt"
    path.write_text(path.read_text("utf-8").replace("Part", "Pert"), "utf-8")
    assert "p.transcript.vtt does not match its build record" in _refused(published)


@pytest.mark.parametrize(
    "record",
    ['{"outputs": null}', "[1, 2]", '{"outputs": [1]}', '{"format": 1}', "{not json", "", None],
)
def test_load_narration_refuses_a_damaged_or_missing_record(
    published: Path, record: str | None
) -> None:
    path = published / "p.build.json"
    if record is None:
        path.unlink()
    else:
        path.write_text(record, "utf-8")
    assert f"its build record {path} is missing or damaged" in _refused(published)


def test_load_narration_refuses_a_record_of_another_set(published: Path) -> None:
    path = published / "p.build.json"
    record = json.loads(path.read_text("utf-8"))
    record["outputs"]["p.mp3"] = "0" * 64
    path.write_text(json.dumps(record), "utf-8")
    assert "p.mp3 does not match its build record" in _refused(published)


def test_write_preview_refuses_a_fifo_in_its_place_without_waiting(published: Path) -> None:
    target = published / "p.html"
    os.mkfifo(target)
    n = load_narration(ARTICLE, published)
    outcome: list[BaseException | None] = []

    def write() -> None:
        try:
            write_preview(n, published)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 -- handed to the test's thread
            outcome.append(exc)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive():  # stuck opening the FIFO: a writer's open and close release it
        os.close(os.open(target, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(10)
        pytest.fail("write_preview waited on a FIFO")
    assert len(outcome) == 1 and isinstance(outcome[0], OutputError), outcome
    message = str(outcome[0])
    assert "\n" not in message
    assert str(target) in message and "a FIFO" in message and "remove it" in message
    assert target.is_fifo()
    assert not list(published.glob(".p.html.*"))


def test_write_preview_refuses_a_folder_in_its_place(published: Path) -> None:
    target = published / "p.html"
    target.mkdir()
    (target / "keep.txt").write_text("mine", "utf-8")
    with pytest.raises(OutputError) as info:
        write_preview(load_narration(ARTICLE, published), published)
    message = str(info.value)
    assert "\n" not in message
    assert str(target) in message and "a folder" in message and "remove it" in message
    assert (target / "keep.txt").read_text("utf-8") == "mine"
    assert not list(published.glob(".p.html.*"))


def test_write_preview_writes_then_leaves_an_unchanged_page_alone(published: Path) -> None:
    n = load_narration(ARTICLE, published)
    target = write_preview(n, published, "/audio/")
    assert target == published / "p.html"
    assert '<meta name="narrate-base-url" content="/audio/">' in target.read_text("utf-8")
    mtime = target.stat().st_mtime_ns
    time.sleep(0.01)
    assert write_preview(n, published, "/audio/") == target
    assert target.stat().st_mtime_ns == mtime
    target.chmod(0o200)  # unreadable: written anew, not an error
    try:
        assert write_preview(n, published, "") == target
    finally:
        target.chmod(0o644)
    assert 'content=""' in target.read_text("utf-8")
