"""``routinecast plan``: the timeline as a table, instantly, with no audio work."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from routinecast.cli import options as opt
from routinecast.cli.common import err, out, user_errors
from routinecast.cli.overrides import OverrideOptions, apply_overrides
from routinecast.durations import clock, format_duration
from routinecast.request import BuildOptions
from routinecast.timeline import Timeline


def register(app: typer.Typer) -> None:
    """Add the command."""
    app.command("plan")(plan_command)


def plan_command(
    routine: Annotated[Path, typer.Argument(help="A routine file.")],
    engine: opt.Engine = None,
    voice: opt.Voice = None,
    rate: opt.Rate = None,
    set_: opt.Sets = None,
    hold: opt.Hold = None,
    rest: opt.Rest = None,
    scale: opt.Scale = None,
    fit: opt.Fit = None,
    sound: opt.Sound = None,
    events: Annotated[bool, typer.Option(help="List every sound, not just blocks.")] = False,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Also list every cue left out, and why."),
    ] = False,
) -> None:
    """Print the timeline of ROUTINE: blocks, total, distance to target, warnings."""
    from routinecast.pipeline import plan  # commands import their stages when they run

    with user_errors():
        options = apply_overrides(
            routine,
            BuildOptions(engine=engine, voice=voice, rate=rate),
            OverrideOptions(tuple(set_ or ()), hold, rest, scale, fit, tuple(sound or ())),
        )
        timeline = plan(routine, options)
    out.print(_table(timeline, events))
    _summary(timeline)
    if verbose:
        _left_out(timeline)


def _table(timeline: Timeline, events: bool) -> Table:
    table = Table(title=timeline.title, show_lines=False)
    for name in ("start", "length", "block", "step", "what"):
        table.add_column(name, justify="right" if name in ("start", "length", "step") else "left")
    for block in timeline.blocks:
        what = block.name or ""
        if block.kind == "work":
            what += f" ({block.side})" if block.side else ""
            what += f", set {block.set}/{block.sets}" if (block.sets or 1) > 1 else ""
        table.add_row(
            clock(block.start_ms),
            format_duration(block.length_ms),
            block.kind,
            str(block.step or ""),
            what,
        )
        if events:
            for event in timeline.events:
                if block.start_ms <= event.start_ms < block.end_ms:
                    label = event.text or "" if event.kind == "speech" else f"[{event.tone}]"
                    table.add_row("", "", "", "", f"  {clock(event.start_ms)} {escape(label)}")
    return table


def _summary(timeline: Timeline) -> None:
    total = timeline.duration_ms
    out.print(
        f"total {clock(total)} ({format_duration(total)}); work "
        f"{format_duration(timeline.work_ms)}; {len(timeline.chapters)} chapters"
    )
    if timeline.target_ms is not None:
        diff = total - timeline.target_ms
        side = "over" if diff > 0 else "under"
        out.print(
            f"target {format_duration(timeline.target_ms)}: {format_duration(abs(diff))} {side}"
            if diff
            else "target: exactly on it"
        )
    if timeline.overrides:
        out.print("overrides: " + ", ".join(timeline.overrides))
    if timeline.estimated:
        out.print(
            f"{len(timeline.estimated)} of the spoken lines are not synthesised yet; "
            "their lengths are estimated, so the built file may differ slightly"
        )
    for warning in timeline.warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}")


def _left_out(timeline: Timeline) -> None:
    """What the cue scheduler left out of the work intervals, and why."""
    dropped = timeline.dropped
    if not dropped:
        out.print("left out: nothing; every cue is said")
        return
    out.print(f"left out ({len(dropped)}):")
    for item in dropped:
        out.print(
            f"  {clock(item.at_ms)} step {item.step} {escape(item.cue)} "
            f'"{escape(item.text)}": {escape(item.reason)}',
            highlight=False,
        )
