"""The preview server: the audio folder over HTTP, with the byte ranges a media player seeks by.

Safe to leave running on a desk:

- It listens on 127.0.0.1 unless told otherwise.
- It serves regular files inside the folder and nothing else: a path that is not clean UTF-8
  (an invalid ``%`` escape, a NUL or another control character) is a 400; a ``..`` or any other
  dot-segment, a dot-file (narrate's ``.SLUG.lock`` and ``.*.part`` files), a symlink that
  leads out of the folder, a FIFO or a device is a 404. Listings leave out what would be a 404.
- A ``Range`` header gets 206 and ``Content-Range`` (Chromium needs them to seek); a range
  starting past the end gets 416 with ``Content-Range: bytes */SIZE``; a range it does not take
  (several ranges, a reversed one, another unit) is ignored and the whole file is sent, as
  RFC 9110 allows. Numbers of any length are read without ``int()`` limits.
- Every request has :data:`REQUEST_TIMEOUT` seconds to arrive, however slowly its bytes trickle
  in (then a 408, or a silent close for a connection that sent nothing), and each block of an
  answer the same time to be taken; so no client holds a thread forever.
- Errors are answers, not tracebacks; a client that goes away is not reported.
"""

from __future__ import annotations

import email.utils
import html
import io
import math
import os
import re
import socket
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timezone
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any, ClassVar
from urllib.parse import quote, unquote_to_bytes, urlsplit

from narrate.errors import NarrateError
from narrate.outputs import publish as pub

__all__ = [
    "DEFAULT_PORT",
    "REQUEST_TIMEOUT",
    "PreviewServer",
    "RangeRequestHandler",
    "make_server",
    "parse_range",
    "serve",
    "server_url",
    "serving",
]

DEFAULT_PORT = 8000
REQUEST_TIMEOUT = 10.0
"""Seconds a client has to send a request, and to take each block of the answer."""
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")
_MAX_DIGITS = 18
"""Longer numbers are past the end of any file (and ``int()`` refuses thousands of digits)."""
_HUGE = 10**_MAX_DIGITS
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_BLOCK = 64 * 1024
_LINGER = 1.0
"""Seconds to send a 408 and read what the client still sends before closing."""
_TYPES = {
    ".mp3": "audio/mpeg",
    ".vtt": "text/vtt; charset=utf-8",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}


def _number(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return _HUGE if len(digits) > _MAX_DIGITS else int(digits)


def parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """Return the (first, last) bytes of a single-range header; None to ignore it; False if
    it cannot be satisfied (416)."""
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return None  # several ranges or another unit: serve the whole file (RFC 9110 allows it)
    first_s, last_s = match.groups()
    if not first_s:  # a suffix: the last N bytes
        n = _number(last_s)
        if n == 0 or size == 0:
            return False
        return max(0, size - n), size - 1
    first = _number(first_s)
    last = _number(last_s) if last_s else size - 1
    if last_s and last < first:
        return None
    if first >= size:
        return False
    return first, min(last, size - 1)


def _decode_path(target: str) -> list[str] | None:
    """Return the segments of a request target's path, or None if it is not clean UTF-8."""
    if target.startswith(("http://", "https://")):
        target = urlsplit(target).path or "/"  # the absolute form, which servers must accept
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/") or not path.isascii() or _BAD_ESCAPE.search(path):
        return None
    try:
        text = unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text):
        return None  # NUL and the other control characters name no file narrate writes
    return [s for s in text.split("/") if s]


def _hidden(name: str) -> bool:
    """Return whether a file name is never served: dot-files, and names no URL can reach."""
    return name.startswith(".") or os.sep in name or bool(os.altsep and os.altsep in name)


def _inside(root: str, segments: list[str]) -> str | None:
    """Return the real path the segments name under ``root`` (itself real), or None if it leads
    out of it (``..``, a symlink) or onto a hidden name."""
    if any(_hidden(s) for s in segments):
        return None
    real = os.path.realpath(os.path.join(root, *segments))
    if real != root and not real.startswith(root.rstrip(os.sep) + os.sep):
        return None
    rest = os.path.relpath(real, root)
    if rest != os.curdir and any(_hidden(s) for s in rest.split(os.sep)):
        return None  # a symlink onto a dot-file
    return real


class _DeadlineReader(io.RawIOBase):
    """A socket's reading side that fails with TimeoutError once the request's deadline passes,
    however the bytes trickle in (a socket timeout alone restarts with every byte)."""

    def __init__(self, sock: Any) -> None:
        super().__init__()
        self.sock = sock
        self.deadline = math.inf
        self.received = 0

    def readable(self) -> bool:
        """Return True: this is the reading side."""
        return True

    def start(self, timeout: float | None) -> None:
        """Give the next request ``timeout`` seconds (None: forever) from now."""
        self.deadline = math.inf if timeout is None else time.monotonic() + timeout
        self.received = 0

    def readinto(self, buffer: Any) -> int:
        """Read what has arrived, waiting no later than the deadline."""
        if self.deadline != math.inf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the request took too long to arrive")
            self.sock.settimeout(left)
        n: int = self.sock.recv_into(buffer)
        self.received += n
        return n


class RangeRequestHandler(SimpleHTTPRequestHandler):
    """Static files with byte ranges (206, Content-Range), as media seeking needs."""

    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # so even garbage gets a status line, not HTTP/0.9
    timeout: ClassVar[float | None] = REQUEST_TIMEOUT
    """Seconds a client has to send a request's line and headers in total (then 408 and a close;
    an idle keep-alive connection is closed without a word), and to take each 64 KiB block of
    an answer. None waits forever. Set per server by ``make_server(timeout=...)``."""
    _remaining = 0

    def setup(self) -> None:
        """Read the socket through a deadline, so a trickling client cannot stall a thread."""
        super().setup()
        self._reader = _DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        """Read one request before its deadline and answer it; a timeout closes the connection."""
        self._reader.start(self.timeout)
        reading = True  # what parse_request sets first, for a 408 before it could:
        self.command, self.request_version, self.requestline = "", "HTTP/1.0", ""
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            reading = False
            self.connection.settimeout(self.timeout)  # now for each block of the answer
            method = getattr(self, f"do_{self.command}", None)
            if method is None:
                self.send_error(HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command})")
                return
            method()
            self.wfile.flush()
        except TimeoutError:
            self.close_connection = True
            if reading and self._reader.received:
                self._answer_timeout()

    def _answer_timeout(self) -> None:
        try:
            self.connection.settimeout(_LINGER)
            self.send_error(HTTPStatus.REQUEST_TIMEOUT)
            self.wfile.flush()
            # Read what it still sends for a moment: closing on unread bytes would send a reset,
            # and a reset can destroy the 408 before the client has read it.
            self.connection.shutdown(socket.SHUT_WR)
            until = time.monotonic() + _LINGER
            while time.monotonic() < until and self.connection.recv(_BLOCK):
                pass
        except OSError:
            pass  # it has stopped listening too

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        """Return the MIME type, with the ones narrate's outputs need."""
        name = os.fspath(path)
        if name.endswith(pub.CHAPTERS_JSON):
            return "application/json+chapters"
        return _TYPES.get(os.path.splitext(name)[1].lower()) or super().guess_type(name)

    def end_headers(self) -> None:
        """Announce range support and stop caching of files that a rebuild replaces."""
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def send_head(self) -> Any:
        """Send the status and headers for the file the request names; return its body or None.

        A folder gets its ``index.html`` or a listing (a redirect first if the URL lacks its
        final ``/``); anything not served gets a 400 or 404 (see the module's docstring).
        """
        self._remaining = 0
        segments = _decode_path(self.path)
        if segments is None:
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad path")
            return None
        real = _inside(os.path.realpath(self.directory), segments)
        try:
            info = os.stat(real) if real is not None else None
        except OSError:
            info = None
        if real is None or info is None:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        if stat.S_ISDIR(info.st_mode):
            return self._send_folder(real, segments)
        return self._send_file(real)

    def _send_folder(self, real: str, segments: list[str]) -> Any:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if not path.endswith("/"):
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", path + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        index = _inside(os.path.realpath(self.directory), [*segments, "index.html"])
        if index is not None and os.path.isfile(index):
            return self._send_file(index)
        return self._send_listing(real, segments, path)

    def _send_file(self, real: str) -> Any:
        try:  # O_NONBLOCK: a FIFO must not hang the thread before fstat tells what it is
            f = os.fdopen(os.open(real, os.O_RDONLY | os.O_NONBLOCK), "rb")
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        try:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                f.close()
                self.send_error(HTTPStatus.NOT_FOUND, "File not found")
                return None
            return self._send_span(f, real, info.st_size, info.st_mtime)
        except BaseException:
            f.close()
            raise

    def _send_span(self, f: IO[bytes], real: str, size: int, mtime: float) -> IO[bytes] | None:
        """Send the headers for the requested part of an open file (all of it without a Range)."""
        modified = email.utils.formatdate(mtime, usegmt=True)
        header, if_range = self.headers.get("Range"), self.headers.get("If-Range")
        span = parse_range(header, size) if header is not None else None
        if if_range is not None and if_range != modified:
            span = None  # the client's copy is another version: it gets the whole new file
        if span is False:
            f.close()
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if span is None and self._not_modified(mtime):
            f.close()
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self.send_header("Last-Modified", modified)
            self.end_headers()
            return None
        first, last = span if isinstance(span, tuple) else (0, size - 1)
        self.send_response(HTTPStatus.PARTIAL_CONTENT if span else HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(real))
        if span:
            self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Content-Length", str(last - first + 1))
        self.send_header("Last-Modified", modified)
        self.end_headers()
        f.seek(first)
        self._remaining = last - first + 1
        return f

    def _not_modified(self, mtime: float) -> bool:
        since = self.headers.get("If-Modified-Since")
        if since is None or "If-None-Match" in self.headers:
            return False
        try:
            when = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return int(mtime) <= when.timestamp()

    def _send_listing(self, real: str, segments: list[str], path: str) -> IO[bytes] | None:
        """Send a listing of a folder without the names that would answer 404."""
        try:
            names = sorted(os.listdir(real), key=str.lower)
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "No permission to list the folder")
            return None
        root = os.path.realpath(self.directory)
        items = []
        for name in names:
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                continue  # not UTF-8 on disk: no URL this server takes can name it
            found = _inside(root, [*segments, name])
            if found is not None:
                slash = "/" if os.path.isdir(found) else ""
                link = html.escape(quote(name) + slash, quote=True)
                items.append(f'<li><a href="{link}">{html.escape(name + slash)}</a></li>')
        title = html.escape(f"Files in {path}")
        page = (
            f'<!doctype html>\n<html lang="en">\n<meta charset="utf-8">\n<title>{title}</title>\n'
            f"<h1>{title}</h1>\n<ul>\n{''.join(items)}\n</ul>\n</html>\n"
        ).encode()
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self._remaining = len(page)
        return io.BytesIO(page)

    def copyfile(self, source: IO[bytes], outputfile: IO[bytes]) -> None:  # type: ignore[override]
        """Copy the bytes announced in Content-Length, even if the file grows meanwhile."""
        remaining = self._remaining
        while remaining > 0:
            block = source.read(min(_BLOCK, remaining))
            if not block:
                break
            outputfile.write(block)
            remaining -= len(block)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: a preview server's request log is noise."""


class PreviewServer(ThreadingHTTPServer):
    """A threading HTTP server that takes a browser dropping a connection calmly."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that went away or were too slow (a browser drops a connection
        whenever the player seeks); report anything else in one line, not a traceback."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        print(f"narrate: error answering {client_address[0]}: {exc!r}", file=sys.stderr)


def make_server(
    folder: Path,
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    timeout: float | None = REQUEST_TIMEOUT,
) -> PreviewServer:
    """Return a server for ``folder`` on ``host:port`` (0 picks a free port); not yet serving.

    ``timeout`` is :attr:`RangeRequestHandler.timeout` for its requests.
    """
    if not folder.is_dir():
        raise NarrateError(f"cannot serve {folder}: it is not a folder")
    limited = type("RangeRequestHandler", (RangeRequestHandler,), {"timeout": timeout})
    handler = partial(limited, directory=str(folder))
    try:
        return PreviewServer((host, port), handler)
    except OSError as exc:
        raise NarrateError(
            f"cannot serve on {host}:{port}: {exc.strerror or exc}; choose another with --port"
        ) from exc


def server_url(server: ThreadingHTTPServer, path: str = "") -> str:
    """Return the http:// URL of ``path`` on a server made by :func:`make_server`."""
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}/{quote(path)}"


@contextmanager
def serving(
    folder: Path, port: int = 0, timeout: float | None = REQUEST_TIMEOUT
) -> Iterator[ThreadingHTTPServer]:
    """Serve ``folder`` on 127.0.0.1 in a background thread for the duration of the block."""
    server = make_server(folder, port, timeout=timeout)
    run = partial(server.serve_forever, poll_interval=0.05)  # a prompt end to the block
    thread = threading.Thread(target=run, name="narrate-serve", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def serve(
    folder: Path,
    port: int = DEFAULT_PORT,
    on_ready: Callable[[ThreadingHTTPServer], None] | None = None,
) -> None:
    """Serve ``folder`` on 127.0.0.1 until interrupted; ``on_ready`` runs once it listens."""
    with make_server(folder, port) as server:
        if on_ready is not None:
            on_ready(server)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass  # Ctrl-C is how a preview server is stopped, not an error
