"""Routine and library files -> a validated ``Routine``. Knows nothing of audio.

``load_routine(path)`` follows ``extends`` (refusing cycles), merges the layers,
applies each layer's ``override`` and any build-time ``StepPatch``es, resolves
every step against the shipped library, the routine's own libraries and inline
exercises, and checks every value. Any problem is one ``InputError`` naming the
file, line, step or exercise, field and what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .cues import check_setup, check_templates
from .durations import DurationError
from .errors import InputError
from .fields import (
    MAX_GAP_MS,
    MAX_REPS,
    MAX_SETS,
    MAX_TEMPO_MS,
    MAX_WORK_MS,
    MIN_TEMPO_MS,
    Val,
    Where,
    check_bool,
    check_choice,
    check_duration,
    check_float,
    check_int,
    check_keys,
    check_text,
    describe,
    duration_ms,
    show,
    suggest,
)
from .model import (
    ENGINES,
    KINDS,
    SIDES,
    Breathe,
    Cue,
    Exercise,
    Pacing,
    Phase,
    Routine,
    Step,
    VoiceSpec,
)
from .yamlsrc import YList, YMap, load_yaml

ROUTINE_FIELDS = (
    "title", "summary", "target", "library", "voice", "pacing", "intro", "outro",
    "caution", "lexicon", "cues", "steps", "extends", "override",
)  # fmt: skip
STEP_FIELDS = (
    "exercise", "hold", "reps", "tempo", "phases", "sets", "sides", "first", "rest",
    "switch", "transition", "say", "cues", "breathe",
)  # fmt: skip
EXERCISE_FIELDS = (
    "id", "name", "kind", "sides", "hold", "reps", "tempo", "phases", "setup", "cues",
    "breathe", "caution", "equipment",
)  # fmt: skip
PACING_FIELDS = ("transition", "rest", "switch", "countdown", "halfway", "remaining")
VOICE_FIELDS = ("engine", "voice", "rate")
MERGED_MAPS = ("pacing", "voice", "lexicon", "cues")
"""Top-level mappings that a variant merges key by key instead of replacing."""
MAP_SHAPES = {
    "pacing": "pacing fields (" + ", ".join(PACING_FIELDS) + ")",
    "voice": "voice fields (" + ", ".join(VOICE_FIELDS) + ")",
    "lexicon": "words to respellings (psoas: so-us)",
    "cues": 'template names to templates (rest: "Rest {{ seconds(rest) }}.")',
}
MAX_EXTENDS = 20
"""How many files an ``extends`` chain may hold."""


def shipped_library_path() -> Path:
    """The library that every routine can use (``routines/exercises.yaml``)."""
    return Path(__file__).resolve().parent / "data" / "exercises.yaml"


def shipped_routines_dir() -> Path:
    """The folder of routines shipped with the project."""
    return shipped_library_path().resolve().parent


@dataclass(frozen=True)
class StepPatch:
    """A change to step fields made outside the step: ``override:`` or ``--set``.

    ``key`` is an exercise id or a 1-based step number (as text); ``fields`` are raw
    values checked exactly like the same fields written in the step.
    """

    key: str
    fields: tuple[tuple[str, Val], ...]
    origin: Where


# --------------------------------------------------------------------------- files


def _tag(node: Any, file: str) -> Any:
    """Record ``file`` on every mapping and list of a parsed document."""
    if isinstance(node, YMap):
        node.file = file  # type: ignore[attr-defined]
        for value in node.values():
            _tag(value, file)
    elif isinstance(node, YList):
        node.file = file  # type: ignore[attr-defined]
        for value in node:
            _tag(value, file)
    return node


def show_path(path: Path) -> str:
    """How messages name a file: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_document(path: Path) -> tuple[Any, str]:
    """Parse one file, tagging every node with the file's shown name."""
    shown = show_path(path)
    return _tag(load_yaml(path, shown), shown), shown


def is_library_file(path: Path) -> bool:
    """True when the file's document is a list (a library), not a routine mapping."""
    doc, _ = read_document(path)
    return isinstance(doc, list)


def _val(node: YMap, key: str) -> Val:
    return Val(node[key], getattr(node, "file", ""), node.line_of(key))


def _expect_map(node: Any, where: Where, field: str | None, what: str) -> YMap:
    if not isinstance(node, YMap):
        raise where.error(f"must be a mapping of {what}, got {describe(node)}", field=field)
    return node


def _expect_list(node: Any, where: Where, field: str, what: str) -> YList:
    if not isinstance(node, YList):
        raise where.error(f"must be a list of {what}, got {describe(node)}", field=field)
    return node


def _existing(base: Path, val: Val, where: Where, field: str) -> Path:
    """The file or folder that ``val`` names relative to ``base``; refuses missing ones."""
    here = where.at(val)
    text = check_text(val, here, field, allow_empty=False)
    try:
        target = (base / text).resolve()
        exists = target.exists()
    except (OSError, ValueError):
        raise here.error(f'names "{text}", which is not a usable path', field=field) from None
    if not exists:
        raise here.error(
            f"names {show_path(target)}, which does not exist (paths are relative to this file)",
            field=field,
        )
    return target


# --------------------------------------------------------------------------- library


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
    ymap = _expect_map(node, where, None, "exercise fields (id, name, kind, ...)")
    check_keys(ymap, EXERCISE_FIELDS, where, ymap.line_of)
    if "id" not in ymap:
        raise where.error("is missing; every exercise needs an id like dead-bug", field="id")
    ex_id = check_text(_val(ymap, "id"), where, "id", allow_empty=False)
    if not _is_slug(ex_id):
        raise where.at(_val(ymap, "id")).error(
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
    fields = _work_fields(ymap, here)
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
    _check_phases(exercise.phases, exercise.tempo_ms, replace(here, line=ymap.line_of("phases")))
    return exercise


def _work_fields(ymap: YMap, here: Where) -> dict[str, Any]:
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
    return lambda key: _val(ymap, key)


def _is_slug(text: str) -> bool:
    return bool(text) and all(c.islower() or c.isdigit() or c == "-" for c in text)


def _title(slug: str) -> str:
    return slug.replace("-", " ").capitalize()


def _equipment(ymap: YMap, here: Where) -> tuple[str, ...]:
    if "equipment" not in ymap:
        return ()
    val = _val(ymap, "equipment")
    items = val.value if isinstance(val.value, list) else [val.value]
    if isinstance(val.value, dict) or any(isinstance(i, dict | list) for i in items):
        raise here.at(val).error(
            f"must be a list of names like mat, towel, got {show(val.value)}", field="equipment"
        )
    texts = (check_text(Val(i, val.file, val.line), here, "equipment") for i in items)
    return tuple(t for t in texts if t)


def _phases(val: Val, here: Where) -> tuple[Phase, ...]:
    items = _expect_list(val.value, here.at(val), "phases", "{say: word, for: 1s} items")
    phases = []
    for index, item in enumerate(items):
        spot = Where(here.file, items.line_of(index), here.what)
        phase = _expect_map(item, spot, f"phases[{index + 1}]", "say and for")
        check_keys(phase, ("say", "for"), spot, phase.line_of)
        if "say" not in phase or "for" not in phase:
            raise spot.error("needs both say and for, like {say: up, for: 1s}", field="phases")
        say = check_text(_val(phase, "say"), spot, "phases.say", allow_empty=False)
        ms = check_duration(_val(phase, "for"), spot, "phases.for", low=100, high=MAX_TEMPO_MS)
        phases.append(Phase(say, ms))
    if not phases:
        raise here.at(val).error("must list at least one phase", field="phases")
    return tuple(phases)


def _check_phases(phases: tuple[Phase, ...], tempo_ms: int | None, here: Where) -> None:
    if phases and tempo_ms is not None and sum(p.ms for p in phases) != tempo_ms:
        total = sum(p.ms for p in phases) / 1000
        raise here.error(
            f"add up to {total:g}s but tempo is {tempo_ms / 1000:g}s; they must be equal",
            field="phases",
        )


def _cues(val: Val, here: Where) -> tuple[Cue, ...]:
    items = _expect_list(val.value, here.at(val), "cues", "{at: 3s, say: ...} items")
    cues = []
    for index, item in enumerate(items):
        spot = Where(here.file, items.line_of(index), here.what)
        cue = _expect_map(item, spot, f"cues[{index + 1}]", "at and say")
        check_keys(cue, ("at", "say"), spot, cue.line_of)
        if "at" not in cue or "say" not in cue:
            raise spot.error("needs both at and say, like {at: 3s, say: Breathe.}", field="cues")
        anchor, offset = _cue_at(_val(cue, "at"), spot)
        say = check_text(_val(cue, "say"), spot, "cues.say", allow_empty=False)
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


# --------------------------------------------------------------------------- routine


@dataclass(frozen=True)
class _Layer:
    """One file of an ``extends`` chain, parsed."""

    path: Path
    shown: str
    doc: YMap


def _load_layers(path: Path, chain: tuple[Path, ...] = ()) -> list[_Layer]:
    """The file and its ancestors, oldest first; refuses missing and cyclic ``extends``."""
    doc, shown = read_document(path)
    doc = _routine_document(doc, shown)
    check_keys(doc, ROUTINE_FIELDS, Where(shown, doc.line), doc.line_of)
    layer = _Layer(path, shown, doc)
    if "extends" not in doc:
        return [layer]
    val = _val(doc, "extends")
    here = Where(shown, val.line)
    parent = _existing(path.parent, val, here, "extends")
    if parent in chain or parent == path.resolve():
        cycle = " -> ".join(show_path(p) for p in (*chain, path.resolve(), parent))
        raise here.error(f"makes a cycle: {cycle}; a routine cannot extend itself", "extends")
    if not parent.is_file():
        raise here.error(
            f"names {show_path(parent)}, which is a folder, not a routine file", field="extends"
        )
    if len(chain) >= MAX_EXTENDS:
        raise here.error(
            f"chains more than {MAX_EXTENDS} files; at most {MAX_EXTENDS} may extend one another",
            field="extends",
        )
    return [*_load_layers(parent, (*chain, path.resolve())), layer]


def _routine_document(doc: Any, shown: str) -> YMap:
    """The parsed file as a routine mapping, or an error saying what it is instead."""
    where = Where(shown, getattr(doc, "line", 1))
    if isinstance(doc, YList):
        raise where.error(
            "is an exercise library (a list), not a routine; build a routine file "
            "that lists steps, or name the library with library: in one"
        )
    if doc is None:
        raise InputError("is empty: a routine needs at least title and steps", file=shown)
    if not isinstance(doc, YMap):
        raise where.error(
            "is not a routine: a routine is a mapping of fields (title: ..., steps: ...), "
            f"got {describe(doc)}"
        )
    return doc


def load_routine(path: Path, patches: Sequence[StepPatch] = ()) -> Routine:
    """Load, merge and validate a routine; ``patches`` are build-time ``--set`` changes."""
    layers = _load_layers(path)
    top = layers[-1]
    where = Where(top.shown, 1)
    exercises = _libraries(layers)
    raw_steps = _raw_steps(layers, where)
    own = (
        max(i for i, layer in enumerate(layers) if "steps" in layer.doc)
        if any("steps" in layer.doc for layer in layers)
        else 0
    )
    for layer in layers[own:]:
        if "override" in layer.doc:
            for patch in _override_patches(layer):
                _apply_patch(raw_steps, patch, exercises)
    for patch in patches:
        _apply_patch(raw_steps, patch, exercises)
    pacing = _pacing(layers)
    steps = tuple(
        _resolve_step(number, raw, exercises, pacing)
        for number, raw in enumerate(raw_steps, start=1)
    )
    return _routine(layers, steps, pacing)


def _last(layers: list[_Layer], key: str) -> tuple[Val, Where] | None:
    for layer in reversed(layers):
        if key in layer.doc:
            val = _val(layer.doc, key)
            return val, Where(layer.shown, val.line)
    return None


def _text_field(layers: list[_Layer], key: str, *, required: bool = False) -> str:
    found = _last(layers, key)
    if found is None:
        if required:
            raise Where(layers[-1].shown, 1).error(
                f"is missing: a routine needs a {key}, like {key}: Desk Hip Reset", field=key
            )
        return ""
    val, where = found
    return check_text(val, where, key, allow_empty=not required)


def _routine(layers: list[_Layer], steps: tuple[Step, ...], pacing: Pacing) -> Routine:
    target = _last(layers, "target")
    return Routine(
        title=_text_field(layers, "title", required=True),
        steps=steps,
        source=layers[-1].shown,
        summary=_text_field(layers, "summary"),
        target_ms=(
            check_duration(target[0], target[1], "target", low=1000, high=24 * 3_600_000)
            if target and target[0].value is not None
            else None
        ),
        voice=_voice(layers),
        pacing=pacing,
        intro=_text_field(layers, "intro"),
        outro=_text_field(layers, "outro"),
        caution=_text_field(layers, "caution"),
        lexicon=tuple(_merged_strings(layers, "lexicon").items()),
        templates=tuple(_merged_strings(layers, "cues").items()),
    )


def _merged(layers: list[_Layer], key: str, allowed: Iterable[str] | None) -> dict[str, Val]:
    """A top-level mapping merged over the chain, each value keeping its own file/line."""
    merged: dict[str, Val] = {}
    for layer in layers:
        if key not in layer.doc or layer.doc[key] is None:
            continue
        where = Where(layer.shown, layer.doc.line_of(key))
        node = _expect_map(layer.doc[key], where, key, MAP_SHAPES.get(key, "fields"))
        if allowed is not None:
            check_keys(node, allowed, where, node.line_of)
        for sub in node:
            merged[sub] = _val(node, sub)
    return merged


def _merged_strings(layers: list[_Layer], key: str) -> dict[str, str]:
    vals = _merged(layers, key, None)
    out = {
        name: check_text(val, Where(val.file, val.line), f"{key}.{name}")
        for name, val in vals.items()
    }
    if key == "cues":
        check_templates(
            {name: Val(out[name], val.file, val.line) for name, val in vals.items()},
            layers[-1].shown,
        )
    return out


def _pacing(layers: list[_Layer]) -> Pacing:
    vals = _merged(layers, "pacing", PACING_FIELDS)
    pacing = Pacing()
    changes: dict[str, Any] = {}
    for name in ("transition", "rest", "switch"):
        if name in vals:
            val = vals[name]
            changes[f"{name}_ms"] = check_duration(
                val, Where(val.file, val.line), f"pacing.{name}", high=MAX_GAP_MS
            )
    if "countdown" in vals:
        val = vals["countdown"]
        changes["countdown"] = check_int(
            val, Where(val.file, val.line), "pacing.countdown", low=0, high=10
        )
    if "halfway" in vals:
        val = vals["halfway"]
        changes["halfway"] = check_bool(val, Where(val.file, val.line), "pacing.halfway")
    if "remaining" in vals:
        changes["remaining_ms"] = _remaining(vals["remaining"])
    return replace(pacing, **changes)


def _remaining(val: Val) -> tuple[int, ...]:
    where = Where(val.file, val.line)
    items = val.value if isinstance(val.value, list) else [val.value]
    if val.value is None or val.value is False:
        return ()
    return tuple(
        sorted(
            (
                check_duration(
                    Val(item, val.file, val.line),
                    where,
                    "pacing.remaining",
                    low=1000,
                    high=MAX_WORK_MS,
                )
                for item in items
            ),
            reverse=True,
        )
    )


def _voice(layers: list[_Layer]) -> VoiceSpec:
    vals = _merged(layers, "voice", VOICE_FIELDS)
    spec = VoiceSpec()
    if "engine" in vals:
        val = vals["engine"]
        spec = replace(
            spec,
            engine=check_choice(val, Where(val.file, val.line), "voice.engine", ENGINES),  # type: ignore[arg-type]
        )
    if "voice" in vals and vals["voice"].value is not None:
        val = vals["voice"]
        spec = replace(spec, voice=check_text(val, Where(val.file, val.line), "voice.voice"))
    if "rate" in vals:
        val = vals["rate"]
        spec = replace(
            spec, rate=check_float(val, Where(val.file, val.line), "voice.rate", low=0.5, high=2.0)
        )
    return spec


def _libraries(layers: list[_Layer]) -> dict[str, Exercise]:
    """The shipped library, then each layer's own ``library`` (later ones win)."""
    exercises = dict(load_library(shipped_library_path()))
    seen = {shipped_library_path().resolve()}
    for layer in layers:
        if "library" not in layer.doc:
            continue
        val = _val(layer.doc, "library")
        names = val.value if isinstance(val.value, list) else [val.value]
        for name in names:
            where = Where(layer.shown, val.line)
            lib = _existing(layer.path.parent, Val(name, val.file, val.line), where, "library")
            if lib not in seen:
                seen.add(lib)
                exercises.update(load_library(lib))
    return exercises


def _raw_steps(layers: list[_Layer], where: Where) -> list[dict[str, Val]]:
    """The steps of the last layer that lists them, as field -> Val dicts."""
    for layer in reversed(layers):
        if "steps" not in layer.doc:
            continue
        here = Where(layer.shown, layer.doc.line_of("steps"))
        items = layer.doc["steps"]
        if items is None or (isinstance(items, list) and not items):
            raise here.error("is empty: list at least one step", field="steps")
        items = _expect_list(items, here, "steps", "steps (- exercise: ...)")
        out = []
        for index, item in enumerate(items):
            spot = Where(layer.shown, items.line_of(index), _step_label(index + 1, item))
            if isinstance(item, str):
                raise spot.error(f"must be a mapping of step fields; write - exercise: {item}")
            step = _expect_map(item, spot, None, "step fields (exercise, hold, ...)")
            check_keys(step, STEP_FIELDS, spot, step.line_of)
            raw = {key: _val(step, key) for key in step}
            raw["__line__"] = Val(step.line, layer.shown, step.line)
            out.append(raw)
        return out
    raise where.error("is missing: list at least one step", field="steps")


def _step_label(number: int, item: Any) -> str:
    """ "step 3 (glute-bridge-march)" when the step names an exercise, else "step 3"."""
    ex_id = None
    if isinstance(item, dict):
        ex_id = _exercise_id(item.get("exercise")) if "exercise" in item else "rest"
    return f"step {number} ({ex_id})" if ex_id and _is_slug(ex_id) else f"step {number}"


def _override_patches(layer: _Layer) -> list[StepPatch]:
    where = Where(layer.shown, layer.doc.line_of("override"))
    if layer.doc["override"] is None:
        return []
    node = _expect_map(
        layer.doc["override"], where, "override", "exercise ids or step numbers to step fields"
    )
    patches = []
    for key in node:
        spot = Where(layer.shown, node.line_of(key), f"override {show(key)[1:-1]}")
        fields = _expect_map(node[key], spot, None, "step fields like {hold: 45s}")
        check_keys(fields, STEP_FIELDS, spot, fields.line_of)
        patches.append(StepPatch(str(key), tuple((f, _val(fields, f)) for f in fields), spot))
    return patches


def _apply_patch(
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
        return _tag(items, file)
    ymap = YMap({str(k): _lined(v, file, line) for k, v in node.items()})
    ymap.line, ymap.key_lines = line, dict.fromkeys(ymap, line)
    return _tag(ymap, file)


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


def _resolve_step(
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
            out.update(_work_fields(single, Where(val.file, val.line, where.what)))
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
    return Step(number=number, exercise=None, line=where.line, rest_ms=rest, say=say)


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
        _check_phases(step.phases, step.tempo_ms, spot("phases" if "phases" in raw else "tempo"))
    if step.work_ms > MAX_WORK_MS:
        key = "reps" if step.kind == "reps" else "hold"
        raise spot(key).error(
            f"makes one work interval {step.work_ms / 60000:.1f} minutes long; "
            f"at most {MAX_WORK_MS // 60000} minutes are allowed",
            field=key,
        )
