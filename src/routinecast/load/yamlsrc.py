"""Read YAML keeping the file and line of every mapping key and list item, for error messages.

``load_yaml(path)`` returns plain data where mappings are ``YMap`` (a dict that knows
its ``Loc``, file and line, and the line of each key) and lists are ``YList``, so
``node.val(key)`` is a ``Val`` that can be reported wherever it travels. Every failure
is an ``InputError`` naming the file and line: not UTF-8, empty, too big, bad syntax,
duplicate keys, values YAML cannot turn into numbers or dates, documents nested too
deeply or blown up by aliases.

Speed: a document is parsed by libyaml (PyYAML's C parser, in its wheels) when it is
there, about 6 times faster than the pure-Python parser (3 ms instead of 20 ms for the
exercise library, on every command). Only a document libyaml refuses is parsed again
by the pure-Python parser, whose messages (and ``_SYNTAX_HINTS``) are the ones users
see; both build the same ``YMap``/``YList`` tree with the same lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from routinecast.errors import InputError, LimitError
from routinecast.locations import NOWHERE, Loc, Val
from routinecast.reads import note_file

MAX_FILE_BYTES = 1_000_000
"""Routine and library files larger than this are refused (documented in the README)."""
MAX_DEPTH = 50
"""Mappings and lists may nest this deep; routines need about six levels."""
MAX_NODES = 100_000
"""A document may hold this many values, counting every copy an alias makes."""

_SYNTAX_HINTS = (
    ("mapping values are not allowed", 'put text that contains ": " in quotes'),
    ("'\\t'", "indent with spaces, not tabs"),
    ("could not determine a constructor", "tags like !!python/... are not allowed"),
    ("undefined alias", "define the &anchor before using *anchor"),
    ("another document", "a file holds one document; remove the extra ---"),
)
_UNCLOSED = ("while parsing a flow", "while scanning a quoted", "while scanning a double")


class YMap(dict[str, Any]):
    """A YAML mapping that knows where it was written (``loc``) and the line of each key."""

    def __init__(
        self,
        items: Mapping[str, Any] | Iterable[tuple[str, Any]] = (),
        *,
        loc: Loc = NOWHERE,
        key_lines: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__(items)
        self.loc = loc
        self.key_lines: dict[str, int] = dict(key_lines or {})

    @property
    def line(self) -> int:
        """The line the mapping starts on."""
        return self.loc.line

    def line_of(self, key: str) -> int:
        """The line of ``key``, or of the mapping itself when the key is absent."""
        return self.key_lines.get(key, self.loc.line)

    def val(self, key: str) -> Val:
        """The value of ``key`` with its file and line."""
        return Val(self[key], self.loc.file, self.line_of(key))


class YList(list[Any]):
    """A YAML sequence that knows where it was written (``loc``) and the line of each item."""

    def __init__(
        self, items: Iterable[Any] = (), *, loc: Loc = NOWHERE, item_lines: Iterable[int] = ()
    ) -> None:
        super().__init__(items)
        self.loc = loc
        self.item_lines: list[int] = list(item_lines)

    @property
    def line(self) -> int:
        """The line the list starts on."""
        return self.loc.line

    def line_of(self, index: int) -> int:
        """The line of item ``index``."""
        lines = self.item_lines
        return lines[index] if 0 <= index < len(lines) else self.loc.line

    def val(self, index: int) -> Val:
        """Item ``index`` with its file and line."""
        return Val(self[index], self.loc.file, self.line_of(index))


def located_tree(node: Any, loc: Loc) -> Any:
    """Plain dicts and lists (a ``--set`` value, parsed elsewhere) as ``YMap``/``YList`` at ``loc``.

    Nodes that already know their place, and scalars, are returned as they are.
    """
    if isinstance(node, YMap | YList) or not isinstance(node, dict | list):
        return node
    if isinstance(node, list):
        return YList(
            (located_tree(item, loc) for item in node), loc=loc, item_lines=[loc.line] * len(node)
        )
    items = {str(k): located_tree(v, loc) for k, v in node.items()}
    return YMap(items, loc=loc, key_lines=dict.fromkeys(items, loc.line))


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class _Located:
    """Mappings and sequences that remember their file and lines (mixed into a loader)."""

    file: str = ""
    """How messages name the file being read."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Values YAML resolves but Python refuses (a 5,000-digit number, 2024-13-45)."""
        try:
            return super().construct_object(node, deep)  # type: ignore[misc]
        except (ValueError, OverflowError, TypeError) as exc:
            why = "a number with too many digits" if "digits" in str(exc) else str(exc)
            raise InputError(
                f"has a value that cannot be read ({why}); put it in quotes if it is text",
                line=_line(node),
            ) from None


class _Loader(_Located, yaml.SafeLoader):
    """The pure-Python parser: slower, and the source of every syntax message."""


_FastLoader: type[Any] | None = None
if getattr(yaml, "__with_libyaml__", False):

    class _CLoader(_Located, yaml.CSafeLoader):
        """libyaml's parser with the same constructors."""

    _FastLoader = _CLoader


def _construct_map(loader: Any, node: yaml.MappingNode) -> YMap:
    """A ``YMap``; keys merged in with ``<<: *anchor`` may be overridden, own keys not."""
    result = YMap(loc=Loc(loader.file, _line(node)))
    own = {id(key) for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge"}
    loader.flatten_mapping(node)
    written: set[str] = set()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = _line(key_node)
        if not isinstance(key, str):
            key = str(key)
        if id(key_node) in own:
            if key in written:
                raise InputError(
                    f"appears twice in one mapping (first on line {result.key_lines[key]}); "
                    "a field may be given only once",
                    line=line,
                    field=f'"{key}"',
                )
            written.add(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_list(loader: Any, node: yaml.SequenceNode) -> YList:
    return YList(
        (loader.construct_object(child, deep=True) for child in node.value),
        loc=Loc(loader.file, _line(node)),
        item_lines=[_line(child) for child in node.value],
    )


for _loader in (_Loader, _FastLoader):
    if _loader is not None:
        _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
        _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_list)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_shape(root: yaml.Node) -> None:
    """Refuse a node tree deeper than ``MAX_DEPTH`` or larger than ``MAX_NODES``.

    Aliases are followed, so a self-referencing alias or a "billion laughs" document
    is refused here instead of hanging everything that walks the data later.
    """
    count = 0
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise LimitError(
                f"nests more than {MAX_DEPTH} levels deep (or an alias refers to a "
                "mapping or list that contains it)",
                line=_line(node),
            )
        if count > MAX_NODES:
            raise LimitError(
                f"holds more than {MAX_NODES:,} values (counting every copy an alias makes)",
                line=_line(node),
            )
        stack.extend((child, depth + 1) for child in _children(node))


def read_text(path: Path, shown: str) -> str:
    """The file's text, refusing missing, huge, non-UTF-8 and empty files."""
    data = _read_bytes(path, shown)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8",
            file=shown,
            line=line,
        ) from None
    text = text.lstrip("\ufeff")
    if all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise InputError("is empty: a routine needs at least title and steps", file=shown)
    return text


def _read_bytes(path: Path, shown: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LimitError(
                f"is {size:,} bytes; routine and library files may be at most "
                f"{MAX_FILE_BYTES:,} bytes",
                file=shown,
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", file=shown) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a YAML file", file=shown) from None
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror}", file=shown) from None
    note_file(path, data)  # for receipts: what this build read
    return data


def parse_yaml(text: str, shown: str) -> Any:
    """Parse YAML text; syntax errors become ``InputError`` with the line."""
    if _FastLoader is not None:
        try:
            return _parse(_FastLoader, text, shown)
        except (InputError, RecursionError, yaml.YAMLError):
            pass  # the pure-Python parser says what is wrong, in the words users see
    return _parse(_Loader, text, shown)


def _parse(loader_type: type[Any], text: str, shown: str) -> Any:
    try:
        loader = loader_type(text)
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, shown) from None
    loader.file = shown
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        check_shape(node)
        return loader.construct_document(node)
    except InputError as exc:
        raise exc.located(file=shown) from None
    except yaml.MarkedYAMLError as exc:
        raise syntax_error(exc, shown) from None
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, shown) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML error: {exc}", file=shown) from None
    except RecursionError:
        raise LimitError(f"nests too deeply; at most {MAX_DEPTH} levels", file=shown) from None
    finally:
        loader.dispose()


def _reader_error(exc: yaml.reader.ReaderError, text: str, shown: str) -> InputError:
    """A character YAML does not allow (NUL, other control characters)."""
    line = text.count("\n", 0, exc.position) + 1
    return InputError(
        f"contains the control character U+{exc.character:04X}, which YAML does not "
        "allow; remove it or save the file as plain text",
        file=shown,
        line=line,
    )


def syntax_error(exc: yaml.MarkedYAMLError, shown: str) -> InputError:
    """A YAML parser error as one message at the most useful line, with a hint."""
    problem = exc.problem or "is not valid YAML"
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    context = exc.context or ""
    detail = ""
    if exc.context_mark and context and exc.context_mark.line + 1 != line:
        start = exc.context_mark.line + 1
        if context.startswith(_UNCLOSED):
            detail = f" ({context} that starts on this line and is never closed)"
            line = start
        else:
            detail = f" ({context} on line {start})"
    hint = next(
        (h for key, h in _SYNTAX_HINTS if key in problem or key in context),
        "check the indentation, quotes and brackets",
    )
    return InputError(f"YAML syntax error: {problem}{detail}; {hint}", file=shown, line=line)


def load_yaml(path: Path, shown: str | None = None) -> Any:
    """Read and parse one YAML file; ``shown`` is how messages name it."""
    name = shown or str(path)
    return parse_yaml(read_text(path, name), name)
