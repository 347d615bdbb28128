"""Loudness measurement and levelling of speech clips.

* ``integrated_lufs``: ITU-R BS.1770 integrated loudness (pyloudnorm's filters, vectorised).  Clips
  shorter than one 400 ms gating block are padded with trailing silence first, so
  a short word reads as its loudness over 400 ms.  Silence reads ``-inf``.
* ``true_peak_dbtp``: peak of the 4x oversampled signal (``resample_poly``).

Every filter is ``dsp.filters``, numpy alone: scipy's signal and ndimage packages took
about a second to import in every process that levelled or measured a clip.
* ``level_clip``: gain a clip to a target loudness (default -16 LUFS), then run a
  smooth look-ahead peak limiter so the true peak stays <= the ceiling (default
  -2 dBTP), re-measure and re-gain (at most 3 times) until the clip is within
  0.05 LU of target (``_next_gain``, since level-v4). On the 63 lines of
  ``desk-hip-reset`` that takes 3.2 rounds a line with eSpeak and 3.5 with piper; 8 and
  27 lines stay more than 0.05 LU off, 1 and 16 beyond 0.3 LU: short words measured
  over a padded 400 ms block, up to 1.8 and 2.8 LU under (level-v4, every round at
  the full rate: 7 and 26, 1 and 15). Edges get a 5 ms raised-cosine fade so a clip
  never starts or ends with a jump.
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

Speed (level-v5): a re-gain round only scales, so the clip is oversampled once
(``_Peaks``) and K-weighted once (``_Weighted``), and the rounds work on groups of
``GROUP`` samples. Each group keeps the largest oversampled point within half a sample
of any of its samples; a round computes the envelope from those at 1/8 of the rate,
takes each group's reduction as the largest of it and its neighbours, and interpolates
between group centres only for the chosen round, so no sample gets less reduction
than its own peak needs. A round's true peak is estimated from the group peaks times
the largest gain around them, and its loudness (BS.1770 blocks and gates, pyloudnorm's
filters) from each group's K-weighted energy times the group's gain squared: within
0.002 LU of measuring the interpolated result. Only the chosen round's true peak is
measured by oversampling again; a trim follows if the estimate missed. On the 63 lines
of ``desk-hip-reset`` levelling takes 0.53 s of one core with eSpeak (level-v4, every
round at the full rate: 1.27 s), with the same lines off target within one.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from routinecast import SAMPLE_RATE
from routinecast.dsp import filters
from routinecast.dsp.constants import BAND_LIMIT_HZ

__all__ = [
    "BAND_LIMIT_HZ",
    "gated_lufs",
    "integrated_lufs",
    "level_clip",
    "max_step",
    "true_peak_dbtp",
]

FloatArray = NDArray[np.float64]

OVERSAMPLE = 4
"""True-peak oversampling factor."""
SILENCE_LUFS = -70.0
"""Clips at or below this loudness (the BS.1770 absolute gate) are left alone."""
BLOCK_S = 0.4
"""BS.1770 gating block; shorter clips are padded to this length to be measured."""
TOLERANCE_LU = 0.3
"""level_clip's result is within this many LU of the target, for a line of a second or
more (a shorter word, measured over a padded 400 ms block, may stay quieter)."""
AIM_LU = 0.05
"""level_clip's result is this close to the target when its rounds get there (it keeps
the best of its rounds)."""
ESTIMATE_LU = 0.002
"""A round's loudness from group energies is within this of the clip's measured
(``tests/dsp/test_level.py``), so the rounds stop this much inside ``AIM_LU``: stopping
at ``AIM_LU`` itself (level-v5) left a line 0.0502 LU off once measured (level-v6)."""
MAX_REGAINS = 3
"""Re-measure-and-re-gain rounds after the first limiter pass."""
FIRST_LOSS_LU = 2.0
"""What the limiter takes from the loudness in the first round, allowed for in advance:
measured, 1.6 to 2.6 LU on both voices' lines."""
FIRST_SLOPE = 0.25
"""LU gained per dB in the second round when the first fell short (heavy limiting)."""
MIN_SLOPE = 0.15
"""The smallest slope a secant step assumes: at most 1 / 0.15 dB per LU still missing."""
MAX_EXTRA_DB = 20.0
"""No gain goes this far past what the clip would need unlimited: the loudness hardly
rises beyond it (a short word under a 400 ms block), and the sound would pump."""
EDGE_FADE_MS = 5.0
"""The raised-cosine fade at both ends of a clip (level-v4; 3 ms before). A line that
opens on a sibilant ("Sit back down...") still jumped by 0.032 within 0.5 ms of its start
once encoded under 3 ms, over the 0.02 ``audio.quality`` counts as a click."""
LOOKAHEAD_MS = 5.0
HOLD_MS = 10.0
RELEASE_MS = 60.0
MARGIN_DB = 0.1
"""The limiter aims this far under the ceiling to absorb inter-sample overshoot."""
GROUP = 8
"""Re-gain rounds work on groups of this many samples (0.36 ms at 22.05 kHz; level-v5):
each group's oversampled peak, the limiter's envelope at 1/8 of the rate, the loudness
from each group's K-weighted energy. The chosen round's gain is then interpolated to
every sample."""


def _block_bounds(size: int, sample_rate: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """First and past-last sample of every 400 ms block, 100 ms apart, in ``size`` samples,
    bounded exactly as pyloudnorm does."""
    count = int(np.round((size / sample_rate - BLOCK_S) / (BLOCK_S * 0.25))) + 1
    j = np.arange(count)
    lower = np.clip((BLOCK_S * (j * 0.25) * sample_rate).astype(np.int64), 0, size)
    upper = np.clip((BLOCK_S * (j * 0.25 + 1) * sample_rate).astype(np.int64), 0, size)
    return lower, upper


def _block_powers(power: FloatArray, sample_rate: int) -> FloatArray:
    """Mean square of every 400 ms block (``_block_bounds``)."""
    lower, upper = _block_bounds(power.size, sample_rate)
    total = np.concatenate([[0.0], np.cumsum(power)])
    return np.asarray((total[upper] - total[lower]) / (BLOCK_S * sample_rate), dtype=np.float64)


def _group_sums(values: FloatArray) -> FloatArray:
    """Sums of consecutive ``GROUP`` values (the last group padded with zeros)."""
    count = -(-values.size // GROUP)
    padded = np.zeros(count * GROUP)
    padded[: values.size] = values
    return np.asarray(padded.reshape(count, GROUP).sum(axis=1), dtype=np.float64)


def _grouped_block_powers(energy: FloatArray, size: int, sample_rate: int) -> FloatArray:
    """``_block_powers`` of ``size`` samples known only as group energies."""
    lower, upper = _block_bounds(size, sample_rate)
    total = np.concatenate([[0.0], np.cumsum(energy), [0.0]])
    per_sample = np.concatenate([energy, [0.0]]) / GROUP

    def before(n: NDArray[np.int64]) -> FloatArray:
        group = n // GROUP
        return np.asarray(total[group] + (n - group * GROUP) * per_sample[group])

    return np.asarray((before(upper) - before(lower)) / (BLOCK_S * sample_rate), np.float64)


def gated_lufs(z: FloatArray) -> float:
    """BS.1770 gating of block mean squares: -70 LUFS absolute, then -10 LU relative."""
    with np.errstate(divide="ignore"):
        loudness = -0.691 + 10.0 * np.log10(z)
    above = z[loudness >= SILENCE_LUFS]
    if above.size == 0:
        return -math.inf
    relative = -0.691 + 10.0 * math.log10(float(np.mean(above))) - 10.0
    gated = z[(loudness > relative) & (loudness > SILENCE_LUFS)]
    mean = float(np.mean(gated)) if gated.size else 0.0
    return -0.691 + 10.0 * math.log10(mean) if mean > 0.0 else -math.inf


def _as_float64(samples: ArrayLike) -> FloatArray:
    return np.asarray(samples, dtype=np.float64).reshape(-1)


class _Weighted:
    """A clip's K-weighted signal (padded to one gating block), filtered once for
    ``integrated_lufs`` and for every re-gain round.

    The gain a round applies moves over milliseconds, slowly beside the K-weighting
    filters, so filtering ``x * gain`` is ``gain`` times the filtered ``x``: measured on
    piper speech limited by up to 7.5 dB, the loudness agrees to 0.0001 LU. A round
    then measures with one multiply instead of filtering again.
    """

    def __init__(self, x: FloatArray, sample_rate: int) -> None:
        self.rate = sample_rate
        self.size = x.size
        padded = np.pad(x, (0, max(0, math.ceil(BLOCK_S * sample_rate) - x.size)))
        sos, scale = filters.k_weighting(sample_rate)
        self.weighted = scale * filters.sosfilt(sos, padded)[0]
        self._energy: FloatArray | None = None

    def lufs(self, gains: FloatArray | None = None) -> float:
        """Integrated loudness of the clip times ``gains`` (the clip itself if None)."""
        with np.errstate(all="ignore"):
            lufs = gated_lufs(_block_powers(self._power(gains), self.rate))
        return lufs if math.isfinite(lufs) else -math.inf

    def _power(self, gains: FloatArray | None) -> FloatArray:
        if gains is None:
            return np.square(self.weighted)
        extended = np.pad(gains, (0, self.weighted.size - self.size), mode="edge")
        return np.asarray(np.square(self.weighted * extended), dtype=np.float64)

    def grouped_lufs(self, factors: FloatArray) -> float:
        """Integrated loudness with the gain ``factors`` of each ``GROUP`` of samples
        (a re-gain round): blocks summed from group energies, each group's energy
        spread evenly across it where a block bound cuts it."""
        energy = self._group_energy()
        gains = np.pad(factors, (0, energy.size - factors.size), mode="edge")
        with np.errstate(all="ignore"):
            z = _grouped_block_powers(energy * np.square(gains), self.weighted.size, self.rate)
            lufs = gated_lufs(z)
        return lufs if math.isfinite(lufs) else -math.inf

    def _group_energy(self) -> FloatArray:
        if self._energy is None:
            self._energy = _group_sums(np.square(self.weighted))
        return self._energy


def integrated_lufs(samples: ArrayLike, sample_rate: int) -> float:
    """BS.1770 integrated loudness in LUFS; ``-inf`` for silence or an empty clip."""
    x = _as_float64(samples)
    if not np.any(x):
        return -math.inf
    return _Weighted(x, sample_rate).lufs()


def _oversample(x: FloatArray) -> FloatArray:
    return filters.resample_poly(x, OVERSAMPLE, 1)


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


def _ms(ms: float, rate: float) -> int:
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


def _release(held_db: FloatArray, rate: float) -> FloatArray:
    """r[n] = max over k <= n of held[k] * exp(-(n - k) / tau), vectorised in log space."""
    tau = RELEASE_MS * rate / 1000
    ramp = np.arange(held_db.size) / tau
    with np.errstate(divide="ignore"):
        log_held = np.log(held_db)
    return np.asarray(np.exp(np.maximum.accumulate(log_held + ramp) - ramp), dtype=np.float64)


def _reduction_envelope(need_db: FloatArray, rate: float) -> FloatArray:
    """Smooth gain reduction (dB) that is >= need_db at every point (``rate`` per second)."""
    half = _ms(LOOKAHEAD_MS / 2, rate)
    box = half // 2
    hold = 2 * (_ms(HOLD_MS, rate) // 2)
    held = filters.maximum_filter1d(
        need_db, size=2 * half + hold + 1, origin=hold // 2, mode="constant"
    )
    smooth = _release(held, rate)
    for _ in range(2):
        smooth = filters.uniform_filter1d(smooth, size=2 * box + 1, mode="nearest")
    return smooth


class _Peaks:
    """A clip's 4x oversampled peak in every ``GROUP`` of samples (the largest
    oversampled point within half a sample of any of them), computed once for every
    re-gain round."""

    def __init__(self, x: FloatArray) -> None:
        up = np.abs(_oversample(x))
        count, width, lead = -(-x.size // GROUP), GROUP * OVERSAMPLE, OVERSAMPLE // 2
        padded = np.zeros(count * width + 1)  # padded[k] = up[k - lead]
        padded[lead : lead + up.size] = up[: padded.size - lead]
        rows = padded[: count * width].reshape(count, width).max(axis=1)
        self.linear = np.maximum(rows, padded[width::width])
        with np.errstate(divide="ignore"):
            self.db = 20.0 * np.log10(self.linear)


def _reduction(peaks: _Peaks, sample_rate: int, gain_db: float, ceiling: float) -> FloatArray:
    """Smooth gain reduction (dB) per group keeping the gained clip's peaks <= ``ceiling``,
    taken as the largest of each group and its neighbours: a gain interpolated between
    group centres then never reduces less than any sample needs."""
    need_db = np.maximum(peaks.db + gain_db - ceiling, 0.0)
    if not np.any(need_db):
        return np.zeros_like(need_db)
    envelope = _reduction_envelope(need_db, sample_rate / GROUP)
    return filters.maximum_filter1d(envelope, size=3, mode="nearest")


def _peak_estimate(peaks: _Peaks, gain_db: float, factor: FloatArray) -> float:
    """True peak (dBTP) of the gained, limited clip: each group's oversampled peak times
    the largest gain around it (the interpolated gain within a group lies between its
    neighbours')."""
    near = filters.maximum_filter1d(factor, size=3, mode="nearest")
    peak = float(np.max(peaks.linear * near)) * 10.0 ** (gain_db / 20.0)
    return 20.0 * math.log10(peak) if peak > 0.0 else -math.inf


def _round(peaks: _Peaks, sample_rate: int, gain_db: float, ceiling: float) -> FloatArray:
    """One round's gain per group: ``gain_db``, limited, and if the estimated true peak
    is still over the ceiling, trimmed statically to it."""
    reduction = _reduction(peaks, sample_rate, gain_db, ceiling - MARGIN_DB)
    factor: FloatArray = np.power(10.0, -reduction / 20.0)
    over = _peak_estimate(peaks, gain_db, factor) - ceiling
    trim = -(over + MARGIN_DB) if over > 0.0 else 0.0
    return np.asarray(factor * 10.0 ** ((gain_db + trim) / 20.0), dtype=np.float64)


def _per_sample(factors: FloatArray, size: int) -> FloatArray:
    """Group gains interpolated to every sample, between the groups' centres."""
    centres = np.arange(factors.size) * GROUP + (GROUP - 1) / 2
    return np.interp(np.arange(size), centres, factors)


def _under_ceiling(y: FloatArray, sample_rate: int, ceiling: float) -> FloatArray:
    """The true peak measured at last: trim if the estimate missed."""
    over = true_peak_dbtp(y, sample_rate) - ceiling
    return y * 10.0 ** (-(over + MARGIN_DB) / 20.0) if over > 0.0 else y


def _next_gain(tried: list[tuple[float, float]], target: float, onset: float) -> float:
    """The next gain (dB) to try, from the (gain, loudness) pairs so far.

    ``tried[0]`` is the clip as it is. The first round allows for what limiting will take:
    ``FIRST_LOSS_LU``, but never more than the gain goes past ``onset``, the gain at which
    the limiter starts (so a clip that needs none lands in one round). Once rounds lie
    on both sides of the target, the next interpolates between the nearest two (the
    loudness rises with the gain). Until then, the second round assumes ``FIRST_SLOPE``
    when short (heavy limiting) and 1 when over; later ones the secant of the last two,
    both limited (the chord from the clip as it is overstates the slope). No gain goes
    more than ``MAX_EXTRA_DB`` past the unlimited one.
    """
    wanted = tried[0][0] + target - tried[0][1]
    if len(tried) == 1:
        return wanted + min(FIRST_LOSS_LU, max(wanted - onset, 0.0))
    rounds = tried[1:]
    below = [pair for pair in rounds if pair[1] < target]
    above = [pair for pair in rounds if pair[1] >= target]
    if below and above and min(above)[0] > max(below)[0]:
        (low, low_lufs), (high, high_lufs) = max(below), min(above)
        return low + (target - low_lufs) * (high - low) / (high_lufs - low_lufs)
    gain, lufs = tried[-1]
    if len(tried) == 2:
        slope = FIRST_SLOPE if lufs < target else 1.0
    else:
        prev_gain, prev_lufs = tried[-2]
        slope = (lufs - prev_lufs) / (gain - prev_gain) if gain != prev_gain else FIRST_SLOPE
    step = (target - lufs) / min(max(slope, MIN_SLOPE), 1.0)
    return min(gain + step, wanted + MAX_EXTRA_DB)


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
    if not np.any(x):
        return source
    weighted = _Weighted(x, sample_rate)
    lufs = weighted.lufs()
    if not lufs > SILENCE_LUFS:
        return source
    peaks = _Peaks(x)
    onset = ceiling_dbtp - MARGIN_DB - float(np.max(peaks.db))
    tried: list[tuple[float, float]] = [(0.0, lufs)]
    best, best_error = np.ones_like(peaks.db), math.inf
    for _ in range(1 + MAX_REGAINS):
        gain_db = _next_gain(tried, target_lufs, onset)
        if len(tried) > 1 and gain_db == tried[-1][0]:
            break  # held at MAX_EXTRA_DB: another round would return the same
        factors = _round(peaks, sample_rate, gain_db, ceiling_dbtp)
        tried.append((gain_db, weighted.grouped_lufs(factors)))
        error = abs(tried[-1][1] - target_lufs)
        if error < best_error:
            best, best_error = factors, error
        if error <= AIM_LU - ESTIMATE_LU:
            break
    y = x * _per_sample(best, x.size)
    return _under_ceiling(y, sample_rate, ceiling_dbtp).astype(np.float32)


def band_limit(
    samples: ArrayLike, sample_rate: int, cutoff_hz: int = BAND_LIMIT_HZ
) -> NDArray[np.float32]:
    """Zero-phase low-pass (no timing shift) at ``cutoff_hz``."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size < 64:
        return x.astype(np.float32)
    out: NDArray[np.float32] = filters.lowpass_zero_phase(x, sample_rate, cutoff_hz).astype(
        np.float32
    )
    return out


def preload() -> None:
    """Prepare the filters levelling uses now (a few ms); run in a thread while a voice loads."""
    tick = np.zeros(SAMPLE_RATE // 2)
    tick[0] = 0.5
    level_clip(band_limit(tick, SAMPLE_RATE), SAMPLE_RATE)
