"""Steps: the raw step mappings of a routine, patches to them, and their resolution.

A ``RawStep`` is where a step starts and its fields as ``Val``s (value, file, line).
``override:`` and ``--set`` are ``StepPatch``es written into the raw steps before each
is resolved against its exercise, the pacing defaults and the ``STEP`` table of
``spec``. Resolving a step reports every independent mistake in it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from routinecast.errors import InputErrors
from routinecast.load.documents import Layer, expect_list, expect_map
from routinecast.load.fields import (
    check_duration,
    check_keys,
    check_text,
    describe,
    is_slug,
    show,
)
from routinecast.load.library import (
    WORK_FIELDS,
    check_fits_kind,
    check_phases,
    checked_fields,
    parse_exercise,
    work_fields,
)
from routinecast.load.patches import StepPatch
from routinecast.load.problems import Problems
from routinecast.load.spec import STEP, names
from routinecast.load.yamlsrc import YMap, located_tree
from routinecast.locations import Loc, Val, Where, suggest
from routinecast.model import (
    GAP_NAMES,
    REST_STEP_MS,
    Exercise,
    Pacing,
    Step,
    work_interval_problem,
)

STEP_FIELDS = names(STEP)


@dataclass(frozen=True)
class RawStep:
    """One step as written: where it starts and its fields; patches write into ``fields``.

    ``shaped`` is False for an item of ``steps:`` that is not a mapping (already reported),
    which keeps its number but is not resolved.
    """

    loc: Loc
    fields: dict[str, Val]
    shaped: bool = True


def raw_steps(layers: list[Layer], where: Where, problems: Problems) -> list[RawStep]:
    """The steps of the last layer that lists them; a step that is not a mapping is noted."""
    for layer in reversed(layers):
        if "steps" not in layer.doc:
            continue
        here = Where(layer.shown, layer.doc.line_of("steps"))
        items = layer.doc["steps"]
        if items is None or (isinstance(items, list) and not items):
            raise here.error("is empty: list at least one step", field="steps")
        items = expect_list(items, here, "steps", "steps (- exercise: ...)")
        out = []
        for index, item in enumerate(items):
            spot = Where(layer.shown, items.line_of(index), _step_label(index + 1, item))
            step = problems.value(None, _step_map, item, spot)
            if step is None:
                out.append(RawStep(Loc(spot.file, spot.line), {}, shaped=False))
            else:
                out.append(RawStep(step.loc, {key: step.val(key) for key in step}))
        return out
    raise where.error("is missing: list at least one step", field="steps")


def _step_map(item: Any, spot: Where) -> YMap:
    if isinstance(item, str):
        raise spot.error(f"must be a mapping of step fields; write - exercise: {item}")
    return expect_map(item, spot, None, "step fields (exercise, hold, ...)")


def _step_label(number: int, item: Any) -> str:
    """ "step 3 (glute-bridge-march)" when the step names an exercise, else "step 3"."""
    ex_id = None
    if isinstance(item, dict):
        ex_id = _exercise_id(item.get("exercise")) if "exercise" in item else "rest"
    return f"step {number} ({ex_id})" if ex_id and is_slug(ex_id) else f"step {number}"


def override_patches(layer: Layer, problems: Problems) -> list[StepPatch]:
    """The patches of a layer's ``override:``; a malformed entry is noted and left out."""
    where = Where(layer.shown, layer.doc.line_of("override"))
    if layer.doc["override"] is None:
        return []
    node = expect_map(
        layer.doc["override"], where, "override", "exercise ids or step numbers to step fields"
    )
    patches = []
    for key in node:
        spot = Where(layer.shown, node.line_of(key), f"override {show(key)[1:-1]}")
        patch = problems.value(None, _override_patch, key, node[key], spot)
        if patch is not None:
            patches.append(patch)
    return patches


def _override_patch(key: str, node: Any, spot: Where) -> StepPatch:
    fields = expect_map(node, spot, None, "step fields like {hold: 45s}")
    check_keys(fields, STEP_FIELDS, spot, fields.line_of)
    return StepPatch(str(key), tuple((f, fields.val(f)) for f in fields), spot)


def apply_patch(raws: list[RawStep], patch: StepPatch, exercises: dict[str, Exercise]) -> None:
    """Write the patch's fields into every step it names."""
    targets = _patch_targets(raws, patch, exercises)
    fields = {name: _patch_val(v, patch) for name, v in patch.fields}
    for index in targets:
        raws[index].fields.update(fields)


def _patch_val(val: Val, patch: StepPatch) -> Val:
    """A patch value ready for the step; one without a line (``--set``) is named by the option
    as typed (``--set "2.hold=fast"``), so its messages say which option to fix."""
    file = patch.origin.what or val.file if val.line == 0 else val.file
    return Val(located_tree(val.value, Loc(file, val.line)), file, val.line)


def _patch_targets(
    raws: list[RawStep], patch: StepPatch, exercises: dict[str, Exercise]
) -> list[int]:
    key = patch.key.strip()
    if key.isascii() and key.isdigit():
        number = int(key) if len(key) < 10 else 0
        if not 1 <= number <= len(raws):
            raise patch.origin.error(
                f"step {number} does not exist; steps are numbered 1 to {len(raws)}"
            )
        return [number - 1]
    ids = [_step_exercise_id(raw) for raw in raws]
    found = [i for i, ex_id in enumerate(ids) if ex_id == key]
    if not found:
        used = sorted({i for i in ids if i})
        raise patch.origin.error(
            f"{show(key)} is not an exercise in this routine{suggest(key, used)}; "
            f"use a step number (1-{len(raws)}) or one of: {', '.join(used)}"
        )
    return found


def _step_exercise_id(raw: RawStep) -> str | None:
    return _exercise_id(raw.fields["exercise"].value) if "exercise" in raw.fields else None


def _exercise_id(value: Any) -> str | None:
    """The id a step's ``exercise`` names: the text itself, or an inline exercise's id."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def resolve_step(number: int, raw: RawStep, exercises: dict[str, Exercise], pacing: Pacing) -> Step:
    """The step, merged with its exercise and the pacing; every mistake in it at once."""
    fields = raw.fields
    label = _step_label(number, {key: val.value for key, val in fields.items()})
    where = Where(raw.loc.file, raw.loc.line, label)
    problems = Problems()
    problems.run(check_keys, fields, STEP_FIELDS, where, lambda key: fields[key].line)
    if "exercise" not in fields:
        return _rest_step(number, raw, problems)
    exercise = problems.value(None, _step_exercise, fields["exercise"], exercises, where, number)
    if exercise is not None:
        where = Where(raw.loc.file, raw.loc.line, f"step {number} ({exercise.id})")
    own = work_fields(fields, where, problems)
    simple = checked_fields(fields, STEP, where, problems, skip=tuple(WORK_FIELDS))
    if exercise is not None:
        present = [k for k in fields if fields[k].value not in (None, False)]
        problems.run(check_fits_kind, exercise.kind, present, where, lambda k: fields[k].line)
    problems.raise_found()
    assert exercise is not None  # a step without one has a noted mistake
    return _merge_step(number, raw, exercise, own, simple, where, pacing)


def _rest_step(number: int, raw: RawStep, problems: Problems) -> Step:
    """A bare rest step; raises its mistakes with those already in ``problems``."""
    fields = raw.fields
    if "rest" not in fields:
        problems.add(
            Where(raw.loc.file, raw.loc.line, f"step {number}").error(
                "needs an exercise (an id from the library, or an inline exercise), "
                "or rest: for a bare rest step",
                field="exercise",
            )
        )
        problems.raise_found()
    where = Where(raw.loc.file, raw.loc.line, f"step {number} (rest)")
    for extra in sorted(set(fields) & set(STEP_FIELDS) - {"rest", "say"}):
        problems.add(
            where.at(fields[extra]).error(
                "is not allowed in a bare rest step (only rest and say); add exercise: to "
                "make it an exercise step",
                field=extra,
            )
        )
    low, high = int(REST_STEP_MS.low), int(REST_STEP_MS.high)
    rest = problems.value(0, check_duration, fields["rest"], where, "rest", low=low, high=high)
    say = problems.value("", check_text, fields["say"], where, "say") if "say" in fields else ""
    problems.raise_found()
    loc = raw.loc
    return Step(
        number=number,
        exercise=None,
        line=loc.line,
        rest_ms=rest,
        say=say,
        file=loc.file,
        written=frozenset({"rest"}),
    )


def _step_exercise(val: Val, exercises: dict[str, Exercise], where: Where, number: int) -> Exercise:
    if val.value is None:
        raise where.at(val).error(
            "is empty; name an exercise id from the library or write one inline",
            field="exercise",
        )
    if isinstance(val.value, dict):
        inline = Where(val.file, val.line, _step_label(number, {"exercise": val.value}))
        return parse_exercise(val.value, inline, step=f"step {number}")
    if not isinstance(val.value, str):
        raise where.at(val).error(
            "must be an exercise id like dead-bug or an inline exercise mapping, "
            f"got {describe(val.value)}",
            field="exercise",
        )
    if val.value not in exercises:
        raise where.at(val).error(
            f"{show(val.value)} is not in the library{suggest(val.value, exercises)}; "
            "see `routinecast list` for the exercises you can use",
            field="exercise",
        )
    return exercises[val.value]


def _merge_step(
    number: int,
    raw: RawStep,
    exercise: Exercise,
    own: dict[str, Any],
    simple: dict[str, Any],
    where: Where,
    pacing: Pacing,
) -> Step:
    def pick(name: str, default: Any) -> Any:
        return own.get(name, getattr(exercise, name) if getattr(exercise, name) else default)

    tempo = pick("tempo_ms", 0)
    phases = pick("phases", ())
    if phases and not tempo:
        tempo = sum(p.ms for p in phases)
    step = dict(
        number=number,
        exercise=exercise,
        line=raw.loc.line,
        kind=exercise.kind,
        hold_ms=pick("hold_ms", 0),
        reps=pick("reps", 0),
        tempo_ms=tempo,
        phases=phases,
        sets=simple.get("sets", 1),
        sides=simple.get("sides", exercise.sides),
        first=simple.get("first", "right"),
        rest_ms=simple.get("rest", pacing.rest_ms),
        switch_ms=simple.get("switch", pacing.switch_ms),
        transition_ms=simple.get("transition", pacing.transition_ms),
        say=simple.get("say", ""),
        cues=exercise.cues + own.get("cues", ()),
        breathe=own.get("breathe", exercise.breathe),
        file=raw.loc.file,
        written=frozenset(n for n in GAP_NAMES if n in raw.fields or n in pacing.written),
    )
    _check_work(step, raw.fields, where)
    return Step(**step)


def _check_work(step: dict[str, Any], raw: dict[str, Val], where: Where) -> None:
    """The merged step has what its kind needs, and its work time is sane."""

    def spot(key: str) -> Where:
        return where.at(raw[key]) if key in raw else where

    kind = step["kind"]
    if kind in ("hold", "flow") and not step["hold_ms"]:
        raise where.error(f"is missing: a {kind} exercise needs a hold time like 30s", "hold")
    if kind == "reps":
        missing = []
        if not step["reps"]:
            missing.append(where.error("is missing: a reps exercise needs reps like 10", "reps"))
        if not step["tempo_ms"]:
            missing.append(
                where.error(
                    "is missing: a reps exercise needs a tempo (seconds per rep) like 3s", "tempo"
                )
            )
        if missing:
            raise InputErrors.combine(missing)
    if step["phases"] and step["tempo_ms"]:
        here = spot("phases" if "phases" in raw else "tempo")
        check_phases(step["phases"], step["tempo_ms"], here)
    per_side = 2 if step["sides"] == "alternate" else 1
    work = step["reps"] * per_side * step["tempo_ms"] if kind == "reps" else step["hold_ms"]
    problem = work_interval_problem(work)
    if problem:
        key = "reps" if kind == "reps" else "hold"
        raise spot(key).error(problem, field=key)
