"""``routinecast schema``: print the JSON Schema of routine and library files."""

from __future__ import annotations

import json

import typer

from routinecast.cli.common import out


def register(app: typer.Typer) -> None:
    """Add the command."""
    app.command("schema")(schema_command)


def schema_command() -> None:
    """Print the JSON Schema (save it and point yaml-language-server at it)."""
    from routinecast.load.schema import json_schema

    out.print(json.dumps(json_schema(), indent=1), markup=False, soft_wrap=True)
