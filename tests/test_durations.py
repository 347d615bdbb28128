"""Durations: parsing, formatting, spoken form."""

from __future__ import annotations

import pytest

from routinecast.durations import (
    DurationError,
    clock,
    format_duration,
    parse_duration,
    spoken_seconds,
)


@pytest.mark.parametrize(
    ("value", "ms"),
    [
        (45, 45000),
        ("45", 45000),
        ("45s", 45000),
        ("1m", 60000),
        ("1m30s", 90000),
        ("90s", 90000),
        (1.5, 1500),
        ("500ms", 500),
        ("1h", 3_600_000),
        (" 2m ", 120000),
    ],
)
def test_parse(value: object, ms: int) -> None:
    assert parse_duration(value) == ms


@pytest.mark.parametrize("value", ["fast", "-5s", -1, "5x", "", None, True, [3], "1.00001s"])
def test_parse_refuses(value: object) -> None:
    with pytest.raises(DurationError):
        parse_duration(value)


def test_format_and_speak() -> None:
    assert format_duration(90000) == "1m30s"
    assert format_duration(1500) == "1.5s"
    assert format_duration(0) == "0s"
    assert spoken_seconds(45000) == "45 seconds"
    assert spoken_seconds(60000) == "1 minute"
    assert spoken_seconds(90000) == "1 minute 30"
    assert spoken_seconds(120000) == "2 minutes"
    assert spoken_seconds(1000) == "1 second"
    assert clock(754321) == "12:34.3"
    assert clock(779_980) == "13:00.0"
