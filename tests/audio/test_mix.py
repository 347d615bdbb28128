"""Tests for routinecast.audio.mix: chunked rendering, master gain, streamed loudness."""

from __future__ import annotations

import itertools
import tracemalloc
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

from routinecast.audio.mix import (
    GAIN_STEP_DB,
    LoudnessMeter,
    event_audio,
    master_gain_db,
    measurement_pieces,
    render,
    sample_at,
    sounding,
    streamed_lufs,
    to_int16,
)
from routinecast.audio.tones import render_tone
from routinecast.dsp.level import integrated_lufs, true_peak_dbtp
from routinecast.timeline import Event, Timeline

SR = 22050
Samples = npt.NDArray[np.float32]


def _clip(ms: int, freq: float, amp: float = 0.3) -> Samples:
    t = np.arange(ms * SR // 1000) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


CLIPS = {"hello": _clip(700, 220), "go": _clip(250, 330), "x": _clip(40, 500, 0.5)}


def _speech(start_ms: int, text: str) -> Event:
    end = start_ms + -(-len(CLIPS[text]) * 1000 // SR)
    return Event("speech", start_ms, end, cue="cue", text=text)


def _tone(start_ms: int, name: str) -> Event:
    return Event("tone", start_ms, start_ms + len(render_tone(name, SR)) * 1000 // SR, tone=name)


def _timeline(duration_ms: int, events: tuple[Event, ...]) -> Timeline:
    return Timeline("t", "t.yaml", SR, duration_ms, {}, events, (), ())


SMALL = _timeline(
    5000,
    (
        _speech(0, "hello"),
        _tone(990, "tick"),
        _speech(1500, "go"),
        _tone(1999, "start"),
        _speech(2400, "x"),
        _tone(3000, "stop"),
        _speech(4500, "go"),
    ),
)


def _naive_float(timeline: Timeline, gain_db: float = 0.0) -> Samples:
    """The whole file as one float buffer: every event added at its sample, then the gain."""
    buf = np.zeros(sample_at(timeline.duration_ms, SR), np.float32)
    for event in timeline.events:
        audio = event_audio(event, CLIPS, SR)
        pos = sample_at(event.start_ms, SR)
        end = min(len(buf), pos + len(audio))
        buf[pos:end] += audio[: end - pos]
    buf *= np.float32(10 ** (gain_db / 20))
    return buf


def _naive(timeline: Timeline, gain_db: float = 0.0) -> npt.NDArray[np.int16]:
    return to_int16(_naive_float(timeline, gain_db))


def _joined(chunks: Iterator[npt.NDArray[np.int16]]) -> npt.NDArray[np.int16]:
    return np.concatenate(list(chunks))


def test_render_equals_a_full_buffer_sum() -> None:
    out = _joined(render(SMALL, CLIPS))
    assert out.dtype == np.int16 and len(out) == 5 * SR
    np.testing.assert_array_equal(out, _naive(SMALL))


def test_outside_what_is_sounding_the_file_is_exact_zeros() -> None:
    spans = sounding(SMALL, CLIPS)
    assert spans == sorted(spans) and len(spans) == len(SMALL.events)
    out = _joined(render(SMALL, CLIPS, gain_db=6.0))
    quiet = np.ones(len(out), dtype=bool)
    for start, end in spans:
        assert np.any(out[start:end])
        quiet[start:end] = False
    assert quiet.sum() > SR and not np.any(out[quiet])


def test_chunk_size_does_not_change_the_output() -> None:
    small = _joined(render(SMALL, CLIPS, chunk_ms=7))
    np.testing.assert_array_equal(small, _joined(render(SMALL, CLIPS, chunk_ms=10_000)))
    np.testing.assert_array_equal(small, _naive(SMALL))


@pytest.mark.parametrize("cuts", [(1, 2), (22049, 22050 * 2 + 7), (576 * 50, 576 * 51)])
def test_pieces_rendered_apart_are_the_whole(cuts: tuple[int, int]) -> None:
    """``audio.splice`` renders each piece on its own: every range must be the whole's."""
    whole = np.concatenate(list(render(SMALL, CLIPS, chunk_ms=333)))
    edges = [0, *cuts, len(whole)]
    pieces = [
        np.concatenate(list(render(SMALL, CLIPS, chunk_ms=1000, start=a, stop=b)))
        for a, b in itertools.pairwise(edges)
    ]
    np.testing.assert_array_equal(np.concatenate(pieces), whole)


def test_an_event_crossing_a_chunk_boundary_is_whole() -> None:
    timeline = _timeline(3000, (_speech(800, "hello"),))
    out = _joined(render(timeline, CLIPS, chunk_ms=1000))
    start = sample_at(800, SR)
    expected = to_int16(CLIPS["hello"])
    np.testing.assert_array_equal(out[start : start + len(expected)], expected)
    assert not out[:start].any() and not out[start + len(expected) :].any()


def test_gain_is_applied_to_everything() -> None:
    out = _joined(render(SMALL, CLIPS, gain_db=-6.0, chunk_ms=333))
    np.testing.assert_array_equal(out, _naive(SMALL, -6.0))


def test_bed_is_added_after_the_gain() -> None:
    calls: list[tuple[int, int]] = []

    def bed(start: int, n: int) -> Samples:
        calls.append((start, n))
        return np.full(n, 0.01, np.float32)

    out = _joined(render(SMALL, CLIPS, gain_db=-6.0, chunk_ms=1000, bed=bed))
    expected = _naive_float(SMALL, -6.0) + np.float32(0.01)
    np.testing.assert_array_equal(out, to_int16(expected))
    assert calls == [(a, min(SR, 5 * SR - a)) for a in range(0, 5 * SR, SR)]


class _CountingClips(dict[str, Samples]):
    """Counts clip lookups, to show the mixer's work is linear in the events."""

    lookups = 0

    def __getitem__(self, key: str) -> Samples:
        self.lookups += 1
        return super().__getitem__(key)


def _long_timeline(hours: float, every_ms: int = 1000) -> Timeline:
    """An event every ``every_ms``: 'x' clips and ticks, alternating."""
    events = tuple(
        _speech(ms, "x") if (ms // every_ms) % 2 else _tone(ms, "tick")
        for ms in range(0, int(hours * 3_600_000) - every_ms, every_ms)
    )
    return _timeline(int(hours * 3_600_000), events)


def test_render_is_linear_in_length() -> None:
    timeline = _long_timeline(0.5)
    clips = _CountingClips(CLIPS)
    chunks = sum(1 for _ in render(timeline, clips, chunk_ms=10_000))
    speech = sum(1 for e in timeline.events if e.kind == "speech")
    assert chunks == 180
    assert clips.lookups <= 3 * speech + 2 * chunks


@pytest.mark.parametrize("stage", ["render", "master"])
def test_two_hours_stay_small_in_memory(stage: str) -> None:
    # An event every 5 s: the master gain measures 26 minutes of sound and short silence.
    timeline = _long_timeline(2.0, 5000)
    tracemalloc.start()
    try:
        if stage == "render":
            for chunk in render(timeline, CLIPS):
                assert len(chunk) <= 10 * SR
        else:
            master_gain_db(timeline, CLIPS, -16.0, -1.6)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20


def test_streamed_loudness_matches_pyloudnorm() -> None:
    rng = np.random.default_rng(7)
    for n in (300, 8820, 3 * SR + 17, 40 * SR):
        envelope = np.where(np.arange(n) % 20_000 < 9000, 0.2, 0.002)
        x = (rng.standard_normal(n) * envelope).astype(np.float32)
        pieces = np.array_split(x, int(rng.integers(1, 40)))
        assert streamed_lufs(pieces, SR) == pytest.approx(integrated_lufs(x, SR), abs=1e-6)
    assert streamed_lufs([np.zeros(SR, np.float32)], SR) == -np.inf


def test_silences_are_counted_not_filtered_once_the_filters_ring_out() -> None:
    rng = np.random.default_rng(3)
    bursts = [(rng.standard_normal(n) * 0.3).astype(np.float32) for n in (4000, SR, 900)]
    gaps = [np.zeros(n, np.float32) for n in (SR, 2 * SR + 5, 100)]  # long, longer, short
    pieces = [p for pair in zip(bursts, gaps, strict=True) for p in pair]
    joined = np.concatenate(pieces)
    assert streamed_lufs(pieces, SR) == pytest.approx(integrated_lufs(joined, SR), abs=1e-9)
    meter = LoudnessMeter(SR)
    for burst, gap in zip(bursts, gaps, strict=True):
        meter.feed(burst)
        meter.silence(len(gap))
    assert meter.lufs() == pytest.approx(integrated_lufs(joined, SR), abs=1e-9)
    meter = LoudnessMeter(SR)
    meter.feed(bursts[0])
    meter.silence(len(gaps[1]))
    assert meter.count == len(bursts[0]) + len(gaps[1])
    assert not np.any(meter.state)  # rung out: the state is zero, not tiny


def test_master_gain_measures_events_with_short_silences() -> None:
    pieces = measurement_pieces(SMALL, CLIPS)
    joined = np.concatenate([np.append(audio, np.zeros(gap)) for audio, gap in pieces])
    gain = master_gain_db(SMALL, CLIPS, -16.0, 0.0)
    exact = -16.0 - integrated_lufs(joined, SR)
    assert gain == pytest.approx(round(exact / GAIN_STEP_DB) * GAIN_STEP_DB, abs=1e-9)
    assert abs(gain - exact) <= GAIN_STEP_DB / 2
    assert master_gain_db(SMALL, CLIPS, 20.0, -1.6) < 20.0  # held by the peak ceiling


def test_master_gain_is_on_its_grid_and_under_the_ceiling() -> None:
    for target, ceiling in ((-16.0, -1.0), (20.0, -1.0), (20.0, -6.0)):
        gain = master_gain_db(SMALL, CLIPS, target, ceiling)
        assert gain / GAIN_STEP_DB == pytest.approx(round(gain / GAIN_STEP_DB), abs=1e-9)
        mixed = np.concatenate(list(render(SMALL, CLIPS, gain))).astype(np.float64) / 32767
        assert true_peak_dbtp(mixed, SR) <= ceiling + 0.01  # the bound is rounded down
