"""The BS.1770 K-weighting filters.

* ``k_weighting(rate)``: pyloudnorm's BS.1770 K-weighting (its ``IIRfilter`` RBJ
  cookbook high shelf, +4 dB at 1500 Hz, then high pass at 38 Hz) as SOS rows, with
  the product of their passband gains.
"""

from __future__ import annotations

import math

import numpy as np

from routinecast.dsp.filters.common import FloatArray


def _high_shelf(gain_db: float, q: float, fc: float, rate: float) -> list[float]:
    """RBJ cookbook high shelf [b0, b1, b2, a0, a1, a2], as pyloudnorm computes it."""
    big_a = 10 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * (fc / rate)
    cos, root = math.cos(w0), 2 * math.sqrt(big_a) * (math.sin(w0) / (2.0 * q))
    return [
        big_a * ((big_a + 1) + (big_a - 1) * cos + root),
        -2 * big_a * ((big_a - 1) + (big_a + 1) * cos),
        big_a * ((big_a + 1) + (big_a - 1) * cos - root),
        (big_a + 1) - (big_a - 1) * cos + root,
        2 * ((big_a - 1) - (big_a + 1) * cos),
        (big_a + 1) - (big_a - 1) * cos - root,
    ]


def _high_pass(q: float, fc: float, rate: float) -> list[float]:
    """RBJ cookbook high pass [b0, b1, b2, a0, a1, a2], as pyloudnorm computes it."""
    w0 = 2.0 * math.pi * (fc / rate)
    cos, alpha = math.cos(w0), math.sin(w0) / (2.0 * q)
    return [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2, 1 + alpha, -2 * cos, 1 - alpha]


def k_weighting(rate: float) -> tuple[FloatArray, float]:
    """BS.1770 K-weighting at ``rate`` Hz as pyloudnorm builds it: SOS rows and gain.

    The rows are ``IIRfilter(4.0, 1/sqrt(2), 1500.0, rate, "high_shelf")`` and
    ``IIRfilter(0.0, 0.5, 38.0, rate, "high_pass")``, each normalised by its a0; the
    gain is the product of their ``passband_gain`` (1.0).
    """
    rows = np.array([_high_shelf(4.0, 1 / math.sqrt(2), 1500.0, rate), _high_pass(0.5, 38.0, rate)])
    return rows / rows[:, 3:4], 1.0
