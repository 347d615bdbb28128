"""``routinecast validate``: check routine and library files without building."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from routinecast.cli.common import out, report
from routinecast.errors import RoutinecastError


def register(app: typer.Typer) -> None:
    """Add the command."""
    app.command("validate")(validate_command)


def check_file(path: Path) -> str:
    """Validate one file (routine or library); returns a one-line summary."""
    from routinecast.pipeline import validate

    found = validate(path)
    if found.kind == "library":
        return f"library, {found.exercises} exercises"
    return f"routine, {found.steps} steps, {found.lines} distinct spoken lines"


def validate_command(
    files: Annotated[list[Path], typer.Argument(help="Routine or library files.")],
) -> None:
    """Check FILES; print one line each; exit 2 if any is bad."""
    worst = 0
    for path in files:
        try:
            out.print(f"ok   {escape(str(path))}: {check_file(path)}")
        except RoutinecastError as exc:
            report(exc)
            worst = max(worst, exc.exit_code)
    if worst:
        raise typer.Exit(worst)
