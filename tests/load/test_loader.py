"""The loader: extends chains, merges, overrides, libraries, inline exercises, shipped files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from routinecast.errors import InputError
from routinecast.load.routine import (
    MAX_EXTENDS,
    StepPatch,
    is_library_file,
    load_library,
    load_routine,
    shipped_library_path,
)
from routinecast.locations import Val, Where
from routinecast.model import Breathe, Cue, Phase

ROUTINES = Path(__file__).resolve().parents[2] / "routines"
SHIPPED = sorted(p for p in ROUTINES.glob("*.yaml") if p.name != "exercises.yaml")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


GRANDPARENT = """\
    title: Base
    summary: The base routine.
    pacing:
      transition: 20s
      rest: 30s
      halfway: false
    lexicon:
      psoas: SO-az
      iliacus: ill-EYE-a-cus
    cues:
      rest: "Pause for {{ seconds(rest) }}."
      halfway: "Half done."
    steps:
      - exercise: dead-bug
        hold: 60s
      - exercise: glute-bridge-march
        reps: 10
        tempo: 3s
        sets: 2
"""
PARENT = """\
    extends: grandparent.yaml
    title: Middle
    pacing:
      rest: 45s
      countdown: 5
    lexicon:
      psoas: SOH-as
    override:
      dead-bug: {hold: 45s}
"""
CHILD = """\
    extends: parent.yaml
    title: Child
    pacing:
      switch: 7s
      remaining: [20, 10s]
    cues:
      halfway: "Halfway there."
    override:
      2: {reps: 8}
"""


@pytest.fixture
def chain(tmp_path: Path) -> Path:
    write(tmp_path, "grandparent.yaml", GRANDPARENT)
    write(tmp_path, "parent.yaml", PARENT)
    return write(tmp_path, "child.yaml", CHILD)


def test_three_file_chain_merges_pacing_key_by_key(chain: Path) -> None:
    routine = load_routine(chain)
    assert routine.title == "Child"
    assert routine.summary == "The base routine."
    pacing = routine.pacing
    assert pacing.transition_ms == 20_000  # grandparent
    assert pacing.rest_ms == 45_000  # parent over grandparent
    assert pacing.halfway is False  # grandparent
    assert pacing.countdown == 5  # parent
    assert pacing.switch_ms == 7_000  # child
    assert pacing.remaining_ms == (20_000, 10_000)  # child, longest first
    assert routine.source.endswith("child.yaml")


def test_chain_merges_lexicon_and_cues(chain: Path) -> None:
    routine = load_routine(chain)
    assert dict(routine.lexicon) == {"psoas": "SOH-as", "iliacus": "ill-EYE-a-cus"}
    assert dict(routine.templates) == {
        "rest": "Pause for {{ seconds(rest) }}.",
        "halfway": "Halfway there.",
    }


def test_overrides_from_every_layer_apply(chain: Path) -> None:
    steps = load_routine(chain).steps
    assert steps[0].hold_ms == 45_000  # parent's override by id
    assert steps[1].reps == 8  # child's override by step number
    assert steps[1].sets == 2
    assert steps[1].rest_ms == 45_000  # pacing default reaches the step


def test_build_time_patches_come_last(chain: Path) -> None:
    patch = StepPatch("dead-bug", (("hold", Val("90s", "--set", 0)),), Where("--set", 0))
    assert load_routine(chain, [patch]).steps[0].hold_ms == 90_000


def test_override_names_every_step_with_that_exercise(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "r.yaml",
        """\
        title: Twice
        steps:
          - exercise: plank
            hold: 20s
          - rest: 10s
          - exercise: plank
            hold: 30s
        override:
          plank: {hold: 40s, sets: 2}
    """,
    )
    steps = load_routine(path).steps
    assert [s.hold_ms for s in steps] == [40_000, 0, 40_000]
    assert steps[1].is_rest and steps[1].rest_ms == 10_000
    assert steps[0].sets == steps[2].sets == 2


def test_inline_exercise(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "r.yaml",
        """\
        title: Inline
        steps:
          - exercise:
              id: wall-sit
              name: Wall sit
              kind: reps
              reps: 6
              tempo: 4s
              phases: [{say: down, for: 2s}, {say: up, for: 2s}]
              setup: Back to the wall, {{ side }} foot forward.
              cues: [{at: 2s, say: Knees over toes.}]
            sets: 2
    """,
    )
    step = load_routine(path).steps[0]
    assert step.exercise is not None
    assert (step.exercise.id, step.exercise.name, step.kind) == ("wall-sit", "Wall sit", "reps")
    assert (step.reps, step.tempo_ms, step.sets) == (6, 4000, 2)
    assert step.phases == (Phase("down", 2000), Phase("up", 2000))
    assert step.cues == (Cue("start", 2000, "Knees over toes."),)
    assert step.exercise.source == f"{path}:4"


def test_extra_library_file_and_folder(tmp_path: Path) -> None:
    write(
        tmp_path,
        "moves.yaml",
        """\
        - id: calf-raise
          kind: reps
          reps: 12
          tempo: 2s
        - id: dead-bug
          name: My dead bug
          hold: 20s
    """,
    )
    (tmp_path / "more").mkdir()
    write(tmp_path / "more", "a.yaml", "- id: toe-tap\n  kind: flow\n  hold: 30s\n")
    path = write(
        tmp_path,
        "r.yaml",
        """\
        title: Own moves
        library: [moves.yaml, more]
        steps:
          - exercise: calf-raise
          - exercise: dead-bug
          - exercise: toe-tap
          - exercise: plank
    """,
    )
    steps = load_routine(path).steps
    names = [s.exercise.name if s.exercise else "" for s in steps]
    assert names == ["Calf raise", "My dead bug", "Toe tap", "Forearm plank"]
    assert (steps[0].reps, steps[0].tempo_ms) == (12, 2000)
    assert steps[1].hold_ms == 20_000


def test_first_left_and_step_fields(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "r.yaml",
        """\
        title: Sides
        steps:
          - exercise: half-kneeling-hip-flexor-stretch
            first: left
            breathe: 4-6
            switch: 12s
            transition: 25s
            say: Slowly.
            cues: [{at: half, say: Squeeze.}, {at: -5s, say: Nearly.}]
    """,
    )
    step = load_routine(path).steps[0]
    assert step.side_order == ("left", "right")
    assert step.breathe == Breathe(4000, 6000)
    assert (step.switch_ms, step.transition_ms, step.say) == (12_000, 25_000, "Slowly.")
    assert step.cues[-2:] == (Cue("half", 0, "Squeeze."), Cue("end", 5000, "Nearly."))
    assert step.hold_ms == 30_000  # from the library


def test_variant_with_phases_override() -> None:
    step = load_routine(ROUTINES / "desk-hip-reset-weeks-3-4.yaml").steps[3]
    assert [p.say for p in step.phases] == ["up", "squeeze", "down"]
    assert step.tempo_ms == 3000


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_routines_load(path: Path) -> None:
    routine = load_routine(path)
    assert routine.title
    assert routine.steps
    assert all(s.work_ms > 0 for s in routine.exercise_steps)


def test_shipped_library() -> None:
    library = load_library(shipped_library_path())
    assert "dead-bug" in library and len(library) >= 20
    assert is_library_file(ROUTINES / "exercises.yaml")
    assert not is_library_file(ROUTINES / "desk-hip-reset.yaml")
    library.clear()  # a copy: the next load is unaffected
    assert "dead-bug" in load_library(shipped_library_path())


def test_three_file_cycle_is_shown(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: c.yaml\n")
    write(tmp_path, "c.yaml", "title: C\nextends: a.yaml\n")
    with pytest.raises(InputError) as info:
        load_routine(tmp_path / "a.yaml")
    assert info.value.line == 2
    assert "a.yaml -> " in str(info.value) and str(info.value).endswith("cannot extend itself")
    assert str(info.value).count(" -> ") == 3


def test_extends_chain_is_limited(tmp_path: Path) -> None:
    write(tmp_path, "r0.yaml", "title: R\nsteps: [{exercise: plank}]\n")
    for n in range(1, MAX_EXTENDS + 3):
        write(tmp_path, f"r{n}.yaml", f"extends: r{n - 1}.yaml\n")
    assert load_routine(tmp_path / f"r{MAX_EXTENDS}.yaml").title == "R"
    with pytest.raises(InputError, match=f"at most {MAX_EXTENDS} may extend"):
        load_routine(tmp_path / f"r{MAX_EXTENDS + 2}.yaml")


def test_extends_folder_and_bad_paths(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path, "r.yaml", "extends: sub\n")
    with pytest.raises(InputError, match="is a folder, not a routine file"):
        load_routine(tmp_path / "r.yaml")
    write(tmp_path, "r.yaml", 'extends: "a\\0b"\n')
    with pytest.raises(InputError, match="not a usable path"):
        load_routine(tmp_path / "r.yaml")


def test_null_override_and_sections_are_empty(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "r.yaml",
        """\
        title: Nulls
        override:
        pacing:
        cues:
        steps:
          - exercise: plank
    """,
    )
    assert load_routine(path).steps[0].hold_ms == 30_000


@pytest.mark.parametrize(
    ("text", "line", "phrase"),
    [
        ("title: X\nsteps: [dead-bug]\n", 2, "write - exercise: dead-bug"),
        ("title: X\nsteps:\n  - exercise:\n", 3, "exercise is empty"),
        ("title: X\nsteps:\n  - exercise: plank\n    equipment: x\n", 4, '"equipment" is not'),
        (
            "title: X\nsteps:\n  - {exercise: plank, cues: [{at: 40m, say: Late.}]}\n",
            3,
            "at most 30m",
        ),
        ("title: X\nsteps:\n  - exercise: {id: Bad Id, hold: 5s}\n", 3, "must be a slug"),
        (
            "title: X\nsteps:\n  - exercise: {id: x, hold: 5s, setup: '{{ sid }}'}\n",
            3,
            'unknown variable "sid"',
        ),
        ("summary: x\nsteps: [{exercise: plank}]\n", 1, "title is missing"),
        (
            "title: X\nsteps:\n  - {exercise: dead-bug, tempo: 4s}\n",
            3,
            "phases add up to 6s but tempo is 4s",
        ),
        ("title: X\nsteps:\n  - {exercise: plank, breathe: 25-5}\n", 3, "1 to 20 each"),
        (
            "title: X\nsteps:\n  - {exercise: glute-bridge-march, reps: 200, tempo: 10s}\n",
            3,
            "at most 30 minutes",
        ),
    ],
)
def test_messages_have_the_line(tmp_path: Path, text: str, line: int, phrase: str) -> None:
    path = write(tmp_path, "r.yaml", text)
    with pytest.raises(InputError) as info:
        load_routine(path)
    assert info.value.file == str(path)
    assert info.value.line == line
    assert phrase in str(info.value)


@pytest.mark.parametrize(
    ("step", "field", "hint"),
    [
        ("  - exercise: plank\n    hold: 30s\n    tempo: 3s\n", "tempo", "reps and flow"),
        ("  - exercise: glute-bridge-march\n    breathe: 4-4\n", "breathe", "hold and flow"),
        ("  - exercise: dead-bug\n    reps: 4\n", "reps", "reps exercises"),
    ],
)
def test_a_field_the_kind_would_ignore_is_an_error(
    tmp_path: Path, step: str, field: str, hint: str
) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("title: X\nsteps:\n" + step, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_routine(path)
    message = str(info.value)
    assert f"{field} has no effect" in message and hint in message and "r.yaml:" in message
