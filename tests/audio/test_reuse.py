"""Tests for routinecast.audio.reuse: pieces of earlier builds kept and encoded once.

Real builds (the fake engine's exact lengths, real mixing, ffmpeg and the store): an
edit late in a routine encodes only the pieces from its first change on, and the file
is the same, byte for byte, as one built with nothing kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from routinecast import pipeline
from routinecast.audio import splice
from routinecast.audio.reuse import KeptPieces
from routinecast.audio.splice import Piece
from routinecast.load.overrides import parse_overrides
from routinecast.pipeline import BuildOptions, BuildResult
from routinecast.speech.engines.fake import SilentEngine
from routinecast.store import FileStore
from routinecast.timeline import Event, Timeline

ROUTINE = """\
title: Reuse Check
steps:
  - exercise: dead-bug
    hold: 150s
  - exercise: knees-over-towel-psoas-release
    hold: 60s
"""
SR = 22050


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many samples ffmpeg is fed, encode by encode (a spy around the ``encode_mp3``
    that ``splice`` calls)."""
    real, fed = splice.encode_mp3, []

    def spy(chunks: Any, dest: Path, *args: Any) -> None:
        def counted() -> Any:
            for chunk in chunks:
                fed.append(len(chunk))
                yield chunk

        real(counted(), dest, *args)

    monkeypatch.setattr(splice, "encode_mp3", spy)
    return fed


def _build(tmp_path: Path, cache: str, sets: tuple[str, ...] = ()) -> BuildResult:
    path = tmp_path / "reuse-check.yaml"
    if not path.exists():
        path.write_text(ROUTINE, encoding="utf-8")
    options = BuildOptions(
        output_dir=tmp_path / f"out-{cache}",
        engine="fake",
        cache_dir=tmp_path / cache,
        overrides=parse_overrides(sets),
    )
    return pipeline.build(path, options, engine=SilentEngine())


def test_a_late_edit_encodes_only_the_pieces_it_changed(tmp_path: Path, encoded: list[int]) -> None:
    built = _build(tmp_path, "cache", ("2.hold=60s",))
    first, whole = built.mp3.read_bytes(), sum(encoded)
    total = built.timeline.duration_ms * SR // 1000
    assert len(splice.plan(total, splice.Mp3Settings(SR, 96))) >= 3
    encoded.clear()
    edited = _build(tmp_path, "cache", ("2.hold=61s",))
    assert 0 < sum(encoded) < 0.8 * whole  # the pieces from the change on, not the first
    fresh = _build(tmp_path, "fresh", ("2.hold=61s",))
    assert edited.mp3.read_bytes() == fresh.mp3.read_bytes()
    assert first != edited.mp3.read_bytes()


def _timeline(*events: Event) -> Timeline:
    return Timeline("t", "t.yaml", SR, 300_000, {}, events, (), ())


def _kept(timeline: Timeline, gain: float = -1.0) -> KeptPieces:
    digests = {"one": "a" * 64, "two": "b" * 64}
    return KeptPieces(FileStore(Path("/nonexistent")), timeline, digests, {}, {"gain": gain})


PIECE = Piece(first=4088, keep_from=4096, keep_to=8192, end=(8192 + 8) * 576)
"""The second piece of the grid: samples 2 354 688 to 4 723 200 (106.8 s to 214.2 s)."""


def test_a_key_changes_with_what_sounds_in_the_piece_only() -> None:
    inside = Event("speech", 150_000, 152_000, text="one")
    before = Event("speech", 10_000, 12_000, text="two")
    base = _kept(_timeline(before, inside)).key(PIECE)
    moved_before = _kept(_timeline(Event("speech", 11_000, 13_000, text="two"), inside))
    assert moved_before.key(PIECE) == base
    moved_inside = _kept(_timeline(before, Event("speech", 150_001, 152_001, text="one")))
    assert moved_inside.key(PIECE) != base
    other_clip = _kept(_timeline(before, Event("speech", 150_000, 152_000, text="two")))
    assert other_clip.key(PIECE) != base
    assert _kept(_timeline(before, inside), gain=-1.05).key(PIECE) != base


def test_an_event_ringing_into_the_piece_counts() -> None:
    start_s = PIECE.first * 576 / SR
    crossing = Event("speech", round(start_s * 1000) - 1500, round(start_s * 1000) + 5, text="one")
    alone = _kept(_timeline()).key(PIECE)
    assert _kept(_timeline(crossing)).key(PIECE) != alone
    tail = Event(
        "tone", round(PIECE.end / SR * 1000) - 2, round(PIECE.end / SR * 1000), tone="tick"
    )
    assert _kept(_timeline(tail)).key(PIECE) != alone
