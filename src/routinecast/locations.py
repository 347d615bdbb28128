"""Where a value was written: a value with its file and line, and the context for messages.

A ``Loc`` is a file and a line; the YAML reader gives one to every mapping and list it
reads. A ``Val`` travels from the YAML reader through ``extends``, ``override`` and
``--set`` so that a message about it names the file and line it came from; ``Where``
adds the step or exercise and makes the located ``InputError``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from routinecast.errors import InputError


@dataclass(frozen=True)
class Loc:
    """A place in a file: its shown name and a 1-based line (0 when there is no line)."""

    file: str
    line: int


NOWHERE = Loc("", 0)
"""The place of a value that was not read from a file."""


@dataclass(frozen=True)
class Val:
    """A value with where it was written."""

    value: Any
    file: str
    line: int

    @property
    def loc(self) -> Loc:
        """Where the value was written."""
        return Loc(self.file, self.line)


@dataclass(frozen=True)
class Where:
    """Context for messages: the file, the line, and the step or exercise."""

    file: str
    line: int
    what: str | None = None

    def error(self, message: str, field: str | None = None, line: int | None = None) -> InputError:
        """An ``InputError`` located here."""
        return InputError(
            message, file=self.file, line=line or self.line, where=self.what, field=field
        )

    def at(self, val: Val) -> Where:
        """The same context at the value's own file and line."""
        return Where(val.file, val.line, self.what)


def suggest(name: str, allowed: Iterable[str]) -> str:
    """' (did you mean "x"?)' for a close match, else ''."""
    close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""
