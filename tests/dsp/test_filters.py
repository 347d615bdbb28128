"""Tests for routinecast.dsp.filters: each numpy-only filter against the scipy one it replaces.

Signals are deterministic random (``np.random.default_rng``).  Tolerances are relative
to the reference's peak: 1e-9 for the IIR filters, 1e-10 for ``resample_poly`` and
``uniform_filter1d`` (a running sum); ``maximum_filter1d`` must be identical.  The
K-weighting coefficients are checked against pyloudnorm's ``IIRfilter`` to 1e-12.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from pyloudnorm.iirfilter import IIRfilter
from scipy import ndimage, signal

from routinecast.dsp import filters

FloatArray = NDArray[np.float64]
SR = 22050
KW_RATES = [22050, 48000]


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _pyloudnorm_k_weighting(rate: int) -> FloatArray:
    shelf = IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, rate, "high_shelf")
    high_pass = IIRfilter(0.0, 0.5, 38.0, rate, "high_pass")
    return np.array([np.concatenate([f.b, f.a]) for f in (shelf, high_pass)])


def _butter8() -> FloatArray:
    sos: FloatArray = signal.butter(8, 8000, btype="low", fs=SR, output="sos")
    return sos


FILTERS = {
    "k22050": lambda: _pyloudnorm_k_weighting(22050),
    "k48000": lambda: _pyloudnorm_k_weighting(48000),
    "butter8": _butter8,
}


def _assert_close(actual: FloatArray, expected: FloatArray, rel: float) -> None:
    """Max |actual - expected| <= rel * max |expected|, a slice at a time (long signals)."""
    assert actual.dtype == np.float64
    assert actual.shape == expected.shape
    a, e = actual.reshape(-1), expected.reshape(-1)
    step, error, scale = 1 << 18, 0.0, 1e-300
    for lo in range(0, e.size, step):
        error = max(error, float(np.max(np.abs(a[lo : lo + step] - e[lo : lo + step]))))
        scale = max(scale, float(np.max(np.abs(e[lo : lo + step]))))
    assert error <= rel * scale


def _natural_state(sos: FloatArray, seed: int) -> FloatArray:
    """The state a filter is left in by 2000 samples of noise (what streaming passes on)."""
    zi = np.zeros((sos.shape[0], 2))
    _, zf = signal.sosfilt(sos, _rng(seed).standard_normal(2000), zi=zi)
    state: FloatArray = zf
    return state


# --- k_weighting -----------------------------------------------------------------


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000, 96000])
def test_k_weighting_is_pyloudnorms(rate: int) -> None:
    sos, gain = filters.k_weighting(rate)
    assert sos.shape == (2, 6) and sos.dtype == np.float64
    np.testing.assert_allclose(sos, _pyloudnorm_k_weighting(rate), rtol=0, atol=1e-12)
    shelf = IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, rate, "high_shelf")
    high_pass = IIRfilter(0.0, 0.5, 38.0, rate, "high_pass")
    assert gain == shelf.passband_gain * high_pass.passband_gain


# --- sosfilt ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FILTERS))
@pytest.mark.parametrize("n", [1, 2, 3, 63, 64, 65, 2047, 2048, 2049, 30001])
def test_sosfilt_matches_scipy(name: str, n: int) -> None:
    sos = FILTERS[name]()
    x = _rng(n).standard_normal(n)
    for zi in (np.zeros((sos.shape[0], 2)), _natural_state(sos, n)):
        y, zf = filters.sosfilt(sos, x, zi)
        y_ref, zf_ref = signal.sosfilt(sos, x, zi=zi)
        _assert_close(y, y_ref, 1e-9)
        _assert_close(zf, zf_ref, 1e-9)


def test_sosfilt_from_an_arbitrary_state() -> None:
    """A start state no signal leads to (large transients) still matches."""
    sos = _pyloudnorm_k_weighting(48000)
    x = _rng(1).standard_normal(5000)
    zi = _rng(2).standard_normal((2, 2))
    y, zf = filters.sosfilt(sos, x, zi)
    y_ref, zf_ref = signal.sosfilt(sos, x, zi=zi)
    _assert_close(y, y_ref, 1e-9)
    _assert_close(zf, zf_ref, 1e-9)


def test_sosfilt_without_zi_starts_at_rest() -> None:
    sos = _butter8()
    x = _rng(3).standard_normal(1000)
    y, zf = filters.sosfilt(sos, x)
    _assert_close(y, signal.sosfilt(sos, x), 1e-12)
    assert zf.shape == (4, 2)


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_sosfilt_streamed_in_uneven_pieces_equals_one_call(name: str) -> None:
    sos = FILTERS[name]()
    x = _rng(4).standard_normal(12000)
    whole, whole_zf = filters.sosfilt(sos, x)
    cuts = np.cumsum([0, 1, 5, 63, 0, 700, 2049, 3000, 17, 64, 2048, 1])
    pieces, state = [], np.zeros((sos.shape[0], 2))
    for lo, hi in zip(cuts, [*cuts[1:], x.size], strict=True):
        y, state = filters.sosfilt(sos, x[lo:hi], state)
        pieces.append(y)
    _assert_close(np.concatenate(pieces), whole, 1e-12)
    _assert_close(state, whole_zf, 1e-10)
    _assert_close(whole, signal.sosfilt(sos, x), 1e-9)


def test_sosfilt_state_can_be_handed_to_and_from_scipy() -> None:
    sos = _pyloudnorm_k_weighting(22050)
    x = _rng(5).standard_normal(9000)
    first, zf = signal.sosfilt(sos, x[:3000], zi=np.zeros((2, 2)))
    second, zf = filters.sosfilt(sos, x[3000:7000], zf)
    third, _ = signal.sosfilt(sos, x[7000:], zi=zf)
    _assert_close(np.concatenate([first, second, third]), signal.sosfilt(sos, x), 1e-9)


def test_sosfilt_ten_minutes() -> None:
    sos = _pyloudnorm_k_weighting(SR)
    x = np.tile(_rng(6).standard_normal(SR), 600)  # cheaper than 13 M fresh draws
    y, zf = filters.sosfilt(sos, x)
    y_ref, zf_ref = signal.sosfilt(sos, x, zi=np.zeros((2, 2)))
    _assert_close(y, y_ref, 1e-9)
    _assert_close(zf, zf_ref, 1e-9)


def test_sosfilt_of_nothing_keeps_the_state() -> None:
    zi = np.arange(4.0).reshape(2, 2)
    y, zf = filters.sosfilt(_pyloudnorm_k_weighting(SR), np.zeros(0), zi)
    assert y.shape == (0,)
    np.testing.assert_array_equal(zf, zi)


def test_sosfilt_rejects_bad_arguments() -> None:
    sos = _pyloudnorm_k_weighting(SR)
    with pytest.raises(ValueError):
        filters.sosfilt(sos * 2, np.ones(4))
    with pytest.raises(ValueError):
        filters.sosfilt(sos, np.ones(4), np.zeros(4))
    with pytest.raises(ValueError):
        filters.sosfilt(sos, np.ones((2, 4)))


# --- resample_poly ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("up", "down"),
    [(4, 1), (22050, 16000), (22050, 44100), (22050, 48000), (3, 2), (2, 3), (5, 12), (1, 1)],
)
@pytest.mark.parametrize("n", [0, 1, 2, 7, 100, 22050])
def test_resample_poly_matches_scipy(up: int, down: int, n: int) -> None:
    x = _rng(n + up).standard_normal(n)
    _assert_close(filters.resample_poly(x, up, down), signal.resample_poly(x, up, down), 1e-10)


def test_resample_poly_of_a_speech_length_clip() -> None:
    x = _rng(7).standard_normal(5 * 16000)
    _assert_close(
        filters.resample_poly(x, 22050, 16000), signal.resample_poly(x, 22050, 16000), 1e-10
    )
    _assert_close(filters.resample_poly(x, 4, 1), signal.resample_poly(x, 4, 1), 1e-10)


# --- maximum_filter1d / uniform_filter1d --------------------------------------------------


def _need_db(n: int, seed: int) -> FloatArray:
    """Like the limiter's required reduction: mostly 0, with bursts of a few dB."""
    return np.maximum(_rng(seed).standard_normal(n) * 3.0 - 4.0, 0.0)


def test_the_limiters_hold_filter_matches_scipy() -> None:
    half, hold = 55, 220
    need = _need_db(SR * 3, 8)
    kwargs = {"size": 2 * half + hold + 1, "origin": hold // 2}
    expected = ndimage.maximum_filter1d(need, mode="constant", **kwargs)
    actual = filters.maximum_filter1d(need, mode="constant", **kwargs)
    np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("size", [3, 5])
def test_the_peak_spreading_filters_match_scipy(size: int) -> None:
    up = np.abs(_rng(9).standard_normal(SR * 4))
    np.testing.assert_array_equal(
        filters.maximum_filter1d(up, size=size), ndimage.maximum_filter1d(up, size=size)
    )


def test_the_limiters_smoothing_matches_scipy() -> None:
    box = 27
    smooth = _need_db(SR * 3, 10)
    for _ in range(2):
        expected = ndimage.uniform_filter1d(smooth, size=2 * box + 1, mode="nearest")
        actual = filters.uniform_filter1d(smooth, size=2 * box + 1, mode="nearest")
        _assert_close(actual, expected, 1e-10)
        smooth = expected


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(1, 80),
    size=st.integers(1, 50),
    shift=st.floats(0.0, 1.0),
    mode=st.sampled_from(["reflect", "constant", "nearest"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_window_filters_match_scipy(n: int, size: int, shift: float, mode: str, seed: int) -> None:
    """Any size (even ones, and longer than the array), any allowed origin, each mode."""
    lowest, highest = -(size // 2), (size - 1) // 2
    origin = lowest + round(shift * (highest - lowest))
    x = _rng(seed).standard_normal(n)
    kw: dict[str, Any] = {"size": size, "origin": origin, "mode": mode}
    np.testing.assert_array_equal(
        filters.maximum_filter1d(x, **kw), ndimage.maximum_filter1d(x, **kw)
    )
    _assert_close(filters.uniform_filter1d(x, **kw), ndimage.uniform_filter1d(x, **kw), 1e-10)


def test_window_filters_reject_origins_scipy_rejects() -> None:
    with pytest.raises(ValueError):
        filters.maximum_filter1d(np.ones(10), size=4, origin=2)
    with pytest.raises(ValueError):
        filters.uniform_filter1d(np.ones(10), size=4, origin=-3)


def test_window_filters_of_nothing() -> None:
    assert filters.maximum_filter1d(np.zeros(0), size=3).shape == (0,)
    assert filters.uniform_filter1d(np.zeros(0), size=55).shape == (0,)


# --- lowpass_zero_phase -----------------------------------------------------------------


@pytest.mark.parametrize("order", [1, 2, 3, 5, 8])
@pytest.mark.parametrize("cutoff", [100.0, 3000.0, 8000.0])
def test_butter_lowpass_is_scipys_filter(order: int, cutoff: float) -> None:
    sos = filters.butter_lowpass(order, cutoff, SR)
    expected = signal.butter(order, cutoff, btype="low", fs=SR, output="sos")
    if order % 2 == 0:
        np.testing.assert_allclose(sos, expected, rtol=1e-12, atol=1e-15)
    x = _rng(order).standard_normal(4000)
    _assert_close(filters.sosfilt(sos, x)[0], signal.sosfilt(expected, x), 1e-9)
    _assert_close(filters.sosfilt_zi(sos), signal.sosfilt_zi(sos), 1e-12)


@pytest.mark.parametrize("seconds", [0.3, 2.0, 20.0])
def test_lowpass_zero_phase_matches_sosfiltfilt(seconds: float) -> None:
    x = _rng(11).standard_normal(int(seconds * SR))
    expected = signal.sosfiltfilt(_butter8(), x)
    _assert_close(filters.lowpass_zero_phase(x, SR, 8000), expected, 1e-9)


@pytest.mark.parametrize("order", [3, 4])
def test_sosfiltfilt_matches_scipy_for_other_orders(order: int) -> None:
    x = _rng(12).standard_normal(3000)
    sos = signal.butter(order, 2500, btype="low", fs=SR, output="sos")
    _assert_close(filters.sosfiltfilt(sos, x), signal.sosfiltfilt(sos, x), 1e-9)
    _assert_close(filters.lowpass_zero_phase(x, SR, 2500, order), signal.sosfiltfilt(sos, x), 1e-9)


def test_sosfiltfilt_needs_more_than_padlen_samples() -> None:
    sos = _butter8()
    with pytest.raises(ValueError):
        signal.sosfiltfilt(sos, np.ones(27))
    with pytest.raises(ValueError):
        filters.sosfiltfilt(sos, np.ones(27))
    _assert_close(filters.sosfiltfilt(sos, np.ones(28)), signal.sosfiltfilt(sos, np.ones(28)), 1e-9)


# --- no scipy -----------------------------------------------------------------------------


def test_importing_and_using_the_filters_loads_no_scipy() -> None:
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from routinecast.dsp import filters as f\n"
        "x = np.random.default_rng(0).standard_normal(5000)\n"
        "f.sosfilt(f.k_weighting(22050)[0], x)\n"
        "f.resample_poly(x, 4, 1); f.resample_poly(x, 22050, 16000)\n"
        "f.maximum_filter1d(x, 331, origin=110, mode='constant'); f.uniform_filter1d(x, 55)\n"
        "f.lowpass_zero_phase(x, 22050, 8000)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'pyloudnorm')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
