"""Field-level validation shared by the loader and build-time overrides.

A ``Val`` is one YAML value with the file and line it came from, so a message about
it can name both even after ``extends``, ``override`` or ``--set`` moved it around.
Each ``check_*`` returns the clean value or raises ``InputError`` saying what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from routinecast.durations import EXAMPLES, DurationError, parse_duration
from routinecast.locations import Val, Where, suggest
from routinecast.model import MAX_GAP_MS, MAX_TEXT_CHARS

MAX_SHOWN_CHARS = 60
"""Values quoted back in messages are cut to this length."""


def check_keys(keys: Iterable[str], allowed: Iterable[str], where: Where, lines: Any) -> None:
    """Refuse unknown fields, with a did-you-mean and the allowed list."""
    allowed_list = sorted(allowed)
    for key in keys:
        if key not in allowed_list:
            line = lines(key) if callable(lines) else where.line
            raise where.error(
                f"is not a known field{suggest(key, allowed_list)}; allowed: "
                + ", ".join(allowed_list),
                field=show(key),
                line=line,
            )


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
    if ms < low:
        raise here.error(f"must be at least {_dur(low)}, got {show(val.value)}", field=field)
    if ms > high:
        raise here.error(f"must be at most {_dur(high)}, got {show(val.value)}", field=field)
    return ms


def check_int(val: Val, where: Where, field: str, *, low: int, high: int) -> int:
    """A whole number within ``low``..``high``."""
    here = where.at(val)
    value = _whole_number(val.value)
    if value is None:
        raise here.error(f"must be a whole number, got {show(val.value)}", field=field)
    if not low <= value <= high:
        raise here.error(f"must be between {low} and {high}, got {show(value)}", field=field)
    return value


def _whole_number(value: object) -> int | None:
    """An int, or a string of ASCII digits ("3"), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
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
    if not low <= value <= high:
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


def check_choice(val: Val, where: Where, field: str, choices: Iterable[str]) -> str:
    """One of ``choices``."""
    options = list(choices)
    if not isinstance(val.value, str) or val.value not in options:
        hint = suggest(val.value, options) if isinstance(val.value, str) else ""
        raise where.at(val).error(
            f"must be one of {' | '.join(options)}, got {show(val.value)}{hint}", field=field
        )
    return str(val.value)


def _dur(ms: int) -> str:
    from routinecast.durations import format_duration

    return format_duration(ms)


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
