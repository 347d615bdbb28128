"""Polyphase resampling, as ``scipy.signal.resample_poly`` does it.

* ``resample_poly(x, up, down)``: ``scipy.signal.resample_poly`` with its defaults.
  After dividing by the gcd, the filter is scipy's ``firwin(20 * max + 1, 1 / max,
  window=("kaiser", 5.0))`` (windowed sinc scaled to unit DC gain) times ``up``.
  Output ``i`` is that filter centred on upsampled position ``i * down``; it is
  computed polyphase, each output reading only the taps of its phase: every phase's
  convolution at once (one matrix product of the windows of ``x`` with the phases'
  taps, whose rows laid end to end are the filtered upsampled signal), kept every
  ``down``-th sample, when ``down`` is small,
  else one gathered multiply-add per tap over just the kept outputs.  The result has
  ``ceil(len(x) * up / down)`` samples, trimmed as scipy trims them.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from routinecast.dsp.filters.common import FloatArray, as_signal

PHASE_DOWN = 8
"""resample_poly convolves each phase in full when ``down`` is at most this, else it
computes only the outputs it keeps, gathering ``x`` once per tap."""
GATHER = 1 << 16
"""resample_poly outputs gathered at once when ``down`` > PHASE_DOWN."""
ROWS = 2048
"""Windows multiplied at once by ``_convolved``: a block of 350 kB for 21 taps, small
enough that OpenBLAS keeps to one thread (as ``iir.CHUNK``)."""


def _kaiser_lowpass(taps: int, cutoff: float, beta: float = 5.0) -> FloatArray:
    """``scipy.signal.firwin(taps, cutoff, window=("kaiser", beta))``: unit DC gain."""
    m = np.arange(taps) - 0.5 * (taps - 1)
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(taps, beta)
    return np.asarray(h / np.sum(h), dtype=np.float64)


def _phases(h: FloatArray, up: int) -> FloatArray:
    """``phases[p, m] = h[p + m * up]``, zero past the end of ``h``."""
    taps = -(-h.size // up)
    padded = np.zeros(taps * up)
    padded[: h.size] = h
    return padded.reshape(taps, up).T.copy()


def _phase_filter(
    x: FloatArray, h: FloatArray, up: int, down: int, offset: int, count: int
) -> FloatArray:
    """Outputs ``i < count`` at upsampled positions ``offset + i * down``, phase by phase.

    Column ``p`` of ``_convolved`` row ``j`` is the filtered upsampled signal at
    position ``j * up + p``, so the rows laid end to end are that signal itself: the
    outputs are every ``down``-th value from ``offset`` (within it: the filter's half
    length is at most ``up`` times its taps per phase).
    """
    upsampled = _convolved(x, _phases(h, up)).reshape(-1)
    return np.ascontiguousarray(upsampled[offset : offset + count * down : down])


def _convolved(x: FloatArray, phases: FloatArray) -> FloatArray:
    """``np.convolve(x, phases[p])`` (full) as column ``p``, for every phase at once.

    Each output is one window of ``x`` (zero-padded) times the taps reversed: the
    windows are copied ``ROWS`` at a time into a contiguous block and multiplied by
    every phase's taps in one BLAS product, equal to ``np.convolve`` within rounding
    (1e-16). With ``_phase_filter``'s flat read, 4x oversampling of a 5.5 s clip takes
    2.1 ms (one ``np.convolve`` per phase, then interleaving: 4.4 ms).
    """
    taps = phases.shape[1]
    kernel = np.ascontiguousarray(phases[:, ::-1].T)
    padded = np.concatenate([np.zeros(taps - 1), x, np.zeros(taps - 1)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, taps)
    out = np.empty((windows.shape[0], phases.shape[0]))
    for lo in range(0, windows.shape[0], ROWS):
        block = np.ascontiguousarray(windows[lo : lo + ROWS])
        np.matmul(block, kernel, out=out[lo : lo + ROWS])
    return out


def _gather_filter(
    x: FloatArray, h: FloatArray, up: int, down: int, offset: int, count: int
) -> FloatArray:
    """Outputs ``i < count`` at upsampled positions ``offset + i * down``, tap by tap."""
    phases = _phases(h, up)
    taps = phases.shape[1]
    padded = np.concatenate([np.zeros(taps - 1), x, np.zeros(taps)])
    out = np.zeros(count)
    for lo in range(0, count, GATHER):
        where = offset + np.arange(lo, min(lo + GATHER, count)) * down
        q, p = np.divmod(where, up)
        q = np.minimum(q, x.size + taps - 1)
        for m in range(taps):
            out[lo : lo + q.size] += phases[p, m] * padded[q - m + taps - 1]
    return out


def resample_poly(x: npt.ArrayLike, up: int, down: int) -> FloatArray:
    """``scipy.signal.resample_poly(x, up, down)`` (Kaiser beta 5 window, zero padding)."""
    signal = as_signal(x)
    if up < 1 or down < 1:
        raise ValueError("up and down must be >= 1")
    common = math.gcd(up, down)
    up, down = up // common, down // common
    if up == down == 1:
        return signal.copy()
    half = 10 * max(up, down)
    h = _kaiser_lowpass(2 * half + 1, 1.0 / max(up, down)) * up
    count = -(-signal.size * up // down)
    if signal.size == 0:
        return np.zeros(0)
    if down <= PHASE_DOWN:
        return _phase_filter(signal, h, up, down, half, count)
    return _gather_filter(signal, h, up, down, half, count)
