"""Routine and library files -> a validated ``Routine``. Knows nothing of audio.

``load_routine(path)`` follows ``extends`` (refusing cycles), merges the layers,
applies each layer's ``override`` and any build-time ``StepPatch``es, resolves
every step against the shipped library, the routine's own libraries and inline
exercises, and checks every value. Any problem is one ``InputError`` naming the
file, line, step or exercise, field and what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
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
    val_of,
)
from routinecast.load.fields import (
    check_bool,
    check_choice,
    check_duration,
    check_float,
    check_int,
    check_keys,
    check_text,
    describe,
)
from routinecast.load.library import (
    EXERCISE_FIELDS,
    load_library,
    parse_exercise,
    shipped_library_path,
    shipped_routines_dir,
)
from routinecast.load.steps import (
    STEP_FIELDS,
    StepPatch,
    apply_patch,
    override_patches,
    raw_steps,
    resolve_step,
)
from routinecast.load.yamlsrc import YList, YMap
from routinecast.locations import Val, Where
from routinecast.model import (
    ENGINES,
    MAX_GAP_MS,
    MAX_WORK_MS,
    Exercise,
    Pacing,
    Routine,
    Step,
    VoiceSpec,
)
from routinecast.timeline import TONES

ROUTINE_FIELDS = (
    "title", "summary", "target", "library", "voice", "pacing", "intro", "outro",
    "caution", "lexicon", "cues", "sounds", "steps", "extends", "override",
)  # fmt: skip
PACING_FIELDS = ("transition", "rest", "switch", "countdown", "halfway", "remaining")
VOICE_FIELDS = ("engine", "voice", "rate")
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


def _load_layers(path: Path, chain: tuple[Path, ...] = ()) -> list[Layer]:
    """The file and its ancestors, oldest first; refuses missing and cyclic ``extends``."""
    doc, shown = read_document(path)
    doc = _routine_document(doc, shown)
    check_keys(doc, ROUTINE_FIELDS, Where(shown, doc.line), doc.line_of)
    layer = Layer(path, shown, doc)
    if "extends" not in doc:
        return [layer]
    val = val_of(doc, "extends")
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
    raws = raw_steps(layers, where)
    own = (
        max(i for i, layer in enumerate(layers) if "steps" in layer.doc)
        if any("steps" in layer.doc for layer in layers)
        else 0
    )
    for layer in layers[own:]:
        if "override" in layer.doc:
            for patch in override_patches(layer):
                apply_patch(raws, patch, exercises)
    for patch in patches:
        apply_patch(raws, patch, exercises)
    pacing = _pacing(layers)
    steps = tuple(
        resolve_step(number, raw, exercises, pacing) for number, raw in enumerate(raws, start=1)
    )
    return _routine(layers, steps, pacing)


def _last(layers: list[Layer], key: str) -> tuple[Val, Where] | None:
    for layer in reversed(layers):
        if key in layer.doc:
            val = val_of(layer.doc, key)
            return val, Where(layer.shown, val.line)
    return None


def _text_field(layers: list[Layer], key: str, *, required: bool = False) -> str:
    found = _last(layers, key)
    if found is None:
        if required:
            raise Where(layers[-1].shown, 1).error(
                f"is missing: a routine needs a {key}, like {key}: Desk Hip Reset", field=key
            )
        return ""
    val, where = found
    return check_text(val, where, key, allow_empty=not required)


def _routine(layers: list[Layer], steps: tuple[Step, ...], pacing: Pacing) -> Routine:
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
        sounds=_sounds(layers),
    )


def _merged(layers: list[Layer], key: str, allowed: Iterable[str] | None) -> dict[str, Val]:
    """A top-level mapping merged over the chain, each value keeping its own file/line."""
    merged: dict[str, Val] = {}
    for layer in layers:
        if key not in layer.doc or layer.doc[key] is None:
            continue
        where = Where(layer.shown, layer.doc.line_of(key))
        node = expect_map(layer.doc[key], where, key, MAP_SHAPES.get(key, "fields"))
        if allowed is not None:
            check_keys(node, allowed, where, node.line_of)
        for sub in node:
            merged[sub] = val_of(node, sub)
    return merged


def _merged_strings(layers: list[Layer], key: str) -> dict[str, str]:
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


def _pacing(layers: list[Layer]) -> Pacing:
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
    return replace(pacing, written=frozenset(vals), **changes)


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


def _sounds(layers: list[Layer]) -> tuple[tuple[str, str], ...]:
    """``sounds:`` tone name -> file, each path relative to the file that names it."""
    out = []
    for name, val in _merged(layers, "sounds", TONES).items():
        where = Where(val.file, val.line)
        path = existing_file(Path(val.file).parent, val, where, f"sounds.{name}")
        if not path.is_file():
            raise where.error(
                f"names {show_path(path)}, a folder, not a sound file", f"sounds.{name}"
            )
        out.append((name, str(path)))
    return tuple(out)


def _voice(layers: list[Layer]) -> VoiceSpec:
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


def _libraries(layers: list[Layer]) -> dict[str, Exercise]:
    """The shipped library, then each layer's own ``library`` (later ones win)."""
    exercises = dict(load_library(shipped_library_path()))
    seen = {shipped_library_path().resolve()}
    for layer in layers:
        if "library" not in layer.doc:
            continue
        val = val_of(layer.doc, "library")
        names = val.value if isinstance(val.value, list) else [val.value]
        for name in names:
            where = Where(layer.shown, val.line)
            lib = existing_file(layer.path.parent, Val(name, val.file, val.line), where, "library")
            if lib not in seen:
                seen.add(lib)
                exercises.update(load_library(lib))
    return exercises
