"""``--fit``: find the scale of work and rest times that lands a routine on a length.

The total length grows with the scale but not proportionally (narration, switches
and transitions do not scale, and scaled times are rounded to 10 ms), so the
scale is found by bracketing and secant steps on ``total_at(scale)``, a pure
function the pipeline supplies (compile with the clip lengths it knows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from routinecast.durations import clock
from routinecast.errors import InputError
from routinecast.model import SCALE_RANGE, Routine
from routinecast.timeline import Sound
from routinecast.timing.compiler import compile_timeline
from routinecast.timing.script import build_script, spoken_texts

TOLERANCE_MS = 500
"""Aim well inside the promised second, so re-measured clip lengths still land."""
MAX_STEPS = 40


def solve_scale(target_ms: int, total_at: Callable[[float], int]) -> float:
    """The scale whose total is within ``TOLERANCE_MS`` of ``target_ms``."""
    low, high = SCALE_RANGE
    t_low, t_high = total_at(low), total_at(high)
    if target_ms < t_low - TOLERANCE_MS:
        raise _cannot(target_ms, "shortest", low, t_low)
    if target_ms > t_high + TOLERANCE_MS:
        raise _cannot(target_ms, "longest", high, t_high)
    best = min(((low, t_low), (high, t_high)), key=lambda p: abs(p[1] - target_ms))
    for _ in range(MAX_STEPS):
        if abs(best[1] - target_ms) <= TOLERANCE_MS:
            return best[0]
        guess = _secant(low, t_low, high, t_high, target_ms)
        total = total_at(guess)
        if abs(total - target_ms) < abs(best[1] - target_ms):
            best = (guess, total)
        if total < target_ms:
            low, t_low = guess, total
        else:
            high, t_high = guess, total
        if high - low < 1e-6:
            break
    if abs(best[1] - target_ms) <= 1000:
        return best[0]
    raise InputError(
        f"cannot land within a second of {clock(target_ms)}: the nearest is "
        f"{clock(best[1])} (the spoken words change with the times); "
        "try a slightly different length",
        field="--fit",
    )


def _secant(low: float, t_low: int, high: float, t_high: int, target: int) -> float:
    if t_high == t_low:
        return (low + high) / 2
    guess = low + (target - t_low) * (high - low) / (t_high - t_low)
    margin = (high - low) * 0.02
    return min(max(guess, low + margin), high - margin)


def _cannot(target_ms: int, which: str, scale: float, total: int) -> InputError:
    return InputError(
        f"cannot reach {clock(target_ms)}: even at the {which} scale (x{scale:g}) the routine "
        f"is {clock(total)} (narration, switches and transitions do not scale)",
        field="--fit",
    )


def fit_routine(
    at_scale: Callable[[float], Routine],
    target_ms: int,
    lengths_of: Callable[[list[str]], Mapping[str, int]],
    sounds: Mapping[str, Sound] | None = None,
) -> Routine:
    """The routine ``at_scale(scale)`` whose length is within a second of ``target_ms``.

    ``at_scale`` applies the user's overrides with a scale (the pipeline supplies it);
    ``lengths_of(texts)`` gives clip lengths in ms (measured, cached or estimated);
    ``sounds`` the user's sounds in place of tones, as ``compile_timeline`` takes them.
    """

    def total_at(scale: float) -> int:
        routine = at_scale(scale)
        texts = spoken_texts(build_script(routine))
        return compile_timeline(routine, lengths_of(texts), sounds=sounds).duration_ms

    return at_scale(solve_scale(target_ms, total_at))
