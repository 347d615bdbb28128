"""``routinecast build``: routine file(s) or a folder -> MP3 + timeline JSON + WebVTT."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from routinecast.cli import options as opt
from routinecast.cli.common import USER_ERRORS, err, explain, one_line, out, user_errors
from routinecast.cli.overrides import OverrideOptions, apply_overrides
from routinecast.durations import clock
from routinecast.errors import RoutinecastError
from routinecast.receipts import replay
from routinecast.request import DEFAULT_LOUDNESS, BuildOptions, BuildResult


def register(app: typer.Typer) -> None:
    """Add the command."""
    app.command("build")(build_command)


def build_command(
    routines: Annotated[list[Path], typer.Argument(help="Routine files, or folders of them.")],
    output: opt.Output = Path("output"),
    engine: opt.Engine = None,
    voice: opt.Voice = None,
    rate: opt.Rate = None,
    loudness: opt.Loudness = DEFAULT_LOUDNESS,
    music: opt.Music = None,
    set_: opt.Sets = None,
    hold: opt.Hold = None,
    rest: opt.Rest = None,
    scale: opt.Scale = None,
    fit: opt.Fit = None,
    sound: opt.Sound = None,
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
    from routinecast.load.routine import is_library_file

    try:
        return is_library_file(path)
    except RoutinecastError:
        return False


def _build_one(path: Path, base: BuildOptions, overrides: OverrideOptions) -> BuildResult:
    """Build one routine: from its receipt when nothing changed (no stage is even
    imported), else through the pipeline with a progress bar."""
    options = apply_overrides(path, base, overrides)
    replayed = replay(path, options)
    if replayed is not None:
        return replayed
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from routinecast.pipeline import build

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
    """Build each file; report every failure (as ``user_errors`` words it) and go on."""
    failed: list[tuple[Path, str]] = []
    worst = 0
    for path in files:
        try:
            _show(_build_one(path, base, overrides))
        except USER_ERRORS as exc:
            message, code = explain(exc)
            failed.append((path, message))
            worst = max(worst, code)
            _report_failure(exc, message)
        except KeyboardInterrupt:
            err.print("interrupted: nothing more was written")
            raise typer.Exit(1) from None
    out.print(f"built {len(files) - len(failed)} of {len(files)} routines")
    if failed:
        for path, message in failed:
            err.print(f"  {escape(str(path))}: {escape(message)}")
        raise typer.Exit(worst)


def _report_failure(exc: RoutinecastError | OSError, message: str) -> None:
    """``failed:`` and the error, one line per mistake when a file holds several."""
    lines = exc.lines() if isinstance(exc, RoutinecastError) else [message]
    for line in lines:
        err.print(f"[bold red]failed:[/] {escape(one_line(line))}")
    if isinstance(exc, RoutinecastError) and exc.hidden:
        err.print(f"and {exc.hidden} more", markup=False)
