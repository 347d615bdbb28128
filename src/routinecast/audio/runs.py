"""Pieces encoded together: consecutive pieces a build must encode share one ffmpeg.

The pieces sit on a fixed grid so that the store can keep them (``audio.splice``), but
starting an ffmpeg costs 17-20 ms of a core (a 170 MB static binary relocating itself),
and each piece also encodes its warm-up frames and the silence its cuts cannot reach
across its edges. So the pieces a build encodes are grouped into runs of consecutive
pieces, about one per core (``group``); a run is encoded as one piece from its first
member's start to its last member's end (``run_piece``), and is then cut back into each
member's share (``cut``): the frames it keeps, for the join, and its own encode, for the
store. A single piece is a run of one. Its
frames are the whole encode's, byte for byte, as every piece's are, so a member cut from
a run is the member encoded alone, where it matters: the frames it keeps.
"""

from __future__ import annotations

import array
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from routinecast.audio import mpeg, silence

if TYPE_CHECKING:
    from routinecast.audio.splice import Piece


MOST = 8
"""Pieces in one run at most (14 minutes): a run's encode is read back whole to be cut,
so a long routine's memory stays that of a few runs, not of half the file."""


def group(pieces: Sequence[Piece], todo: Sequence[int], workers: int, n: int) -> list[list[int]]:
    """The pieces ``todo`` (indices, in order) in runs of consecutive pieces: a run ends
    where the next piece is not consecutive, once it holds its share of the samples to
    encode (the total over ``workers``, so the runs keep every core busy), or at
    ``MOST`` pieces."""
    sizes = {index: _fed_frames(pieces[index], n) for index in todo}
    share = sum(sizes.values()) / max(1, workers)
    runs: list[list[int]] = []
    filled = 0
    for index in todo:
        joins = runs and runs[-1][-1] == index - 1 and len(runs[-1]) < MOST
        if joins and filled + sizes[index] / 2 <= share:
            runs[-1].append(index)
            filled += sizes[index]
        else:
            runs.append([index])
            filled = sizes[index]
    return runs


def run_piece(
    members: Sequence[Piece], quiet: Sequence[tuple[int, int]], period: int, n: int
) -> Piece:
    """One piece encoding ``members`` (consecutive) in one go, skipping the ``quiet`` runs'
    insides over its whole length (cuts may now cross the members' edges)."""
    head, tail = members[0], members[-1]
    skipped = silence.cuts(quiet, head.first, -(-tail.end // n), period)
    return replace(head, keep_to=tail.keep_to, end=tail.end, skipped=skipped)


@dataclass(frozen=True)
class Share:
    """What a run holds of one member."""

    encode: bytes
    """The member's own encode as ``splice`` reads a piece's (its Info frame, its frames
    without its own skipped silences): what the store keeps."""
    kept: bytes
    """The frames the member keeps, silences put back: what the join copies."""
    sizes: array.array[int]
    """The length of each kept frame."""


def cut(
    run: Piece, data: bytes, members: Sequence[Piece], pattern: tuple[bool, ...]
) -> list[Share]:
    """Each member's share of the run's encode (``data``), from one pass over its frames."""
    bounds = mpeg.boundaries(data)[1:]
    info = data[: bounds[0]]
    relative = tuple((a - run.first, b - run.first) for a, b in run.skipped)
    frames = silence.Frames(data, bounds, relative, pattern)
    count = frames.count()
    out = []
    for member in members:
        last = run.first + count if member.keep_to is None else _last(member)
        body, sizes = frames.between(member.first - run.first, last - run.first)
        offsets = [0, *itertools.accumulate(sizes)]
        start = member.keep_from - member.first
        stop = len(sizes) if member.keep_to is None else member.keep_to - member.first
        own = info + _without(body, offsets, member, last)
        out.append(Share(own, body[offsets[start] : offsets[stop]], sizes[start:stop]))
    return out


def _last(member: Piece) -> int:
    """The frame after the last one ``member``'s encode must hold."""
    assert member.keep_to is not None
    return max([member.keep_to, *(b for _, b in member.skipped)])


def _without(body: bytes, offsets: Sequence[int], member: Piece, stop: int) -> bytes:
    """``body`` (frames ``member.first`` to ``stop``, starting at ``offsets``) without
    ``member``'s skipped frames."""
    kept, at = [], 0
    for a, b in member.skipped:
        a, b = max(a, member.first), min(b, stop)
        if b <= a:
            continue
        kept.append(body[offsets[at] : offsets[a - member.first]])
        at = b - member.first
    kept.append(body[offsets[at] :])
    return b"".join(kept)


def _fed_frames(piece: Piece, n: int) -> int:
    """How many frames ``piece`` is fed: its span less the silences it skips."""
    return -(-piece.end // n) - piece.first - sum(b - a for a, b in piece.skipped)
