"""The studio's JSON bodies -> checked requests and overrides; errors -> the 422 list.

A body is ``{"routine": FILE, "set": ["STEP.FIELD=VALUE", ...], "hold": "45s", "rest":
..., "scale": ..., "fit": ..., "name": ...}``, everything but ``routine`` optional. The
values go through the same ``parse_overrides`` as the command line's ``--set``,
``--hold``, ``--rest``, ``--scale`` and ``--fit``, so a bad one gets the CLI's message.

Every problem becomes one item of ``{"errors": [...]}``: ``file``, ``line``, ``step``,
``field`` and ``message`` come from the structured fields of ``InputError`` (never
from its text); ``text`` is the whole line the CLI prints, and ``set`` the index of the
``set`` entry the problem is about, when there is one.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from routinecast.errors import InputError
from routinecast.load.overrides import Overrides, parse_overrides, parse_set

KEYS = ("routine", "set", "hold", "rest", "scale", "fit", "name")
MAX_SETS = 200
"""More ``set`` entries than this are refused (a routine has far fewer fields)."""
MAX_TEXT = 200
"""Longest accepted string value."""


class RequestError(Exception):
    """A body the studio refuses; ``errors`` is the 422 list."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(str(e["message"]) for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class StudioRequest:
    """A checked body (its values not yet parsed as overrides)."""

    routine: str
    sets: tuple[str, ...] = ()
    hold: str | None = None
    rest: str | None = None
    scale: float | None = None
    fit: str | None = None
    name: str | None = None

    def overrides(self) -> Overrides:
        """The overrides, parsed as the CLI parses them; ``RequestError`` on a bad value."""
        try:
            return parse_overrides(self.sets, self.hold, self.rest, self.scale, self.fit)
        except InputError as exc:
            raise RequestError([error_item(exc, self)]) from None

    def key(self) -> tuple[object, ...]:
        """What makes two builds the same build."""
        return (self.routine, self.sets, self.hold, self.rest, self.scale, self.fit)


def parse_body(body: object) -> StudioRequest:
    """Check the shape of a JSON body; ``RequestError`` lists every problem found."""
    if not isinstance(body, dict):
        raise RequestError([_problem("body", 'must be a JSON object like {"routine": FILE}')])
    problems = [
        _problem(str(key), f"is not a known field; allowed: {', '.join(KEYS)}")
        for key in body
        if key not in KEYS
    ]
    routine = body.get("routine")
    if not isinstance(routine, str) or not routine:
        problems.append(_problem("routine", "is missing: name a file from /api/routines"))
    sets = body.get("set") or []
    if not isinstance(sets, list) or not all(isinstance(s, str) for s in sets):
        problems.append(_problem("set", 'must be a list of "STEP.FIELD=VALUE" texts'))
        sets = []
    elif len(sets) > MAX_SETS:
        problems.append(_problem("set", f"may hold at most {MAX_SETS} entries"))
    texts = {key: _text(body, key, problems) for key in ("hold", "rest", "fit", "name")}
    scale = _number(body, "scale", problems)
    if problems:
        raise RequestError(problems)
    return StudioRequest(
        routine=str(routine),
        sets=tuple(sets),
        hold=texts["hold"],
        rest=texts["rest"],
        scale=scale,
        fit=texts["fit"],
        name=texts["name"],
    )


def _text(body: dict[str, Any], key: str, problems: list[dict[str, Any]]) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        problems.append(_problem(key, f"must be text of at most {MAX_TEXT} characters"))
        return None
    return value


def _number(body: dict[str, Any], key: str, problems: list[dict[str, Any]]) -> float | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = float(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        problems.append(_problem(key, f"must be a number like 1.5, got {_show(value)}"))
        return None
    return float(value)


def _show(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return f'"{text[:40]}"' if isinstance(value, str) else text[:40]


def _problem(field: str, message: str) -> dict[str, Any]:
    """A 422 item about the body itself (no file, no line)."""
    return {
        "file": None,
        "line": None,
        "step": None,
        "field": field,
        "message": message,
        "text": f"{field} {message}",
    }


def error_item(exc: InputError, request: StudioRequest | None = None) -> dict[str, Any]:
    """One 422 item from an ``InputError``'s structured fields."""
    item: dict[str, Any] = {
        "file": exc.file or None,
        "line": exc.line or None,
        "step": exc.where,
        "field": exc.field,
        "message": exc.message,
        "text": " ".join(str(exc).split()),
    }
    index = _set_index(exc, request)
    if index is not None:
        item["set"] = index
    return item


def _label(request: StudioRequest | None, index: int) -> str | None:
    """How the loader names a ``set`` entry as the origin of a value (``--set "..."``)."""
    if request is None:
        return None
    try:
        return parse_set(request.sets[index]).origin.what
    except InputError as exc:
        return exc.where


def _set_index(exc: InputError, request: StudioRequest | None) -> int | None:
    """Which ``set`` entry the error is about: the one whose label it carries."""
    if request is None:
        return None
    for index in range(len(request.sets)):
        label = _label(request, index)
        if label is not None and label in (exc.file, exc.where):
            return index
    return None
