"""The remembered master gain: measured once per mix, keyed by the clips' digests."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from routinecast.audio import mastering
from routinecast.timeline import Event, Timeline

SR = 22050
CLIP = (0.3 * np.sin(2 * np.pi * 220 * np.arange(SR) / SR)).astype(np.float32)
TIMELINE = Timeline(
    "t", "t.yaml", SR, 2000, {}, (Event("speech", 0, 1000, cue="cue", text="hello"),), (), ()
)


def digest(samples: np.ndarray[Any, Any]) -> dict[str, str]:
    return {"hello": hashlib.sha256(samples.tobytes()).hexdigest()}


def test_the_gain_is_measured_once_per_mix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    measured: list[float] = []
    real = mastering.master_gain_db

    def spy(*args: Any, **kwargs: Any) -> float:
        measured.append(real(*args, **kwargs))
        return measured[-1]

    monkeypatch.setattr(mastering, "master_gain_db", spy)
    clips = {"hello": CLIP}
    first = mastering.cached_master_gain(tmp_path, TIMELINE, clips, digest(CLIP), -16.0, -1.8)
    again = mastering.cached_master_gain(tmp_path, TIMELINE, clips, digest(CLIP), -16.0, -1.8)
    assert first == again and len(measured) == 1, "the second is read back, not measured"
    quieter = {"hello": CLIP / 2}
    other = mastering.cached_master_gain(tmp_path, TIMELINE, quieter, digest(CLIP / 2), -16.0, -1.8)
    assert len(measured) == 2 and other == pytest.approx(first + 20 * np.log10(2), abs=0.05)
