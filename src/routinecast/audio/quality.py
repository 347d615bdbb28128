"""What a listener would notice, measured on a built file: loudness, peaks, clipping, clicks.

``measure(mp3, doc)`` decodes the MP3 and returns a ``Quality`` report; ``problems``
compares it with the targets (integrated loudness within 1 LU, true peak <= -1 dBTP,
no clipped samples, no jump at any tone or clip edge). Loudness and true peak come
from ``dsp.level`` (BS.1770, with pyloudnorm's K-weighting filters).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from routinecast.audio.decode import decode_audio
from routinecast.dsp.level import integrated_lufs, true_peak_dbtp

CLIP_LEVEL = 0.999
EDGE_US = 500
"""How close to an edge (microseconds) a jump counts as a click. Wider windows reach into
the sound itself: a 1320 Hz tone at -8 dBFS legitimately moves 0.15 per sample."""
CLICK_STEP = 0.02
"""Largest sample-to-sample jump allowed within ``EDGE_US`` of a tone or clip edge
(a cut without a fade jumps by the signal's level, 0.1 to 0.5 here)."""


@dataclass(frozen=True)
class Quality:
    """Measurements of one decoded file."""

    lufs: float
    true_peak_dbtp: float
    clipped: int
    worst_edge_step: float
    duration_ms: float


def edge_steps(samples: npt.NDArray[np.float32], doc: Mapping[str, Any], rate: int) -> float:
    """The largest jump found within ``EDGE_US`` of any event's start or end."""
    half = EDGE_US * rate // 1_000_000
    worst = 0.0
    for event in doc["events"]:
        for ms in (event["start_ms"], event["end_ms"]):
            at = ms * rate // 1000
            window = samples[max(0, at - half) : at + half + 1]
            if window.size > 1:
                worst = max(worst, float(np.max(np.abs(np.diff(window)))))
    return worst


def measure(mp3: Path, doc: Mapping[str, Any]) -> Quality:
    """Decode and measure."""
    rate = int(doc["sample_rate"])
    samples = decode_audio(mp3, rate)
    return Quality(
        lufs=integrated_lufs(samples, rate),
        true_peak_dbtp=true_peak_dbtp(samples, rate),
        clipped=int(np.count_nonzero(np.abs(samples) >= CLIP_LEVEL)),
        worst_edge_step=edge_steps(samples, doc, rate),
        duration_ms=len(samples) * 1000 / rate,
    )


def problems(quality: Quality, target_lufs: float = -16.0) -> list[str]:
    """What misses the targets (empty when the file is good)."""
    found = []
    if abs(quality.lufs - target_lufs) > 1.0:
        found.append(f"loudness {quality.lufs:.2f} LUFS, target {target_lufs:g} +/- 1")
    if quality.true_peak_dbtp > -1.0:
        found.append(f"true peak {quality.true_peak_dbtp:.2f} dBTP is above -1")
    if quality.clipped:
        found.append(f"{quality.clipped} clipped samples")
    if quality.worst_edge_step > CLICK_STEP:
        found.append(f"a jump of {quality.worst_edge_step:.3f} at a tone or clip edge (a click)")
    return found
