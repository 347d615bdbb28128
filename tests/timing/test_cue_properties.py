"""Property tests of the cue scheduler (``docs/cues.md``) over generated routines.

* every rep set says each side's counts 1..N in order, none missing, each in its rep;
* no two time cues ("Halfway.", "... seconds left.") start within 3 s of each other;
* at every set start and after every switch the listener hears which side they are on;
* a routine that sets no pacing, and the starter file of ``routinecast new``, plan
  with no warning.

Clip lengths are drawn like a real voice's (a rate per character), so that a count
fits its rep as it does when spoken; the timing-rule properties in
``test_compiler_properties`` cover any lengths at all.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_compiler_properties import (
    cases,
    exercise_step,
    rest_step,
    split_tempo,
)
from typer.testing import CliRunner

from routinecast.cli import app
from routinecast.load.routine import load_library, load_routine, shipped_library_path
from routinecast.model import Pacing, Routine, Side, Step, other_side
from routinecast.pipeline import BuildOptions, build, plan
from routinecast.timeline import Block, Event, Timeline
from routinecast.timing.compiler import compile_timeline
from routinecast.timing.schedule import TIME_CUE_SPACING_MS
from routinecast.timing.script import build_script, spoken_texts

SIDE_SAFE_SILENCEABLE = ("halfway", "remaining", "breathe_in", "breathe_out", "rest", "next")
"""Templates a generated routine may blank out here: none of them names a side."""


@st.composite
def voiced(draw: st.DrawFn, routine: Routine) -> dict[str, int]:
    """Clip lengths like a voice's: 45-75 ms per character, at least 250 ms."""
    per_char = draw(st.integers(45, 75))
    texts = spoken_texts(build_script(routine))
    return {t: max(250, per_char * len(t)) for t in texts}


@st.composite
def rep_step(draw: st.DrawFn, number: int) -> Step:
    """A rep set at a tempo a person can follow (1.5-6 s), with or without phases."""
    step = draw(exercise_step(number))
    tempo = draw(st.integers(1500, 6000))
    phases = draw(split_tempo(tempo)) if draw(st.booleans()) else ()
    sides = draw(st.sampled_from(("none", "each", "alternate")))
    assert step.exercise is not None
    exercise = step.exercise.__class__(**{**step.exercise.__dict__, "kind": "reps", "sides": sides})
    return step.__class__(
        **{
            **step.__dict__,
            "exercise": exercise,
            "kind": "reps",
            "sides": sides,
            "reps": draw(st.integers(1, 20)),
            "tempo_ms": tempo,
            "phases": phases,
            "hold_ms": 0,
            "breathe": None,
        }
    )


@st.composite
def coached(draw: st.DrawFn) -> tuple[Routine, dict[str, int]]:
    """A routine of holds, flows, rep sets and rests, with a voice's clip lengths."""
    steps: list[Step] = []
    for number in range(1, draw(st.integers(1, 5)) + 1):
        kind = draw(st.sampled_from(("step", "reps", "rest")))
        step = draw(rest_step(number) if kind == "rest" else exercise_step(number))
        steps.append(draw(rep_step(number)) if kind == "reps" or step.kind == "reps" else step)
    remaining = draw(st.lists(st.integers(1, 60), max_size=3, unique=True))
    pacing = Pacing(
        countdown=draw(st.integers(0, 5)),
        halfway=draw(st.booleans()),
        remaining_ms=tuple(sorted((r * 1000 for r in remaining), reverse=True)),
    )
    silenced = draw(st.lists(st.sampled_from(SIDE_SAFE_SILENCEABLE), unique=True, max_size=2))
    routine = Routine(
        title="Coached routine",
        steps=tuple(steps),
        pacing=pacing,
        templates=tuple((name, "") for name in silenced),
    )
    return routine, draw(voiced(routine))


def speech_in(tl: Timeline, block: Block) -> list[Event]:
    return [e for e in tl.speech if block.start_ms <= e.start_ms < block.end_ms]


def expected_counts(step: Step) -> list[str]:
    if step.sides != "alternate":
        return [str(n) for n in range(1, step.reps + 1)]
    second = other_side(step.first)
    return [
        f"{side.capitalize()} {n}" for n in range(1, step.reps + 1) for side in (step.first, second)
    ]


def names_side(text: str, side: Side) -> bool:
    return side in re.findall(r"[a-z]+", text.lower())


# --------------------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(coached())
def test_every_count_of_every_rep_set_is_said_in_its_rep(case: tuple[Routine, Any]) -> None:
    routine, clip_ms = case
    tl = compile_timeline(routine, clip_ms)
    steps = {s.number: s for s in routine.steps}
    for block in tl.blocks:
        step = steps.get(block.step or 0)
        if block.kind != "work" or step is None or step.kind != "reps":
            continue
        counts = [e for e in speech_in(tl, block) if e.cue == "rep"]
        assert [e.text for e in counts] == expected_counts(step), block
        for index, event in enumerate(counts):
            rep_start = block.start_ms + index * step.tempo_ms
            assert rep_start <= event.start_ms < rep_start + step.tempo_ms, (event, block)
    assert not any('the count "' in w for w in tl.warnings), tl.warnings


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(coached(), cases()))
def test_no_two_time_cues_within_3_seconds(case: tuple[Routine, Any]) -> None:
    routine, clip_ms = case
    tl = compile_timeline(routine, clip_ms)
    for block in (b for b in tl.blocks if b.kind == "work"):
        times = [e.start_ms for e in speech_in(tl, block) if e.cue in ("halfway", "remaining")]
        for a, b in itertools.pairwise(times):
            assert b - a >= TIME_CUE_SPACING_MS, (times, block)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(coached())
def test_the_side_is_named_at_every_set_start_and_after_every_switch(
    case: tuple[Routine, Any],
) -> None:
    routine, clip_ms = case
    tl = compile_timeline(routine, clip_ms)
    steps = {s.number: s for s in routine.steps}
    for before, block in itertools.pairwise(tl.blocks):
        step = steps.get(block.step or 0)
        if block.kind != "work" or step is None:
            continue
        if step.sides == "each":
            assert block.side is not None
            said = [e.text or "" for e in speech_in(tl, before)]
            assert said and names_side(said[-1], block.side), (said, block)
        elif step.sides == "alternate":
            first = speech_in(tl, block)[0]
            assert first.cue == "rep" and names_side(first.text or "", step.first), first


# --------------------------------------------------------------------------- no pacing

LIBRARY = load_library(shipped_library_path())
HOLDS = sorted(i for i, e in LIBRARY.items() if e.kind in ("hold", "flow"))
REPS = sorted(i for i, e in LIBRARY.items() if e.kind == "reps")


@st.composite
def yaml_step(draw: st.DrawFn) -> str:
    """One step using a shipped exercise, with no gap length of its own."""
    if draw(st.booleans()):
        lines = [f"  - exercise: {draw(st.sampled_from(HOLDS))}"]
        lines.append(f"    hold: {draw(st.integers(10, 120))}s")
        if draw(st.booleans()):
            lines.append("    sides: each")
    else:
        lines = [f"  - exercise: {draw(st.sampled_from(REPS))}"]
        lines.append(f"    reps: {draw(st.integers(3, 15))}")
        if draw(st.booleans()) and not LIBRARY[lines[0].split()[-1]].phases:
            lines.append(f"    tempo: {draw(st.integers(2, 5))}s")
        lines.append(f"    sides: {draw(st.sampled_from(('none', 'each', 'alternate')))}")
    if draw(st.booleans()):
        lines.append(f"    sets: {draw(st.integers(2, 3))}")
    return "\n".join(lines)


@st.composite
def unpaced_routine(draw: st.DrawFn) -> str:
    steps = draw(st.lists(yaml_step(), min_size=1, max_size=4))
    intro = "intro: Find a mat and some space.\n" if draw(st.booleans()) else ""
    return "title: Mine\n" + intro + "steps:\n" + "\n".join(steps) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unpaced_routine(), st.integers(50, 75))
def test_a_routine_that_sets_no_pacing_plans_with_no_warning(
    tmp_path_factory: Any, text: str, per_char: int
) -> None:
    path = tmp_path_factory.mktemp("r") / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    routine = load_routine(path)
    clip_ms = {t: max(250, per_char * len(t)) for t in spoken_texts(build_script(routine))}
    tl = compile_timeline(routine, clip_ms)
    assert tl.warnings == (), text


def test_the_starter_file_plans_with_no_warning(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["new", "first", "--folder", str(tmp_path)])
    assert made.exit_code == 0, made.output
    planned = runner.invoke(app, ["plan", str(tmp_path / "first.yaml")])
    assert planned.exit_code == 0, planned.output
    assert "warning" not in planned.output
    routine = load_routine(tmp_path / "first.yaml")
    for per_char in (50, 62, 75):
        clip_ms = {t: max(250, per_char * len(t)) for t in spoken_texts(build_script(routine))}
        assert compile_timeline(routine, clip_ms).warnings == ()


# --------------------------------------------------------------------------- shipped

ROUTINES = Path(__file__).resolve().parents[2] / "routines"
SHIPPED = sorted(p for p in ROUTINES.glob("*.yaml") if p.name != "exercises.yaml")


def counts_said(tl: Timeline, routine: Routine) -> tuple[int, int]:
    """(counts in the timeline, counts the rep sets plan), checking each set's order."""
    steps = {s.number: s for s in routine.steps}
    said = planned = 0
    for block in tl.blocks:
        step = steps.get(block.step or 0)
        if block.kind != "work" or step is None or step.kind != "reps":
            continue
        counts = [e.text for e in speech_in(tl, block) if e.cue == "rep"]
        assert counts == expected_counts(step), (step.label, block.set, counts)
        said += len(counts)
        planned += len(expected_counts(step))
    return said, planned


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_count_of_every_shipped_rep_set_is_in_the_plan(path: Path) -> None:
    """Clip lengths from the speech cache where there, else ``plan``'s estimates."""
    tl = plan(path)
    said, planned = counts_said(tl, load_routine(path))
    assert said == planned
    assert not any('the count "' in w for w in tl.warnings), tl.warnings


@pytest.mark.slow
def test_the_starter_file_built_with_the_real_voice_has_no_warning(tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["new", "first", "--folder", str(tmp_path)])
    assert made.exit_code == 0, made.output
    result = build(tmp_path / "first.yaml", BuildOptions(output_dir=tmp_path / "out"))
    assert result.timeline.warnings == ()
    said, planned = counts_said(result.timeline, load_routine(tmp_path / "first.yaml"))
    assert said == planned == 32  # 8 reps a side, alternating, 2 sets
