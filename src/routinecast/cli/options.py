"""The options ``build``, ``plan`` and ``share`` share, declared once so their help cannot
drift apart."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from routinecast.model import ENGINES

Engine = Annotated[str | None, typer.Option(help=f"Speech engine: {' | '.join(ENGINES)}.")]
Voice = Annotated[str | None, typer.Option(help="Engine voice id (see `routinecast voices`).")]
Rate = Annotated[float | None, typer.Option(help="Speaking speed, 0.5-2.0.")]
Sets = Annotated[
    list[str] | None,
    typer.Option("--set", help="STEP.FIELD=VALUE, e.g. dead-bug.hold=45s or 2.sets=3."),
]
Hold = Annotated[str | None, typer.Option(help="Every hold and flow time, e.g. 45s.")]
Rest = Annotated[str | None, typer.Option(help="Every rest between sets, e.g. 20s.")]
Scale = Annotated[float | None, typer.Option(help="Scale every work and rest time, 0.25-4.")]
Fit = Annotated[str | None, typer.Option(help="Scale to land on this length, e.g. 15m.")]
Output = Annotated[Path, typer.Option("--output", "-o", help="Output folder.")]
Sound = Annotated[
    list[str] | None,
    typer.Option(help="NAME=FILE: your audio file for a tone (tick, start, stop, breath)."),
]
Loudness = Annotated[float, typer.Option(help="Integrated loudness target in LUFS.")]
Music = Annotated[
    Path | None, typer.Option(help="A music bed (MP3/WAV/OGG) looped under the routine.")
]
