"""``routinecast list``: the shipped routines (with their length) and exercises."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from routinecast.cli.common import out, user_errors
from routinecast.durations import clock
from routinecast.errors import RoutinecastError


def register(app: typer.Typer) -> None:
    """Add the command."""
    app.command("list")(list_command)


def list_command(
    folder: Annotated[Path | None, typer.Argument(help="A folder of routines.")] = None,
) -> None:
    """List routines (title, length, file) and every exercise in the library."""
    from routinecast.load.routine import load_library, shipped_library_path, shipped_routines_dir

    where = folder or shipped_routines_dir()
    with user_errors():
        routines = Table(title=f"Routines in {where}")
        for name in ("file", "title", "length", "steps"):
            routines.add_column(name, no_wrap=name in ("file", "length"))
        for path in sorted(where.glob("*.y*ml")):
            routines.add_row(*_routine_row(path))
        out.print(routines)
        exercises = Table(title="Exercises (shipped library)")
        for name in ("id", "name", "kind", "sides", "default"):
            exercises.add_column(name, no_wrap=name == "id")
        for ex in load_library(shipped_library_path()).values():
            default = f"{ex.reps} reps" if ex.kind == "reps" else f"{(ex.hold_ms or 0) // 1000} s"
            exercises.add_row(ex.id, ex.name, ex.kind, ex.sides, default)
        out.print(exercises)


def _routine_row(path: Path) -> tuple[str, str, str, str]:
    from routinecast.load.routine import is_library_file
    from routinecast.pipeline import plan

    try:
        if is_library_file(path):
            return path.name, "(exercise library)", "", ""
        timeline = plan(path)
        steps = len({b.step for b in timeline.blocks if b.step})
        return path.name, timeline.title, clock(timeline.duration_ms), str(steps)
    except RoutinecastError as exc:
        return path.name, f"[red]invalid: {exc}[/]", "", ""
