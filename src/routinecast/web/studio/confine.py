"""What the studio may read: the routines folder and the shipped data, nothing else.

A web page can ask the studio to plan any routine it lists, and the loader follows
``extends:`` and ``library:`` wherever they point, quoting the start of a file it
cannot parse. So before a routine is loaded, ``Confinement.check`` walks its
``extends`` chain itself, reading only files inside the allowed folders, and refuses
an ``extends`` or ``library`` that resolves (symlinks followed) anywhere else. The
refusal names the line that points out and quotes nothing of the file it points to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routinecast.errors import InputError
from routinecast.load.fields import check_text
from routinecast.load.routine import (
    MAX_EXTENDS,
    read_document,
    shipped_library_path,
    shipped_routines_dir,
    show_path,
)
from routinecast.locations import Val, Where


@dataclass(frozen=True)
class Confinement:
    """The folders the studio reads from (resolved): routines, shipped routines, data."""

    routines: Path
    shipped: Path
    data: Path

    @classmethod
    def for_folder(cls, folder: Path) -> Confinement:
        """The routines ``folder`` plus the shipped routines and data folders."""
        return cls(
            folder.resolve(),
            shipped_routines_dir().resolve(),
            shipped_library_path().parent.resolve(),
        )

    @property
    def roots(self) -> tuple[Path, Path, Path]:
        """Every folder the studio may read."""
        return (self.routines, self.shipped, self.data)

    def inside(self, path: Path) -> bool:
        """True when ``path`` (symlinks followed) lies in one of the allowed folders."""
        try:
            resolved = path.resolve()
        except (OSError, ValueError):
            return False
        return any(resolved.is_relative_to(root) for root in self.roots)

    def check(self, path: Path) -> tuple[Path, ...]:
        """The routine's ``extends`` chain (resolved, the routine first), all inside.

        Raises ``InputError`` at the first ``extends`` or ``library`` that points out.
        Anything else wrong with the files is left for the loader to word.
        """
        if not self.inside(path):
            raise InputError(self._outside("is"), file=path.name)
        chain: list[Path] = []
        current: Path | None = path
        while current is not None and len(chain) <= MAX_EXTENDS:
            resolved = current.resolve()
            if resolved in chain:
                break  # a cycle: the loader refuses it with the whole chain named
            chain.append(resolved)
            current = self._step(current)
        return tuple(chain)

    def _step(self, path: Path) -> Path | None:
        """Check one file's ``library`` and ``extends``; the parent file, if any."""
        doc, shown = read_document(path)
        if not isinstance(doc, dict):
            return None
        for target, line in _targets(doc, "library", path):
            self._refuse_outside(target, shown, line, "library")
            if target.is_dir():
                for child in sorted(target.glob("*.y*ml")):
                    self._refuse_outside(child, shown, line, "library")
        for target, line in _targets(doc, "extends", path):
            self._refuse_outside(target, shown, line, "extends")
            return target if target.is_file() else None
        return None

    def _refuse_outside(self, target: Path, shown: str, line: int, field: str) -> None:
        if not self.inside(target):
            raise InputError(
                self._outside("names a file that is"), file=shown, line=line, field=field
            )

    def _outside(self, what: str) -> str:
        return (
            f"{what} outside the folders the studio reads ({show_path(self.routines)} and "
            "the shipped routines); copy the file into the routines folder and name it from there"
        )


def _targets(doc: Any, key: str, path: Path) -> Iterator[tuple[Path, int]]:
    """Each path that ``key`` names, resolved exactly as the loader resolves it, with its line.

    Values that are not text, or not a usable path, are skipped: the loader refuses
    them without reading anything.
    """
    if key not in doc:
        return
    line = doc.line_of(key) if hasattr(doc, "line_of") else 0
    value = doc[key]
    for name in value if isinstance(value, list) else [value]:
        try:
            text = check_text(Val(name, "", line), Where("", line), key, allow_empty=False)
            yield (path.parent / text).resolve(), line
        except (InputError, OSError, ValueError):
            continue
