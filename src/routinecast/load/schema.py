"""A JSON Schema of routine and library files, for editors (yaml-language-server).

Built from the loader's field lists so the two cannot drift apart. The shipped copy
is ``docs/routinecast.schema.json``; a test keeps it equal to ``json_schema()``.
"""

from __future__ import annotations

from typing import Any

from routinecast.cues import template_names
from routinecast.load.routine import (
    EXERCISE_FIELDS,
    PACING_FIELDS,
    ROUTINE_FIELDS,
    STEP_FIELDS,
    VOICE_FIELDS,
)
from routinecast.model import ENGINES, KINDS, SIDES
from routinecast.timeline import TONES

DURATION: dict[str, Any] = {
    "description": "45, 45s, 1m, 1m30s or 90s (a bare number is seconds)",
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?(ms|h|m|s)?)+\s*$"},
    ],
}
CUES: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["at", "say"],
        "properties": {
            "at": {
                "description": "3s after start, half, or -10s before the end",
                "anyOf": [{"type": "number"}, {"type": "string"}],
            },
            "say": {"type": "string"},
        },
    },
}
PHASES: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["say", "for"],
        "properties": {"say": {"type": "string"}, "for": DURATION},
    },
}
WORK: dict[str, Any] = {
    "hold": DURATION,
    "reps": {"type": "integer", "minimum": 1},
    "tempo": DURATION,
    "phases": PHASES,
    "cues": CUES,
    "breathe": {"type": "string", "pattern": r"^\d+(\.\d+)?s?-\d+(\.\d+)?s?$"},
}


def _object(fields: tuple[str, ...], props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    assert set(props) <= set(fields), set(props) - set(fields)
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {f: props.get(f, {}) for f in fields},
        **extra,
    }


def exercise_schema() -> dict[str, Any]:
    """One library exercise."""
    return _object(
        EXERCISE_FIELDS,
        {
            "id": {"type": "string", "pattern": "^[a-z0-9-]+$"},
            "name": {"type": "string"},
            "kind": {"enum": list(KINDS)},
            "sides": {"enum": list(SIDES)},
            "setup": {"type": "string"},
            "caution": {"type": "string"},
            "equipment": {"type": "array", "items": {"type": "string"}},
            **WORK,
        },
        required=["id"],
    )


def step_schema() -> dict[str, Any]:
    """One routine step."""
    return _object(
        STEP_FIELDS,
        {
            "exercise": {"anyOf": [{"type": "string"}, exercise_schema()]},
            "sets": {"type": "integer", "minimum": 1},
            "sides": {"enum": list(SIDES)},
            "first": {"enum": ["right", "left"]},
            "rest": DURATION,
            "switch": DURATION,
            "transition": DURATION,
            "say": {"type": "string"},
            **WORK,
        },
    )


def routine_schema() -> dict[str, Any]:
    """A routine file."""
    step = step_schema()
    patch = {k: v for k, v in step["properties"].items()}
    return _object(
        ROUTINE_FIELDS,
        {
            "title": {"type": "string"},
            "summary": {"type": "string"},
            "target": DURATION,
            "library": {
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
            },
            "voice": _object(
                VOICE_FIELDS,
                {
                    "engine": {"enum": list(ENGINES)},
                    "voice": {"type": ["string", "null"]},
                    "rate": {"type": "number", "minimum": 0.5, "maximum": 2.0},
                },
            ),
            "pacing": _object(
                PACING_FIELDS,
                {
                    "transition": DURATION,
                    "rest": DURATION,
                    "switch": DURATION,
                    "countdown": {"type": "integer", "minimum": 0, "maximum": 10},
                    "halfway": {"type": "boolean"},
                    "remaining": {"anyOf": [DURATION, {"type": "array", "items": DURATION}]},
                },
            ),
            "intro": {"type": "string"},
            "outro": {"type": "string"},
            "caution": {"type": "string"},
            "lexicon": {"type": "object", "additionalProperties": {"type": "string"}},
            "sounds": _object(tuple(TONES), {name: {"type": "string"} for name in TONES}),
            "cues": {
                "type": "object",
                "additionalProperties": False,
                "properties": {n: {"type": "string"} for n in template_names()},
            },
            "steps": {"type": "array", "minItems": 1, "items": step},
            "extends": {"type": "string"},
            "override": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": patch,
                },
            },
        },
    )


def json_schema() -> dict[str, Any]:
    """Routine (a mapping) or library (a list of exercises)."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "routinecast routine or exercise library",
        "oneOf": [routine_schema(), {"type": "array", "items": exercise_schema()}],
    }
