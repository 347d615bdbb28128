"""Read YAML keeping the line of every mapping key and list item, for error messages.

``load_yaml(path)`` returns plain data where mappings are ``YMap`` (a dict that
knows its own line and the line of each key) and lists are ``YList``. Every failure
is an ``InputError`` naming the file and line: not UTF-8, empty, too big, bad syntax,
duplicate keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import InputError, LimitError

MAX_FILE_BYTES = 1_000_000
"""Routine and library files larger than this are refused (documented in the README)."""


class YMap(dict[str, Any]):
    """A YAML mapping: ``line`` is where it starts, ``key_lines[k]`` where key ``k`` is."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        """The line of ``key``, or of the mapping itself when the key is absent."""
        return self.key_lines.get(key, self.line) if hasattr(self, "key_lines") else self.line


class YList(list[Any]):
    """A YAML sequence: ``line`` is where it starts, ``item_lines[i]`` where item ``i`` is."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        """The line of item ``index``."""
        lines = getattr(self, "item_lines", [])
        return lines[index] if index < len(lines) else self.line


class _Loader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences remember their lines."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> YMap:
    result = YMap()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            raise InputError(f'"{key}" appears twice in one mapping', line=line)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_list(loader: _Loader, node: yaml.SequenceNode) -> YList:
    result = YList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_list)


def read_text(path: Path, shown: str) -> str:
    """The file's text, refusing missing, huge, non-UTF-8 and empty files."""
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
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8",
            file=shown,
            line=line,
        ) from None
    if not text.strip() or all(
        not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        raise InputError("is empty: a routine needs at least title and steps", file=shown)
    return text.lstrip("\ufeff")


def parse_yaml(text: str, shown: str) -> Any:
    """Parse YAML text; syntax errors become ``InputError`` with the line."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except InputError as exc:
        raise exc.located(file=shown) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or "is not valid YAML"
        raise InputError(f"YAML syntax error: {problem}", file=shown, line=line) from None
    except yaml.YAMLError as exc:
        raise InputError(f"YAML error: {exc}", file=shown) from None


def load_yaml(path: Path, shown: str | None = None) -> Any:
    """Read and parse one YAML file; ``shown`` is how messages name it."""
    name = shown or str(path)
    return parse_yaml(read_text(path, name), name)
