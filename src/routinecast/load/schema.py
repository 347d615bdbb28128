"""A JSON Schema of routine and library files, for editors (yaml-language-server).

Made from the field tables of ``spec`` (types, limits, choices, help), the tables the
loader checks against, so the schema and the loader agree: a value of the right type
within its limits passes both, anything else fails both. A schema cannot read "45m"
as a time, so a duration or count written as text is checked by its pattern only and
its range is left to ``routinecast validate``. The shipped copy is
``docs/routinecast.schema.json``; a test keeps it equal to ``json_schema()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from routinecast.cues import template_names
from routinecast.durations import DURATION_GRAMMAR, DURATION_PATTERN, EXAMPLES
from routinecast.load.spec import EXERCISE, ROUTINE, STEP, FieldSpec
from routinecast.model import MAX_TEXT_CHARS, Limit
from routinecast.timeline import TONES

TEXT: dict[str, Any] = {"type": ["string", "number", "null"], "maxLength": MAX_TEXT_CHARS}
"""Text, or a number read as its text; empty (null) means none."""
SPACE = r"[ \t\n\r\f\v]*"


def _duration(limit: Limit | None) -> dict[str, Any]:
    number: dict[str, Any] = {"type": "number", "minimum": 0}
    if limit:
        number = {"type": "number", "minimum": limit.low / 1000, "maximum": limit.high / 1000}
    return {
        "description": f"{EXAMPLES} (a bare number is seconds)",
        "anyOf": [number, {"type": "string", "pattern": DURATION_PATTERN}],
    }


def _text(spec: FieldSpec) -> dict[str, Any]:
    if spec.required:
        return {"type": ["string", "number"], "pattern": r"\S", "maxLength": MAX_TEXT_CHARS}
    return dict(TEXT)


def _whole(spec: FieldSpec) -> dict[str, Any]:
    low, high = (spec.limit.low, spec.limit.high) if spec.limit else (0, None)
    number = {"type": "integer", "minimum": low, **({"maximum": high} if high else {})}
    return {"anyOf": [number, {"type": "string", "pattern": r"^\s*[0-9]{1,19}\s*$"}]}


def _number(spec: FieldSpec) -> dict[str, Any]:
    limit = spec.limit
    return {"type": "number", **({"minimum": limit.low, "maximum": limit.high} if limit else {})}


def _breathe(spec: FieldSpec) -> dict[str, Any]:
    pattern = f"^{DURATION_GRAMMAR}-{DURATION_GRAMMAR}$"
    return {"anyOf": [{"type": "string", "pattern": pattern}, {"const": False}]}


def _cue_time(spec: FieldSpec) -> dict[str, Any]:
    high = spec.limit.high / 1000 if spec.limit else None
    number = {"type": "number", **({"minimum": -high, "maximum": high} if high else {})}
    text = {"type": "string", "pattern": f"^{SPACE}-?{DURATION_GRAMMAR}$"}
    return {"anyOf": [{"const": "half"}, number, text]}


def _times(spec: FieldSpec) -> dict[str, Any]:
    one = _duration(spec.limit)
    return {"anyOf": [one, {"type": "array", "items": one}, {"const": False}]}


def _pairs(spec: FieldSpec) -> dict[str, Any]:
    items = _object(spec.of, required=[f.name for f in spec.of])
    return {
        "type": "array",
        "items": items,
        **({"minItems": spec.min_items} if spec.min_items else {}),
    }


def _override(spec: FieldSpec) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": _object(STEP)}


SCHEMAS: dict[str, Callable[[FieldSpec], dict[str, Any]]] = {
    "text": _text,
    "duration": lambda spec: _duration(spec.limit),
    "whole": _whole,
    "number": _number,
    "flag": lambda spec: {"type": "boolean"},
    "choice": lambda spec: {"enum": list(spec.choices)},
    "slug": lambda spec: {"type": ["string", "integer"], "pattern": "^[a-z0-9-]+$"},
    "path": lambda spec: {"type": "string"},
    "paths": lambda spec: {
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
    },
    "names": lambda spec: {"anyOf": [TEXT, {"type": "array", "items": TEXT}]},
    "breathe": _breathe,
    "cue time": _cue_time,
    "times": _times,
    "pairs": _pairs,
    "exercise": lambda spec: {"anyOf": [{"type": "string"}, exercise_schema()]},
    "fields": lambda spec: _object(spec.of),
    "words": lambda spec: {"type": "object", "additionalProperties": TEXT},
    "templates": lambda spec: {
        "type": "object",
        "additionalProperties": False,
        "properties": {name: TEXT for name in template_names()},
    },
    "sounds": lambda spec: {
        "type": "object",
        "additionalProperties": False,
        "properties": {name: {"type": "string"} for name in TONES},
    },
    "steps": lambda spec: {"type": "array", "minItems": spec.min_items, "items": step_schema()},
    "override": _override,
}
"""The schema of each type of field."""


def field_schema(spec: FieldSpec) -> dict[str, Any]:
    """One field: its type's schema, null allowed when it may be left empty, and its help."""
    schema = SCHEMAS[spec.type](spec)
    if spec.nullable:
        schema = _or_null(schema)
    return {**schema, "description": f"{spec.help} ({spec.allowed})"}


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in schema:
        return {**schema, "anyOf": [*schema["anyOf"], {"type": "null"}]}
    if isinstance(schema.get("type"), str):
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _object(group: tuple[FieldSpec, ...], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {spec.name: field_schema(spec) for spec in group},
        **({"required": required} if required else {}),
    }


def exercise_schema() -> dict[str, Any]:
    """One library exercise."""
    return _object(EXERCISE, required=[s.name for s in EXERCISE if s.required])


def step_schema() -> dict[str, Any]:
    """One routine step."""
    return _object(STEP)


def routine_schema() -> dict[str, Any]:
    """A routine file (nothing is required: a variant inherits its title and steps)."""
    return _object(ROUTINE)


def json_schema() -> dict[str, Any]:
    """Routine (a mapping) or library (a list of exercises)."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "routinecast routine or exercise library",
        "oneOf": [routine_schema(), {"type": "array", "items": exercise_schema()}],
    }
