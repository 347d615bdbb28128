"""The exception tree. Catch ``RoutinecastError`` around any public call.

    RoutinecastError                 base; ``exit_code`` is what the CLI exits with
    ├── InputError (exit 2)          bad input: a routine, library, template or override
    │   ├── InputErrors (exit 2)     several independent mistakes in one input, each an InputError
    │   └── LimitError (exit 2)      input beyond a documented limit (size, length)
    └── BuildError (exit 1)          the input was fine but building failed
        ├── EngineError              a speech engine failed, crashed or is missing
        ├── CacheError               the clip cache could not be read or written
        └── OutputError              the output folder or disk refused a write

Only the CLI turns these into messages and exit codes: one ``error:`` line per entry of
``lines()``, and a last line for any ``hidden`` ones.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_SHOWN_ERRORS = 20
"""At most this many mistakes are shown at once; the rest are counted ("and 3 more")."""


class RoutinecastError(Exception):
    """Base of every error routinecast raises on purpose."""

    exit_code = 1

    def lines(self) -> tuple[str, ...]:
        """The messages to show, one per line (one for most errors)."""
        return (str(self),)

    @property
    def hidden(self) -> int:
        """How many further messages ``lines()`` leaves out."""
        return 0


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


class InputErrors(InputError):
    """Several independent mistakes found in one pass, each an ``InputError``.

    Its own message, file, line, step and field are those of the first mistake, so code
    that handles one ``InputError`` still works; ``lines()`` has one message per mistake
    (at most ``MAX_SHOWN_ERRORS``) and ``str()`` joins them with newlines. Build one with
    ``InputErrors.combine``, which returns a lone mistake as itself.
    """

    def __init__(self, errors: Sequence[InputError]) -> None:
        flat = tuple(e for error in errors for e in _flatten(error))
        if not flat:
            raise ValueError("InputErrors needs at least one error")
        self.errors = flat
        first = flat[0]
        super().__init__(
            first.message, file=first.file, line=first.line, where=first.where, field=first.field
        )

    @staticmethod
    def combine(errors: Sequence[InputError]) -> InputError:
        """One error for ``errors``: the error itself when there is one, else a group.

        Repeated messages are dropped; the rest keep their order.
        """
        unique = list({e.render(): e for error in errors for e in _flatten(error)}.values())
        return unique[0] if len(unique) == 1 else InputErrors(unique)

    def render(self) -> str:
        """Every shown message on its own line, then "and N more" when some are hidden."""
        more = (f"and {self.hidden} more",) if self.hidden else ()
        return "\n".join((*self.lines(), *more))

    def lines(self) -> tuple[str, ...]:
        return tuple(e.render() for e in self.errors[:MAX_SHOWN_ERRORS])

    @property
    def hidden(self) -> int:
        return max(0, len(self.errors) - MAX_SHOWN_ERRORS)

    def located(
        self, *, file: str | None = None, line: int | None = None, where: str | None = None
    ) -> InputError:
        """A copy with every mistake's missing location parts filled in."""
        return InputErrors([e.located(file=file, line=line, where=where) for e in self.errors])


def _flatten(error: InputError) -> tuple[InputError, ...]:
    return error.errors if isinstance(error, InputErrors) else (error,)


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
