"""Encode one MP3 on every core: pieces encoded side by side, joined at frame boundaries.

LAME encodes one frame after another on one core, and it is most of a build's time
once the speech is cached. ``encode_split`` cuts the PCM into pieces at frame
boundaries, encodes them side by side, an ffmpeg each, and joins the frames into one
stream behind one Info frame (``audio.infotag``) that counts them all. Each piece also
skips the long silences inside it (``audio.silence``): about 45 % of ``desk-hip-reset``'s
frames are put back as copies instead of being encoded.

Why the joined file is the whole encode, byte for byte (``tests/audio/test_splice.py``,
``test_silence.py``; the Info frame aside, below):

* Every piece starts at least ``WARM_FRAMES`` early and runs ``WARM_FRAMES`` late, on
  the same frame grid as the whole file, and only its middle frames are kept. The
  encoder's filter bank and psychoacoustic model have then seen the same sound around
  each kept frame as a single encoder would (4 frames of overlap were enough; 2 were
  not).
* Pieces start on a multiple of LAME's padding period (49 frames at 96 kbps and
  22.05 kHz, ``silence.padding_period``): LAME pads a frame by a byte by a running
  remainder from its first frame, and its bit allocation follows the frame's length, so
  a piece started elsewhere writes the same sound in slightly different bits (decoded,
  a few LSB apart).
* ``encode.py`` turns LAME's bit reservoir off, so no frame borrows bytes from the
  frame before it: a kept frame never refers into another encode's bytes. (With the
  reservoir on, the frame after a join decoded as noise.) At 96 kbps the reservoir
  bought 0.07 dB of signal-to-noise ratio on this content (``docs/encoder.md``).
* The Info frame's delay is the same for every piece and its padding is recomputed
  for the whole, so players trim exactly as for one encode: the decoded length is the
  PCM's length to the sample (ffmpeg's own Info frame for one whole encode can state
  the padding a few samples long).

Consecutive pieces to encode are encoded together, an ffmpeg per run of about a core's
share of the work, and cut back into the pieces (``audio.runs``): 2 ffmpegs for a whole
file instead of 9.

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
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from routinecast.audio import cores, infotag, mpeg, runs, silence
from routinecast.audio.encode import Mp3Settings, check_folder, encode_mp3
from routinecast.errors import OutputError
from routinecast.store import link_or_copy

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Chunks = Iterable[npt.NDArray[np.int16]]

WARM_FRAMES = 8
"""Frames encoded before and after each kept run and then dropped."""
COPY_BYTES = 1 << 20
"""The join copies each piece's kept frames into the file in blocks of this size."""
PIECE_FRAMES = 4096
"""Frames kept per piece: 107 s at 22.05 kHz (576 samples a frame). The grid is fixed
from the file's start, so an edit leaves every piece before it the same, to be reused
from ``Reuse``."""


@dataclass(frozen=True)
class Piece:
    """Frames ``[keep_from, keep_to)`` of the whole stream, encoded from ``first``.

    The piece is fed samples ``[first * n, end)`` (``n`` samples per frame) but for the
    silent frames ``skipped`` (``audio.silence``), and keeps its own frames
    ``keep_from - first`` to ``keep_to - first``; ``keep_to`` is None for the last
    piece, which keeps everything to the end (its padding included).
    """

    first: int
    keep_from: int
    keep_to: int | None
    end: int
    skipped: tuple[tuple[int, int], ...] = ()


class Reuse(Protocol):
    """Where encoded pieces are kept between builds, by a key of what they encode."""

    def key(self, piece: Piece) -> str | None:
        """The key of everything that decides ``piece``'s samples, or None: do not keep."""

    def get(self, key: str) -> Path | None:
        """The piece encoded before under ``key``, if it is kept."""

    def put(self, key: str, path: Path) -> None:
        """Keep the encoded piece at ``path`` under ``key``."""


def plan(
    total: int,
    settings: Mp3Settings,
    frames_per_piece: int = PIECE_FRAMES,
    sounding: Sequence[tuple[int, int]] | None = None,
) -> list[Piece]:
    """Pieces of ``frames_per_piece`` frames from the start, covering ``total`` samples.

    Each starts encoding at least ``WARM_FRAMES`` early, on a multiple of LAME's padding
    period, so its frames are padded as in one whole encode and hold the same bytes.
    Given the sample spans where something ``sounding`` plays, each also skips the
    inside of the long silences it spans (``audio.silence``).
    """
    n = mpeg.samples_per_frame(settings.sample_rate)
    return _grid(total, settings, frames_per_piece, _quiet(sounding, total, n))


def _quiet(sounding: Sequence[tuple[int, int]] | None, total: int, n: int) -> list[tuple[int, int]]:
    """The quiet runs of whole frames (none when nothing is known to be silent)."""
    return silence.quiet_runs(sounding, total, n) if sounding is not None else []


def _grid(
    total: int, settings: Mp3Settings, frames_per_piece: int, quiet: Sequence[tuple[int, int]]
) -> list[Piece]:
    n = mpeg.samples_per_frame(settings.sample_rate)
    period = silence.padding_period(settings)
    frames = -(-total // n)
    count = max(1, -(-frames // frames_per_piece))
    edges = [index * frames_per_piece for index in range(count)] + [frames]
    pieces = []
    for index in range(count):
        keep_from, keep_to = edges[index], edges[index + 1]
        last = index == count - 1
        first = max(0, keep_from - WARM_FRAMES) // period * period
        end = total if last else min(total, (keep_to + WARM_FRAMES) * n)
        skipped = silence.cuts(quiet, first, -(-end // n), period)
        pieces.append(Piece(first, keep_from, None if last else keep_to, end, skipped))
    return pieces


def encode_split(
    render: Callable[[int, int], Chunks],
    total: int,
    dest: Path,
    settings: Mp3Settings,
    reuse: Reuse | None = None,
    frames_per_piece: int = PIECE_FRAMES,
    sounding: Sequence[tuple[int, int]] | None = None,
) -> None:
    """Encode the ``total`` samples that ``render(start, stop)`` yields to ``dest``.

    Pieces ``reuse`` keeps are taken from it and not rendered; the others are encoded
    side by side, ``render`` called from that piece's thread for each span it is fed,
    and given to ``reuse`` once all are done. ``sounding`` (sample spans where anything
    plays; None: take nothing as silent) lets pieces skip long silences. Errors are
    ``encode_mp3``'s: the first one raised by any piece is raised here once every piece
    has stopped, and ``dest`` is not written. An interrupt stops every piece (their
    ffmpegs are killed) first.
    """
    check_folder(dest)
    n = mpeg.samples_per_frame(settings.sample_rate)
    quiet = _quiet(sounding, total, n)
    pieces = _grid(total, settings, frames_per_piece, quiet)
    keys = [reuse.key(piece) if reuse is not None else None for piece in pieces]
    with tempfile.TemporaryDirectory(prefix=".pieces-", dir=dest.parent) as folder:
        parts = [Path(folder) / f"{index}.mp3" for index in range(len(pieces))]
        kept = [_take(reuse, key, part) for key, part in zip(keys, parts, strict=True)]
        stop = threading.Event()
        done: list[_Done | None] = [None] * len(pieces)
        todo = [index for index, found in enumerate(kept) if not found]
        job = _Job(done, pieces, parts, settings, quiet, silence.padding_pattern(settings))
        jobs = [
            functools.partial(job.encode, members, lambda run: _fed(stop, render, run, n))
            for members in runs.group(pieces, todo, cores.workers(), n)
        ]
        jobs += [functools.partial(job.taken, index) for index, found in enumerate(kept) if found]
        try:
            _run_all(jobs, stop)
        except OutputError as exc:  # a piece's file is ours; the user's is ``dest``
            raise OutputError(exc.message, path=dest, doing=exc.doing) from None
        _join([d for d in done if d is not None], dest, total, n)
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


def _fed(
    stop: threading.Event, render: Callable[[int, int], Chunks], piece: Piece, n: int
) -> Iterator[npt.NDArray[np.int16]]:
    """What ``piece`` is fed, rendered span by span in its own thread, until ``stop`` is set."""
    for start, end in silence.fed(piece.first * n, piece.end, piece.skipped, n):
        for chunk in render(start, end):
            if stop.is_set():
                raise _Stopped
            yield chunk


def _run_all(jobs: Sequence[Callable[[], None]], stop: threading.Event) -> None:
    """Run the jobs on a thread per core, each thread kept on its core with the ffmpegs
    it starts (``audio.cores``); re-raise the first failure after all stop."""
    failures: list[BaseException] = []
    waiting = iter(jobs)
    lock = threading.Lock()

    def run(index: int) -> None:
        cores.settle(index)
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
        threading.Thread(target=run, args=(index,), daemon=True)
        for index in range(min(len(jobs), cores.workers()))
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


@dataclass(frozen=True)
class _Done:
    """A piece's kept frames, written out beside its encode, ready to be joined."""

    path: Path
    sizes: array.array[int]
    crc: int
    """The CRC-16 of the kept frames alone (``infotag.crc16``, from 0)."""
    info: bytes
    """The piece encode's own Info frame (the joined file's is made from one)."""


@dataclass(frozen=True)
class _Job:
    """What every piece's job shares: where each piece's result goes."""

    done: list[_Done | None]
    pieces: Sequence[Piece]
    parts: Sequence[Path]
    settings: Mp3Settings
    quiet: Sequence[tuple[int, int]]
    """The file's quiet runs (``silence.quiet_runs``), for a run's own cuts."""
    pattern: tuple[bool, ...]
    """LAME's padding (``silence.padding_pattern``)."""

    def encode(self, members: list[int], fed: Callable[[Piece], Chunks]) -> None:
        """Encode the consecutive pieces ``members`` with one ffmpeg (``audio.runs``), then
        write out each one's own encode (for the store) and the frames it keeps."""
        n = mpeg.samples_per_frame(self.settings.sample_rate)
        chosen = [self.pieces[index] for index in members]
        run = runs.run_piece(chosen, self.quiet, len(self.pattern), n)
        whole = self.parts[members[0]].with_suffix(".run")
        encode_mp3(fed(run), whole, self.settings)
        shares = runs.cut(run, whole.read_bytes(), chosen, self.pattern)
        for index, share in zip(members, shares, strict=True):
            self.parts[index].write_bytes(share.encode)
            self._done(index, share.kept, share.sizes, share.encode)

    def taken(self, index: int) -> None:
        """A piece kept from an earlier build: the frames it keeps, read from its encode."""
        data = self.parts[index].read_bytes()
        kept, sizes = _kept(self.pieces[index], data, self.pattern)
        self._done(index, kept, sizes, data)

    def _done(self, index: int, kept: bytes, sizes: array.array[int], encode: bytes) -> None:
        """Write out, count and checksum a piece's kept frames, in its job's own thread."""
        path = self.parts[index].with_suffix(".kept")
        path.write_bytes(kept)
        info = encode[: mpeg.frame_size(int.from_bytes(encode[:4], "big"))]
        self.done[index] = _Done(path, sizes, infotag.crc16(kept), info)


def _join(done: list[_Done], dest: Path, total: int, n: int) -> None:
    """One Info frame for all the pieces' kept frames, then the frames, into ``dest``."""
    sizes: array.array[int] = array.array("H")
    crc = 0
    for piece in done:
        crc = infotag.crc16_after(crc, piece.crc, sum(piece.sizes))
        sizes.extend(piece.sizes)
    try:
        with dest.open("wb") as out:
            out.write(infotag.rewrite(done[0].info, sizes, crc, total, n))
            for piece in done:
                with piece.path.open("rb") as source:
                    shutil.copyfileobj(source, out, COPY_BYTES)
    except BaseException:
        with contextlib.suppress(OSError):
            dest.unlink(missing_ok=True)
        raise


def _kept(piece: Piece, data: bytes, pattern: tuple[bool, ...]) -> tuple[bytes, array.array[int]]:
    """The frames ``piece`` keeps from its encode, its skipped silences put back, and the
    length of each."""
    bounds = mpeg.boundaries(data)[1:]  # the first frame is the piece's own Info frame
    skipped = tuple((a - piece.first, b - piece.first) for a, b in piece.skipped)
    frames = silence.Frames(data, bounds, skipped, pattern)
    count = frames.count()
    start = piece.keep_from - piece.first
    stop = count if piece.keep_to is None else piece.keep_to - piece.first
    if not 0 <= start < stop <= count:
        raise mpeg.FrameError(f"a piece's encode holds {count} frames, too few to keep")
    return frames.between(start, stop)
