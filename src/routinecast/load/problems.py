"""Collecting every independent mistake of a file instead of stopping at the first.

Each check that does not depend on another runs through ``Problems.value``: its
``InputError`` is noted and a stand-in value lets loading go on. ``raise_found`` then
raises them together (an ``InputErrors``, or the lone ``InputError``), in the order of
the files and lines they name. A mistake that makes later checks meaningless (a YAML
syntax error, a missing file) is simply raised, not collected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from routinecast.errors import InputError, InputErrors

T = TypeVar("T")
P = ParamSpec("P")


class Problems:
    """The mistakes found so far in one file, or in one part of it."""

    def __init__(self) -> None:
        self.found: list[InputError] = []

    def __bool__(self) -> bool:
        return bool(self.found)

    def __len__(self) -> int:
        return len(self.found)

    def add(self, error: InputError) -> None:
        """Note a mistake (every one of a group)."""
        self.found.extend(error.errors if isinstance(error, InputErrors) else (error,))

    def value(self, default: T, check: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``check(*args, **kwargs)``, or ``default`` after noting the mistake it raised."""
        try:
            return check(*args, **kwargs)
        except InputError as exc:
            self.add(exc)
            return default

    def run(self, check: Callable[P, object], /, *args: P.args, **kwargs: P.kwargs) -> bool:
        """Run a check that returns nothing useful; False (and the mistake noted) if it failed."""
        try:
            check(*args, **kwargs)
        except InputError as exc:
            self.add(exc)
            return False
        return True

    def raise_found(self) -> None:
        """Raise every noted mistake, sorted by file (first seen first) and line."""
        if not self.found:
            return
        files: dict[str, int] = {}
        for error in self.found:
            files.setdefault(error.file or "", len(files))
        ordered = sorted(self.found, key=lambda e: (files[e.file or ""], e.line or 0))
        raise InputErrors.combine(ordered)
