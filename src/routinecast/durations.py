"""Durations as users write them (``45``, ``45s``, ``1m30s``, ``1 min 30 s``) <-> milliseconds.

A duration is a plain number of seconds, or one or more parts of a number and a unit:
``h``/``hr``/``hour(s)``, ``m``/``min(s)``/``minute(s)``, ``s``/``sec(s)``/``second(s)``,
``ms``/``millisecond(s)``, with or without spaces and in any case (``1m30s``,
``1 minute 30 seconds``, ``90 sec``, ``1.5 min``). ``DURATION_PATTERN`` is the same
grammar as an ECMA-262 regular expression, for the JSON Schema.

Also the spoken form used by cue templates (``seconds(90000)`` -> "1 minute 30").
"""

from __future__ import annotations

import math
import re

UNITS: dict[str, int] = {
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3_600_000),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60_000),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1000),
    **dict.fromkeys(("ms", "millisecond", "milliseconds"), 1),
}
"""Every unit word a duration may use, in milliseconds."""
EXAMPLES = "45, 45s, 1m, 1m30s, 90s, 40 seconds or 1 min 30 s"
"""What the error messages offer as examples: the compact and the spelt-out style."""

_SHOWN_CHARS = 60
_SPACE = r"[ \t\n\r\f\v]*"  # ASCII whitespace, spelt out so the schema pattern means the same
_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_WORDS = sorted(UNITS, key=len, reverse=True)  # longest first: "ms" before "m"
_PART = re.compile(rf"({_NUMBER}){_SPACE}({'|'.join(_WORDS)})", re.IGNORECASE | re.ASCII)
_WHOLE = re.compile(rf"{_SPACE}(?:{_PART.pattern}{_SPACE})+", re.IGNORECASE | re.ASCII)
_PLAIN = re.compile(rf"{_SPACE}{_NUMBER}{_SPACE}")


def _any_case(word: str) -> str:
    return "".join(f"[{c}{c.upper()}]" for c in word)


_ANY_CASE_UNIT = "|".join(_any_case(w) for w in _WORDS)
DURATION_GRAMMAR = (
    rf"{_SPACE}(?:{_NUMBER}|(?:{_NUMBER}{_SPACE}(?:{_ANY_CASE_UNIT}){_SPACE})+){_SPACE}"
)
"""``parse_duration``'s string grammar as an ECMA-262 regular expression, unanchored, for
patterns that contain durations (JSON Schema has no case-insensitive flag)."""
DURATION_PATTERN = f"^{DURATION_GRAMMAR}$"
"""A whole string that ``parse_duration`` reads (if its number is not too fine or huge)."""


class DurationError(ValueError):
    """The value is not a duration; the message says what is allowed."""


def parse_duration(value: object) -> int:
    """Milliseconds from a YAML value: a number (seconds) or a string like ``1m30s``.

    Raises ``DurationError`` for anything else, for negative, infinite or NaN values
    and for values that are not a whole number of milliseconds.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DurationError(f"must be a duration like {EXAMPLES}, got {_show(value)}")
    if isinstance(value, int | float):
        return _seconds_to_ms(value)
    if _PLAIN.fullmatch(value):
        return _seconds_to_ms(float(value))
    if not _WHOLE.fullmatch(value):
        raise DurationError(f"must be a duration like {EXAMPLES}, got {_show(value)}")
    total = sum(float(n) * UNITS[unit.lower()] for n, unit in _PART.findall(value))
    return _whole_ms(total, value)


def _seconds_to_ms(seconds: float) -> int:
    try:
        ms = float(seconds) * 1000
    except OverflowError:  # an integer too large for a float
        raise DurationError(f"must be a duration like {EXAMPLES}, got a huge number") from None
    if ms < 0:
        raise DurationError(f"must not be negative, got {_show(seconds)}")
    return _whole_ms(ms, seconds)


def _whole_ms(ms: float, original: object) -> int:
    if not math.isfinite(ms):
        raise DurationError(f"must be a duration like {EXAMPLES}, got {_show(original)}")
    rounded = round(ms)
    if abs(ms - rounded) > 1e-6:
        raise DurationError(f"must be a whole number of milliseconds, got {_show(original)}")
    return int(rounded)


def _show(value: object) -> str:
    """A value quoted back in a message, cut short when long."""
    try:
        text = f'"{value}"' if isinstance(value, str) else repr(value)
    except ValueError:  # an integer too long to print
        return "a number too large to show"
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 5] + " ..." + text[-1]


def format_duration(ms: int) -> str:
    """The compact written form: 45000 -> "45s", 90000 -> "1m30s", 1500 -> "1.5s"."""
    minutes, rest = divmod(ms, 60_000)
    secs = rest / 1000
    sec_text = f"{secs:g}s" if rest else ""
    if minutes:
        return f"{minutes}m{sec_text}"
    return sec_text or "0s"


def spoken_seconds(ms: int) -> str:
    """How a cue says a duration: "45 seconds", "1 minute", "1 minute 30", "2 minutes"."""
    total = round(ms / 1000)
    minutes, secs = divmod(total, 60)
    if not minutes:
        return "1 second" if secs == 1 else f"{secs} seconds"
    head = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"{head} {secs}" if secs else head


def clock(ms: int) -> str:
    """A timestamp for tables: 754321 -> "12:34.3"."""
    minutes, tenths = divmod(round(ms / 100), 600)
    return f"{minutes}:{tenths / 10:04.1f}"
