"""Routine and library files -> a validated ``Routine``. Knows nothing of audio.

``load_routine(path)`` follows ``extends`` (refusing cycles), merges the layers,
applies each layer's ``override`` and any build-time ``StepPatch``es, resolves
every step against the shipped library, the routine's own libraries and inline
exercises, and checks every value against the tables of ``spec``. Every independent
mistake is reported at once (an ``InputErrors``, or one ``InputError``), each naming
the file, line, step or exercise, field and what is allowed. A mistake that makes
the rest meaningless (bad YAML, a missing file, an ``extends`` cycle) stops at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from routinecast.cues import check_templates
from routinecast.errors import InputError
from routinecast.load.documents import (
    Layer,
    existing_file,
    expect_map,
    is_library_file,
    read_document,
    show_path,
)
from routinecast.load.fields import (
    check_duration,
    check_field,
    check_keys,
    check_text,
    describe,
)
from routinecast.load.library import (
    EXERCISE_FIELDS,
    SIMPLE_TYPES,
    load_library,
    parse_exercise,
    shipped_library_path,
    shipped_routines_dir,
)
from routinecast.load.patches import StepPatch
from routinecast.load.problems import Problems
from routinecast.load.spec import PACING, ROUTINE, VOICE, FieldSpec, names
from routinecast.load.steps import (
    STEP_FIELDS,
    RawStep,
    apply_patch,
    override_patches,
    raw_steps,
    resolve_step,
)
from routinecast.load.yamlsrc import YList, YMap
from routinecast.locations import Val, Where, suggest
from routinecast.model import Exercise, Pacing, Routine, Step, VoiceSpec
from routinecast.timeline import TONES

ROUTINE_FIELDS = names(ROUTINE)
PACING_FIELDS = names(PACING)
VOICE_FIELDS = names(VOICE)
MERGED_MAPS = ("pacing", "voice", "lexicon", "cues", "sounds")
"""Top-level mappings that a variant merges key by key instead of replacing."""
MAP_SHAPES = {
    "pacing": "pacing fields (" + ", ".join(PACING_FIELDS) + ")",
    "voice": "voice fields (" + ", ".join(VOICE_FIELDS) + ")",
    "lexicon": "words to respellings (psoas: so-us)",
    "cues": 'template names to templates (rest: "Rest {{ seconds(rest) }}.")',
    "sounds": "tone names to audio files (start: bell.wav)",
}
__all__ = [
    "EXERCISE_FIELDS",
    "MAX_EXTENDS",
    "PACING_FIELDS",
    "ROUTINE_FIELDS",
    "STEP_FIELDS",
    "VOICE_FIELDS",
    "StepPatch",
    "is_library_file",
    "load_library",
    "load_routine",
    "parse_exercise",
    "read_document",
    "shipped_library_path",
    "shipped_routines_dir",
    "show_path",
]
"""The loader is the one door from files to the model; these names come through it."""

MAX_EXTENDS = 20
"""How many files an ``extends`` chain may hold."""
_FAILED = object()
"""What ``Problems.value`` gives back for a field whose check failed."""


def _load_layers(path: Path, chain: tuple[Path, ...] = ()) -> list[Layer]:
    """The file and its ancestors, oldest first; refuses missing and cyclic ``extends``."""
    doc, shown = read_document(path)
    doc = _routine_document(doc, shown)
    layer = Layer(path, shown, doc)
    if "extends" not in doc:
        return [layer]
    val = doc.val("extends")
    here = Where(shown, val.line)
    parent = existing_file(path.parent, val, here, "extends")
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
    where = Where(shown, doc.line if isinstance(doc, YMap | YList) else 1)
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
    """Load, merge and validate a routine; ``patches`` are build-time ``--set`` changes.

    Raises every independent mistake at once (see the module's docstring).
    """
    layers = _load_layers(path)
    problems = Problems()
    for layer in layers:
        doc = layer.doc
        problems.run(check_keys, doc, ROUTINE_FIELDS, Where(layer.shown, doc.line), doc.line_of)
    before = len(problems)
    exercises = _libraries(layers, problems)
    libraries_failed = len(problems) > before
    pacing = _pacing(layers, problems)
    fields = _routine_fields(layers, problems)
    if libraries_failed:  # the steps would only add "not in the library" for its exercises
        problems.raise_found()
    steps = _steps(layers, patches, exercises, pacing, problems)
    problems.raise_found()
    return Routine(steps=steps, source=layers[-1].shown, pacing=pacing, **fields)


def _steps(
    layers: list[Layer],
    patches: Sequence[StepPatch],
    exercises: dict[str, Exercise],
    pacing: Pacing,
    problems: Problems,
) -> tuple[Step, ...]:
    """Every step with the overrides and patches applied, resolved; mistakes noted."""
    raws: list[RawStep] | None = problems.value(
        None, raw_steps, layers, Where(layers[-1].shown, 1), problems
    )
    if raws is None:
        return ()
    with_steps = [i for i, layer in enumerate(layers) if "steps" in layer.doc]
    for layer in layers[max(with_steps, default=0) :]:
        if "override" in layer.doc:
            for patch in problems.value([], override_patches, layer, problems):
                problems.run(apply_patch, raws, patch, exercises)
    for patch in patches:
        problems.run(apply_patch, raws, patch, exercises)
    resolved = (
        problems.value(None, resolve_step, number, raw, exercises, pacing)
        for number, raw in enumerate(raws, start=1)
        if raw.shaped
    )
    return tuple(step for step in resolved if step is not None)


def _last(layers: list[Layer], key: str) -> tuple[Val, Where] | None:
    for layer in reversed(layers):
        if key in layer.doc:
            val = layer.doc.val(key)
            return val, Where(layer.shown, val.line)
    return None


def _routine_fields(layers: list[Layer], problems: Problems) -> dict[str, Any]:
    """The routine's own fields but ``steps`` and ``pacing``, as ``Routine`` arguments."""
    simple = {}
    misspelt = {key for layer in layers for key in layer.doc if key not in ROUTINE_FIELDS}
    for spec in ROUTINE:
        if spec.type in SIMPLE_TYPES:
            value = _simple_field(layers, spec, problems, misspelt)
            if value is not _FAILED:
                simple[spec.name] = value
    return {
        "title": simple.get("title", ""),
        "summary": simple.get("summary", ""),
        "target_ms": simple.get("target"),
        "intro": simple.get("intro", ""),
        "outro": simple.get("outro", ""),
        "caution": simple.get("caution", ""),
        "voice": _voice(layers, problems),
        "lexicon": tuple(_merged_strings(layers, "lexicon", problems).items()),
        "templates": tuple(_merged_strings(layers, "cues", problems).items()),
        "sounds": _sounds(layers, problems),
    }


def _simple_field(
    layers: list[Layer], spec: FieldSpec, problems: Problems, misspelt: set[str]
) -> Any:
    """The field from the nearest layer that sets it, checked; None when no layer does.

    A required field that is missing is a mistake, unless an unknown field (already
    reported, with a did-you-mean) looks like its misspelling.
    """
    found = _last(layers, spec.name)
    if found is None:
        if spec.required and not suggest(spec.name, misspelt):
            problems.add(
                Where(layers[-1].shown, 1).error(
                    f"is missing: a routine needs a {spec.name}, like {spec.name}: {spec.example}",
                    field=spec.name,
                )
            )
            return _FAILED
        return None
    val, where = found
    if val.value is None and spec.nullable:
        return None
    return problems.value(_FAILED, check_field, spec, val, where)


def _merged(
    layers: list[Layer], key: str, allowed: Sequence[str] | None, problems: Problems
) -> dict[str, Val]:
    """A top-level mapping merged over the chain, each value keeping its own file/line."""
    merged: dict[str, Val] = {}
    for layer in layers:
        if key not in layer.doc or layer.doc[key] is None:
            continue
        where = Where(layer.shown, layer.doc.line_of(key))
        node = problems.value(
            None, expect_map, layer.doc[key], where, key, MAP_SHAPES.get(key, "fields")
        )
        if node is None:
            continue
        if allowed is not None:
            problems.run(check_keys, node, allowed, where, node.line_of)
        for sub in node:
            merged[sub] = node.val(sub)
    return merged


def _merged_strings(layers: list[Layer], key: str, problems: Problems) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, val in _merged(layers, key, None, problems).items():
        here = Where(val.file, val.line)
        text = problems.value(None, check_text, val, here, f"{key}.{name}")
        if text is None:
            continue
        if key == "cues":
            template = {name: Val(text, val.file, val.line)}
            if not problems.run(check_templates, template, layers[-1].shown):
                continue
        out[name] = text
    return out


def _sub_fields(
    layers: list[Layer], key: str, group: tuple[FieldSpec, ...], problems: Problems
) -> dict[str, Any]:
    """The checked fields of a merged mapping (``pacing``, ``voice``); mistakes noted."""
    out: dict[str, Any] = {}
    for name, val in _merged(layers, key, names(group), problems).items():
        spec = next((s for s in group if s.name == name), None)
        if spec is None:  # an unknown field, already noted
            continue
        check = _remaining if spec.type == "times" else check_field
        where = Where(val.file, val.line)
        value = problems.value(_FAILED, check, spec, val, where, f"{key}.{name}")
        if value is not _FAILED:
            out[name] = value
    return out


def _pacing(layers: list[Layer], problems: Problems) -> Pacing:
    vals = _sub_fields(layers, "pacing", PACING, problems)
    renamed = {"transition": "transition_ms", "rest": "rest_ms", "switch": "switch_ms"}
    renamed["remaining"] = "remaining_ms"
    fields = {renamed.get(name, name): value for name, value in vals.items()}
    return Pacing(**fields, written=frozenset(vals))


def _sounds(layers: list[Layer], problems: Problems) -> tuple[tuple[str, str], ...]:
    """``sounds:`` tone name -> file, each path relative to the file that names it."""
    out = []
    for name, val in _merged(layers, "sounds", tuple(TONES), problems).items():
        where = Where(val.file, val.line)
        path = problems.value(
            None, existing_file, Path(val.file).parent, val, where, f"sounds.{name}"
        )
        if path is None:
            continue
        if not path.is_file():
            problems.add(
                where.error(
                    f"names {show_path(path)}, a folder, not a sound file", f"sounds.{name}"
                )
            )
            continue
        out.append((name, str(path)))
    return tuple(out)


def _remaining(spec: FieldSpec, val: Val, where: Where, field: str) -> tuple[int, ...]:
    """None or false for none, one time, or a list of times; longest first."""
    if val.value is None or val.value is False:
        return ()
    low, high = (int(spec.limit.low), int(spec.limit.high)) if spec.limit else (0, 0)
    items = val.value if isinstance(val.value, list) else [val.value]
    times = (
        check_duration(Val(item, val.file, val.line), where, field, low=low, high=high)
        for item in items
    )
    return tuple(sorted(times, reverse=True))


def _voice(layers: list[Layer], problems: Problems) -> VoiceSpec:
    vals = _sub_fields(layers, "voice", VOICE, problems)
    voice = vals.get("voice") or None
    return VoiceSpec(engine=vals.get("engine", "auto"), voice=voice, rate=vals.get("rate", 1.0))


def _libraries(layers: list[Layer], problems: Problems) -> dict[str, Exercise]:
    """The shipped library, then each layer's own ``library`` (later ones win)."""
    exercises = dict(load_library(shipped_library_path()))
    seen = {shipped_library_path().resolve()}
    for layer in layers:
        if "library" not in layer.doc:
            continue
        val = layer.doc.val("library")
        where = Where(layer.shown, val.line)
        for name in val.value if isinstance(val.value, list) else [val.value]:
            item = Val(name, val.file, val.line)
            lib = problems.value(None, existing_file, layer.path.parent, item, where, "library")
            if lib is not None and lib not in seen:
                seen.add(lib)
                exercises.update(problems.value({}, load_library, lib))
    return exercises
