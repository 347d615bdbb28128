"""Exercise libraries: the shipped one, a routine's own, and inline exercises.

``load_library`` reads a file (or a folder of them) into ``Exercise`` objects;
``parse_exercise`` checks one exercise mapping. ``work_fields`` (hold, reps, tempo,
phases, cues, breathe) is shared with steps, which may set the same fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from routinecast.cues import check_setup
from routinecast.durations import DurationError
from routinecast.errors import InputError
from routinecast.load.documents import expect_list, expect_map, read_document, show_path, val_of
from routinecast.load.fields import (
    check_choice,
    check_duration,
    check_int,
    check_keys,
    check_text,
    describe,
    duration_ms,
    show,
)
from routinecast.load.yamlsrc import YList, YMap
from routinecast.locations import Val, Where
from routinecast.model import (
    KINDS,
    MAX_REPS,
    MAX_TEMPO_MS,
    MAX_WORK_MS,
    MIN_TEMPO_MS,
    SIDES,
    Breathe,
    Cue,
    Exercise,
    Phase,
)

EXERCISE_FIELDS = (
    "id", "name", "kind", "sides", "hold", "reps", "tempo", "phases", "setup", "cues",
    "breathe", "caution", "equipment",
)  # fmt: skip


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
        for child in sorted(path.glob("*.y*ml")):
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
            line=getattr(doc, "line", None),
        )
    exercises: dict[str, Exercise] = {}
    for index, item in enumerate(doc):
        where = Where(shown, doc.line_of(index), f"exercise {index + 1}")
        exercise = parse_exercise(item, where)
        if exercise.id in exercises:
            raise where.error(f'"{exercise.id}" is defined twice in this library', field="id")
        exercises[exercise.id] = exercise
    return exercises


def parse_exercise(node: Any, where: Where, step: str | None = None) -> Exercise:
    """One exercise mapping -> ``Exercise``; ``step`` labels an inline one ("step 4")."""
    ymap = expect_map(node, where, None, "exercise fields (id, name, kind, ...)")
    check_keys(ymap, EXERCISE_FIELDS, where, ymap.line_of)
    if "id" not in ymap:
        raise where.error("is missing; every exercise needs an id like dead-bug", field="id")
    ex_id = check_text(val_of(ymap, "id"), where, "id", allow_empty=False)
    if not is_slug(ex_id):
        raise where.at(val_of(ymap, "id")).error(
            f"must be a slug of lowercase letters, digits and dashes like dead-bug, "
            f"got {show(ex_id)}",
            field="id",
        )
    label = f"{step} ({ex_id})" if step else f"exercise {ex_id}"
    here = Where(where.file, ymap.line, label)
    get = _getter(ymap)
    setup = check_text(get("setup"), here, "setup") if "setup" in ymap else ""
    if setup:
        check_setup(Val(setup, where.file, ymap.line_of("setup")), here)
    name = check_text(get("name"), here, "name") if "name" in ymap else _title(ex_id)
    kind = check_choice(get("kind"), here, "kind", KINDS) if "kind" in ymap else "hold"
    sides = check_choice(get("sides"), here, "sides", SIDES) if "sides" in ymap else "none"
    fields = work_fields(ymap, here)
    exercise = Exercise(
        id=ex_id,
        name=name,
        kind=kind,  # type: ignore[arg-type]
        sides=sides,  # type: ignore[arg-type]
        setup=setup,
        caution=check_text(get("caution"), here, "caution") if "caution" in ymap else "",
        equipment=_equipment(ymap, here),
        source=f"{where.file}:{ymap.line}",
        **fields,
    )
    check_phases(exercise.phases, exercise.tempo_ms, replace(here, line=ymap.line_of("phases")))
    check_fits_kind(exercise.kind, list(ymap), here, ymap.line_of)
    return exercise


def work_fields(ymap: YMap, here: Where) -> dict[str, Any]:
    """hold, reps, tempo, phases, cues, breathe: shared by exercises and steps."""
    get = _getter(ymap)
    out: dict[str, Any] = {}
    if "hold" in ymap:
        out["hold_ms"] = check_duration(get("hold"), here, "hold", low=1000, high=MAX_WORK_MS)
    if "reps" in ymap:
        out["reps"] = check_int(get("reps"), here, "reps", low=1, high=MAX_REPS)
    if "tempo" in ymap:
        out["tempo_ms"] = check_duration(
            get("tempo"), here, "tempo", low=MIN_TEMPO_MS, high=MAX_TEMPO_MS
        )
    if "phases" in ymap:
        out["phases"] = _phases(get("phases"), here)
    if "cues" in ymap:
        out["cues"] = _cues(get("cues"), here)
    if "breathe" in ymap:
        out["breathe"] = _breathe(get("breathe"), here)
    return out


def _getter(ymap: YMap) -> Any:
    return lambda key: val_of(ymap, key)


def is_slug(text: str) -> bool:
    return bool(text) and all(c.islower() or c.isdigit() or c == "-" for c in text)


def _title(slug: str) -> str:
    return slug.replace("-", " ").capitalize()


def _equipment(ymap: YMap, here: Where) -> tuple[str, ...]:
    if "equipment" not in ymap:
        return ()
    val = val_of(ymap, "equipment")
    items = val.value if isinstance(val.value, list) else [val.value]
    if isinstance(val.value, dict) or any(isinstance(i, dict | list) for i in items):
        raise here.at(val).error(
            f"must be a list of names like mat, towel, got {show(val.value)}", field="equipment"
        )
    texts = (check_text(Val(i, val.file, val.line), here, "equipment") for i in items)
    return tuple(t for t in texts if t)


def _pairs(
    val: Val, here: Where, field: str, keys: tuple[str, str], example: str
) -> Iterator[tuple[YMap, Where]]:
    """Each item of a list of two-key mappings (phases, cues), checked, with its location."""
    items = expect_list(val.value, here.at(val), field, f"{example} items")
    for index, item in enumerate(items):
        spot = Where(here.file, items.line_of(index), here.what)
        pair = expect_map(item, spot, f"{field}[{index + 1}]", " and ".join(keys))
        check_keys(pair, keys, spot, pair.line_of)
        if not all(key in pair for key in keys):
            raise spot.error(f"needs both {' and '.join(keys)}, like {example}", field=field)
        yield pair, spot


def _phases(val: Val, here: Where) -> tuple[Phase, ...]:
    phases = []
    for phase, spot in _pairs(val, here, "phases", ("say", "for"), "{say: up, for: 1s}"):
        say = check_text(val_of(phase, "say"), spot, "phases.say", allow_empty=False)
        ms = check_duration(val_of(phase, "for"), spot, "phases.for", low=100, high=MAX_TEMPO_MS)
        phases.append(Phase(say, ms))
    if not phases:
        raise here.at(val).error("must list at least one phase", field="phases")
    return tuple(phases)


USELESS = {
    "hold": {"reps": "reps", "tempo": "a tempo", "phases": "phases"},
    "reps": {"hold": "a hold time (the work time is reps x tempo)", "breathe": "paced breathing"},
    "flow": {"reps": "reps"},
}
"""Fields a kind of exercise would silently ignore: written anyway, they are errors."""


def check_fits_kind(kind: str, present: Iterable[str], where: Where, line_of: Any) -> None:
    """Refuse a field that has no effect on this kind, saying which kinds use it."""
    for field in present:
        what = USELESS.get(kind, {}).get(field)
        if what is not None:
            users = [k for k in ("hold", "reps", "flow") if field not in USELESS[k]]
            raise where.error(
                f"has no effect: a {kind} exercise does not use {what}; "
                f"{field} is for {' and '.join(users)} exercises",
                field=field,
                line=line_of(field),
            )


def check_phases(phases: tuple[Phase, ...], tempo_ms: int | None, here: Where) -> None:
    if phases and tempo_ms is not None and sum(p.ms for p in phases) != tempo_ms:
        total = sum(p.ms for p in phases) / 1000
        raise here.error(
            f"add up to {total:g}s but tempo is {tempo_ms / 1000:g}s; they must be equal",
            field="phases",
        )


def _cues(val: Val, here: Where) -> tuple[Cue, ...]:
    cues = []
    for cue, spot in _pairs(val, here, "cues", ("at", "say"), "{at: 3s, say: Breathe.}"):
        anchor, offset = _cue_at(val_of(cue, "at"), spot)
        say = check_text(val_of(cue, "say"), spot, "cues.say", allow_empty=False)
        cues.append(Cue(anchor, offset, say))
    return tuple(cues)


def _cue_at(val: Val, here: Where) -> tuple[Any, int]:
    raw = val.value
    if raw == "half":
        return "half", 0
    negative = isinstance(raw, int | float) and not isinstance(raw, bool) and raw < 0
    if isinstance(raw, str):
        negative = raw.strip().startswith("-")
        raw = raw.strip().removeprefix("-")
    try:
        ms = duration_ms(abs(raw) if negative and not isinstance(raw, str) else raw)
        if ms > MAX_WORK_MS:
            raise DurationError("too late")
    except DurationError:
        raise here.at(val).error(
            "must be a time like 3s (after the start), half, or -10s (before the end), "
            f"at most {MAX_WORK_MS // 60_000}m, got {show(val.value)}",
            field="cues.at",
        ) from None
    return ("end", ms) if negative else ("start", ms)


def _breathe(val: Val, here: Where) -> Breathe | None:
    if val.value is None or val.value is False:
        return None
    parts = val.value.split("-") if isinstance(val.value, str) else []
    try:
        in_ms, out_ms = (duration_ms(p) for p in parts) if len(parts) == 2 else (0, 0)
    except DurationError:
        in_ms = out_ms = 0
    if not (1000 <= in_ms <= 20_000 and 1000 <= out_ms <= 20_000):
        raise here.at(val).error(
            f"must be inhale-exhale seconds like 4-4 or 5-5 (1 to 20 each), got {show(val.value)}",
            field="breathe",
        )
    return Breathe(in_ms, out_ms)
