"""``routinecast new NAME``: write a commented starter routine to edit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from routinecast.cli.common import out, user_errors
from routinecast.errors import InputError

STARTER = """\
# yaml-language-server: $schema=https://routinecast.invalid/routinecast.schema.json
# A routinecast routine. Build it with:  routinecast build {path}
# Durations: 45, 45s, 1m, 1m30s. `routinecast list` shows every exercise id.
title: {title}
summary: A short routine of my own.
# target: 10m               # optional: the plan shows how far the result is from it
# pacing:                    # optional: a gap you leave unset is as long as its words need
#   transition: 30s          # between exercises; the next one is announced in it
#   rest: 20s                # between sets of one step
#   switch: 5s               # between the sides of a `sides: each` step
#   countdown: 3             # ticks before every start tone and before a hold's stop tone
# sounds:                    # optional: your own audio file for any tone
#   start: bell.wav          # tick, start, stop or breath; paths are relative to this file
intro: >
  Find a mat and some space. Move gently and breathe.
outro: >
  That is the end. Take a moment before you get up.
steps:
  - exercise: half-kneeling-hip-flexor-stretch
    hold: 30s                # change any time here, or at build time: --hold 45s
    sides: each              # right side, then left
  - exercise: glute-bridge-march
    reps: 8
    tempo: 3s                # seconds per rep
    sets: 2
    rest: 30s
  - rest: 20s                # a bare rest step
    say: Shake out your legs.
  - exercise: dead-bug
    hold: 45s
"""


def register(app: typer.Typer) -> None:
    """Add the command."""
    app.command("new")(new_command)


def new_command(
    name: Annotated[str, typer.Argument(help="Name of the routine (file stem).")],
    folder: Annotated[Path, typer.Option(help="Where to write it.")] = Path("routines"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write FOLDER/NAME.yaml, a commented starter routine."""
    with user_errors():
        stem = name.removesuffix(".yaml")
        if not stem or "/" in stem or stem.startswith("."):
            raise InputError(f'"{name}" is not a usable file name', field="NAME")
        path = folder / f"{stem}.yaml"
        if path.exists() and not force:
            raise InputError("already exists; pass --force to overwrite", file=str(path))
        folder.mkdir(parents=True, exist_ok=True)
        title = stem.replace("-", " ").replace("_", " ").title()
        schema = Path(__file__).resolve().parents[3] / "docs" / "routinecast.schema.json"
        text = STARTER.format(path=path, title=title)
        if schema.exists():
            text = text.replace(
                "https://routinecast.invalid/routinecast.schema.json", schema.as_uri()
            )
        path.write_text(text, encoding="utf-8")
    out.print(f"wrote {path}; edit it, then: routinecast build {path}")
