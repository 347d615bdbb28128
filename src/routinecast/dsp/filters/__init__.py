"""Numpy-only stand-ins for the few scipy filters routinecast uses.

Importing ``scipy.signal`` costs about 0.8 s and ``scipy.ndimage`` about 0.2 s per
process, more than a small build spends filtering.  Each function here returns what
its scipy counterpart returns, to rounding (``tests/dsp/test_filters.py`` compares
them), using only numpy and the standard library.  Signals are 1-D float64.

The package holds one module per kind of filter: ``iir`` (``sosfilt``), ``kweighting``,
``resample``, ``windows`` (``maximum_filter1d``, ``uniform_filter1d``) and
``butterworth`` (``lowpass_zero_phase``); each module says how it works.
"""

from __future__ import annotations

from routinecast.dsp.filters.butterworth import (
    butter_lowpass,
    lowpass_zero_phase,
    sosfilt_zi,
    sosfiltfilt,
)
from routinecast.dsp.filters.iir import sosfilt
from routinecast.dsp.filters.kweighting import k_weighting
from routinecast.dsp.filters.resample import resample_poly
from routinecast.dsp.filters.windows import maximum_filter1d, uniform_filter1d

__all__ = [
    "butter_lowpass",
    "k_weighting",
    "lowpass_zero_phase",
    "maximum_filter1d",
    "resample_poly",
    "sosfilt",
    "sosfilt_zi",
    "sosfiltfilt",
    "uniform_filter1d",
]
