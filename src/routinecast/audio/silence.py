"""Long silences cost an encode nothing: whole stretches of silent frames are cut from
what LAME is fed and put back as copies of one silent frame.

About two thirds of a routine's file is digital silence (a hold is a minute of it between
a start and a stop tone), and LAME spends nearly as long on a silent frame as on speech.
Yet every frame it writes for silence, once the sound before has died away, is the same
bytes but for the padding bit (``desk-hip-reset``: 21 296 such frames, two distinct byte
strings, 313 and 314 bytes). So each piece (``audio.splice``) is fed its samples with
the inside of every long silence taken out, and the frames are put back when the pieces
are joined. The result is the whole encode byte for byte (``tests/audio/test_silence.py``):

* A frame LAME writes depends on its own input frame and the three before it (encoder
  delay, the transform's overlap, the look-ahead that picks window shapes), so
  ``MARGIN`` silent frames stay on each side of every cut: the frames around it are
  encoded from exactly the samples a whole encode sees there.
* At a constant bitrate a frame's length is not a whole number of bytes (96 kbps at
  22.05 kHz: 313.47), so LAME pads some frames by a byte by a running remainder, a
  pattern that repeats every ``padding_period`` frames (49 here). A cut is a whole number
  of periods, so every frame after it is padded as in a whole encode and holds the same
  bits; the frames put back are padded by the same pattern (``padding_pattern``).

``sounding`` spans come from the mix (``audio.mix.sounding``): the samples where any sound
plays. Everything else is exactly zero in the file. With a music bed nothing is silent.
"""

from __future__ import annotations

import array
import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from routinecast.audio import mpeg
from routinecast.audio.encode import Mp3Settings

MARGIN = 5
"""Silent frames encoded on each side of a cut (LAME's frame depends on the 3 before it)."""
_PADDING_BIT = 1 << 9


def padding_pattern(settings: Mp3Settings) -> tuple[bool, ...]:
    """Which frames LAME pads, by frame index modulo the pattern's length, from its first.

    LAME keeps a remainder: each frame it subtracts the fraction of a byte the frame is
    short of the bitrate; when that goes below zero the frame is padded and a whole
    sample rate's worth is added back. The pattern's length is ``padding_period``.
    """
    rate = settings.sample_rate
    short = mpeg.samples_per_frame(rate) // 8 * settings.bitrate_kbps * 1000 % rate
    if short == 0:
        return (False,)
    lag, pattern = short, []
    for _ in range(rate // math.gcd(short, rate)):
        lag -= short
        pattern.append(lag < 0)
        if lag < 0:
            lag += rate
    return tuple(pattern)


def padding_period(settings: Mp3Settings) -> int:
    """Frames after which LAME's padding repeats (49 at 22.05 kHz and 96 kbps, 1 at 48 kHz)."""
    return len(padding_pattern(settings))


def quiet_runs(sounding: Iterable[tuple[int, int]], total: int, n: int) -> list[tuple[int, int]]:
    """Runs ``[a, b)`` of whole frames of ``n`` samples in which nothing sounds.

    ``sounding`` holds sample spans ``[start, end)`` in any order. Frames past the last
    whole frame of the ``total`` samples are never quiet (the encoder pads the end).
    """
    runs, frame = [], 0
    last = total // n
    for start, end in sorted(sounding):
        quiet_to = min(start // n, last)
        if quiet_to > frame:
            runs.append((frame, quiet_to))
        frame = max(frame, -(-end // n))
    if last > frame:
        runs.append((frame, last))
    return runs


def cuts(
    runs: Sequence[tuple[int, int]], first: int, stop: int, period: int
) -> tuple[tuple[int, int], ...]:
    """The frames ``[a, b)`` an encode fed frames ``first`` to ``stop`` can skip: inside
    each quiet run, ``MARGIN`` frames in from both ends, a whole number of ``period``.

    ``runs`` are in order and apart (``quiet_runs``), so those within the range are one
    slice, found by bisection: a dense six-hour routine has 5 400 runs and 200 pieces.
    """
    lo = bisect.bisect_right(runs, first, key=lambda run: run[1])
    hi = bisect.bisect_left(runs, stop, key=lambda run: run[0])
    found = []
    for run_from, run_to in runs[lo:hi]:
        a, b = max(run_from, first) + MARGIN, min(run_to, stop) - MARGIN
        length = (b - a) // period * period
        if length > 0:
            found.append((a, a + length))
    return tuple(found)


def fed(start: int, end: int, skipped: Sequence[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    """The sample spans ``[start, end)`` leaves once the frames ``skipped`` are taken out."""
    spans, at = [], start
    for a, b in skipped:
        spans.append((at, a * n))
        at = b * n
    spans.append((at, end))
    return [(a, b) for a, b in spans if b > a]


@dataclass(frozen=True)
class Frames:
    """An encode's frames with the skipped silences put back, by frame index from its first.

    ``data`` holds the encode's audio frames (its Info frame left out); ``skipped`` are
    frame ranges counted from the encode's first frame.
    """

    data: bytes
    bounds: Sequence[int]
    """Where each encoded frame starts in ``data``, then where the last one ends."""
    skipped: tuple[tuple[int, int], ...]
    pattern: tuple[bool, ...]

    def count(self) -> int:
        """How many frames with the silences put back."""
        return len(self.bounds) - 1 + sum(b - a for a, b in self.skipped)

    def between(self, start: int, stop: int) -> tuple[bytes, array.array[int]]:
        """Frames ``[start, stop)``, encoded or put back, and the length of each."""
        out: list[bytes | memoryview] = []
        sizes: array.array[int] = array.array("H")
        data, bounds = memoryview(self.data), self.bounds
        index, encoded = start, start - self._skipped_before(start)

        def take(count: int) -> None:
            nonlocal index, encoded
            out.append(data[bounds[encoded] : bounds[encoded + count]])
            sizes.extend(bounds[i + 1] - bounds[i] for i in range(encoded, encoded + count))
            index, encoded = index + count, encoded + count

        for a, b in self.skipped:
            if b <= index:
                continue
            if index < a:  # encoded frames up to the cut
                take(min(a, stop) - index)
            if index >= stop:
                break
            upto = min(b, stop)
            frames = self._silence(encoded, index, upto)
            out.extend(frames)
            sizes.extend(len(frame) for frame in frames)
            index = upto
        if index < stop:
            take(stop - index)
        return b"".join(out), sizes

    def _skipped_before(self, index: int) -> int:
        return sum(min(b, index) - a for a, b in self.skipped if a < index)

    def _silence(self, encoded: int, start: int, stop: int) -> list[bytes]:
        """Frames ``[start, stop)`` of silence, from the silent frame encoded just before."""
        before = bytes(self.data[self.bounds[encoded - 1] : self.bounds[encoded]])
        plain, padded = _variants(before)
        period = len(self.pattern)
        return [padded if self.pattern[i % period] else plain for i in range(start, stop)]


def _variants(frame: bytes) -> tuple[bytes, bytes]:
    """A silent frame unpadded and padded: the padding byte is one more zero of stuffing."""
    header = int.from_bytes(frame[:4], "big")
    if header & _PADDING_BIT:
        if frame[-1] != 0:
            raise mpeg.FrameError("a frame next to a skipped silence is not silent")
        plain = (header & ~_PADDING_BIT).to_bytes(4, "big") + frame[4:-1]
        return plain, frame
    return frame, (header | _PADDING_BIT).to_bytes(4, "big") + frame[4:] + b"\0"
