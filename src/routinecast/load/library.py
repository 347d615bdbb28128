"""Exercise libraries: the shipped one, a routine's own, and inline exercises.

``load_library`` reads a file (or a folder of them) into ``Exercise`` objects, reporting
every mistake in it at once; ``parse_exercise`` checks one exercise mapping against the
``EXERCISE`` table of ``spec``. ``work_fields`` (hold, reps, tempo, phases, cues,
breathe) is shared with steps, which may set the same fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from routinecast.cues import check_setup
from routinecast.durations import DurationError
from routinecast.errors import InputError, InputErrors
from routinecast.load.documents import expect_list, expect_map, read_document, show_path
from routinecast.load.fields import (
    check_field,
    check_keys,
    check_slug,
    check_text,
    describe,
    duration_ms,
    show,
)
from routinecast.load.problems import Problems
from routinecast.load.spec import EXERCISE, FieldSpec, names, spec_of
from routinecast.load.yamlsrc import YList, YMap
from routinecast.locations import Val, Where, suggest
from routinecast.model import Breathe, Cue, Exercise, Kind, Phase
from routinecast.reads import LISTED, note_folder

EXERCISE_FIELDS = names(EXERCISE)
SIMPLE_TYPES = frozenset({"text", "duration", "whole", "number", "flag", "choice", "slug"})
"""Field types ``check_field`` checks on its own."""
WORK_FIELDS = {
    "hold": "hold_ms",
    "reps": "reps",
    "tempo": "tempo_ms",
    "phases": "phases",
    "cues": "cues",
    "breathe": "breathe",
}
"""The work fields an exercise and a step share, and their ``Exercise``/``Step`` names."""


def shipped_library_path() -> Path:
    """The library that every routine can use (``routines/exercises.yaml``)."""
    return Path(__file__).resolve().parents[1] / "data" / "exercises.yaml"


def shipped_routines_dir() -> Path:
    """The folder of routines shipped with the project."""
    return shipped_library_path().resolve().parent


def load_library(path: Path) -> dict[str, Exercise]:
    """Every exercise of a library file (or of every YAML file in a folder)."""
    if path.is_dir():
        merged: dict[str, Exercise] = {}
        children = sorted(path.glob(LISTED))
        note_folder(path, [child.name for child in children])
        for child in children:
            merged.update(load_library(child))
        return merged
    key = _shipped_key(path)
    if key is None:
        return _parse_library(path)
    if key not in _SHIPPED_CACHE:
        _SHIPPED_CACHE.clear()
        _SHIPPED_CACHE[key] = _parse_library(path)
    return dict(_SHIPPED_CACHE[key])


_SHIPPED_CACHE: dict[tuple[str, int, int], dict[str, Exercise]] = {}
"""The shipped library, parsed once per (shown name, mtime, size): every load needs it."""


def _shipped_key(path: Path) -> tuple[str, int, int] | None:
    """The cache key when ``path`` is the shipped library, else None (never cached)."""
    try:
        if path.resolve() != shipped_library_path().resolve():
            return None
        stat = path.stat()
    except (OSError, ValueError):
        return None
    return show_path(path), stat.st_mtime_ns, stat.st_size


def _parse_library(path: Path) -> dict[str, Exercise]:
    doc, shown = read_document(path)
    if not isinstance(doc, YList):
        raise InputError(
            "is not a library: a library is a YAML list of exercises (- id: ...), "
            f"got {describe(doc)}",
            file=shown,
            line=doc.line if isinstance(doc, YMap) else None,
        )
    problems = Problems()
    exercises: dict[str, Exercise] = {}
    for index, item in enumerate(doc):
        where = Where(shown, doc.line_of(index), f"exercise {index + 1}")
        exercise = problems.value(None, parse_exercise, item, where)
        if exercise is None:
            continue
        if exercise.id in exercises:
            problems.add(where.error(f'"{exercise.id}" is defined twice in this library', "id"))
        exercises[exercise.id] = exercise
    problems.raise_found()
    return exercises


def parse_exercise(node: Any, where: Where, step: str | None = None) -> Exercise:
    """One exercise mapping -> ``Exercise``; ``step`` labels an inline one ("step 4").

    Every independent mistake in the mapping is reported at once.
    """
    ymap = expect_map(node, where, None, "exercise fields (id, name, kind, ...)")
    problems = Problems()
    problems.run(check_keys, ymap, EXERCISE_FIELDS, where, ymap.line_of)
    ex_id = problems.value("", _exercise_id, ymap, where)
    label = f"{step} ({ex_id})" if step else f"exercise {ex_id}" if ex_id else where.what
    here = Where(where.file, ymap.line, label)
    vals = {key: ymap.val(key) for key in ymap}
    simple = checked_fields(vals, EXERCISE, here, problems, skip=("id",))
    if simple.get("setup"):
        problems.run(check_setup, Val(simple["setup"], where.file, ymap.line_of("setup")), here)
    work = work_fields(vals, here, problems)
    equipment = problems.value((), _equipment, vals.get("equipment"), here)
    kind: Kind = simple.get("kind", "hold")
    if "kind" not in ymap or "kind" in simple:
        problems.run(check_fits_kind, kind, list(ymap), here, ymap.line_of)
    problems.raise_found()
    exercise = Exercise(
        id=ex_id,
        name=simple.get("name", _title(ex_id)),
        kind=kind,
        sides=simple.get("sides", "none"),
        setup=simple.get("setup", ""),
        caution=simple.get("caution", ""),
        equipment=equipment,
        source=f"{where.file}:{ymap.line}",
        **work,
    )
    check_phases(exercise.phases, exercise.tempo_ms, replace(here, line=ymap.line_of("phases")))
    return exercise


def _exercise_id(ymap: YMap, where: Where) -> str:
    """The checked id; "" when it is missing but a misspelt field (already reported) is it."""
    if "id" not in ymap:
        if suggest("id", [key for key in ymap if key not in EXERCISE_FIELDS]):
            return ""
        raise where.error("is missing; every exercise needs an id like dead-bug", field="id")
    return check_slug(ymap.val("id"), where, "id")


def checked_fields(
    vals: Mapping[str, Val],
    group: tuple[FieldSpec, ...],
    here: Where,
    problems: Problems,
    *,
    skip: tuple[str, ...] = (),
    prefix: str = "",
) -> dict[str, Any]:
    """Every field of ``group`` with a simple type that ``vals`` has, checked.

    A field that fails is noted in ``problems`` and left out of the result.
    """
    out: dict[str, Any] = {}
    failed = object()
    for spec in group:
        if spec.name in vals and spec.type in SIMPLE_TYPES and spec.name not in skip:
            value = problems.value(
                failed, check_field, spec, vals[spec.name], here, prefix + spec.name
            )
            if value is not failed:
                out[spec.name] = value
    return out


def work_fields(vals: Mapping[str, Val], here: Where, problems: Problems) -> dict[str, Any]:
    """hold, reps, tempo, phases, cues, breathe: shared by exercises and steps.

    Keys are the ``Exercise`` attribute names (``hold_ms``...); a field that fails is
    noted in ``problems`` and left out.
    """
    out: dict[str, Any] = {}
    failed = object()
    for name, attr in WORK_FIELDS.items():
        if name in vals:
            spec = spec_of(EXERCISE, name)
            check = _WORK_CHECKS.get(name, check_field)
            value = problems.value(failed, check, spec, vals[name], here)
            if value is not failed:
                out[attr] = value
    return out


def _title(slug: str) -> str:
    return slug.replace("-", " ").capitalize()


def _equipment(val: Val | None, here: Where) -> tuple[str, ...]:
    if val is None:
        return ()
    items = val.value if isinstance(val.value, list) else [val.value]
    if isinstance(val.value, dict) or any(isinstance(i, dict | list) for i in items):
        raise here.at(val).error(
            f"must be a list of names like mat, towel, got {show(val.value)}", field="equipment"
        )
    texts = (check_text(Val(i, val.file, val.line), here, "equipment") for i in items)
    return tuple(t for t in texts if t)


def _pairs(spec: FieldSpec, val: Val, here: Where) -> Iterator[Mapping[str, Any]]:
    """Each item of a list of two-field mappings (phases, cues), its fields checked.

    An item with a mistake is left out; the mistakes are raised after the last item.
    """
    example = "{" + ", ".join(f"{f.name}: {f.example}" for f in spec.of) + "}"
    items = expect_list(val.value, here.at(val), spec.name, f"{example} items")
    problems = Problems()
    for index, item in enumerate(items):
        spot = Where(here.file, items.line_of(index), here.what)
        pair = problems.value(None, _pair, item, spot, f"{spec.name}[{index + 1}]", spec, example)
        if pair is not None:
            yield pair
    problems.raise_found()


def _pair(item: Any, spot: Where, field: str, spec: FieldSpec, example: str) -> Mapping[str, Any]:
    keys = names(spec.of)
    pair = expect_map(item, spot, field, " and ".join(keys))
    check_keys(pair, keys, spot, pair.line_of)
    if not all(key in pair for key in keys):
        raise spot.error(f"needs both {' and '.join(keys)}, like {example}", field=spec.name)
    problems = Problems()
    out = {}
    for sub in spec.of:
        check = _CHECK_PART.get(sub.type, check_field)
        name = f"{spec.name}.{sub.name}"
        out[sub.name] = problems.value(None, check, sub, pair.val(sub.name), spot, name)
    problems.raise_found()
    return out


def _phases(spec: FieldSpec, val: Val, here: Where) -> tuple[Phase, ...]:
    phases = tuple(Phase(pair["say"], pair["for"]) for pair in _pairs(spec, val, here))
    if not phases:
        raise here.at(val).error("must list at least one phase", field="phases")
    return phases


def _cues(spec: FieldSpec, val: Val, here: Where) -> tuple[Cue, ...]:
    cues = []
    for pair in _pairs(spec, val, here):
        anchor, offset = pair["at"]
        cues.append(Cue(anchor, offset, pair["say"]))
    return tuple(cues)


def check_fits_kind(
    kind: Kind, present: Iterable[str], where: Where, line_of: Callable[[str], int]
) -> None:
    """Refuse every field that has no effect on this kind, saying which kinds use it."""
    wrong = []
    for name in present:
        spec = next((s for s in EXERCISE if s.name == name), None)
        if spec is not None and kind not in spec.kinds:
            wrong.append(
                where.error(
                    f"has no effect: a {kind} exercise does not use {spec.noun or name}; "
                    f"{name} is for {' and '.join(spec.kinds)} exercises",
                    field=name,
                    line=line_of(name),
                )
            )
    if wrong:
        raise InputErrors.combine(wrong)


def check_phases(phases: tuple[Phase, ...], tempo_ms: int | None, here: Where) -> None:
    if phases and tempo_ms is not None and sum(p.ms for p in phases) != tempo_ms:
        total = sum(p.ms for p in phases) / 1000
        raise here.error(
            f"add up to {total:g}s but tempo is {tempo_ms / 1000:g}s; they must be equal",
            field="phases",
        )


def _cue_at(spec: FieldSpec, val: Val, here: Where, field: str) -> tuple[Any, int]:
    """``half``, a time after the start (``3s``) or before the end (``-10s``)."""
    raw = val.value
    if raw == "half":
        return "half", 0
    negative = isinstance(raw, int | float) and not isinstance(raw, bool) and raw < 0
    if isinstance(raw, str):
        negative = raw.strip().startswith("-")
        raw = raw.strip().removeprefix("-")
    limit = spec.limit
    try:
        ms = duration_ms(abs(raw) if negative and not isinstance(raw, str) else raw)
        if limit is not None and limit.problem(ms):
            raise DurationError("too late")
    except DurationError:
        most = limit.show(limit.high) if limit else ""
        raise here.at(val).error(
            "must be a time like 3s (after the start), half, or -10s (before the end), "
            f"at most {most}, got {show(val.value)}",
            field=field,
        ) from None
    return ("end", ms) if negative else ("start", ms)


def _breathe(spec: FieldSpec, val: Val, here: Where) -> Breathe | None:
    if val.value is None or val.value is False:
        return None
    parts = val.value.split("-") if isinstance(val.value, str) else []
    try:
        in_ms, out_ms = (duration_ms(p) for p in parts) if len(parts) == 2 else (0, 0)
    except DurationError:
        in_ms = out_ms = 0
    limit = spec.limit
    if limit is None or limit.problem(in_ms) or limit.problem(out_ms):
        each = f"{limit.low / 1000:g} to {limit.high / 1000:g} each" if limit else ""
        raise here.at(val).error(
            f"must be inhale-exhale seconds like 4-4 or 5-5 ({each}), got {show(val.value)}",
            field="breathe",
        )
    return Breathe(in_ms, out_ms)


_WORK_CHECKS: dict[str, Callable[[FieldSpec, Val, Where], Any]] = {
    "phases": _phases,
    "cues": _cues,
    "breathe": _breathe,
}
"""Checks of the work fields whose type ``check_field`` does not know."""
_CHECK_PART: dict[str, Callable[[FieldSpec, Val, Where, str], Any]] = {"cue time": _cue_at}
"""Checks of the parts of a pair (a cue's ``at``) that ``check_field`` does not know."""
