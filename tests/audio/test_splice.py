"""Tests for routinecast.audio.splice, mpeg and infotag: one MP3 from encodes side by side.

The real path throughout: ffmpeg encodes the pieces, the joined file is decoded back by
ffmpeg and read by mutagen, and compared with one whole encode of the same PCM.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterator
from pathlib import Path

import mutagen.mp3
import numpy as np
import numpy.typing as npt
import pytest

from routinecast.audio import infotag, mpeg
from routinecast.audio.decode import decode_audio
from routinecast.audio.encode import Mp3Settings, encode_mp3
from routinecast.audio.splice import PIECE_FRAMES, WARM_FRAMES, Piece, encode_split, plan
from routinecast.errors import OutputError

SR = 22050
SETTINGS = Mp3Settings()
FRAME = 576
PER = 2048
PERIOD = 49
"""LAME pads frames by a pattern 49 frames long at 96 kbps and 22.05 kHz."""
"""Frames per piece in these tests (53 s), so a 3-minute signal makes 4 pieces."""
Int16 = npt.NDArray[np.int16]


def _speechy(seconds: float, seed: int = 1) -> Int16:
    """Noise in syllable-like bursts with pauses and a few tones: loud, busy content."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    envelope = np.clip(np.sin(2 * np.pi * 1.7 * t), 0.0, None) ** 2
    x = 0.3 * rng.standard_normal(n) * envelope + 0.2 * np.sin(2 * np.pi * 440 * t) * (t % 7 < 1)
    return np.asarray(np.clip(x, -1, 1) * 32767, dtype=np.int16)


def _chunks(pcm: Int16, size: int = 44100) -> Iterator[Int16]:
    for at in range(0, len(pcm), size):
        yield pcm[at : at + size]


def _renderer(pcm: Int16) -> object:
    def render(start: int, stop: int) -> Iterator[Int16]:
        return _chunks(pcm[start:stop])

    return render


@pytest.fixture(scope="module")
def long_pcm() -> Int16:
    return _speechy(187.3)


@pytest.fixture(scope="module")
def whole(long_pcm: Int16, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("whole") / "whole.mp3"
    encode_mp3(_chunks(long_pcm), dest, SETTINGS)
    return dest


@pytest.fixture(scope="module")
def joined(long_pcm: Int16, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("joined") / "joined.mp3"
    encode_split(_renderer(long_pcm), len(long_pcm), dest, SETTINGS, frames_per_piece=PER)  # type: ignore[arg-type]
    return dest


# --- the plan ----------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [0.5, 53.4, 53.6, 1000.7])
@pytest.mark.parametrize("per", [1, 7, PER, PIECE_FRAMES])
def test_pieces_keep_every_frame_once_in_order(seconds: float, per: int) -> None:
    total = int(seconds * SR)
    pieces = plan(total, SETTINGS, per)
    frames = math.ceil(total / FRAME)
    assert len(pieces) == max(1, math.ceil(frames / per))
    assert pieces[0].keep_from == 0 and pieces[-1].keep_to is None and pieces[-1].end == total
    for index, (before, after) in enumerate(itertools.pairwise(pieces)):
        assert before.keep_to == after.keep_from == (index + 1) * per  # a fixed grid
        assert after.first % PERIOD == 0  # padded as one whole encode pads its frames
        assert after.keep_from - WARM_FRAMES - PERIOD < after.first
        assert after.first <= max(0, after.keep_from - WARM_FRAMES)
        assert before.end == min(total, (before.keep_to or 0) * FRAME + WARM_FRAMES * FRAME)


def test_a_short_file_is_one_piece() -> None:
    assert plan(SR * 30, SETTINGS) == [Piece(0, 0, None, SR * 30)]


# --- frames and the Info frame ---------------------------------------------------------


def test_frame_lengths_follow_the_header() -> None:
    assert mpeg.frame_size(0xFFF3A0C0) == 313  # MPEG-2 Layer III, 96 kbps, 22050 Hz
    assert mpeg.frame_size(0xFFF3A2C0) == 314  # the same, padded
    assert mpeg.frame_size(0xFFFB9064) == 417  # MPEG-1, 128 kbps, 44100 Hz
    for bad in (0x12345678, 0xFFF5A0C0, 0xFFF3F0C0):
        with pytest.raises(mpeg.FrameError):
            mpeg.frame_size(bad)


def test_frames_refuse_a_cut_stream(whole: Path) -> None:
    data = whole.read_bytes()
    bounds = mpeg.boundaries(data)
    assert bounds[0] == 0 and bounds[-1] == len(data)
    assert all(b - a in (313, 314) for a, b in itertools.pairwise(bounds[1:]))  # audio frames
    for cut in (data[:-100], data[:-1], data + b"\xff\xf3"):
        with pytest.raises(mpeg.FrameError):
            mpeg.boundaries(cut)


def _slow_crc(data: bytes, crc: int = 0) -> int:
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@pytest.mark.parametrize("size", [0, 1, 255, 256, 257, 4099, 70001])
def test_crc16_is_crc16_arc_and_continues(size: int) -> None:
    data = os.urandom(size)
    assert infotag.crc16(data) == _slow_crc(data)
    assert infotag.crc16(data, 0xBEEF) == _slow_crc(data, 0xBEEF)
    cut = size // 3
    assert infotag.crc16(data[cut:], infotag.crc16(data[:cut])) == _slow_crc(data)
    joined = infotag.crc16_after(infotag.crc16(data[:cut]), infotag.crc16(data[cut:]), size - cut)
    assert joined == _slow_crc(data)  # two pieces checksummed apart


def test_info_frame_of_one_encode_is_what_ffmpeg_wrote(tmp_path: Path) -> None:
    pcm = _speechy(40.0)  # an even length: ffmpeg counts the padding of an odd one 2 short
    dest = tmp_path / "one.mp3"
    encode_mp3(_chunks(pcm), dest, SETTINGS)
    data = dest.read_bytes()
    bounds = mpeg.boundaries(data)
    info = data[: bounds[1]]
    assert len(bounds) > 2 * 400  # the seek table's bags have halved at least once
    crc = infotag.crc16(data[bounds[1] :])
    sizes = [b - a for a, b in itertools.pairwise(bounds[1:])]
    assert infotag.rewrite(info, sizes, crc, len(pcm), FRAME) == info


# --- the joined file -----------------------------------------------------------------


def test_joined_file_decodes_to_the_exact_length(
    joined: Path, whole: Path, long_pcm: Int16
) -> None:
    decoded = decode_audio(joined, SR)
    assert len(decoded) == len(long_pcm)
    audio = mutagen.mp3.MP3(joined)
    assert audio.info.length == pytest.approx(len(long_pcm) / SR, abs=0.03)
    ours, theirs = _info(joined), _info(whole)
    assert infotag.delay_of(ours) == infotag.delay_of(theirs) > 0
    frames = len(mpeg.boundaries(joined.read_bytes())) - 2  # the Info frame, and the end
    assert frames == len(mpeg.boundaries(whole.read_bytes())) - 2
    assert infotag.padding_of(ours) == frames * FRAME - len(long_pcm) - infotag.delay_of(ours)


def _info(path: Path) -> bytes:
    data = path.read_bytes()
    return data[: mpeg.boundaries(data)[1]]


def test_joined_frames_are_one_encodes_byte_for_byte(joined: Path, whole: Path) -> None:
    # Pieces start on LAME's padding period, warmed by WARM_FRAMES of the same sound.
    # The Info frames differ only where ffmpeg's own padding is 2 samples long here
    # (its file decodes to 2 samples more than were encoded; the joined one exactly).
    assert _frames(joined) == _frames(whole)


def _frames(path: Path) -> bytes:
    """The audio frames of an MP3 written by ffmpeg or joined: all after the Info frame."""
    data = path.read_bytes()
    return data[mpeg.boundaries(data)[1] :]


def test_joined_file_sounds_like_one_encode(joined: Path, whole: Path, long_pcm: Int16) -> None:
    source = long_pcm.astype(np.float64) / 32767
    one, split = decode_audio(whole, SR)[: len(source)], decode_audio(joined, SR)
    noise_one, noise_split = one - source, split - source
    assert _rms(noise_split) <= 1.1 * _rms(noise_one)
    for piece in plan(len(long_pcm), SETTINGS, PER)[1:]:
        at = piece.keep_from * FRAME
        near = slice(at - 4 * FRAME, at + 4 * FRAME)
        assert _rms(noise_split[near]) <= 1.5 * _rms(noise_one[near]) + 1e-4
        assert np.max(np.abs(split[near] - one[near])) < 0.02


def _rms(x: npt.NDArray[np.floating]) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


def test_a_failing_piece_fails_the_whole_and_leaves_nothing(
    tmp_path: Path, long_pcm: Int16
) -> None:
    def render(start: int, stop: int) -> Iterator[Int16]:
        if start > 0:
            raise RuntimeError("the mix broke")
        return _chunks(long_pcm[start:stop])

    dest = tmp_path / "out.mp3"
    with pytest.raises(RuntimeError, match="the mix broke"):
        encode_split(render, len(long_pcm), dest, SETTINGS, frames_per_piece=PER)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_an_output_error(tmp_path: Path, long_pcm: Int16) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        encode_split(
            _renderer(long_pcm),  # type: ignore[arg-type]
            len(long_pcm),
            tmp_path / "nowhere" / "out.mp3",
            SETTINGS,
            frames_per_piece=PER,
        )


# --- pieces kept between encodes -------------------------------------------------------


class _Shelf:
    """A ``Reuse`` in a folder: pieces by key; ``keys`` says each piece's key."""

    def __init__(self, folder: Path, keys: dict[int, str]) -> None:
        self.folder, self.keys, self.put_keys = folder, keys, []

    def key(self, piece: Piece) -> str | None:
        return self.keys.get(piece.keep_from)

    def get(self, key: str) -> Path | None:
        path = self.folder / key
        return path if path.exists() else None

    def put(self, key: str, path: Path) -> None:
        self.put_keys.append(key)
        (self.folder / key).write_bytes(path.read_bytes())


def _spy(pcm: Int16, calls: list[int]) -> object:
    def render(start: int, stop: int) -> Iterator[Int16]:
        calls.append(start)
        return _chunks(pcm[start:stop])

    return render


def test_kept_pieces_are_reused_and_the_bytes_are_the_same(
    tmp_path: Path, long_pcm: Int16, joined: Path
) -> None:
    pieces = plan(len(long_pcm), SETTINGS, PER)
    shelf = _Shelf(tmp_path, {p.keep_from: f"piece-{p.keep_from}" for p in pieces})
    first, again = tmp_path / "first.mp3", tmp_path / "again.mp3"
    calls: list[int] = []
    encode_split(_spy(long_pcm, calls), len(long_pcm), first, SETTINGS, shelf, PER)  # type: ignore[arg-type]
    assert 1 <= len(calls) < len(pieces)  # consecutive pieces encoded together (audio.runs)
    assert sorted(shelf.put_keys) == sorted(shelf.keys.values())  # and kept one by one
    calls.clear()
    encode_split(_spy(long_pcm, calls), len(long_pcm), again, SETTINGS, shelf, PER)  # type: ignore[arg-type]
    assert calls == []  # nothing mixed or encoded
    assert again.read_bytes() == first.read_bytes() == joined.read_bytes()


def test_an_edit_encodes_from_its_first_change_on(tmp_path: Path, long_pcm: Int16) -> None:
    pieces = plan(len(long_pcm), SETTINGS, PER)
    edited = long_pcm.copy()
    change = pieces[2].keep_from * FRAME + 1000  # inside the third piece
    edited[change:] = _speechy(len(long_pcm) / SR, seed=7)[change:]
    touched = {p.keep_from for p in pieces if p.end > change}
    keys = {p.keep_from: f"{p.keep_from}-{p.keep_from in touched}" for p in pieces}
    shelf = _Shelf(tmp_path, {p.keep_from: f"{p.keep_from}-False" for p in pieces})
    encode_split(_renderer(long_pcm), len(long_pcm), tmp_path / "a.mp3", SETTINGS, shelf, PER)  # type: ignore[arg-type]
    shelf.keys, calls = keys, []
    encode_split(_spy(edited, calls), len(edited), tmp_path / "b.mp3", SETTINGS, shelf, PER)  # type: ignore[arg-type]
    starts = {p.first * FRAME for p in pieces if p.keep_from in touched}
    assert calls and set(calls) <= starts and min(calls) == min(starts)  # nothing before
    assert pieces[1].keep_from in touched  # its last frames are encoded with what follows
    fresh = tmp_path / "fresh.mp3"
    encode_split(_renderer(edited), len(edited), fresh, SETTINGS, frames_per_piece=PER)  # type: ignore[arg-type]
    assert (tmp_path / "b.mp3").read_bytes() == fresh.read_bytes()


def test_a_piece_that_cannot_be_written_names_the_file_asked_for(
    tmp_path: Path, long_pcm: Int16, monkeypatch: pytest.MonkeyPatch
) -> None:
    from routinecast.audio import splice

    def refuse(chunks: object, dest: Path, *args: object) -> None:
        raise OutputError("the disk is full", path=dest, doing="could not write")

    monkeypatch.setattr(splice, "encode_mp3", refuse)
    dest = tmp_path / "out.mp3"
    with pytest.raises(OutputError) as caught:
        encode_split(_renderer(long_pcm), len(long_pcm), dest, SETTINGS, frames_per_piece=PER)  # type: ignore[arg-type]
    assert caught.value.path == dest and "the disk is full" in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_kept_piece_that_goes_before_it_is_taken_is_encoded(
    tmp_path: Path, long_pcm: Int16
) -> None:
    pieces = plan(len(long_pcm), SETTINGS, PER)
    shelf = _Shelf(tmp_path, {p.keep_from: f"piece-{p.keep_from}" for p in pieces})
    encode_split(_renderer(long_pcm), len(long_pcm), tmp_path / "a.mp3", SETTINGS, shelf, PER)  # type: ignore[arg-type]
    gone = shelf.get(f"piece-{pieces[1].keep_from}")
    assert gone is not None

    class Evicting(_Shelf):
        def get(self, key: str) -> Path | None:
            found = super().get(key)
            if found == gone:
                found.unlink()  # another build's store evicts it just after the lookup
            return found

    evicting, calls = Evicting(tmp_path, shelf.keys), []
    encode_split(_spy(long_pcm, calls), len(long_pcm), tmp_path / "b.mp3", SETTINGS, evicting, PER)  # type: ignore[arg-type]
    assert calls == [pieces[1].first * FRAME]
    assert (tmp_path / "b.mp3").read_bytes() == (tmp_path / "a.mp3").read_bytes()
