"""Steps: the raw step mappings of a routine, patches to them, and their resolution.

A raw step is a mapping of field -> ``Val`` (value, file, line). ``override:`` and
``--set`` are ``StepPatch``es written into the raw steps before each is resolved
against its exercise, the pacing defaults, and the limits of ``fields``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from routinecast.load.documents import Layer, expect_list, expect_map, tag_nodes, val_of
from routinecast.load.fields import (
    check_choice,
    check_duration,
    check_int,
    check_keys,
    check_text,
    describe,
    show,
)
from routinecast.load.library import (
    check_fits_kind,
    check_phases,
    is_slug,
    parse_exercise,
    work_fields,
)
from routinecast.load.yamlsrc import YList, YMap
from routinecast.locations import Val, Where, suggest
from routinecast.model import (
    GAP_NAMES,
    MAX_GAP_MS,
    MAX_SETS,
    MAX_WORK_MS,
    SIDES,
    Exercise,
    Pacing,
    Step,
)

STEP_FIELDS = (
    "exercise", "hold", "reps", "tempo", "phases", "sets", "sides", "first", "rest",
    "switch", "transition", "say", "cues", "breathe",
)  # fmt: skip


@dataclass(frozen=True)
class StepPatch:
    """A change to step fields made outside the step: ``override:`` or ``--set``.

    ``key`` is an exercise id or a 1-based step number (as text); ``fields`` are raw
    values checked exactly like the same fields written in the step.
    """

    key: str
    fields: tuple[tuple[str, Val], ...]
    origin: Where


def raw_steps(layers: list[Layer], where: Where) -> list[dict[str, Val]]:
    """The steps of the last layer that lists them, as field -> Val dicts."""
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
            if isinstance(item, str):
                raise spot.error(f"must be a mapping of step fields; write - exercise: {item}")
            step = expect_map(item, spot, None, "step fields (exercise, hold, ...)")
            check_keys(step, STEP_FIELDS, spot, step.line_of)
            raw = {key: val_of(step, key) for key in step}
            raw["__line__"] = Val(step.line, layer.shown, step.line)
            out.append(raw)
        return out
    raise where.error("is missing: list at least one step", field="steps")


def _step_label(number: int, item: Any) -> str:
    """ "step 3 (glute-bridge-march)" when the step names an exercise, else "step 3"."""
    ex_id = None
    if isinstance(item, dict):
        ex_id = _exercise_id(item.get("exercise")) if "exercise" in item else "rest"
    return f"step {number} ({ex_id})" if ex_id and is_slug(ex_id) else f"step {number}"


def override_patches(layer: Layer) -> list[StepPatch]:
    where = Where(layer.shown, layer.doc.line_of("override"))
    if layer.doc["override"] is None:
        return []
    node = expect_map(
        layer.doc["override"], where, "override", "exercise ids or step numbers to step fields"
    )
    patches = []
    for key in node:
        spot = Where(layer.shown, node.line_of(key), f"override {show(key)[1:-1]}")
        fields = expect_map(node[key], spot, None, "step fields like {hold: 45s}")
        check_keys(fields, STEP_FIELDS, spot, fields.line_of)
        patches.append(StepPatch(str(key), tuple((f, val_of(fields, f)) for f in fields), spot))
    return patches


def apply_patch(
    raw_steps: list[dict[str, Val]], patch: StepPatch, exercises: dict[str, Exercise]
) -> None:
    """Write the patch's fields into every step it names."""
    targets = _patch_targets(raw_steps, patch, exercises)
    fields = {name: _patch_val(v, patch) for name, v in patch.fields}
    for index in targets:
        raw_steps[index].update(fields)


def _patch_val(val: Val, patch: StepPatch) -> Val:
    """A patch value ready for the step; one without a line (``--set``) is named by the option
    as typed (``--set "2.hold=fast"``), so its messages say which option to fix."""
    file = patch.origin.what or val.file if val.line == 0 else val.file
    return Val(_lined(val.value, file, val.line), file, val.line)


def _lined(node: Any, file: str, line: int) -> Any:
    """Plain dicts and lists (a ``--set`` value parsed elsewhere) as ``YMap``/``YList``."""
    if isinstance(node, YMap | YList) or not isinstance(node, dict | list):
        return node
    if isinstance(node, list):
        items = YList(_lined(item, file, line) for item in node)
        items.line, items.item_lines = line, [line] * len(items)
        return tag_nodes(items, file)
    ymap = YMap({str(k): _lined(v, file, line) for k, v in node.items()})
    ymap.line, ymap.key_lines = line, dict.fromkeys(ymap, line)
    return tag_nodes(ymap, file)


def _patch_targets(
    raw_steps: list[dict[str, Val]], patch: StepPatch, exercises: dict[str, Exercise]
) -> list[int]:
    key = patch.key.strip()
    if key.isascii() and key.isdigit():
        number = int(key) if len(key) < 10 else 0
        if not 1 <= number <= len(raw_steps):
            raise patch.origin.error(
                f"step {number} does not exist; steps are numbered 1 to {len(raw_steps)}"
            )
        return [number - 1]
    ids = [_step_exercise_id(raw) for raw in raw_steps]
    found = [i for i, ex_id in enumerate(ids) if ex_id == key]
    if not found:
        used = sorted({i for i in ids if i})
        raise patch.origin.error(
            f"{show(key)} is not an exercise in this routine{suggest(key, used)}; "
            f"use a step number (1-{len(raw_steps)}) or one of: {', '.join(used)}"
        )
    return found


def _step_exercise_id(raw: dict[str, Val]) -> str | None:
    return _exercise_id(raw["exercise"].value) if "exercise" in raw else None


def _exercise_id(value: Any) -> str | None:
    """The id a step's ``exercise`` names: the text itself, or an inline exercise's id."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def resolve_step(
    number: int, raw: dict[str, Val], exercises: dict[str, Exercise], pacing: Pacing
) -> Step:
    line_val = raw["__line__"]
    where = Where(line_val.file, line_val.line, f"step {number}")
    if "exercise" not in raw:
        return _rest_step(number, raw, where)
    if raw["exercise"].value is None:
        raise where.at(raw["exercise"]).error(
            "is empty; name an exercise id from the library or write one inline",
            field="exercise",
        )
    exercise = _step_exercise(raw["exercise"], exercises, where, number)
    where = Where(line_val.file, line_val.line, f"step {number} ({exercise.id})")
    own = _step_work_fields(raw, where)
    return _merge_step(number, line_val.line, exercise, own, raw, where, pacing)


def _step_work_fields(raw: dict[str, Val], where: Where) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, val in raw.items():
        if key in ("hold", "reps", "tempo", "phases", "cues", "breathe"):
            single = YMap({key: val.value})
            single.line = val.line
            single.key_lines = {key: val.line}
            single.file = val.file  # type: ignore[attr-defined]
            out.update(work_fields(single, Where(val.file, val.line, where.what)))
    return out


def _rest_step(number: int, raw: dict[str, Val], where: Where) -> Step:
    extra = sorted(set(raw) - {"rest", "say", "__line__"})
    if "rest" not in raw:
        raise where.error(
            "needs an exercise (an id from the library, or an inline exercise), "
            "or rest: for a bare rest step",
            field="exercise",
        )
    where = Where(where.file, where.line, f"step {number} (rest)")
    if extra:
        raise where.at(raw[extra[0]]).error(
            "is not allowed in a bare rest step (only rest and say); add exercise: to "
            "make it an exercise step",
            field=extra[0],
        )
    rest = check_duration(raw["rest"], where, "rest", low=1000, high=MAX_GAP_MS)
    say = check_text(raw["say"], where, "say") if "say" in raw else ""
    return Step(
        number=number,
        exercise=None,
        line=where.line,
        rest_ms=rest,
        say=say,
        written=frozenset({"rest"}),
    )


def _step_exercise(val: Val, exercises: dict[str, Exercise], where: Where, number: int) -> Exercise:
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
    line: int,
    exercise: Exercise,
    own: dict[str, Any],
    raw: dict[str, Val],
    where: Where,
    pacing: Pacing,
) -> Step:
    def pick(name: str, default: Any) -> Any:
        return own.get(name, getattr(exercise, name) if getattr(exercise, name) else default)

    kind = exercise.kind
    tempo = pick("tempo_ms", 0)
    phases = pick("phases", ())
    if phases and not tempo:
        tempo = sum(p.ms for p in phases)
    step = Step(
        number=number,
        exercise=exercise,
        line=line,
        kind=kind,
        hold_ms=pick("hold_ms", 0),
        reps=pick("reps", 0),
        tempo_ms=tempo,
        phases=phases,
        sets=_opt_int(raw, "sets", where, 1, MAX_SETS, 1),
        sides=_opt_choice(raw, "sides", where, SIDES, exercise.sides),  # type: ignore[arg-type]
        first=_opt_choice(raw, "first", where, ("right", "left"), "right"),  # type: ignore[arg-type]
        rest_ms=_opt_dur(raw, "rest", where, pacing.rest_ms),
        switch_ms=_opt_dur(raw, "switch", where, pacing.switch_ms),
        transition_ms=_opt_dur(raw, "transition", where, pacing.transition_ms),
        say=check_text(raw["say"], where, "say") if "say" in raw else "",
        cues=exercise.cues + own.get("cues", ()),
        breathe=own.get("breathe", exercise.breathe),
        written=frozenset(n for n in GAP_NAMES if n in raw or n in pacing.written),
    )
    _check_work(step, raw, where)
    return step


def _opt_int(raw: dict[str, Val], key: str, where: Where, low: int, high: int, default: int) -> int:
    return check_int(raw[key], where, key, low=low, high=high) if key in raw else default


def _opt_choice(
    raw: dict[str, Val], key: str, where: Where, choices: Iterable[str], default: str
) -> str:
    return check_choice(raw[key], where, key, choices) if key in raw else default


def _opt_dur(raw: dict[str, Val], key: str, where: Where, default: int) -> int:
    return check_duration(raw[key], where, key, high=MAX_GAP_MS) if key in raw else default


def _check_work(step: Step, raw: dict[str, Val], where: Where) -> None:
    """The merged step has what its kind needs, and its work time is sane."""

    def spot(key: str) -> Where:
        return where.at(raw[key]) if key in raw else where

    own = [k for k in raw if k != "__line__" and raw[k].value not in (None, False)]
    check_fits_kind(step.kind, own, where, lambda key: raw[key].line)

    if step.kind in ("hold", "flow") and not step.hold_ms:
        raise where.error(
            f"is missing: a {step.kind} exercise needs a hold time like 30s", field="hold"
        )
    if step.kind == "reps":
        if not step.reps:
            raise where.error("is missing: a reps exercise needs reps like 10", field="reps")
        if not step.tempo_ms:
            raise where.error(
                "is missing: a reps exercise needs a tempo (seconds per rep) like 3s",
                field="tempo",
            )
    if step.phases and step.tempo_ms:
        check_phases(step.phases, step.tempo_ms, spot("phases" if "phases" in raw else "tempo"))
    if step.work_ms > MAX_WORK_MS:
        key = "reps" if step.kind == "reps" else "hold"
        raise spot(key).error(
            f"makes one work interval {step.work_ms / 60000:.1f} minutes long; "
            f"at most {MAX_WORK_MS // 60000} minutes are allowed",
            field=key,
        )
