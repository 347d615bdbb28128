"""Durations: parsing, formatting, spoken form."""

from __future__ import annotations

import re

import pytest

from routinecast.durations import (
    DURATION_PATTERN,
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
        ("40 seconds", 40000),
        ("1 second", 1000),
        ("1 minute", 60000),
        ("2 minutes", 120000),
        ("1 min 30 s", 90000),
        ("1 minute 30 seconds", 90000),
        ("90 sec", 90000),
        ("90 secs", 90000),
        ("1 hour", 3_600_000),
        ("2 hrs 15 mins", 8_100_000),
        ("1.5 min", 90000),
        ("1 Min 30 S", 90000),
        ("250 milliseconds", 250),
        ("1h15m", 4_500_000),
    ],
)
def test_parse(value: object, ms: int) -> None:
    assert parse_duration(value) == ms


@pytest.mark.parametrize(
    "value",
    [
        "fast",
        "-5s",
        -1,
        "5x",
        "",
        None,
        True,
        [3],
        "1.00001s",
        "1m30",  # a number with its unit missing after another unit
        "1 minute and",
        "4 5s",
        "1e3",
        "nan",
        float("nan"),
        float("inf"),
        10**400,
        "9" * 400,
        "\u0664\u0665",  # Arabic-Indic digits
        "45\u017f",  # the long s, which case-folds to "s"
        "5 lightyears",
    ],
)
def test_parse_refuses(value: object) -> None:
    with pytest.raises(DurationError) as info:
        parse_duration(value)
    assert len(str(info.value)) < 200


def test_the_message_shows_both_styles() -> None:
    with pytest.raises(DurationError, match="like 45, 45s, 1m, 1m30s, 90s, 40 seconds or 1 min"):
        parse_duration("fast")


@pytest.mark.parametrize(
    "text",
    ["45", "45s", "1m30s", "40 seconds", "1 min 30 s", "90 SEC", " 1.5 min ", "1h 15m", "500ms"],
)
def test_schema_pattern_accepts_what_the_parser_accepts(text: str) -> None:
    parse_duration(text)
    assert re.search(DURATION_PATTERN, text)


@pytest.mark.parametrize("text", ["fast", "1m30", "-5s", "4 5s", "1e3", "5 lightyears", ""])
def test_schema_pattern_refuses_what_the_parser_refuses(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)
    assert not re.search(DURATION_PATTERN, text)


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
