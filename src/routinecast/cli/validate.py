"""``routinecast validate``: check routine and library files without building."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from routinecast.cli.common import out, report
from routinecast.errors import RoutinecastError
from routinecast.load.routine import load_library, load_routine, read_document
from routinecast.pipeline import check_length
from routinecast.timing.compiler import compile_timeline
from routinecast.timing.script import build_script, spoken_texts


def register(app: typer.Typer) -> None:
    """Add the command."""
    app.command("validate")(validate_command)


def check_file(path: Path) -> str:
    """Validate one file (routine or library); returns a one-line summary."""
    doc, _ = read_document(path)
    if isinstance(doc, list):
        return f"library, {len(load_library(path))} exercises"
    routine = load_routine(path)
    texts = spoken_texts(build_script(routine))
    timeline = compile_timeline(routine, dict.fromkeys(texts, 1000))
    check_length(path, timeline.duration_ms, at_least=True)
    return f"routine, {len(routine.steps)} steps, {len(texts)} distinct spoken lines"


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
