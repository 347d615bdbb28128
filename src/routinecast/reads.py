"""What a build read: every input file's digest and every folder's listing, as it read them.

``recording()`` opens a record for the current context (a ``ContextVar``, so threads
and the studio's concurrent requests keep their own); the loader calls ``note_file``
with the bytes of every YAML file it parses and ``note_folder`` with the names a
``library:`` folder held. Outside a record both do nothing. ``Reads.unchanged()``
says, by reading the files again, whether every one still has the same bytes and
every folder the same names: what ``receipts`` needs to answer a build that nothing
has changed without loading anything.

This module is a contract (the floor every stage may stand on): it knows files only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LISTED = "*.y*ml"
"""The files a folder's listing counts (what ``load_library`` reads from a folder)."""


@dataclass
class Reads:
    """Files (absolute path -> SHA-256 of the bytes read, None when unreadable) and folders
    (-> sorted names)."""

    files: dict[str, str | None] = field(default_factory=dict)
    folders: dict[str, list[str]] = field(default_factory=dict)

    def add_file(self, path: Path, data: bytes | None = None) -> None:
        """Note ``path`` with the ``data`` read from it (read now when not given)."""
        self.files[_absolute(path)] = digest_of(path) if data is None else _sha256(data)

    def unchanged(self) -> bool:
        """True when every file has the bytes and every folder the names noted."""
        if any(digest_of(Path(name)) != digest for name, digest in self.files.items()):
            return False
        return all(listing(Path(name)) == names for name, names in self.folders.items())

    def to_json(self) -> dict[str, Any]:
        """A JSON object (``from_json`` reads it back)."""
        return {"files": dict(sorted(self.files.items())), "folders": dict(self.folders)}

    @classmethod
    def from_json(cls, doc: Any) -> Reads:
        """The record ``to_json`` wrote; ``ValueError`` when it is not one."""
        if not isinstance(doc, dict):
            raise ValueError("reads must be an object")
        files, folders = doc.get("files"), doc.get("folders")
        if not isinstance(files, dict) or not isinstance(folders, dict):
            raise ValueError("reads need files and folders")
        return cls(
            {str(k): None if v is None else str(v) for k, v in files.items()},
            {str(k): [str(n) for n in v] for k, v in folders.items()},
        )


_CURRENT: ContextVar[Reads | None] = ContextVar("routinecast_reads", default=None)


@contextmanager
def recording() -> Iterator[Reads]:
    """Record what is read inside the block (nested blocks record into their own)."""
    reads = Reads()
    token = _CURRENT.set(reads)
    try:
        yield reads
    finally:
        _CURRENT.reset(token)


def note_file(path: Path, data: bytes) -> None:
    """The loader read ``data`` from ``path``."""
    reads = _CURRENT.get()
    if reads is not None:
        reads.add_file(path, data)


def note_folder(path: Path, names: Sequence[str]) -> None:
    """The loader listed ``path`` and found ``names``."""
    reads = _CURRENT.get()
    if reads is not None:
        reads.folders[_absolute(path)] = sorted(names)


def listing(folder: Path) -> list[str] | None:
    """The sorted names ``LISTED`` matches in ``folder``; None when it cannot be listed."""
    try:
        return sorted(p.name for p in folder.glob(LISTED))
    except OSError:
        return None


def digest_of(path: Path) -> str | None:
    """SHA-256 of the file's bytes; None when it cannot be read."""
    try:
        return _sha256(path.read_bytes())
    except OSError:
        return None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _absolute(path: Path) -> str:
    return str(path.resolve())
