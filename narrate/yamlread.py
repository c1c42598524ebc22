"""Line-aware YAML reading shared by the article loader and the config loader.

``yaml.safe_load`` throws away where each value came from, so an editor told "author is missing"
would have to hunt for it. Here a file is composed into PyYAML nodes (which keep line/column
marks; :mod:`narrate.yamlsyntax`), checked once for what YAML allows but a data file must not
contain (custom tags, duplicate keys, anchors and aliases, control characters and surrogates
written as escapes), and wrapped in :class:`Node`, whose accessors validate a value and
raise a ``ContentError`` naming ``file:line:col``, the field path (``sections[3].quotes[0].author``)
and what to do. Any input bytes give either a :class:`Node` or a ``ContentError``, never a
traceback.
"""

from __future__ import annotations

import difflib
import math
import re
import sys
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import yaml
from yaml.constructor import SafeConstructor

from narrate.errors import ContentError
from narrate.text.characters import FORBIDDEN, shown, why_forbidden
from narrate.yamlsyntax import MAX_FILE_BYTES, compose, decode, position

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

_ESCAPE = re.compile(r"\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.DOTALL)
_NAMED_ESCAPES: dict[str, str] = yaml.scanner.Scanner.ESCAPE_REPLACEMENTS


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

    def document_keys(self, expected: str, own: str, other: str, not_this: str) -> list[str]:
        """Return the top-level keys of a document that must be ``expected`` (a mapping).

        One holding the ``other`` kind's marker key and not its ``own`` is refused with
        ``not_this``: an article given as the site config, or the other way round.
        """
        if not self.is_mapping():
            self.fail(f"expected {expected}, got {self.kind}")
        keys = [str(k.value) for k, _ in self.raw.value]
        if other in keys and own not in keys:
            self.fail(not_this)
        return keys

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
        step = key if _IDENT.match(key) else '["' + shown(key, 60).replace('"', '\\"') + '"]'
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
                    f"unknown field `{shown(key)}`; {hint}allowed here: {', '.join(names)}"
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


def _unescape(escape: str) -> str:
    r"""Return the character a double-quoted escape such as ``\e`` or ``\ud800`` stands for."""
    if escape[1] in "xuU":
        code = int(escape[2:], 16)
        return chr(code) if code <= sys.maxunicode else ""
    return _NAMED_ESCAPES.get(escape[1], "")


def _check_text(raw: yaml.ScalarNode, text: str, at: Node) -> None:
    """Refuse a control character or surrogate in a value, at the escape that wrote it."""
    found = FORBIDDEN.search(raw.value)
    if found is None:
        return
    # The reader refuses these characters written raw, so an escape in double quotes wrote it.
    end = raw.end_mark.index
    for m in _ESCAPE.finditer(text, raw.start_mark.index, end):
        chars = _unescape(m.group())
        if not FORBIDDEN.match(chars):
            continue
        written = m.group()
        low = _ESCAPE.match(text, m.end(), end)
        if "\ud800" <= chars <= "\udbff" and low and "\udc00" <= _unescape(low.group()) <= "\udfff":
            chars, written = chars + _unescape(low.group()), written + low.group()
        line, column = position(text, m.start())
        raise at.error(why_forbidden(chars, written), path=at.file, line=line, column=column)
    code = ord(found.group())
    at.fail(why_forbidden(found.group(), f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}"))


def _check_node(raw: yaml.Node, at: Node, seen: dict[int, str], text: str) -> None:
    """Refuse an alias, a custom tag, or a forbidden character in one value or key."""
    if id(raw) in seen:
        # The composer hands out the same node object for every ``*alias`` of an ``&anchor``,
        # so it is reported where the anchor is. Aliases let a small file expand exponentially
        # and hide where a value really lives.
        at.fail(
            "anchors and aliases (&name, *name) are not supported; write the value out",
            field=seen[id(raw)],
        )
    seen[id(raw)] = at.field
    if isinstance(raw, yaml.SequenceNode):
        expected: Collection[str] = (SEQ,)
    elif isinstance(raw, yaml.MappingNode):
        expected = (MAP,)
    else:
        expected = _SCALAR_TAGS
    if raw.tag not in expected:
        at.fail(
            f"the tag {raw.tag.replace(_TAG, '!!')} is not allowed; content is data, remove the tag"
        )
    if isinstance(raw, yaml.ScalarNode):
        _check_text(raw, text, at)


def _check_keys(raw: yaml.MappingNode, at: Node, seen: dict[int, str], text: str) -> list[_Item]:
    """Check a mapping's keys; return its values with their field paths, in file order."""
    first_line: dict[str, int] = {}
    values: list[_Item] = []
    for key_raw, value_raw in raw.value:
        key_at = Node(key_raw, at.file, at.field, at.error)
        if not isinstance(key_raw, yaml.ScalarNode):
            key_at.fail(f"a key must be plain text, not {key_at.kind}")
        if key_raw.tag == MERGE:
            key_at.fail("merge keys (<<) are not supported; write the keys out")
        _check_node(key_raw, key_at, seen, text)
        key = str(key_raw.value)
        key_field = at.key_path(key)
        if key in first_line:
            # YAML loaders silently keep the last duplicate; an editor who pasted a second
            # `summary:` would lose the first without noticing.
            key_at.fail(
                f"duplicate key `{shown(key)}` (first at line {first_line[key]}); "
                "keep one and merge or delete the other",
                field=key_field,
            )
        first_line[key] = key_at.line
        values.append((value_raw, key_field))
    return values


_Item = tuple[yaml.Node, str]


def _check_tree(root: yaml.Node, text: str, file: Path, error: type[ContentError]) -> None:
    """Refuse custom tags, non-text keys, merge keys, duplicate keys, anchors/aliases and
    forbidden characters anywhere, reporting the first in the file.

    Iterative, so a deeply nested file cannot exhaust Python's stack here.
    """
    seen: dict[int, str] = {}
    stack: list[_Item] = [(root, "")]
    while stack:
        raw, field = stack.pop()
        at = Node(raw, file, field, error)
        _check_node(raw, at, seen, text)
        if isinstance(raw, yaml.SequenceNode):
            items = [(item, at.index_path(i)) for i, item in enumerate(raw.value)]
        elif isinstance(raw, yaml.MappingNode):
            items = _check_keys(raw, at, seen, text)
        else:
            continue
        stack.extend(reversed(items))  # popped in file order


def parse(
    data: bytes,
    file: Path,
    *,
    error: type[ContentError] = ContentError,
    empty_hint: str = "",
) -> Node:
    """Compose YAML bytes into a checked :class:`Node`, or raise ``error`` saying where and why."""
    text = decode(data, file, error)
    raw = compose(text, file, error)
    if raw is None:
        hint = f"; {empty_hint}" if empty_hint else ""
        raise error(f"the file is empty{hint}", path=file)
    _check_tree(raw, text, file, error)
    return Node(raw, file, "", error)


def load(path: Path, *, error: type[ContentError] = ContentError, empty_hint: str = "") -> Node:
    """Read and compose a YAML file into a checked :class:`Node` (at most MAX_FILE_BYTES read)."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise error("file not found", path=path) from None
    except IsADirectoryError:
        raise error("is a folder, not a YAML file", path=path) from None
    except OSError as exc:
        raise error(f"cannot read the file: {exc.strerror or exc}", path=path) from None
    return parse(data, path, error=error, empty_hint=empty_hint)
