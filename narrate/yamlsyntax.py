"""From a YAML file's bytes to PyYAML nodes, or an error at the line and column an editor shows.

Bounded, so any file (any bytes, 50 MB, a thousand levels deep) is composed or refused in
seconds: at most MAX_FILE_BYTES, MAX_DEPTH levels and MAX_VALUES values. Lines are counted as an
editor counts them, and PyYAML's syntax errors are said in an editor's words, at the line to fix
(a key missing its ``:`` is noticed by PyYAML only on the line after). :mod:`narrate.yamlread`
checks and reads the nodes.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from narrate.errors import ContentError
from narrate.text.characters import shown

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "MAX_VALUES", "compose", "decode", "position"]

MAX_FILE_BYTES = 8 * 2**20
"""The largest YAML file narrate reads (an article of 20,000 sentences is about 2 MB)."""
MAX_DEPTH = 50
"""How deeply values may nest (an article needs 6 levels, the site config 4)."""
MAX_VALUES = 200_000
"""How many values (texts, numbers, keys, list items) one file may hold."""

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_NON_BREAKS = ("\x85", "\u2028", "\u2029")

_SYNTAX_HINT = (
    "check the indentation, and put text that contains ': ' or ' #', or starts with "
    "one of [ ] { } & * ! | > ' \" % @ `, in quotes"
)


def position(text: str, index: int) -> tuple[int, int]:
    r"""Return the 1-based line and column of character ``index``, counting lines as an editor does.

    Only ``\n``, ``\r\n`` and ``\r`` end a line (PyYAML also breaks at U+0085, U+2028, U+2029).
    """
    line, start = 1, 0
    for m in _LINE_BREAK.finditer(text, 0, index):
        line, start = line + 1, m.end()
    return line, index - start + 1


class _Refused(Exception):
    """A bound of :class:`_BoundedLoader` was passed at ``mark``."""

    def __init__(self, message: str, mark: yaml.Mark) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe composer, refusing more than MAX_DEPTH levels or MAX_VALUES values.

    The composer recurses once per level, and every value costs about 500 bytes and 25 µs, so
    without bounds a small file could exhaust the stack, and an 8 MB one gigabytes of memory.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.values = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
        self.values += 1
        if self.values > MAX_VALUES:
            raise _Refused(
                f"holds more than {MAX_VALUES:,} values (texts, keys, list items), more than "
                "narrate reads from one file; split it into several files",
                mark,
            )
        if self.depth >= MAX_DEPTH:
            raise _Refused(
                f"nested too deeply (more than {MAX_DEPTH} levels; an article needs 6); flatten it",
                mark,
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _line_text(text: str, mark: yaml.Mark) -> str:
    """Return the line of ``mark`` from its column on, shortened."""
    lines = _LINE_BREAK.split(text)
    return shown(lines[mark.line][mark.column :].strip() if mark.line < len(lines) else "")


def _missing_colon(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, int, str] | None:
    """Return where a key lacks its ``:`` and what to say, when PyYAML noticed a line later."""
    found, key = exc.problem_mark, exc.context_mark
    if found is None:
        return None
    if exc.problem == "could not find expected ':'" and key is not None:
        pass  # "while scanning a simple key": the key is at the context mark
    elif exc.problem == "mapping values are not allowed here":
        # "format 1" then "title: T": the first line ran on into the second as one plain text,
        # and the second line's ":" is refused. A key is one word before that ":".
        key = None
        try:
            for token in yaml.scan(text, Loader=yaml.SafeLoader):
                key = token.start_mark if isinstance(token, yaml.ScalarToken) else None
        except yaml.YAMLError:
            pass
        before = _LINE_BREAK.split(text)[found.line][: found.column].strip()
        if key is None or not before or " " in before or "\t" in before:
            return None
    else:
        return None
    if key.line >= found.line:
        return None
    written = _line_text(text, key)
    return (
        key.line + 1,
        key.column + 1,
        f"invalid YAML: `{written}` has no `:` after its key (YAML noticed only on line "
        f"{found.line + 1}); write it as `key: value`, or put text in quotes",
    )


def _syntax_error(
    exc: yaml.MarkedYAMLError, text: str, file: Path, error: type[ContentError]
) -> ContentError:
    """Turn PyYAML's syntax error into ours, at the line the editor must fix."""
    colon = _missing_colon(exc, text)
    if colon is not None:
        line, column, message = colon
        return error(message, path=file, line=line, column=column)
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    context = f" ({exc.context})" if exc.context and exc.problem else ""
    return error(
        f"invalid YAML: {problem}{context}; {_SYNTAX_HINT}",
        path=file,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
    )


def decode(data: bytes, file: Path, error: type[ContentError]) -> str:
    """Return the file's text, with raw line separators read as an editor shows them."""
    if len(data) > MAX_FILE_BYTES:
        raise error(
            f"the file is larger than {MAX_FILE_BYTES // 2**20} MB, more than narrate reads; "
            "split it into several files",
            path=file,
        )
    try:
        # utf-8-sig: editors on Windows like to start files with a byte order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        before = data[: exc.start].decode("utf-8-sig")
        line, column = position(before, len(before))
        raise error(
            f"not valid UTF-8: byte 0x{bad} at byte offset {exc.start}; save the file as UTF-8",
            path=file,
            line=line,
            column=column,
        ) from None
    # YAML 1.1 (PyYAML) breaks lines at U+0085, U+2028 and U+2029; an editor (and YAML 1.2)
    # does not. As no-break spaces they keep the editor's lines and columns and structure; a
    # text collapses either to one space.
    for separator in _NON_BREAKS:
        if separator in text:
            text = text.replace(separator, "\xa0")
    return text


def compose(text: str, file: Path, error: type[ContentError]) -> yaml.Node | None:
    """Compose the text into PyYAML nodes, or raise ``error`` saying where and why."""
    try:
        loader = _BoundedLoader(text)  # the reader checks every character here
    except yaml.reader.ReaderError as exc:
        line, column = position(text, exc.position)
        raise error(
            f"the character U+{exc.character:04X} is not allowed in YAML; delete it",
            path=file,
            line=line,
            column=column,
        ) from None
    try:
        return loader.get_single_node()
    except _Refused as exc:
        line, column = exc.mark.line + 1, exc.mark.column + 1
        raise error(exc.message, path=file, line=line, column=column) from None
    except yaml.composer.ComposerError as exc:
        if exc.context and "single document" in exc.context and exc.problem_mark:
            raise error(
                "a file holds one document, but a second starts here; remove this `---` "
                "and anything after it, or move it to its own file",
                path=file,
                line=exc.problem_mark.line + 1,
                column=exc.problem_mark.column + 1,
            ) from None
        raise _syntax_error(exc, text, file, error) from None
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, file, error) from None
    except (ValueError, OverflowError):
        # PyYAML's chr() fails on an escape such as "\U00110000"; the reader stopped at its digits.
        at = loader.get_mark()
        written = text[max(at.index - 2, 0) : at.index + 8]
        raise error(
            f"`{written}` is not a character (Unicode ends at \\U0010FFFF); write the character "
            "itself",
            path=file,
            line=at.line + 1,
            column=max(at.column - 1, 1),
        ) from None
    except yaml.YAMLError as exc:  # any other PyYAML failure: still the file's fault
        raise error(f"invalid YAML: {exc}", path=file) from None
    finally:
        loader.dispose()
