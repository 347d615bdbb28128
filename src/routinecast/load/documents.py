"""Parsed YAML documents of routines and libraries, and small helpers to read them.

Every mapping and list of a document carries its ``Loc`` (file and line) from the YAML
reader, so a value moved by ``extends``, ``override`` or ``--set`` can still be
reported where it was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routinecast.load.fields import check_text, describe
from routinecast.load.yamlsrc import YList, YMap, load_yaml
from routinecast.locations import Val, Where


@dataclass(frozen=True)
class Layer:
    """One file of an ``extends`` chain, parsed."""

    path: Path
    shown: str
    doc: YMap


def show_path(path: Path) -> str:
    """How messages name a file: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_document(path: Path) -> tuple[Any, str]:
    """Parse one file; its mappings and lists know the file by its shown name."""
    shown = show_path(path)
    return load_yaml(path, shown), shown


def is_library_file(path: Path) -> bool:
    """True when the file's document is a list (a library), not a routine mapping."""
    doc, _ = read_document(path)
    return isinstance(doc, list)


def expect_map(node: Any, where: Where, field: str | None, what: str) -> YMap:
    if not isinstance(node, YMap):
        raise where.error(f"must be a mapping of {what}, got {describe(node)}", field=field)
    return node


def expect_list(node: Any, where: Where, field: str, what: str) -> YList:
    if not isinstance(node, YList):
        raise where.error(f"must be a list of {what}, got {describe(node)}", field=field)
    return node


def existing_file(base: Path, val: Val, where: Where, field: str) -> Path:
    """The file or folder that ``val`` names relative to ``base``; refuses missing ones."""
    here = where.at(val)
    text = check_text(val, here, field, allow_empty=False)
    try:
        target = (base / text).resolve()
        exists = target.exists()
    except (OSError, ValueError):
        raise here.error(f'names "{text}", which is not a usable path', field=field) from None
    if not exists:
        raise here.error(
            f"names {show_path(target)}, which does not exist (paths are relative to this file)",
            field=field,
        )
    return target
