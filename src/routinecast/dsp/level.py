"""Loudness measurement and levelling of speech clips.

* ``integrated_lufs``: ITU-R BS.1770 integrated loudness via pyloudnorm.  Clips
  shorter than one 400 ms gating block are padded with trailing silence first, so
  a short word reads as its loudness over 400 ms.  Silence reads ``-inf``.
* ``true_peak_dbtp``: peak of the 4x oversampled signal (``resample_poly``).
* ``level_clip``: gain a clip to a target loudness (default -16 LUFS), then run a
  smooth look-ahead peak limiter so the true peak stays <= the ceiling (default
  -2 dBTP), re-measure and re-gain (at most 3 times) until the clip is within
  0.3 LU of target.  Edges get a 3 ms raised-cosine fade so a clip never starts or
  ends with a jump.
* ``max_step``: largest sample-to-sample difference, the click check.

The limiter works on the required gain reduction in dB, computed per sample of the
4x oversampled signal, ``need = max(0, peak_db - ceiling_db)``.  That is spread
by a running maximum over a 5 ms window centred on each sample plus a 10 ms hold
after it (the hold spans one pitch period of a low male voice, so the gain does
not ripple at the voice's fundamental).  Then it decays exponentially (release
time constant 60 ms) and is smoothed by two 2.5 ms moving averages, which give
an S-shaped attack of about 3 ms (10-90 %) that starts before the peak (look-ahead).
Each moving average only averages values that are at least the reduction needed
at its centre, so the smoothed envelope never falls below what any peak requires:
no hard clipping.  The limiter aims 0.1 dB under the ceiling (``MARGIN_DB``), so
levelled clips measure -2.1 dBTP.  Piper speech (0 dBFS peaks at about -19 to
-20 LUFS) gets up to about 6.5 dB of smooth peak reduction on its loudest syllables.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["integrated_lufs", "level_clip", "max_step", "true_peak_dbtp"]

FloatArray = NDArray[np.float64]

OVERSAMPLE = 4
"""True-peak oversampling factor."""
SILENCE_LUFS = -70.0
"""Clips at or below this loudness (the BS.1770 absolute gate) are left alone."""
BLOCK_S = 0.4
"""BS.1770 gating block; shorter clips are padded to this length to be measured."""
TOLERANCE_LU = 0.3
"""level_clip's result is within this many LU of the target."""
AIM_LU = 0.05
"""level_clip stops re-gaining once this close (it keeps the best of its rounds)."""
MAX_REGAINS = 3
"""Re-measure-and-re-gain rounds after the first limiter pass."""
EDGE_FADE_MS = 3.0
LOOKAHEAD_MS = 5.0
HOLD_MS = 10.0
RELEASE_MS = 60.0
MARGIN_DB = 0.1
"""The limiter aims this far under the ceiling to absorb inter-sample overshoot."""


@functools.cache
def _meter(sample_rate: int) -> Any:
    import pyloudnorm as pyln  # scipy.signal costs ~1 s to import: only when measuring

    return pyln.Meter(sample_rate)


def _as_float64(samples: ArrayLike) -> FloatArray:
    return np.asarray(samples, dtype=np.float64).reshape(-1)


def integrated_lufs(samples: ArrayLike, sample_rate: int) -> float:
    """BS.1770 integrated loudness in LUFS; ``-inf`` for silence or an empty clip."""
    x = _as_float64(samples)
    if not np.any(x):
        return -math.inf
    short = math.ceil(BLOCK_S * sample_rate) - x.size
    if short > 0:
        x = np.pad(x, (0, short))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        lufs = float(_meter(sample_rate).integrated_loudness(x))
    return lufs if math.isfinite(lufs) else -math.inf


def _oversample(x: FloatArray) -> FloatArray:
    from scipy.signal import resample_poly

    return np.asarray(resample_poly(x, OVERSAMPLE, 1), dtype=np.float64)


def true_peak_dbtp(samples: ArrayLike, sample_rate: int) -> float:
    """True peak in dBTP: max of the sample peak and the 4x oversampled peak.

    ``sample_rate`` does not change the result (oversampling is relative); it is
    taken so every level function has the same signature.
    """
    del sample_rate
    x = _as_float64(samples)
    if x.size == 0:
        return -math.inf
    peak = max(float(np.max(np.abs(x))), float(np.max(np.abs(_oversample(x)))))
    return 20.0 * math.log10(peak) if peak > 0.0 else -math.inf


def max_step(samples: ArrayLike) -> float:
    """Largest absolute difference between neighbouring samples (0 for < 2 samples)."""
    x = _as_float64(samples)
    return float(np.max(np.abs(np.diff(x)))) if x.size > 1 else 0.0


def _ms(ms: float, rate: int) -> int:
    return max(1, round(ms * rate / 1000))


def _edge_fade(x: FloatArray, sample_rate: int) -> FloatArray:
    """Raised-cosine fade-in and fade-out of EDGE_FADE_MS; end samples become 0."""
    n = min(x.size // 2, _ms(EDGE_FADE_MS, sample_rate))
    if n == 0:
        return np.zeros_like(x)
    ramp = 0.5 * (1.0 - np.cos(np.pi * np.arange(n) / n))
    y = x.copy()
    y[:n] *= ramp
    y[-n:] *= ramp[::-1]
    return y


def _release(held_db: FloatArray, rate: int) -> FloatArray:
    """r[n] = max over k <= n of held[k] * exp(-(n - k) / tau), vectorised in log space."""
    tau = RELEASE_MS * rate / 1000
    ramp = np.arange(held_db.size) / tau
    with np.errstate(divide="ignore"):
        log_held = np.log(held_db)
    return np.asarray(np.exp(np.maximum.accumulate(log_held + ramp) - ramp), dtype=np.float64)


def _reduction_envelope(need_db: FloatArray, rate: int) -> FloatArray:
    """Smooth gain reduction (dB) that is >= need_db at every sample."""
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    half = _ms(LOOKAHEAD_MS / 2, rate)
    box = half // 2
    hold = 2 * (_ms(HOLD_MS, rate) // 2)
    held = maximum_filter1d(need_db, size=2 * half + hold + 1, origin=hold // 2, mode="constant")
    smooth = _release(held, rate)
    for _ in range(2):
        smooth = uniform_filter1d(smooth, size=2 * box + 1, mode="nearest")
    return smooth


def _limit(x: FloatArray, sample_rate: int, ceiling_dbtp: float) -> FloatArray:
    """Smooth look-ahead limiter: scale x so its 4x oversampled peak <= ceiling."""
    from scipy.ndimage import maximum_filter1d

    with np.errstate(divide="ignore"):
        level_db = 20.0 * np.log10(np.abs(_oversample(x)))
    need_db = np.maximum(level_db - ceiling_dbtp, 0.0)
    if not np.any(need_db):
        return x
    reduction = _reduction_envelope(need_db, sample_rate * OVERSAMPLE)
    per_sample: FloatArray = maximum_filter1d(reduction, size=2 * OVERSAMPLE + 1)[::OVERSAMPLE]
    return x * 10.0 ** (-per_sample[: x.size] / 20.0)


def _gained(x: FloatArray, gain_db: float) -> FloatArray:
    import pyloudnorm as pyln

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyloudnorm warns about "clipping" above 1.0
        return np.asarray(pyln.normalize.loudness(x, 0.0, gain_db), dtype=np.float64)


def _render(x: FloatArray, sample_rate: int, gain_db: float, ceiling: float) -> FloatArray:
    """Gain, limit, and if inter-sample overshoot remains, trim statically to the ceiling."""
    y = _limit(_gained(x, gain_db), sample_rate, ceiling - MARGIN_DB)
    over = true_peak_dbtp(y, sample_rate) - ceiling
    return y * 10.0 ** (-(over + MARGIN_DB) / 20.0) if over > 0.0 else y


def _next_gain(tried: list[tuple[float, float]], target: float) -> float:
    """Secant step on (gain_db, loudness) pairs; limiting makes the slope <= 1."""
    gain, lufs = tried[-1]
    if len(tried) < 2:
        return gain + target - lufs
    prev_gain, prev_lufs = tried[-2]
    slope = (lufs - prev_lufs) / (gain - prev_gain) if gain != prev_gain else 1.0
    return gain + (target - lufs) / min(max(slope, 0.25), 1.0)


def level_clip(
    samples: ArrayLike,
    sample_rate: int,
    target_lufs: float = -16.0,
    ceiling_dbtp: float = -2.0,
) -> NDArray[np.float32]:
    """Level a mono clip to ``target_lufs`` with true peak <= ``ceiling_dbtp``.

    Returns float32 of the same length.  Silent or near-silent input (at or below
    -70 LUFS) comes back unchanged.  If the target cannot be reached within the
    re-gain rounds, the closest attempt is returned; the ceiling always holds.
    """
    source = np.array(samples, dtype=np.float32).reshape(-1)
    x = _edge_fade(source.astype(np.float64), sample_rate)
    lufs = integrated_lufs(x, sample_rate)
    if not lufs > SILENCE_LUFS:
        return source
    tried: list[tuple[float, float]] = [(0.0, lufs)]
    best, best_error = x, math.inf
    for _ in range(1 + MAX_REGAINS):
        gain_db = _next_gain(tried, target_lufs)
        y = _render(x, sample_rate, gain_db, ceiling_dbtp)
        tried.append((gain_db, integrated_lufs(y, sample_rate)))
        error = abs(tried[-1][1] - target_lufs)
        if error < best_error:
            best, best_error = y, error
        if error <= AIM_LU:
            break
    return best.astype(np.float32)


BAND_LIMIT_HZ = 8000
"""The MP3 encoder low-passes 22.05 kHz mono near 8.5-9 kHz; clips are band-limited
below that first, so loudness and true peak measured here survive encoding."""


@functools.cache
def _lowpass(sample_rate: int, cutoff_hz: int) -> Any:
    from scipy.signal import butter

    return butter(8, cutoff_hz, btype="low", fs=sample_rate, output="sos")


def band_limit(
    samples: ArrayLike, sample_rate: int, cutoff_hz: int = BAND_LIMIT_HZ
) -> NDArray[np.float32]:
    """Zero-phase low-pass (no timing shift) at ``cutoff_hz``."""
    from scipy.signal import sosfiltfilt

    x = np.asarray(samples, dtype=np.float64)
    if x.size < 64:
        return x.astype(np.float32)
    out: NDArray[np.float32] = sosfiltfilt(_lowpass(sample_rate, cutoff_hz), x).astype(np.float32)
    return out


def preload() -> None:
    """Import the measuring libraries now (~0.8 s); run in a thread while a voice loads."""
    import pyloudnorm  # noqa: F401
    import scipy.ndimage
    import scipy.signal  # noqa: F401
