"""Tests for routinecast.audio.runs: consecutive pieces encoded by one ffmpeg, then cut
back into each piece's own encode.

The real path: a run of pieces of a signal with long silences is encoded once; each
member cut from it keeps the same frames, byte for byte, as the member encoded alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from routinecast.audio import runs, silence
from routinecast.audio.encode import Mp3Settings, encode_mp3
from routinecast.audio.splice import Piece, _kept, plan

SR = 22050
FRAME = 576
SETTINGS = Mp3Settings()
PER = 1024
"""Frames per piece (27 s)."""


def _piece(first: int, fed: int, skipped: tuple[tuple[int, int], ...] = ()) -> Piece:
    return Piece(first, first, first + fed, (first + fed) * FRAME, skipped)


def test_runs_are_consecutive_pieces_about_one_share_of_the_work_each() -> None:
    pieces = [_piece(i * 100, 100) for i in range(8)]
    assert runs.group(pieces, list(range(8)), 2, FRAME) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert runs.group(pieces, [1, 2, 5, 6, 7], 1, FRAME) == [[1, 2], [5, 6, 7]]  # kept: 3, 4
    assert runs.group(pieces, [0, 1, 2], 8, FRAME) == [[0], [1], [2]]
    assert runs.group(pieces, [], 2, FRAME) == []
    many = [_piece(i * 100, 100) for i in range(20)]
    assert [len(run) for run in runs.group(many, list(range(20)), 1, FRAME)] == [8, 8, 4]


def test_a_run_counts_the_frames_it_is_fed_not_those_it_skips() -> None:
    busy, quiet = _piece(0, 100), _piece(100, 100, ((110, 190),))
    pieces = [busy, quiet, _piece(200, 100)]
    assert runs.group(pieces, [0, 1, 2], 2, FRAME) == [[0, 1], [2]]


def _signal(seconds: float, seed: int = 5) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Bursts of noise and tone between silences of up to 20 s, and where they sound."""
    rng = np.random.default_rng(seed)
    pcm = np.zeros(int(seconds * SR), dtype=np.int16)
    spans, at = [], int(0.5 * SR)
    while at < len(pcm) - 4 * SR:
        n = int(rng.uniform(0.2, 3.0) * SR)
        t = np.arange(n) / SR
        sound = 0.3 * rng.standard_normal(n) * np.sin(np.pi * t / t[-1]) ** 2
        pcm[at : at + n] = np.clip(sound + 0.2 * np.sin(2 * np.pi * 660 * t), -1, 1) * 32767
        spans.append((at, at + n))
        at += n + int(rng.choice([0.4, 2.0, 9.0, 20.0]) * SR) + int(rng.integers(0, FRAME))
    return pcm, spans


def _encode(pcm: np.ndarray, piece: Piece, dest: Path) -> bytes:
    spans = silence.fed(piece.first * FRAME, piece.end, piece.skipped, FRAME)
    encode_mp3((pcm[a:b] for a, b in spans), dest, SETTINGS)
    return dest.read_bytes()


@pytest.mark.parametrize("last", [False, True], ids=["middle", "to-the-end"])
def test_each_member_cut_from_a_run_keeps_the_frames_it_keeps_alone(
    tmp_path: Path, last: bool
) -> None:
    pcm, spans = _signal(140)
    pieces = plan(len(pcm), SETTINGS, PER, spans)
    members = pieces[1:] if last else pieces[1:4]
    assert len(members) >= 3 and (members[-1].keep_to is None) == last
    quiet = silence.quiet_runs(spans, len(pcm), FRAME)
    run = runs.run_piece(members, quiet, silence.padding_period(SETTINGS), FRAME)
    fed = runs._fed_frames  # fed once, the run is fed less than its members one by one
    assert fed(run, FRAME) < sum(fed(member, FRAME) for member in members)
    pattern = silence.padding_pattern(SETTINGS)
    together = runs.cut(run, _encode(pcm, run, tmp_path / "run.mp3"), members, pattern)
    for index, (member, share) in enumerate(zip(members, together, strict=True)):
        alone = _kept(member, _encode(pcm, member, tmp_path / f"{index}.mp3"), pattern)
        assert _kept(member, share.encode, pattern) == alone  # the store's copy
        assert (share.kept, share.sizes) == alone  # the join's
