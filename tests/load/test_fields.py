"""Field checks: each returns the clean value or an ``InputError`` saying what is allowed."""

from __future__ import annotations

import pytest

from routinecast.durations import DurationError
from routinecast.errors import InputError
from routinecast.load.fields import (
    MAX_SHOWN_CHARS,
    check_bool,
    check_choice,
    check_duration,
    check_float,
    check_int,
    check_keys,
    check_text,
    describe,
    duration_ms,
    show,
)
from routinecast.locations import Val, Where, suggest
from routinecast.model import MAX_TEXT_CHARS

WHERE = Where("r.yaml", 2, "step 3 (glute-bridge-march)")


def val(value: object, line: int = 14) -> Val:
    return Val(value, "r.yaml", line)


@pytest.mark.parametrize(
    ("raw", "ms"),
    [
        (45, 45_000),
        ("45", 45_000),
        ("45s", 45_000),
        ("1m", 60_000),
        ("1m30s", 90_000),
        ("90s", 90_000),
        (1.5, 1500),
        ("1.5s", 1500),
        ("500ms", 500),
        ("1h", 3_600_000),
        (" 2m ", 120_000),
        ("1M30S", 90_000),
        ("5 sec", 5000),
        ("1 min 30 s", 90_000),
        (0, 0),
    ],
)
def test_durations_as_users_write_them(raw: object, ms: int) -> None:
    assert check_duration(val(raw), WHERE, "tempo", high=10**9) == ms
    assert duration_ms(raw) == ms


@pytest.mark.parametrize(
    "raw",
    [
        "fast",
        "-5s",
        -5,
        "5 secs ago",
        "1m-30s",
        "",
        True,
        None,
        [1],
        {"a": 1},
        float("nan"),
        float("inf"),
        float("-inf"),
        10**400,
        "0.0001s",
    ],
)
def test_bad_durations(raw: object) -> None:
    with pytest.raises(InputError) as info:
        check_duration(val(raw), WHERE, "tempo")
    message = str(info.value)
    assert message.startswith("r.yaml:14: step 3 (glute-bridge-march): tempo must ")
    with pytest.raises(DurationError):
        duration_ms(raw)


def test_duration_bounds_say_the_limit() -> None:
    with pytest.raises(InputError, match=r'tempo must be at least 0.5s, got "0s"'):
        check_duration(val("0s"), WHERE, "tempo", low=500)
    with pytest.raises(InputError, match=r'hold must be at most 30m, got "10h"'):
        check_duration(val("10h"), WHERE, "hold", high=30 * 60_000)
    assert check_duration(val("30m"), WHERE, "hold", high=30 * 60_000) == 1_800_000


def test_value_line_wins_over_context_line() -> None:
    with pytest.raises(InputError) as info:
        check_duration(Val("x", "base.yaml", 9), WHERE, "hold")
    assert (info.value.file, info.value.line, info.value.where) == (
        "base.yaml",
        9,
        "step 3 (glute-bridge-march)",
    )


@pytest.mark.parametrize(("raw", "n"), [(3, 3), ("3", 3), (" 12 ", 12), (20, 20)])
def test_check_int(raw: object, n: int) -> None:
    assert check_int(val(raw), WHERE, "sets", low=1, high=20) == n


@pytest.mark.parametrize(
    ("raw", "phrase"),
    [
        ("three", 'must be a whole number, got "three"'),
        ([1], "must be a whole number, got [1]"),
        (True, "must be a whole number, got True"),
        (1.5, "must be a whole number, got 1.5"),
        ("\u00b2", "must be a whole number"),
        ("1" * 40, "must be a whole number"),
        (0, "must be between 1 and 20, got 0"),
        (10**30, "must be between 1 and 20"),
    ],
)
def test_check_int_refuses(raw: object, phrase: str) -> None:
    with pytest.raises(InputError, match="sets " + phrase.replace("[", r"\[").replace("]", r"\]")):
        check_int(val(raw), WHERE, "sets", low=1, high=20)


def test_check_float() -> None:
    assert check_float(val(1), WHERE, "voice.rate", low=0.5, high=2.0) == 1.0
    for bad in ("fast", True, float("nan"), 3.0):
        with pytest.raises(InputError, match=r"voice\.rate must be"):
            check_float(val(bad), WHERE, "voice.rate", low=0.5, high=2.0)


def test_check_bool() -> None:
    assert check_bool(val(False), WHERE, "pacing.halfway") is False
    with pytest.raises(InputError, match='must be true or false, got "yes please"'):
        check_bool(val("yes please"), WHERE, "pacing.halfway")


def test_check_text() -> None:
    assert check_text(val("  Stand   up\n tall. "), WHERE, "say") == "Stand up tall."
    assert check_text(val(45), WHERE, "say") == "45"
    assert check_text(val(None), WHERE, "say") == ""
    with pytest.raises(InputError, match="title must not be empty"):
        check_text(val("   "), WHERE, "title", allow_empty=False)
    with pytest.raises(InputError, match="title must be text, got a mapping"):
        check_text(val({"a": 1}), WHERE, "title")
    with pytest.raises(InputError, match="say must be text, got a list"):
        check_text(val([1]), WHERE, "say")
    with pytest.raises(InputError, match=f"may be at most {MAX_TEXT_CHARS}"):
        check_text(val("word " * 200), WHERE, "say")


def test_check_choice() -> None:
    assert check_choice(val("each"), WHERE, "sides", ("none", "each", "alternate")) == "each"
    with pytest.raises(InputError) as info:
        check_choice(val("eahc"), WHERE, "sides", ("none", "each", "alternate"))
    assert 'sides must be one of none | each | alternate, got "eahc" (did you mean "each"?)' in (
        str(info.value)
    )
    with pytest.raises(InputError, match=r"got \[1\]$"):
        check_choice(val([1]), WHERE, "sides", ("none", "each"))


def test_check_keys() -> None:
    lines = {"hodl": 6}.get
    check_keys(["hold"], ("hold", "reps"), WHERE, lines)
    with pytest.raises(InputError) as info:
        check_keys(["hold", "hodl"], ("hold", "reps"), WHERE, lines)
    assert str(info.value) == (
        'r.yaml:6: step 3 (glute-bridge-march): "hodl" is not a known field '
        '(did you mean "hold"?); allowed: hold, reps'
    )


def test_suggest() -> None:
    assert suggest("titel", ["title", "steps"]) == ' (did you mean "title"?)'
    assert suggest("zzz", ["title", "steps"]) == ""


def test_show_and_describe() -> None:
    assert show("fast") == '"fast"'
    assert show(3) == "3"
    long = show("x" * 500)
    assert len(long) == MAX_SHOWN_CHARS and long.endswith(' ..."')
    assert describe({"a": 1}) == "a mapping"
    assert describe([1]) == "a list"
    assert describe(None) == "None"


def test_show_survives_an_integer_too_long_to_print() -> None:
    assert show(10**5000) == "a number too large to show"
