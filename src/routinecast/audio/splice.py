"""Encode one MP3 on every core: pieces encoded side by side, joined at frame boundaries.

LAME encodes one frame after another on one core, and it is most of a build's time
once the speech is cached. ``encode_split`` cuts the PCM into pieces at frame
boundaries, encodes them side by side, an ffmpeg each, and joins the frames into one
stream behind one Info frame (``audio.infotag``) that counts them all.

Why the join is exact enough to hear nothing:

* Every piece starts ``WARM_FRAMES`` early and runs ``WARM_FRAMES`` late, on the
  same frame grid as the whole file (pieces start on a multiple of a frame's
  samples), and only its middle frames are kept. The encoder's filter bank and
  psychoacoustic model have then seen the same sound around each kept frame as a
  single encoder would: measured on ``desk-hip-reset``, decoding the joined file
  differs from decoding one whole encode by at most a few LSB near a join (4 frames
  of overlap were enough; 2 were not), far under the coding noise.
* ``encode.py`` turns LAME's bit reservoir off, so no frame borrows bytes from the
  frame before it: a kept frame never refers into another encode's bytes. (With the
  reservoir on, the frame after a join decoded as noise.) At 96 kbps the reservoir
  bought 0.07 dB of signal-to-noise ratio on this content (``docs/encoder.md``).
* The Info frame's delay is the same for every piece and its padding is recomputed
  for the whole, so players trim exactly as for one encode: the decoded length is the
  PCM's length to the sample.

Pieces sit on a fixed grid (``PIECE_FRAMES``) from the file's start, so a piece's
samples depend only on what plays within it: the caller's ``Reuse`` keeps encoded
pieces by a key of exactly that (``pipeline``: the events, the master gain, the
settings), and an edit re-encodes only the pieces from its first change on. The
result is the same bytes either way: a piece is encoded the same whether the rest
of the file was reused or not.
"""

from __future__ import annotations

import array
import contextlib
import functools
import itertools
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from routinecast.audio import infotag, mpeg
from routinecast.audio.encode import Mp3Settings, check_folder, encode_mp3
from routinecast.errors import OutputError
from routinecast.store import link_or_copy

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Chunks = Iterable[npt.NDArray[np.int16]]

WARM_FRAMES = 8
"""Frames encoded before and after each kept run and then dropped."""
PIECE_FRAMES = 4096
"""Frames kept per piece: 107 s at 22.05 kHz. The grid is fixed from the file's start,
so an edit leaves every piece before it the same, to be reused from ``Reuse``."""


@dataclass(frozen=True)
class Piece:
    """Frames ``[keep_from, keep_to)`` of the whole stream, encoded from ``first``.

    The piece is fed samples ``[first * n, end)`` (``n`` samples per frame) and keeps
    its own frames ``keep_from - first`` to ``keep_to - first``; ``keep_to`` is None
    for the last piece, which keeps everything to the end (its padding included).
    """

    first: int
    keep_from: int
    keep_to: int | None
    end: int


class Reuse(Protocol):
    """Where encoded pieces are kept between builds, by a key of what they encode."""

    def key(self, piece: Piece) -> str | None:
        """The key of everything that decides ``piece``'s samples, or None: do not keep."""

    def get(self, key: str) -> Path | None:
        """The piece encoded before under ``key``, if it is kept."""

    def put(self, key: str, path: Path) -> None:
        """Keep the encoded piece at ``path`` under ``key``."""


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def plan(total: int, settings: Mp3Settings, frames_per_piece: int = PIECE_FRAMES) -> list[Piece]:
    """Pieces of ``frames_per_piece`` frames from the start, covering ``total`` samples."""
    n = mpeg.samples_per_frame(settings.sample_rate)
    frames = -(-total // n)
    count = max(1, -(-frames // frames_per_piece))
    edges = [index * frames_per_piece for index in range(count)] + [frames]
    pieces = []
    for index in range(count):
        keep_from, keep_to = edges[index], edges[index + 1]
        last = index == count - 1
        first = max(0, keep_from - WARM_FRAMES)
        end = total if last else min(total, (keep_to + WARM_FRAMES) * n)
        pieces.append(Piece(first, keep_from, None if last else keep_to, end))
    return pieces


def encode_split(
    render: Callable[[int, int], Chunks],
    total: int,
    dest: Path,
    settings: Mp3Settings,
    reuse: Reuse | None = None,
    frames_per_piece: int = PIECE_FRAMES,
) -> None:
    """Encode the ``total`` samples that ``render(start, stop)`` yields to ``dest``.

    Pieces ``reuse`` keeps are taken from it and not rendered; the others are encoded
    side by side, ``render`` called once per piece from that piece's thread, and given
    to ``reuse`` once all are done. Errors are ``encode_mp3``'s: the first one raised
    by any piece is raised here once every piece has stopped, and ``dest`` is not
    written. An interrupt stops every piece (their ffmpegs are killed) first.
    """
    check_folder(dest)
    pieces = plan(total, settings, frames_per_piece)
    n = mpeg.samples_per_frame(settings.sample_rate)
    keys = [reuse.key(piece) if reuse is not None else None for piece in pieces]
    with tempfile.TemporaryDirectory(prefix=".pieces-", dir=dest.parent) as folder:
        parts = [Path(folder) / f"{index}.mp3" for index in range(len(pieces))]
        kept = [_take(reuse, key, part) for key, part in zip(keys, parts, strict=True)]
        stop = threading.Event()
        jobs = [
            functools.partial(encode_mp3, _until(stop, render, p.first * n, p.end), part, settings)
            for p, part, found in zip(pieces, parts, kept, strict=True)
            if not found
        ]
        try:
            _run_all(jobs, stop)
        except OutputError as exc:  # a piece's file is ours; the user's is ``dest``
            raise OutputError(exc.message, path=dest, doing=exc.doing) from None
        _join(pieces, parts, dest, total, n)
        for key, part, found in zip(keys, parts, kept, strict=True):
            if reuse is not None and key and not found:
                reuse.put(key, part)


def _take(reuse: Reuse | None, key: str | None, part: Path) -> bool:
    """Link (or copy) the piece kept under ``key`` to ``part``; False if it is not kept,
    or went between asking and taking (another build's store may evict it)."""
    found = reuse.get(key) if reuse is not None and key else None
    if found is None:
        return False
    try:
        link_or_copy(found, part)
    except OSError:
        return False
    return True


class _Stopped(Exception):
    """Another piece failed or the build was interrupted."""


def _until(
    stop: threading.Event, render: Callable[[int, int], Chunks], start: int, end: int
) -> Iterator[npt.NDArray[np.int16]]:
    """``render(start, end)``, called in the piece's own thread, until ``stop`` is set."""
    for chunk in render(start, end):
        if stop.is_set():
            raise _Stopped
        yield chunk


def _run_all(jobs: Sequence[Callable[[], None]], stop: threading.Event) -> None:
    """Run the jobs on threads, ``2 x cores`` at once; re-raise the first failure after
    all stop (each ffmpeg keeps about 1.5 cores busy, so more at once gain nothing)."""
    failures: list[BaseException] = []
    waiting = iter(jobs)
    lock = threading.Lock()

    def run() -> None:
        while True:
            with lock:
                job = next(waiting, None)
            if job is None or stop.is_set():
                return
            try:
                job()
            except BaseException as exc:
                failures.append(exc)
                stop.set()

    threads = [
        threading.Thread(target=run, daemon=True) for _ in range(min(len(jobs), 2 * cores()))
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:
        stop.set()
        for thread in threads:
            thread.join()
        raise
    real = [exc for exc in failures if not isinstance(exc, _Stopped)]
    if failures:
        raise (real or failures)[0]


def _join(pieces: list[Piece], parts: list[Path], dest: Path, total: int, n: int) -> None:
    """Write the kept frames of every part behind one Info frame for all of them.

    One part in memory at a time (a piece is about 1.3 MB): a first pass finds and
    checksums the kept frames for the Info frame, a second copies just those bytes.
    """
    sizes: array.array[int] = array.array("H")
    spans: list[tuple[int, int]] = []
    crc, info = 0, b""
    for piece, part in zip(pieces, parts, strict=True):
        data = part.read_bytes()
        start, end, run = _kept(piece, data)
        crc = infotag.crc16(memoryview(data)[start:end], crc)
        sizes.extend(run)
        spans.append((start, end))
        info = info or data[: mpeg.frame_size(int.from_bytes(data[:4], "big"))]
    header = infotag.rewrite(info, sizes, crc, total, n)
    try:
        with dest.open("wb") as out:
            out.write(header)
            for part, (start, end) in zip(parts, spans, strict=True):
                with part.open("rb") as source:
                    source.seek(start)
                    out.write(source.read(end - start))
    except BaseException:
        with contextlib.suppress(OSError):
            dest.unlink(missing_ok=True)
        raise


def _kept(piece: Piece, data: bytes) -> tuple[int, int, array.array[int]]:
    """Where the frames ``piece`` keeps from its encode start and end, and their lengths."""
    bounds = mpeg.boundaries(data)[1:]  # the first frame is the piece's own Info frame
    count = len(bounds) - 1
    start = piece.keep_from - piece.first
    stop = count if piece.keep_to is None else piece.keep_to - piece.first
    if not 0 <= start < stop <= count:
        raise mpeg.FrameError(f"a piece's encode holds {count} frames, too few to keep")
    kept = bounds[start : stop + 1]
    return kept[0], kept[-1], array.array("H", (b - a for a, b in itertools.pairwise(kept)))
