"""What every command shares: the error boundary, consoles, and option parsing helpers.

Errors become messages here and nowhere else: a ``RoutinecastError`` prints its
messages to stderr, one ``error:`` line each (a file with several independent
mistakes has several), and exits with its ``exit_code`` (2 bad input, 1 build
failure); an ``OSError`` that slipped past the stages (a disk failing somewhere
unforeseen) is a build failure too; Ctrl-C (and SIGTERM, SIGHUP: ``signals``) prints
that nothing was written and exits 1. Messages are printed literally: a path or an
engine's text with ``[brackets]`` is not taken for console markup.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from routinecast.cli.signals import interrupted_message
from routinecast.errors import RoutinecastError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
T = TypeVar("T")
INTERRUPTED = "interrupted: nothing was written; older outputs are unchanged"


def fail(message: str, code: int) -> typer.Exit:
    """Print ``error: message`` (one line, literally) to stderr; the exit to raise."""
    err.print(f"[bold red]error:[/] {escape(one_line(message))}", soft_wrap=True)
    return typer.Exit(code)


def report(exc: RoutinecastError) -> None:
    """Print every message of ``exc`` on its own ``error:`` line, then any left unshown."""
    for line in exc.lines():
        err.print(f"[bold red]error:[/] {escape(one_line(line))}", soft_wrap=True)
    if exc.hidden:
        err.print(f"and {exc.hidden} more", soft_wrap=True, markup=False)


def one_line(message: str) -> str:
    """Whitespace (newlines from an engine or ffmpeg) folded to single spaces."""
    return " ".join(message.split())


USER_ERRORS = (RoutinecastError, OSError)
"""What becomes a message: project errors, and OS errors that slipped past the stages."""


def explain(exc: RoutinecastError | OSError) -> tuple[str, int]:
    """The one-line message and the exit status for an error the user should see.

    Several mistakes (an ``InputErrors``) are joined with "; " on the one line.
    """
    if isinstance(exc, RoutinecastError):
        more = (f"and {exc.hidden} more",) if exc.hidden else ()
        return "; ".join(one_line(line) for line in (*exc.lines(), *more)), exc.exit_code
    where = f" ({exc.filename})" if exc.filename else ""
    return one_line(f"{exc.strerror or exc}{where}"), 1


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn project errors, stray OS errors and Ctrl-C into a message and an exit status."""
    try:
        yield
    except RoutinecastError as exc:
        report(exc)
        raise typer.Exit(exc.exit_code) from None
    except OSError as exc:
        raise fail(*explain(exc)) from None
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP (``signals``)
        with contextlib.suppress(OSError):  # a closed terminal cannot be told
            err.print(interrupted_message(exc), soft_wrap=True, markup=False)
        raise typer.Exit(1) from None


def guarded(fn: Callable[[], T]) -> T:
    """Run ``fn`` inside ``user_errors``."""
    with user_errors():
        return fn()
