"""Build-time overrides: parsing, errors, and what they change."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from routinecast.errors import InputError
from routinecast.load.overrides import adjust, parse_overrides, parse_set, scale_step
from routinecast.load.routine import load_routine
from routinecast.model import MAX_TEMPO_MS, MAX_WORK_MS, Step

DESK = Path(__file__).resolve().parents[2] / "routines" / "desk-hip-reset.yaml"


def test_set_by_id_changes_only_that_step() -> None:
    base = load_routine(DESK)
    changed = load_routine(DESK, [parse_set("half-kneeling-hip-flexor-stretch.hold=45s")])
    for before, after in zip(base.steps, changed.steps, strict=True):
        if before.exercise and before.exercise.id == "half-kneeling-hip-flexor-stretch":
            assert after.hold_ms == 45000
        else:
            assert after == before


def test_set_by_number_and_integer_values() -> None:
    changed = load_routine(DESK, [parse_set("2.sets=3"), parse_set("4.reps=6")])
    assert changed.steps[1].sets == 3
    assert changed.steps[3].reps == 6


def test_set_can_swap_the_exercise_and_the_words() -> None:
    changed = load_routine(DESK, [parse_set("5.exercise=plank"), parse_set("5.say=Last one.")])
    assert changed.steps[4].exercise is not None and changed.steps[4].exercise.id == "plank"
    assert changed.steps[4].say == "Last one."


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("garbage", "STEP.FIELD=VALUE"),
        ("2.hodl=3s", 'did you mean "hold"'),
        ("2.cues=x", "allowed"),
        ("2.hold=", "needs a value"),
    ],
)
def test_set_syntax_errors(text: str, needle: str) -> None:
    with pytest.raises(InputError, match="--set") as info:
        parse_set(text)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("nosuch.hold=45s", "not an exercise in this routine"),
        ("99.hold=3s", "does not exist"),
        ("2.hold=fast", "must be a duration"),
        ("2.sets=0", "between 1 and 20"),
    ],
)
def test_set_value_errors_name_the_option(text: str, needle: str) -> None:
    with pytest.raises(InputError) as info:
        load_routine(DESK, [parse_set(text)])
    message = str(info.value)
    assert message.startswith("--set") and needle in message


def test_hold_rest_scale_and_notes() -> None:
    routine = load_routine(DESK)
    overrides = parse_overrides(hold="45s", rest="20s")
    changed = adjust(routine, overrides)
    holds = {s.hold_ms for s in changed.steps if s.exercise and s.kind != "reps"}
    assert holds == {45000}
    assert {s.rest_ms for s in changed.steps if s.exercise} == {20000}
    assert changed.overrides == ("holds 45 s", "rests 20 s")
    reps = [s for s in changed.steps if s.kind == "reps"]
    assert reps and all(s.tempo_ms == 3000 for s in reps)


def test_scale_keeps_phases_summing_to_tempo() -> None:
    routine = load_routine(DESK.with_name("desk-hip-reset-weeks-3-4.yaml"))
    step = next(s for s in routine.steps if s.phases and s.kind == "reps")
    scaled = scale_step(step, 1.5)
    assert sum(p.ms for p in scaled.phases) == scaled.tempo_ms
    assert scaled.tempo_ms == round(step.tempo_ms * 1.5 / 10) * 10


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"hold": "0"}, "--hold"),
        ({"rest": "fast"}, "--rest"),
        ({"scale": 9.0}, "--scale"),
        ({"fit": "5s"}, "--fit"),
        ({"scale": 1.2, "fit": "15m"}, "--scale"),
    ],
)
def test_bad_global_overrides(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as info:
        parse_overrides(**kwargs)  # type: ignore[arg-type]
    assert field in str(info.value)


LONG_HOLD = """\
title: Long hold
steps:
  - exercise: plank
    hold: 29m
  - exercise: glute-bridge-march
    reps: 20
    tempo: 20s
    phases: [{say: up, for: 5s}, {say: hold, for: 10s}, {say: down, for: 5s}]
"""


def test_scale_beyond_a_limit_reads_like_the_file_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--scale 4`` on a 29-minute hold: the message the file gets for a 116-minute hold."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "r.yaml"
    path.write_text(LONG_HOLD, encoding="utf-8")
    with pytest.raises(InputError) as scaled:
        adjust(load_routine(path), parse_overrides(scale=4.0))
    path.write_text(LONG_HOLD.replace("hold: 29m", "hold: 116m"), encoding="utf-8")
    with pytest.raises(InputError) as written:
        load_routine(path)
    assert str(scaled.value) == "r.yaml:3: step 1 (plank): hold must be at most 30m, got 116m"
    assert str(written.value) == 'r.yaml:4: step 1 (plank): hold must be at most 30m, got "116m"'
    # the same file, step, field and limit; the step's line rather than the hold's own
    same = ("file", "where", "field")
    assert [getattr(scaled.value, a) for a in same] == [getattr(written.value, a) for a in same]
    assert scaled.value.message.split(", got")[0] == written.value.message.split(", got")[0]


def test_a_step_checks_its_limits_however_it_is_made(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(LONG_HOLD, encoding="utf-8")
    plank, bridge = load_routine(path).steps
    with pytest.raises(InputError, match=r"step 1 \(plank\): hold must be at most 30m"):
        replace(plank, hold_ms=31 * 60_000)
    with pytest.raises(InputError, match=r"sets must be between 1 and 20, got 21"):
        replace(plank, sets=21)
    with pytest.raises(InputError, match=r"tempo must be at most 1m"):
        scale_step(bridge, 4.0)
    with pytest.raises(InputError, match=r"rest must be at least 1s"):
        Step(number=3, exercise=None, rest_ms=0)


def test_fit_stops_each_time_at_its_limit(tmp_path: Path) -> None:
    """The scales ``--fit`` tries never fail: a time that would pass its limit stays at it."""
    path = tmp_path / "r.yaml"
    path.write_text(LONG_HOLD, encoding="utf-8")
    routine = load_routine(path)
    fitted = adjust(routine, parse_overrides(fit="2h"), 4.0)
    plank, bridge = fitted.steps
    assert plank.hold_ms == MAX_WORK_MS
    assert bridge.tempo_ms <= MAX_TEMPO_MS
    assert sum(p.ms for p in bridge.phases) == bridge.tempo_ms
    assert bridge.work_ms <= MAX_WORK_MS
    assert bridge.tempo_ms > 20_000


@pytest.mark.parametrize(
    "raw",
    [
        "3",
        "0",
        "10",
        "010",
        "45s",
        "1m30s",
        "2m",
        "1:30",
        "0x10",
        "0s",
        "1e3",
        "2e5",
        "true",
        "[a, b]",
        "45 s",
        "1.5",
        "x",
        "12am",
        "3x",
        "1_000",
        "2024-01-02",
        "~",
        "on",
    ],
)
def test_a_set_value_reads_as_yaml_reads_it(raw: str) -> None:
    import yaml

    from routinecast.load.overrides import _set_value

    value = _set_value(raw)
    assert (value, type(value)) == (yaml.safe_load(raw), type(yaml.safe_load(raw)))
