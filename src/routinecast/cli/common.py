"""What every command shares: the error boundary, consoles, and option parsing helpers.

Errors become messages here and nowhere else: a ``RoutinecastError`` prints its
one-line message to stderr and exits with its ``exit_code`` (2 bad input, 1 build
failure); Ctrl-C prints that nothing was written and exits 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer
from rich.console import Console

from ..errors import RoutinecastError

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
T = TypeVar("T")


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn project errors and Ctrl-C into a message and an exit status."""
    try:
        yield
    except RoutinecastError as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("interrupted: nothing was written; older outputs are unchanged", soft_wrap=True)
        raise typer.Exit(1) from None


def guarded(fn: Callable[[], T]) -> T:
    """Run ``fn`` inside ``user_errors``."""
    with user_errors():
        return fn()
