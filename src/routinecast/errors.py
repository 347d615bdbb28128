"""The exception tree. Catch ``RoutinecastError`` around any public call.

    RoutinecastError                 base; ``exit_code`` is what the CLI exits with
    ├── InputError (exit 2)          bad input: a routine, library, template or override
    │   └── LimitError (exit 2)      input beyond a documented limit (size, length)
    └── BuildError (exit 1)          the input was fine but building failed
        ├── EngineError              a speech engine failed, crashed or is missing
        ├── CacheError               the clip cache could not be read or written
        └── OutputError              the output folder or disk refused a write

Only the CLI turns these into messages and exit codes.
"""

from __future__ import annotations


class RoutinecastError(Exception):
    """Base of every error routinecast raises on purpose."""

    exit_code = 1


class InputError(RoutinecastError):
    """A file or option a user wrote is wrong; the message says where and what is allowed.

    ``str(err)`` reads ``file:line: where: field message``, e.g. ``routines/x.yaml:14:
    step 3 (glute-bridge-march): tempo must be a duration like 3s, got "fast"``.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        where: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.where = where
        self.field = field
        super().__init__(self.render())

    def render(self) -> str:
        """The one-line message: location first, then what is wrong and what is allowed."""
        loc = ""
        if self.file:
            loc = self.file + (f":{self.line}" if self.line else "") + ": "
        parts = [p for p in (self.where,) if p]
        head = ": ".join(parts)
        body = f"{self.field} {self.message}" if self.field else self.message
        return f"{loc}{head}: {body}" if head else f"{loc}{body}"

    def located(
        self, *, file: str | None = None, line: int | None = None, where: str | None = None
    ) -> InputError:
        """A copy with missing location parts filled in (inner code knows less than outer)."""
        return type(self)(
            self.message,
            file=self.file or file,
            line=self.line or line,
            where=self.where or where,
            field=self.field,
        )


class LimitError(InputError):
    """Input beyond a documented limit: file size, routine length, cue length."""


class BuildError(RoutinecastError):
    """The input was valid but the build could not finish."""

    exit_code = 1


class EngineError(BuildError):
    """A speech engine is missing, failed or crashed."""


class CacheError(BuildError):
    """The speech cache could not be used."""


class OutputError(BuildError):
    """An output file could not be written (read-only folder, full disk, a file in the way).

    Structured so callers adjust it without rewriting text: ``path`` is the file or
    folder concerned, ``doing`` what failed ("could not write"), ``message`` why, and
    ``unchanged`` says that older outputs were kept. ``str(err)`` reads ``could not
    write out/x.mp3: ffmpeg failed ...; older outputs are unchanged``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: object = None,
        doing: str = "cannot write",
        unchanged: bool = False,
    ) -> None:
        self.message = message
        self.path = path
        self.doing = doing
        self.unchanged = unchanged
        super().__init__(self.render())

    def render(self) -> str:
        """The one-line message."""
        text = (
            f"{self.doing} {self.path}: {self.message}" if self.path is not None else self.message
        )
        return f"{text}; {UNCHANGED}" if self.unchanged else text

    def about(self, path: object, *, unchanged: bool = True) -> OutputError:
        """The same error told of ``path`` (a final name, not a temporary one)."""
        return OutputError(self.message, path=path, doing=self.doing, unchanged=unchanged)


UNCHANGED = "older outputs are unchanged"
