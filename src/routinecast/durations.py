"""Durations as users write them (``45``, ``45s``, ``1m30s``) <-> integer milliseconds.

Also the spoken form used by cue templates (``seconds(90000)`` -> "1 minute 30").
"""

from __future__ import annotations

import re

_UNIT_MS = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|h|m|s))+")
EXAMPLES = "45, 45s, 1m, 1m30s or 90s"


class DurationError(ValueError):
    """The value is not a duration; the message says what is allowed."""


def parse_duration(value: object) -> int:
    """Milliseconds from a YAML value: a number (seconds) or a string like ``1m30s``.

    Raises ``DurationError`` for anything else, for negative values and for values
    that are not a whole number of milliseconds.
    """
    if isinstance(value, bool) or value is None:
        raise DurationError(f"must be a duration like {EXAMPLES}, got {_show(value)}")
    if isinstance(value, int | float):
        return _seconds_to_ms(float(value), value)
    if not isinstance(value, str):
        raise DurationError(f"must be a duration like {EXAMPLES}, got {_show(value)}")
    text = value.strip().lower().replace(" ", "")
    try:
        return _seconds_to_ms(float(text), value)
    except ValueError:
        pass
    if not _WHOLE.fullmatch(text):
        raise DurationError(f"must be a duration like {EXAMPLES}, got {_show(value)}")
    total = 0.0
    for number, unit in _PART.findall(text):
        total += float(number) * _UNIT_MS[unit]
    return _whole_ms(total, value)


def _seconds_to_ms(seconds: float, original: object) -> int:
    if seconds < 0:
        raise DurationError(f"must not be negative, got {_show(original)}")
    return _whole_ms(seconds * 1000, original)


def _whole_ms(ms: float, original: object) -> int:
    rounded = round(ms)
    if abs(ms - rounded) > 1e-6 or ms != ms:
        raise DurationError(f"must be a whole number of milliseconds, got {_show(original)}")
    return int(rounded)


def _show(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


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
