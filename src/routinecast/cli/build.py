"""``routinecast build``: routine file(s) or a folder -> MP3 + timeline JSON + WebVTT."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from routinecast.cli.common import err, one_line, out, user_errors
from routinecast.cli.overrides import OverrideOptions, apply_overrides
from routinecast.durations import clock
from routinecast.errors import RoutinecastError
from routinecast.load.routine import is_library_file
from routinecast.pipeline import DEFAULT_LOUDNESS, BuildOptions, BuildResult, build


def register(app: typer.Typer) -> None:
    """Add the command."""
    app.command("build")(build_command)


def build_command(
    routines: Annotated[list[Path], typer.Argument(help="Routine files, or folders of them.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output folder.")] = Path("output"),
    engine: Annotated[str | None, typer.Option(help="auto | piper | pyttsx3")] = None,
    voice: Annotated[str | None, typer.Option(help="Engine voice id (see `voices`).")] = None,
    rate: Annotated[float | None, typer.Option(help="Speaking speed, 0.5-2.0.")] = None,
    loudness: Annotated[
        float, typer.Option(help="Integrated loudness target in LUFS.")
    ] = DEFAULT_LOUDNESS,
    music: Annotated[
        Path | None, typer.Option(help="A music bed (MP3/WAV/OGG) looped under the routine.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="STEP.FIELD=VALUE, e.g. dead-bug.hold=45s or 2.sets=3."),
    ] = None,
    hold: Annotated[str | None, typer.Option(help="Every hold and flow time, e.g. 45s.")] = None,
    rest: Annotated[str | None, typer.Option(help="Every rest between sets, e.g. 20s.")] = None,
    scale: Annotated[float | None, typer.Option(help="Scale every work and rest time.")] = None,
    fit: Annotated[str | None, typer.Option(help="Scale to land on this length, e.g. 15m.")] = None,
    sound: Annotated[
        list[str] | None,
        typer.Option(help="NAME=FILE: your audio file for a tone (tick, start, stop, breath)."),
    ] = None,
) -> None:
    """Build each routine into OUTPUT/NAME.mp3, NAME.timeline.json and NAME.vtt."""
    overrides = OverrideOptions(tuple(set_ or ()), hold, rest, scale, fit, tuple(sound or ()))
    with user_errors():
        files = _expand(routines)
        base = BuildOptions(
            output_dir=output, engine=engine, voice=voice, rate=rate, loudness=loudness, music=music
        )
        if len(files) == 1:
            _show(_build_one(files[0], base, overrides))
            return
    _build_many(files, base, overrides)


def _expand(paths: list[Path]) -> list[Path]:
    """Files as given; folders -> their routine files (libraries skipped)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += [p for p in sorted(path.glob("*.y*ml")) if not _is_library(p)]
        else:
            files.append(path)
    return files


def _is_library(path: Path) -> bool:
    try:
        return is_library_file(path)
    except RoutinecastError:
        return False


def _build_one(path: Path, base: BuildOptions, overrides: OverrideOptions) -> BuildResult:
    options = apply_overrides(path, base, overrides)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task(f"{path.stem}: speech", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        def stage(name: str) -> None:
            bar.update(task, description=f"{path.stem}: {name}")

        return build(path, options, progress=progress, on_stage=stage)


def _show(result: BuildResult) -> None:
    tl = result.timeline
    out.print(
        f"wrote {result.mp3} ({clock(tl.duration_ms)}, {len(tl.chapters)} chapters; "
        f"{result.clips_made} clips made, {result.clips_cached} cached)"
    )
    out.print(f"      {result.timeline_path}\n      {result.vtt}")
    for warning in tl.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")


def _build_many(files: list[Path], base: BuildOptions, overrides: OverrideOptions) -> None:
    failed: list[tuple[Path, RoutinecastError]] = []
    worst = 0
    for path in files:
        try:
            _show(_build_one(path, base, overrides))
        except RoutinecastError as exc:
            failed.append((path, exc))
            worst = max(worst, exc.exit_code)
            err.print(f"[bold red]failed:[/] {escape(one_line(str(exc)))}")
        except KeyboardInterrupt:
            err.print("interrupted: nothing more was written")
            raise typer.Exit(1) from None
    out.print(f"built {len(files) - len(failed)} of {len(files)} routines")
    if failed:
        for path, problem in failed:
            err.print(f"  {escape(str(path))}: {escape(one_line(str(problem)))}")
        raise typer.Exit(worst)
