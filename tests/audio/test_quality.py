"""The listener checks: a cut without a fade is a click, a faded edge is not."""

from __future__ import annotations

import numpy as np

from routinecast.audio.quality import CLICK_STEP, Quality, edge_steps, problems

RATE = 22050


def _doc(start_ms: int, end_ms: int) -> dict[str, object]:
    return {"events": [{"kind": "speech", "start_ms": start_ms, "end_ms": end_ms}]}


def _signal(fade_ms: float) -> np.ndarray:
    x = np.zeros(RATE, dtype=np.float32)
    t = np.arange(RATE // 2) / RATE
    burst = 0.5 * np.sin(2 * np.pi * 300 * t + 1.0)
    n = int(fade_ms * RATE / 1000)
    if n:
        ramp = np.sin(np.linspace(0, np.pi / 2, n)) ** 2
        burst[:n] *= ramp
        burst[-n:] *= ramp[::-1]
    x[RATE // 4 : RATE // 4 + len(burst)] = burst
    return x


def test_an_unfaded_edge_is_a_click_and_a_faded_one_is_not() -> None:
    doc = _doc(250, 750)
    assert edge_steps(_signal(0), doc, RATE) > CLICK_STEP
    assert edge_steps(_signal(3), doc, RATE) < CLICK_STEP


def test_problems_name_what_misses() -> None:
    good = Quality(-16.2, -1.5, 0, 0.01, 1000.0)
    assert problems(good) == []
    bad = Quality(-18.0, -0.5, 3, 0.2, 1000.0)
    found = " ".join(problems(bad))
    assert "loudness" in found and "true peak" in found and "clipped" in found
    assert "click" in found
    assert problems(Quality(-14.2, -1.5, 0, 0.0, 1.0), target_lufs=-14.0) == []
