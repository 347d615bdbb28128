"""The --fit solver."""

from __future__ import annotations

import pytest

from routinecast.errors import InputError
from routinecast.timing.fit import solve_scale


def linear(fixed: int, per_unit: int) -> object:
    return lambda scale: fixed + round(per_unit * scale / 100) * 100


def test_lands_within_half_a_second() -> None:
    total_at = linear(200_000, 540_000)
    scale = solve_scale(900_000, total_at)  # type: ignore[arg-type]
    assert abs(total_at(scale) - 900_000) <= 500  # type: ignore[operator]


def test_refuses_what_cannot_be_reached() -> None:
    with pytest.raises(InputError, match=r"cannot reach 2:00\.0") as info:
        solve_scale(120_000, linear(200_000, 540_000))  # type: ignore[arg-type]
    assert "--fit" in str(info.value)
    with pytest.raises(InputError, match="longest"):
        solve_scale(10 * 3_600_000, linear(200_000, 540_000))  # type: ignore[arg-type]


def test_works_with_steps_in_the_total() -> None:
    def stepped(scale: float) -> int:
        return 300_000 + 20 * (round(30_000 * scale / 100) * 100) + (5000 if scale > 1.3 else 0)

    scale = solve_scale(1_000_000, stepped)
    assert abs(stepped(scale) - 1_000_000) <= 1000
