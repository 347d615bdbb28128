"""A zero-phase Butterworth low-pass, as ``scipy.signal`` designs and runs it.

* ``lowpass_zero_phase(x, rate, cutoff_hz, order)``: ``scipy.signal.sosfiltfilt`` of
  ``butter(order, cutoff_hz, btype="low", fs=rate, output="sos")``.  ``butter_lowpass``
  is that design: the analog Butterworth prototype, pre-warped, bilinear transformed
  and paired into sections (poles nearest the unit circle last, gain in the first;
  an odd order's real pole gets a first-order section of its own, first, where scipy
  pairs it differently: the same filter).
  ``sosfiltfilt`` is scipy's default method: odd extension by ``3 * ntaps`` samples,
  each pass started in the steady state of its first sample (``sosfilt_zi``), a
  forward and a backward pass, then the extension trimmed.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from routinecast.dsp.filters.common import FloatArray, as_signal, sos_array
from routinecast.dsp.filters.iir import sosfilt


def butter_lowpass(order: int, cutoff_hz: float, rate: float) -> FloatArray:
    """``scipy.signal.butter(order, cutoff_hz, btype="low", fs=rate, output="sos")``.

    Even orders give scipy's sections; odd orders the same filter, paired differently.
    """
    if order < 1 or not 0 < cutoff_hz < rate / 2:
        raise ValueError("need order >= 1 and 0 < cutoff_hz < rate / 2")
    m = np.arange(-order + 1, order, 2, dtype=np.float64)
    warped = 2 * 2.0 * math.tan(math.pi * (2 * cutoff_hz / rate) / 2.0)
    analog = warped * -np.exp(1j * np.pi * m / (2 * order))
    gain = warped**order * float(np.real(1.0 / np.prod(4.0 - analog)))
    poles = (4.0 + analog) / (4.0 - analog)
    pairs = poles[poles.imag > 0]
    pairs = pairs[np.argsort(-np.abs(1 - np.abs(pairs)), kind="stable")]
    rows = [[1.0, 2.0, 1.0, 1.0, -2 * p.real, p.real**2 + p.imag**2] for p in pairs]
    rows = [[1.0, 1.0, 0.0, 1.0, -p.real, 0.0] for p in poles[poles.imag == 0]] + rows
    sos = np.array(rows)
    sos[0, :3] *= gain
    return sos


def sosfilt_zi(sos: npt.ArrayLike) -> FloatArray:
    """``scipy.signal.sosfilt_zi``: each section's state for a unit step held forever."""
    coeffs = sos_array(sos)
    zi = np.empty((coeffs.shape[0], 2))
    scale = 1.0
    for row, (b0, b1, b2, _, a1, a2) in enumerate(coeffs):
        steady = np.array([[1.0 + a1, -1.0], [a2, 1.0]])
        zi[row] = scale * np.linalg.solve(steady, [b1 - a1 * b0, b2 - a2 * b0])
        scale *= (b0 + b1 + b2) / (1.0 + a1 + a2)
    return zi


def _odd_extension(x: FloatArray, edge: int) -> FloatArray:
    left = 2 * x[0] - x[edge:0:-1]
    right = 2 * x[-1] - x[-2 : -(edge + 2) : -1]
    return np.concatenate([left, x, right])


def sosfiltfilt(sos: npt.ArrayLike, x: npt.ArrayLike) -> FloatArray:
    """``scipy.signal.sosfiltfilt(sos, x)``: odd padding of scipy's default length."""
    coeffs, signal = sos_array(sos), as_signal(x)
    zeros = min(int(np.sum(coeffs[:, 2] == 0)), int(np.sum(coeffs[:, 5] == 0)))
    edge = 3 * (2 * coeffs.shape[0] + 1 - zeros)
    if signal.size <= edge:
        raise ValueError(f"x must be longer than padlen, which is {edge}")
    ext = _odd_extension(signal, edge)
    zi = sosfilt_zi(coeffs)
    forward, _ = sosfilt(coeffs, ext, zi * ext[0])
    backward, _ = sosfilt(coeffs, forward[::-1], zi * forward[-1])
    return backward[::-1][edge:-edge].copy()


def lowpass_zero_phase(
    x: npt.ArrayLike, rate: float, cutoff_hz: float, order: int = 8
) -> FloatArray:
    """``sosfiltfilt(butter(order, cutoff_hz, btype="low", fs=rate, output="sos"), x)``."""
    return sosfiltfilt(butter_lowpass(order, cutoff_hz, rate), x)
