"""What the two listening tests share: words as said, one cue cut from an MP3, a build.

``test_intelligibility`` (a grammar recogniser) and ``test_heard`` (an open-vocabulary
one) both compare a spoken line with what a recogniser made of it, so both spell
numbers as words (``spoken_words``) and cut each cue from the decoded MP3 by its
timeline times (``cue_audio``).
"""

from __future__ import annotations

import re
from math import gcd
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

RATE_16K = 16_000
"""What both recognisers listen at."""

_ONES = [
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    *("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"),
    *("seventeen", "eighteen", "nineteen"),
]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """0 <= n < 1,000,000 in words, e.g. 45 -> 'forty five'."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = "" if n % 100 == 0 else " " + number_words(n % 100)
        return f"{_ONES[n // 100]} hundred{rest}"
    rest = "" if n % 1000 == 0 else " " + number_words(n % 1000)
    return f"{number_words(n // 1000)} thousand{rest}"


def spoken_words(text: str) -> list[str]:
    """Lowercase words: numbers spelled out, hyphens split, other punctuation gone."""
    text = re.sub(r"\d+", lambda m: f" {number_words(int(m.group()))} ", text.lower())
    text = re.sub(r"[^a-z' ]+", " ", text.replace("-", " "))
    words = (w.strip("'") for w in text.split())
    return [w for w in words if w]


def cue_audio(
    samples: npt.NDArray[np.float32], event: dict[str, Any], rate: int, pad_ms: int
) -> npt.NDArray[np.float32]:
    """One speech event with ``pad_ms`` either side, resampled to 16 kHz.

    22050 Hz -> 16 kHz is ``resample_poly(x, 320, 441)`` (160/441 would give 8 kHz).
    """
    from scipy.signal import resample_poly

    lo = max(0, (event["start_ms"] - pad_ms) * rate // 1000)
    hi = min(len(samples), (event["end_ms"] + pad_ms) * rate // 1000)
    common = gcd(RATE_16K, rate)
    resampled = resample_poly(samples[lo:hi], RATE_16K // common, rate // common)
    return np.asarray(resampled, dtype=np.float32)


def build(routine: Path, output: Path, engine: str | None = None) -> tuple[Path, Path]:
    """Build ``routine`` for real (MP3, timeline paths)."""
    from routinecast import pipeline

    built = pipeline.build(routine, pipeline.BuildOptions(output_dir=output, engine=engine))
    return built.mp3, built.timeline_path
