"""Line-aware YAML reading shared by the article loader and the config loader.

``yaml.safe_load`` throws away where each value came from, so an editor told "author is missing"
would have to hunt for it. Here a file is composed into PyYAML nodes (which keep line/column
marks), checked once for what YAML allows but a data file must not contain (custom tags, duplicate
keys, anchors and aliases), and wrapped in :class:`Node`, whose accessors validate a value and
raise a ``ContentError`` naming ``file:line:col``, the field path (``sections[3].quotes[0].author``)
and what to do. Any input bytes give either a :class:`Node` or a ``ContentError``, never a
traceback.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import yaml
from yaml.constructor import SafeConstructor

from narrate.errors import ContentError

_TAG = "tag:yaml.org,2002:"
STR = _TAG + "str"
INT = _TAG + "int"
FLOAT = _TAG + "float"
BOOL = _TAG + "bool"
NULL = _TAG + "null"
TIMESTAMP = _TAG + "timestamp"
SEQ = _TAG + "seq"
MAP = _TAG + "map"
MERGE = _TAG + "merge"

# The plain scalar types YAML resolves on its own. Anything else (``!!python/object``, ``!!binary``,
# ``!!set``, ``!local``) asks a loader to build objects; content is data, so those are refused.
_SCALAR_TAGS = frozenset({STR, INT, FLOAT, BOOL, NULL, TIMESTAMP})

# Text fields accept what YAML would read as a number, date or boolean, keeping the characters as
# written: ``year: 2009`` and ``date: 2007`` are text to a reader, and ``1.10`` must stay ``1.10``.
_TEXTUAL_TAGS = frozenset({STR, INT, FLOAT, BOOL, TIMESTAMP})

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

_SYNTAX_HINT = (
    "check the indentation, and put text that contains ': ' or ' #', or starts with "
    "one of [ ] { } & * ! | > ' \" % @ `, in quotes"
)


def _kind_name(raw: yaml.Node) -> str:
    """Describe a node's type the way an editor thinks of it."""
    if isinstance(raw, yaml.SequenceNode):
        return "a list"
    if isinstance(raw, yaml.MappingNode):
        return "a mapping (key: value lines)"
    tag = raw.tag
    if tag == NULL:
        return "nothing"
    if tag in (INT, FLOAT):
        return f"the number {raw.value}"
    if tag == BOOL:
        return f"the true/false value {raw.value}"
    if tag == TIMESTAMP:
        return f"the date {raw.value}"
    return "text"


@dataclass(frozen=True)
class Node:
    """A YAML value with its file, 1-based line/column and field path, and validating accessors."""

    raw: yaml.Node
    """The composed PyYAML node (checked: standard tags only, no duplicate keys, no aliases)."""
    file: Path
    """The file it was read from."""
    field: str = ""
    """Field path from the document root, e.g. ``sections[3].quotes[0]``; empty for the root."""
    error: type[ContentError] = ContentError
    """Exception class raised for problems (``ConfigError`` for the site config)."""

    @property
    def line(self) -> int:
        """Return the 1-based line where the value starts."""
        return int(self.raw.start_mark.line) + 1

    @property
    def column(self) -> int:
        """Return the 1-based column where the value starts."""
        return int(self.raw.start_mark.column) + 1

    @property
    def kind(self) -> str:
        """Return a description of the value's type (``a list``, ``text``, ``the number 3``)."""
        return _kind_name(self.raw)

    def is_mapping(self) -> bool:
        """Return whether the value is a mapping."""
        return isinstance(self.raw, yaml.MappingNode)

    def is_sequence(self) -> bool:
        """Return whether the value is a list."""
        return isinstance(self.raw, yaml.SequenceNode)

    def is_scalar(self) -> bool:
        """Return whether the value is a scalar (text, number, date, true/false or nothing)."""
        return isinstance(self.raw, yaml.ScalarNode)

    def is_null(self) -> bool:
        """Return whether the value is empty (``key:`` with nothing after it, ``~`` or ``null``)."""
        return isinstance(self.raw, yaml.ScalarNode) and self.raw.tag == NULL

    def key_path(self, key: str) -> str:
        """Return the field path of ``key`` inside this mapping."""
        step = key if _IDENT.match(key) else '["' + key.replace('"', '\\"') + '"]'
        if not self.field:
            return step
        return f"{self.field}{step}" if step.startswith("[") else f"{self.field}.{step}"

    def index_path(self, index: int) -> str:
        """Return the field path of item ``index`` of this list."""
        return f"{self.field}[{index}]"

    def fail(self, message: str, *, field: str | None = None) -> NoReturn:
        """Raise this file's error at this value's position (``field`` overrides the path)."""
        raise self.error(
            message,
            path=self.file,
            line=self.line,
            column=self.column,
            field=(field if field is not None else self.field) or None,
        )

    def _child(self, raw: yaml.Node, field: str) -> Node:
        return Node(raw, self.file, field, self.error)

    def mapping(
        self,
        allowed: Collection[str] | None = None,
        *,
        what: str = "",
    ) -> Fields:
        """Return the mapping's values by key, in file order, refusing unknown keys.

        ``allowed`` None accepts any key (lexicons); ``what`` names the expected content. Looking
        up an absent key raises the "missing" error, so a loader reports problems in the order it
        reads fields rather than all missing keys before any wrong value.
        """
        if not self.is_mapping():
            self._wrong_type(f"a mapping of {what}" if what else "a mapping (key: value lines)")
        pairs: list[tuple[yaml.Node, yaml.Node]] = self.raw.value
        if not pairs:
            self.fail(f"is empty; add {what} or remove it" if what else "is empty; remove it")
        out = Fields(self)
        for key_raw, value_raw in pairs:
            key = str(key_raw.value)  # keys were checked to be scalars by _check_tree
            if allowed is not None and key not in allowed:
                names = sorted(allowed)
                close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
                hint = f"did you mean `{close[0]}`? " if close else ""
                self._child(key_raw, self.key_path(key)).fail(
                    f"unknown field `{key}`; {hint}allowed here: {', '.join(names)}"
                )
            out[key] = self._child(value_raw, self.key_path(key))
        return out

    def sequence(
        self, *, what: str = "items", single: bool = False, optional: bool = False
    ) -> list[Node]:
        """Return the items of a non-empty list (``single``: one value counts as a list of one)."""
        if single and self.is_scalar() and not self.is_null():
            return [self]
        if not self.is_sequence():
            self._wrong_type(f"a list of {what}")
        items: list[yaml.Node] = self.raw.value
        if not items:
            self.fail(
                f"is an empty list; add {what}" + (", or remove the field" if optional else "")
            )
        return [self._child(raw, self.index_path(i)) for i, raw in enumerate(items)]

    def text(self, *, what: str = "text", allow_empty: bool = False, optional: bool = False) -> str:
        """Return the value as text, numbers and dates as written, whitespace runs as one space.

        Line breaks inside a text are layout in the YAML file, not content: a web page collapses
        them too, so ``|`` and ``>`` blocks and wrapped plain lines all read the same.
        """
        if self.is_null():
            if allow_empty:
                return ""
            self._empty(what, optional)
        if not self.is_scalar() or self.raw.tag not in _TEXTUAL_TAGS:
            self._wrong_type("text" if what == "text" else f"text ({what})")
        value = " ".join(str(self.raw.value).split())
        if not value and not allow_empty:
            self._empty(what, optional)
        return value

    def integer(self, low: int, high: int, *, unit: str = "") -> int:
        """Return the value as a whole number within ``low..high`` (``unit`` for messages)."""
        of = f" of {unit}" if unit else ""
        raw = self.raw
        if not isinstance(raw, yaml.ScalarNode) or raw.tag != INT:
            self._wrong_type(f"a whole number{of} from {low} to {high}")
        try:
            value = int(SafeConstructor().construct_yaml_int(raw))
        except (ValueError, OverflowError):
            self.fail(f"`{raw.value}` is not a valid number; write digits such as {low}")
        if not low <= value <= high:
            self.fail(f"{value} is out of range; use a whole number{of} from {low} to {high}")
        return value

    def version(self, current: int, what: str) -> int:
        """Return the format version, refusing anything but ``current`` with an upgrade hint."""
        key = self.field or "format"
        raw = self.raw
        if not isinstance(raw, yaml.ScalarNode) or raw.tag != INT:
            self._wrong_type(f"the number {current} (`{key}: {current}`)")
        if raw.value.strip() != str(current):
            self.fail(
                f"{what} {raw.value} is not one this narrate reads (it reads {current}); "
                f"upgrade narrate, or write `{key}: {current}`"
            )
        return current

    def number(self, low: float, high: float, *, what: str = "a number") -> float:
        """Return the value as a finite number within ``low..high`` (whole or decimal)."""
        raw = self.raw
        if not isinstance(raw, yaml.ScalarNode) or raw.tag not in (INT, FLOAT):
            self._wrong_type(f"{what} from {low:g} to {high:g}")
        try:
            ctor = SafeConstructor()
            raw_value = (
                ctor.construct_yaml_int(raw) if raw.tag == INT else ctor.construct_yaml_float(raw)
            )
            value = float(raw_value)
        except (ValueError, OverflowError):
            self.fail(f"`{self.raw.value}` is not a valid number; write digits such as {low:g}")
        if not math.isfinite(value) or not low <= value <= high:
            self.fail(f"{self.raw.value} is out of range; use {what} from {low:g} to {high:g}")
        return value

    def _empty(self, what: str, optional: bool) -> NoReturn:
        self.fail(f"is empty; write the {what}" + (", or remove the field" if optional else ""))

    def _wrong_type(self, expected: str) -> NoReturn:
        self.fail(f"expected {expected}, got {self.kind}")


class Fields(dict[str, Node]):
    """A mapping's values by key; looking up an absent key raises a "missing" error."""

    def __init__(self, owner: Node) -> None:
        super().__init__()
        self.owner = owner
        """The mapping node the fields belong to (where a missing key is reported)."""

    def __missing__(self, key: str) -> Node:
        self.owner.fail(f"missing; add `{key}:` here", field=self.owner.key_path(key))


def _position(text: str, index: int) -> tuple[int, int]:
    """Return the 1-based line and column of character ``index`` in ``text``."""
    before = text[:index]
    line = before.count("\n") + 1
    return line, index - (before.rfind("\n") + 1) + 1


def _check_tree(root: yaml.Node, file: Path, error: type[ContentError]) -> None:
    """Refuse custom tags, non-text keys, merge keys, duplicate keys and anchors/aliases anywhere.

    Iterative, so a deeply nested file cannot exhaust Python's stack here.
    """
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        raw, field = stack.pop()
        at = Node(raw, file, field, error)
        if id(raw) in seen:
            # The composer hands out the same node object for every ``*alias`` of an ``&anchor``.
            # Aliases let a small file expand exponentially and hide where a value really lives.
            at.fail("anchors and aliases (&name, *name) are not supported; write the value out")
        seen.add(id(raw))
        if isinstance(raw, yaml.ScalarNode):
            if raw.tag not in _SCALAR_TAGS:
                at.fail(
                    f"the tag {raw.tag.replace(_TAG, '!!')} is not allowed; content is data, "
                    "remove the tag"
                )
        elif isinstance(raw, yaml.SequenceNode):
            if raw.tag != SEQ:
                at.fail(
                    f"the tag {raw.tag.replace(_TAG, '!!')} is not allowed; content is data, "
                    "remove the tag"
                )
            for i, item in enumerate(raw.value):
                stack.append((item, at.index_path(i)))
        else:
            if raw.tag != MAP:
                at.fail(
                    f"the tag {raw.tag.replace(_TAG, '!!')} is not allowed; content is data, "
                    "remove the tag"
                )
            first_line: dict[str, int] = {}
            for key_raw, value_raw in raw.value:
                key_at = Node(key_raw, file, field, error)
                if not isinstance(key_raw, yaml.ScalarNode):
                    key_at.fail(f"a key must be plain text, not {key_at.kind}")
                if key_raw.tag == MERGE:
                    key_at.fail("merge keys (<<) are not supported; write the keys out")
                if id(key_raw) in seen:
                    key_at.fail(
                        "anchors and aliases (&name, *name) are not supported; write the key out"
                    )
                seen.add(id(key_raw))
                if key_raw.tag not in _SCALAR_TAGS:
                    key_at.fail(
                        f"the tag {key_raw.tag.replace(_TAG, '!!')} is not allowed; "
                        "content is data, remove the tag"
                    )
                key = str(key_raw.value)
                key_field = at.key_path(key)
                if key in first_line:
                    # YAML loaders silently keep the last duplicate; an editor who pasted a second
                    # `summary:` would lose the first without noticing.
                    key_at.fail(
                        f"duplicate key `{key}` (first at line {first_line[key]}); "
                        "keep one and merge or delete the other",
                        field=key_field,
                    )
                first_line[key] = key_at.line
                stack.append((value_raw, key_field))


def _syntax_error(exc: yaml.MarkedYAMLError, file: Path, error: type[ContentError]) -> ContentError:
    """Turn PyYAML's syntax error into ours, at the problem's position."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    context = f" ({exc.context})" if exc.context and exc.problem else ""
    return error(
        f"invalid YAML: {problem}{context}; {_SYNTAX_HINT}",
        path=file,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
    )


def parse(
    data: bytes,
    file: Path,
    *,
    error: type[ContentError] = ContentError,
    empty_hint: str = "",
) -> Node:
    """Compose YAML bytes into a checked :class:`Node`, or raise ``error`` saying where and why."""
    try:
        # utf-8-sig: editors on Windows like to start files with a byte order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error(
            f"not valid UTF-8: byte 0x{bad} at byte offset {exc.start}; save the file as UTF-8",
            path=file,
            line=line,
            column=column,
        ) from None
    try:
        raw = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.composer.ComposerError as exc:
        if exc.context and "single document" in exc.context and exc.problem_mark:
            raise error(
                "a file holds one document, but a second starts here; remove this `---` "
                "and anything after it, or move it to its own file",
                path=file,
                line=exc.problem_mark.line + 1,
                column=exc.problem_mark.column + 1,
            ) from None
        raise _syntax_error(exc, file, error) from None
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, file, error) from None
    except yaml.reader.ReaderError as exc:
        line, column = _position(text, exc.position)
        raise error(
            f"the character U+{exc.character:04X} is not allowed in YAML; delete it",
            path=file,
            line=line,
            column=column,
        ) from None
    except yaml.YAMLError as exc:  # any other PyYAML failure: still the file's fault
        raise error(f"invalid YAML: {exc}", path=file) from None
    except RecursionError:
        # PyYAML's composer recurses once per nesting level.
        raise error("nested too deeply to be an article or config; flatten it", path=file) from None
    if raw is None:
        hint = f"; {empty_hint}" if empty_hint else ""
        raise error(f"the file is empty{hint}", path=file)
    _check_tree(raw, file, error)
    return Node(raw, file, "", error)


def load(path: Path, *, error: type[ContentError] = ContentError, empty_hint: str = "") -> Node:
    """Read and compose a YAML file into a checked :class:`Node`."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error("file not found", path=path) from None
    except IsADirectoryError:
        raise error("is a folder, not a YAML file", path=path) from None
    except OSError as exc:
        raise error(f"cannot read the file: {exc.strerror or exc}", path=path) from None
    return parse(data, path, error=error, empty_hint=empty_hint)
