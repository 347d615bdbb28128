"""Tests for routinecast.audio.silence: long silences skipped by the encoder, put back
when the pieces are joined, and the file still the whole encode byte for byte.

The real path: ffmpeg encodes a signal of sounds between long silences in pieces that
skip them, and once whole; the two files are compared byte for byte and decoded back.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from routinecast.audio import mpeg, silence
from routinecast.audio.decode import decode_audio
from routinecast.audio.encode import Mp3Settings, encode_mp3
from routinecast.audio.splice import encode_split, plan

SR = 22050
FRAME = 576
SETTINGS = Mp3Settings()
PER = 1024
"""Frames per piece here (27 s), so the signal below makes 6 pieces."""
Int16 = npt.NDArray[np.int16]


def _sounds_between_silences(seed: int = 3) -> tuple[Int16, list[tuple[int, int]]]:
    """Two and a half minutes of short sounds (noise bursts, tones) and silences of 0.3
    to 20 s: the samples, and the spans where something sounds."""
    rng = np.random.default_rng(seed)
    parts: list[Int16] = []
    spans: list[tuple[int, int]] = []
    at = 0
    while at < 150 * SR:
        gap = int(rng.choice([0.3, 1.0, 2.0, 7.5, 20.0]) * SR) + int(rng.integers(0, FRAME))
        parts.append(np.zeros(gap, dtype=np.int16))
        at += gap
        n = int(rng.uniform(0.1, 3.0) * SR)
        t = np.arange(n) / SR
        sound = 0.3 * rng.standard_normal(n) * np.sin(np.pi * t / t[-1]) ** 2
        sound += 0.2 * np.sin(2 * np.pi * rng.choice([660.0, 880.0]) * t) * (t < 0.3)
        parts.append(np.asarray(np.clip(sound, -1, 1) * 32767, dtype=np.int16))
        spans.append((at, at + n))
        at += n
    return np.concatenate(parts), spans


@pytest.fixture(scope="module")
def signal() -> tuple[Int16, list[tuple[int, int]]]:
    return _sounds_between_silences()


def _renderer(pcm: Int16, calls: list[tuple[int, int]]) -> object:
    def render(start: int, stop: int) -> Iterator[Int16]:
        calls.append((start, stop))
        for at in range(start, stop, 44100):
            yield pcm[at : min(stop, at + 44100)]

    return render


@pytest.fixture(scope="module")
def skipping(
    signal: tuple[Int16, list[tuple[int, int]]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[tuple[int, int]]]:
    pcm, spans = signal
    dest = tmp_path_factory.mktemp("skipping") / "skipping.mp3"
    calls: list[tuple[int, int]] = []
    encode_split(_renderer(pcm, calls), len(pcm), dest, SETTINGS, None, PER, spans)  # type: ignore[arg-type]
    return dest, calls


@pytest.fixture(scope="module")
def whole(
    signal: tuple[Int16, list[tuple[int, int]]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    pcm, _ = signal
    dest = tmp_path_factory.mktemp("whole") / "whole.mp3"
    encode_mp3(iter([pcm]), dest, SETTINGS)
    return dest


# --- the real path ---------------------------------------------------------------------


def test_skipping_silences_writes_the_whole_encodes_frames_byte_for_byte(
    skipping: tuple[Path, list[tuple[int, int]]], whole: Path
) -> None:
    joined, _ = skipping
    assert _frames(joined) == _frames(whole)


def _frames(path: Path) -> bytes:
    """The audio frames: all after the Info frame (whose padding field ffmpeg may state a
    few samples long; ``test_splice`` checks the joined file decodes to the exact length)."""
    data = path.read_bytes()
    return data[mpeg.boundaries(data)[1] :]


def test_the_pieces_are_fed_less_than_half_the_samples(
    signal: tuple[Int16, list[tuple[int, int]]], skipping: tuple[Path, list[tuple[int, int]]]
) -> None:
    pcm, spans = signal
    _, calls = skipping
    fed = sum(stop - start for start, stop in calls)
    sounding = sum(end - start for start, end in spans)
    assert fed < 0.5 * len(pcm)
    assert sounding < fed  # every sound is fed, with its margins of silence
    pieces = plan(len(pcm), SETTINGS, PER, spans)
    skipped = [cut for piece in pieces for cut in piece.skipped]
    assert skipped and all((b - a) % silence.padding_period(SETTINGS) == 0 for a, b in skipped)
    for start, end in spans:  # no sound falls in a skipped frame, nor its margin
        for a, b in skipped:
            assert end <= (a - silence.MARGIN) * FRAME or start >= (b + silence.MARGIN) * FRAME


def test_the_file_decodes_to_the_signal_length_and_silence_stays_silent(
    signal: tuple[Int16, list[tuple[int, int]]], skipping: tuple[Path, list[tuple[int, int]]]
) -> None:
    pcm, spans = signal
    decoded = decode_audio(skipping[0], SR)
    assert len(decoded) == len(pcm)
    quiet = np.ones(len(pcm), dtype=bool)
    for start, end in spans:
        quiet[max(0, start - 3 * FRAME) : end + 3 * FRAME] = False  # the codec's spread
    assert quiet.mean() > 0.5 and not np.any(decoded[quiet])


def test_a_music_bed_or_no_spans_skips_nothing(signal: tuple[Int16, list[tuple[int, int]]]) -> None:
    pcm, _ = signal
    assert all(piece.skipped == () for piece in plan(len(pcm), SETTINGS, PER))
    loud = [(0, len(pcm))]  # a bed sounds everywhere
    assert all(piece.skipped == () for piece in plan(len(pcm), SETTINGS, PER, loud))


# --- LAME's padding --------------------------------------------------------------------


def test_the_padding_pattern_is_the_one_lame_writes(whole: Path) -> None:
    data = whole.read_bytes()
    bounds = mpeg.boundaries(data)
    padded = [
        bool(int.from_bytes(data[a : a + 4], "big") >> 9 & 1)
        for a in itertools.islice(bounds, 1, len(bounds) - 1)
    ]
    pattern = silence.padding_pattern(SETTINGS)
    assert len(pattern) == silence.padding_period(SETTINGS) == 49
    assert padded == [pattern[i % len(pattern)] for i in range(len(padded))]


@pytest.mark.parametrize(
    ("rate", "kbps", "period"), [(22050, 96, 49), (44100, 128, 49), (48000, 128, 1), (24000, 64, 1)]
)
def test_padding_periods(rate: int, kbps: int, period: int) -> None:
    settings = Mp3Settings(sample_rate=rate, bitrate_kbps=kbps)
    pattern = silence.padding_pattern(settings)
    assert len(pattern) == period
    frame_bytes = mpeg.samples_per_frame(rate) // 8 * kbps * 1000 / rate
    assert sum(pattern) == pytest.approx((frame_bytes % 1) * period)  # the average is exact


# --- quiet runs, cuts and what is fed ----------------------------------------------------


def test_quiet_runs_are_the_whole_frames_nothing_touches() -> None:
    spans = [(1000, 1200), (5 * FRAME, 5 * FRAME + 1), (100, 200)]
    assert silence.quiet_runs(spans, 20 * FRAME + 7, FRAME) == [(3, 5), (6, 20)]
    assert silence.quiet_runs([], 10 * FRAME - 1, FRAME) == [(0, 9)]  # the last part frame
    assert silence.quiet_runs([(0, 10 * FRAME)], 10 * FRAME, FRAME) == []


def test_cuts_keep_margins_and_whole_periods() -> None:
    runs = [(10, 200), (300, 360), (400, 1000)]
    found = silence.cuts(runs, 0, 900, 49)
    margin = silence.MARGIN
    assert found == ((10 + margin, 10 + margin + 147), (305, 354), (405, 405 + 490))
    assert silence.cuts(runs, 150, 900, 49) == ((305, 354), (405, 895))  # 40 left in the first
    assert silence.cuts([(0, 58)], 0, 100, 49) == ()  # 48 frames inside the margins


def test_fed_leaves_out_the_cut_frames() -> None:
    assert silence.fed(100, 50 * FRAME, ((10, 20), (30, 40)), FRAME) == [
        (100, 10 * FRAME),
        (20 * FRAME, 30 * FRAME),
        (40 * FRAME, 50 * FRAME),
    ]
    assert silence.fed(0, 10 * FRAME, (), FRAME) == [(0, 10 * FRAME)]


def _frame(padded: bool, fill: int) -> bytes:
    """An MPEG-2 Layer III frame at 96 kbps and 22.05 kHz: 313 bytes, 314 padded."""
    header = 0xFFF3A0C0 | (1 << 9 if padded else 0)
    return header.to_bytes(4, "big") + bytes([fill]) * 8 + bytes(301 + padded)


@pytest.mark.parametrize(("start", "stop"), [(0, 12), (4, 12), (0, 5), (4, 5), (7, 12), (2, 9)])
def test_frames_put_the_cut_silence_back_anywhere_in_a_range(start: int, stop: int) -> None:
    pattern = (False, True)
    # A whole encode of 12 frames: sound in 0-1 and 9-11, silence in 2-8 (fill 0).
    whole = [_frame(pattern[i % 2], 7 if i < 2 or i > 8 else 0) for i in range(12)]
    cut = (3, 7)  # frames 3..6 were not encoded
    encoded = whole[: cut[0]] + whole[cut[1] :]
    data = b"".join(encoded)
    bounds = list(itertools.accumulate((len(f) for f in encoded), initial=0))
    frames = silence.Frames(data, bounds, (cut,), pattern)
    assert frames.count() == 12
    kept, sizes = frames.between(start, stop)
    assert kept == b"".join(whole[start:stop])
    assert list(sizes) == [len(f) for f in whole[start:stop]]


@pytest.mark.parametrize("kbps", [32, 64, 128, 160])
def test_other_bitrates_skip_silence_and_keep_every_frame(
    signal: tuple[Int16, list[tuple[int, int]]], tmp_path: Path, kbps: int
) -> None:
    pcm, spans = signal
    pcm, spans = pcm[: 60 * SR], [(a, b) for a, b in spans if b <= 60 * SR]
    settings = Mp3Settings(bitrate_kbps=kbps)
    whole, joined = tmp_path / "whole.mp3", tmp_path / "joined.mp3"
    encode_mp3(iter([pcm]), whole, settings)
    calls: list[tuple[int, int]] = []
    encode_split(_renderer(pcm, calls), len(pcm), joined, settings, None, 512, spans)  # type: ignore[arg-type]
    assert sum(b - a for a, b in calls) < 0.8 * len(pcm)
    assert _frames(joined) == _frames(whole)
