"""Tests for routinecast.audio.tones: shape, level, clicks, onset timing and pitch."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from numpy.typing import NDArray

from routinecast import SAMPLE_RATE
from routinecast.audio.tones import TONES, ToneSpec, render_tone, tone_names
from routinecast.dsp.level import max_step, true_peak_dbtp

SR = SAMPLE_RATE
TIMED = ("tick", "start", "stop")
EDGE = SR // 1000  # 1 ms of samples


def _spectral_peak_hz(x: NDArray[np.float32]) -> float:
    """Frequency of the largest FFT bin, zero-padded 8x for ~1 Hz resolution."""
    n = 8 * max(len(x), SR // 10)
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64), n))
    return float(np.argmax(spectrum)) * SR / n


def _highest_partial_hz(spec: ToneSpec) -> float:
    top_ratio = max([1.0, *(ratio for ratio, _ in spec.overtones)])
    return max(float(spec.freq_hz), spec.glide_from_hz or 0.0) * top_ratio


def test_tone_table_has_exactly_the_four_cues() -> None:
    assert set(tone_names()) == {"tick", "start", "stop", "breath"}
    assert tone_names() == tuple(TONES)
    for name, spec in TONES.items():
        assert spec.name == name


def test_tone_spec_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        TONES["tick"].freq_hz = 1000  # type: ignore[misc]


@pytest.mark.parametrize("name", tone_names())
def test_length_is_exact_and_ends_are_zero(name: str) -> None:
    x = render_tone(name)
    assert x.dtype == np.float32 and x.ndim == 1
    assert len(x) == TONES[name].length_ms * SR // 1000
    assert x[0] == 0.0 and x[-1] == 0.0


def test_length_follows_the_sample_rate() -> None:
    assert len(render_tone("stop", 44100)) == TONES["stop"].length_ms * 44100 // 1000


@pytest.mark.parametrize("name", tone_names())
def test_peak_is_the_spec_level_and_below_minus_3_dbfs(name: str) -> None:
    x = render_tone(name)
    peak_dbfs = 20 * math.log10(float(np.max(np.abs(x))))
    assert peak_dbfs == pytest.approx(TONES[name].peak_dbfs, abs=0.01)
    assert peak_dbfs <= -3.0
    assert true_peak_dbtp(x, SR) <= -3.0


@pytest.mark.parametrize("name", tone_names())
def test_no_clicks(name: str) -> None:
    # A 1320 Hz sine of peak 0.4 already moves 0.4 * 2*pi*1320/22050 = 0.15 per
    # sample, so a fixed 0.05 would reject a clean tone.  Bernstein's inequality
    # bounds the step of a signal band-limited to f_hi by peak * 2*pi*f_hi / sr;
    # a click (broadband jump) breaks that bound.  10% slack covers the envelope's
    # own bandwidth.  In the first/last 1 ms the raised-cosine envelope is at most
    # 0.25 of full scale, so every step stays under 10% of the peak; an untapered
    # start or end steps by 35% of the peak or more (e.g. 0.15 of 0.4 for "start").
    x = render_tone(name)
    peak = float(np.max(np.abs(x)))
    bound = 1.1 * peak * 2 * math.pi * _highest_partial_hz(TONES[name]) / SR
    assert max_step(x) <= bound
    assert max_step(x[: EDGE + 1]) < 0.1 * peak
    assert max_step(x[-EDGE - 1 :]) < 0.1 * peak


@pytest.mark.parametrize("name", TIMED)
def test_onset_is_within_5_ms(name: str) -> None:
    x = np.abs(render_tone(name))
    onset = int(np.argmax(x >= 0.2 * x.max()))
    assert onset < 5 * SR // 1000


def test_breath_swells_in_gently() -> None:
    x = np.abs(render_tone("breath"))
    assert int(np.argmax(x >= 0.2 * x.max())) > 20 * SR // 1000
    assert TONES["breath"].peak_dbfs < min(TONES[n].peak_dbfs for n in TIMED)


@pytest.mark.parametrize("name", tone_names())
def test_spectral_peak_is_freq_hz(name: str) -> None:
    freq = TONES[name].freq_hz
    assert _spectral_peak_hz(render_tone(name)) == pytest.approx(freq, rel=0.02)


def test_start_and_stop_are_at_least_a_fifth_apart() -> None:
    assert TONES["start"].freq_hz / TONES["stop"].freq_hz >= 1.5


def test_start_rises_and_stop_falls() -> None:
    head = 40 * SR // 1000
    start, stop = TONES["start"].freq_hz, TONES["stop"].freq_hz
    assert _spectral_peak_hz(render_tone("start")[:head]) < 0.95 * start
    assert _spectral_peak_hz(render_tone("stop")[:head]) > 1.05 * stop


def test_result_is_cached_and_read_only() -> None:
    x = render_tone("tick")
    assert render_tone("tick") is x
    assert not x.flags.writeable
    with pytest.raises(ValueError):
        x[1] = 0.5


def test_unknown_tone_raises_key_error() -> None:
    with pytest.raises(KeyError):
        render_tone("gong")
