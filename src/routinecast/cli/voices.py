"""``routinecast voices``: the voices each engine offers here."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from routinecast.cli.common import out
from routinecast.errors import RoutinecastError


def register(app: typer.Typer) -> None:
    """Add the command."""
    app.command("voices")(voices_command)


def voices_command(
    engine: Annotated[str | None, typer.Option(help="piper | pyttsx3 (default: both)")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every language, not just English.")] = False,
) -> None:
    """List voice ids to pass to --voice (or voice: in a routine)."""
    from routinecast.speech.engines.registry import make_engine

    table = Table(title="Voices")
    for name in ("engine", "id", "name", "language"):
        table.add_column(name)
    for name in [engine] if engine else ["piper", "pyttsx3"]:
        try:
            voices = make_engine(name).voices()
        except RoutinecastError as exc:
            table.add_row(name, "-", f"unavailable: {exc}", "")
            continue
        for voice in voices:
            english = "en" in voice.id.lower() or "en" in voice.language.lower()
            if all_ or english:
                table.add_row(name, voice.id, voice.name, voice.language)
    out.print(table)
