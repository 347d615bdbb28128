"""Field-level validation shared by the loader and build-time overrides.

A ``Val`` is one YAML value with the file and line it came from, so a message about
it can name both even after ``extends``, ``override`` or ``--set`` moved it around.
Each ``check_*`` returns the clean value or raises ``InputError`` saying what is allowed;
``check_field`` checks a value against its ``FieldSpec`` (type, limits, choices).
Range messages come from the model's ``Limit``, so they read as a ``Step`` words them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from routinecast.durations import EXAMPLES, DurationError, parse_duration
from routinecast.errors import InputErrors
from routinecast.load.spec import FieldSpec
from routinecast.locations import Val, Where, suggest
from routinecast.model import MAX_GAP_MS, MAX_TEXT_CHARS, Limit

C = TypeVar("C", bound=str)

MAX_SHOWN_CHARS = 60
"""Values quoted back in messages are cut to this length."""


def check_keys(
    keys: Iterable[str], allowed: Iterable[str], where: Where, lines: Callable[[str], int]
) -> None:
    """Refuse unknown fields, every one of them, with a did-you-mean and the allowed list."""
    allowed_list = sorted(allowed)
    unknown = [
        where.error(
            f"is not a known field{suggest(key, allowed_list)}; allowed: "
            + ", ".join(allowed_list),
            field=show(key),
            line=lines(key),
        )
        for key in keys
        if key not in allowed_list
    ]
    if unknown:
        raise InputErrors.combine(unknown)


def duration_ms(value: object) -> int:
    """``parse_duration`` that also refuses NaN, infinity and numbers too big for a float.

    Every failure is a ``DurationError`` saying what is allowed.
    """
    try:
        return parse_duration(value)
    except DurationError:
        raise
    except (ValueError, OverflowError):  # nan, .inf, 1e400, a 400-digit integer
        raise DurationError(f"must be a duration like {EXAMPLES}, got {show(value)}") from None


def check_duration(
    val: Val, where: Where, field: str, *, low: int = 0, high: int = MAX_GAP_MS
) -> int:
    """A duration within ``low``..``high`` milliseconds."""
    here = where.at(val)
    try:
        ms = duration_ms(val.value)
    except DurationError as exc:
        raise here.error(str(exc), field=field) from None
    problem = Limit(low, high, "ms").problem(ms, show(val.value))
    if problem:
        raise here.error(problem, field=field)
    return ms


def check_int(val: Val, where: Where, field: str, *, low: int, high: int) -> int:
    """A whole number within ``low``..``high``."""
    here = where.at(val)
    value = _whole_number(val.value)
    if value is None:
        raise here.error(f"must be a whole number, got {show(val.value)}", field=field)
    problem = Limit(low, high).problem(value, show(value))
    if problem:
        raise here.error(problem, field=field)
    return value


def _whole_number(value: object) -> int | None:
    """An int, a float with no fraction (3.0), or a string of ASCII digits ("3"), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = value.strip() if isinstance(value, str) else ""
    if text.isascii() and text.isdigit() and len(text) < 20:
        return int(text)
    return None


def check_float(val: Val, where: Where, field: str, *, low: float, high: float) -> float:
    """A number within ``low``..``high``."""
    here = where.at(val)
    value = val.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise here.error(f"must be a number, got {show(value)}", field=field)
    if not low <= value <= high:  # also refuses NaN
        raise here.error(f"must be between {low} and {high}, got {show(value)}", field=field)
    return float(value)


def check_bool(val: Val, where: Where, field: str) -> bool:
    """true or false."""
    if not isinstance(val.value, bool):
        raise where.at(val).error(f"must be true or false, got {show(val.value)}", field=field)
    return val.value


def check_text(val: Val, where: Where, field: str, *, allow_empty: bool = True) -> str:
    """A string (numbers are accepted as their text), whitespace folded, length capped."""
    here = where.at(val)
    value = val.value
    if value is None and allow_empty:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = _number_text(value)
    if not isinstance(value, str):
        raise here.error(f"must be text, got {describe(value)}", field=field)
    text = " ".join(value.split())
    if not text and not allow_empty:
        raise here.error("must not be empty", field=field)
    if len(text) > MAX_TEXT_CHARS:
        raise here.error(
            f"is {len(text)} characters; a spoken text may be at most {MAX_TEXT_CHARS}",
            field=field,
        )
    return text


def _number_text(value: float) -> str | float:
    """A number as text ("45", "1.5"); the number itself when it is too long to print."""
    try:
        return str(value)
    except ValueError:
        return value


def check_choice(val: Val, where: Where, field: str, choices: Sequence[C]) -> C:
    """One of ``choices``."""
    options = list(choices)
    if not isinstance(val.value, str) or val.value not in options:
        hint = suggest(val.value, options) if isinstance(val.value, str) else ""
        raise where.at(val).error(
            f"must be one of {' | '.join(options)}, got {show(val.value)}{hint}", field=field
        )
    return options[options.index(val.value)]


def is_slug(text: str) -> bool:
    """True for a slug: ASCII lowercase letters, digits and dashes (``dead-bug``)."""
    return bool(text) and all(c in _SLUG_CHARS for c in text)


_SLUG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


def check_slug(val: Val, where: Where, field: str) -> str:
    """A slug like ``dead-bug``."""
    text = check_text(val, where, field, allow_empty=False)
    if not is_slug(text):
        raise where.at(val).error(
            f"must be a slug of lowercase letters a-z, digits and dashes like dead-bug, "
            f"got {show(text)}",
            field=field,
        )
    return text


def check_field(spec: FieldSpec, val: Val, where: Where, field: str | None = None) -> Any:
    """A value of one of the simple field types, checked against its ``FieldSpec``.

    ``field`` is how messages name it (``pacing.rest``); the spec's name by default.
    """
    name = field or spec.name
    low, high = (spec.limit.low, spec.limit.high) if spec.limit else (0, 0)
    match spec.type:
        case "text":
            return check_text(val, where, name, allow_empty=not spec.required)
        case "duration":
            return check_duration(val, where, name, low=int(low), high=int(high))
        case "whole":
            return check_int(val, where, name, low=int(low), high=int(high))
        case "number":
            return check_float(val, where, name, low=low, high=high)
        case "flag":
            return check_bool(val, where, name)
        case "choice":
            return check_choice(val, where, name, spec.choices)
        case "slug":
            return check_slug(val, where, name)
    raise TypeError(f"{spec.name} is a {spec.type} field, which has its own check")


def show(value: object) -> str:
    """A value quoted back to the user: text in double quotes, long values cut short."""
    try:
        text = f'"{value}"' if isinstance(value, str) else repr(value)
    except ValueError:  # an integer too long to print
        return "a number too large to show"
    if len(text) > MAX_SHOWN_CHARS:
        text = text[: MAX_SHOWN_CHARS - 5] + " ..." + text[-1]
    return text


def describe(value: object) -> str:
    """What a wrong value is: "a mapping", "a list", or the value itself."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple | set):
        return "a list"
    return show(value)
