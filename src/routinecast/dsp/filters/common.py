"""What the filters share: array types and checked inputs."""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Mode = Literal["reflect", "constant", "nearest"]


def sos_array(sos: npt.ArrayLike) -> FloatArray:
    coeffs = np.array(sos, dtype=np.float64, ndmin=2)
    if coeffs.ndim != 2 or coeffs.shape[1] != 6 or coeffs.shape[0] == 0:
        raise ValueError("sos must have shape (n_sections, 6)")
    if not np.all(coeffs[:, 3] == 1.0):
        raise ValueError("sos[:, 3] (a0) must be 1")
    return coeffs


def as_signal(x: npt.ArrayLike) -> FloatArray:
    signal = np.asarray(x, dtype=np.float64)
    if signal.ndim != 1:
        raise ValueError("x must be 1-D")
    return signal
