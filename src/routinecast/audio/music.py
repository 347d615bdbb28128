"""A music bed under the routine: looped, levelled, ducked under speech, faded at the ends.

``MusicBed(path, timeline)`` is the ``bed`` that ``audio.mix.render`` calls as
``bed(start_sample, n)`` for each chunk; the samples it returns are added after the
master gain, so its level is absolute in the finished file.

Level.  The bed's loudness is measured once (BS.1770, ``mix.streamed_lufs``) on at
most its first 60 s and gained to ``BED_LUFS`` = -34 LUFS between cues: 18 LU under
speech mastered at the default -16 LUFS, so it sits clearly behind the voice and the
tones (the level is absolute: ``--loudness`` does not move it).  The gain is lowered
further if the bed's true peak would pass ``BED_PEAK_DBTP`` (-14 dBTP), so a spiky
track cannot push a tone or speech peak into clipping.  Measured on a built MP3 (a
3 s chord loop, silent speech): -34.3 LUFS between cues, -49.4 LUFS under speech,
15.2 dB lower in RMS; with speech the file still lands on -16.0 LUFS.

Ducking.  While speech plays the bed drops by ``DUCK_DB`` = 15 dB (to about -49 LUFS,
some 33 LU under the voice).  The drop is a raised-cosine ramp over ``ATTACK_MS``
(150 ms) that is complete ``LEAD_MS`` (50 ms) before the speech event starts; the bed
stays down until ``HOLD_MS`` (100 ms) after the event ends, then comes back up over
``RELEASE_MS`` (200 ms).  Speech events less than ``BRIDGE_MS`` (1 s) apart stay
ducked between them, so the bed does not bob up between sentences.  Ducked, the bed
adds at most -29 dBFS (0.035) to a speech peak of -1.6 dBTP, so the sum stays under
-1 dBFS.  Tones are not ducked under: they are short, and peak at least 6 dB under
full scale, so even the un-ducked bed's -14 dBTP leaves them room.

Fades.  The bed fades in over the first 2 s and out over the last 3 s (raised cosine).

Looping.  A file shorter than ``HOLD_MAX_S`` (5 min, 26 MB decoded) is held in memory;
a longer one is streamed with ``decode_stream`` and reopened at its end, so memory
never grows with the routine's length.  Each wrap crossfades the file's last
``SEAM_MS`` (50 ms, equal power) into its first, so a loop that does not end where
it begins does not click.  A file ffmpeg cannot read raises ``InputError`` naming it.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Generator, Iterable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from routinecast.audio.decode import decode_stream
from routinecast.audio.mix import streamed_lufs
from routinecast.dsp.level import true_peak_dbtp
from routinecast.dsp.samples import Samples
from routinecast.errors import InputError
from routinecast.timeline import Timeline

Floats = npt.NDArray[np.float64]

BED_LUFS = -34.0
"""Loudness of the un-ducked bed in the finished file."""
BED_PEAK_DBTP = -14.0
"""The bed's gain never lets its (measured) true peak pass this."""
DUCK_DB = 15.0
ATTACK_MS = 150
LEAD_MS = 50
HOLD_MS = 100
RELEASE_MS = 200
BRIDGE_MS = 1000
"""Speech events closer than this stay ducked between them (no bobbing up)."""
FADE_IN_MS = 2000
FADE_OUT_MS = 3000
MEASURE_S = 60
HOLD_MAX_S = 5 * 60
SEAM_MS = 50
MIN_MS = 100
"""A shorter file is refused: it would be a buzz, not music."""


class MusicBed:
    """``bed(start, n)``: ``n`` float32 samples of the levelled, ducked, looped bed."""

    def __init__(self, path: Path, timeline: Timeline, level_lufs: float = BED_LUFS) -> None:
        self.path = Path(path)
        self.rate = timeline.sample_rate
        self.total = timeline.duration_ms * self.rate // 1000
        held, opening = _probe(self.path, self.rate, HOLD_MAX_S * self.rate)
        self.gain_db = bed_gain_db(opening[: MEASURE_S * self.rate], self.rate, level_lufs)
        self._held = held
        self._duck = DuckEnvelope(timeline)
        self._reader = self._new_reader()
        self._pos = 0

    def __call__(self, start: int, n: int) -> Samples:
        """The bed for samples ``start`` .. ``start + n`` of the file."""
        if start != self._pos:
            self._seek(start)
        music = self._reader.read(n)
        self._pos = start + n
        duck = self._duck.amount(start, n)
        gain = 10.0 ** ((self.gain_db - DUCK_DB * duck) / 20.0) * self._fades(start, n)
        return (music * gain).astype(np.float32)

    def fork(self) -> MusicBed:
        """The same bed with its own read position, for rendering another piece at once."""
        twin = copy.copy(self)
        twin._reader = twin._new_reader()
        twin._pos = 0
        return twin

    def _new_reader(self) -> _Reader:
        seam = _ms(SEAM_MS, self.rate)
        if self._held is None:
            return _Reader(_seamless(_file_passes(self.path, self.rate), seam))
        return _Reader(_seamless(_held_passes(self._held), min(seam, len(self._held) // 4)))

    def _seek(self, start: int) -> None:
        if start < self._pos:
            self._reader = self._new_reader()
            self._pos = 0
        self._reader.skip(start - self._pos)

    def _fades(self, start: int, n: int) -> Floats:
        """Fade-in times fade-out gain for these samples (1 between them)."""
        out = np.ones(n, dtype=np.float64)
        fade_in, fade_out = _ms(FADE_IN_MS, self.rate), _ms(FADE_OUT_MS, self.rate)
        _fade(out, start, 0, fade_in, rising=True)
        _fade(out, start, self.total - fade_out, self.total, rising=False)
        return out


def _fade(out: Floats, start: int, a: int, b: int, *, rising: bool) -> None:
    """Multiply ``out`` by a raised-cosine fade from sample ``a`` to ``b`` (absolute)."""
    lo, hi = max(a, start), min(b, start + len(out))
    if hi > lo:
        x = (np.arange(lo, hi, dtype=np.float64) - a) / (b - a)
        out[lo - start : hi - start] *= _rise(x if rising else 1.0 - x)


def bed_gain_db(opening: Samples, rate: int, level_lufs: float = BED_LUFS) -> float:
    """The gain that brings ``opening`` to ``level_lufs``, capped by ``BED_PEAK_DBTP``.

    Measured in 10 s pieces, so a minute of music costs a few MB, not a hundred.
    """
    step = 10 * rate
    pieces = [opening[i : i + step] for i in range(0, len(opening), step)]
    loudness = streamed_lufs(pieces, rate)
    if not math.isfinite(loudness):
        return 0.0
    peak = max(true_peak_dbtp(piece, rate) for piece in pieces)
    return min(level_lufs - loudness, BED_PEAK_DBTP - peak)


class DuckEnvelope:
    """How far the bed is ducked (0 = not, 1 = by ``DUCK_DB``) at each sample."""

    def __init__(self, timeline: Timeline) -> None:
        rate = timeline.sample_rate
        spans = _speech_spans(timeline)
        self.starts = np.array([a * rate // 1000 for a, _ in spans], dtype=np.int64)
        self.ends = np.array([b * rate // 1000 for _, b in spans], dtype=np.int64)
        self.attack = _ms(ATTACK_MS, rate)
        self.lead = _ms(LEAD_MS, rate)
        self.hold = _ms(HOLD_MS, rate)
        self.release = _ms(RELEASE_MS, rate)

    def amount(self, start: int, n: int) -> Floats:
        """Duck amount for samples ``start`` .. ``start + n``, from the nearby speech only."""
        out = np.zeros(n, dtype=np.float64)
        reach = self.attack + self.lead + self.hold + self.release
        lo = int(np.searchsorted(self.ends, start - reach, side="left"))
        hi = int(np.searchsorted(self.starts, start + n + reach, side="right"))
        for s, e in zip(self.starts[lo:hi].tolist(), self.ends[lo:hi].tolist(), strict=True):
            down = s - self.lead
            _ramp(out, start, down - self.attack, down, rising=True)
            out[max(0, down - start) : max(0, e + self.hold - start)] = 1.0
            _ramp(out, start, e + self.hold, e + self.hold + self.release, rising=False)
        return out


def _ramp(out: Floats, start: int, a: int, b: int, *, rising: bool) -> None:
    """Raise ``out`` to a raised-cosine ramp from sample ``a`` to ``b`` (absolute)."""
    lo, hi = max(a, start), min(b, start + len(out))
    if hi <= lo:
        return
    x = (np.arange(lo, hi, dtype=np.float64) - a) / (b - a)
    ramp = _rise(x if rising else 1.0 - x)
    np.maximum(out[lo - start : hi - start], ramp, out=out[lo - start : hi - start])


def _speech_spans(timeline: Timeline) -> list[tuple[int, int]]:
    """(start_ms, end_ms) of the speech, runs closer than ``BRIDGE_MS`` joined into one."""
    spans: list[tuple[int, int]] = []
    for event in sorted(timeline.events, key=lambda e: e.start_ms):
        if event.kind != "speech":
            continue
        if spans and event.start_ms - spans[-1][1] < BRIDGE_MS:
            spans[-1] = (spans[-1][0], max(spans[-1][1], event.end_ms))
        else:
            spans.append((event.start_ms, event.end_ms))
    return spans


def _rise(x: Floats) -> Floats:
    """Raised-cosine ramp: 0 for x <= 0, 1 for x >= 1."""
    clipped = np.clip(x, 0.0, 1.0)
    return np.asarray(0.5 - 0.5 * np.cos(np.pi * clipped), dtype=np.float64)


def _ms(ms: int, rate: int) -> int:
    return max(1, ms * rate // 1000)


def _probe(path: Path, rate: int, hold_max: int) -> tuple[Samples | None, Samples]:
    """(the whole file if it has at most ``hold_max`` samples, else None; its first minute)."""
    parts: list[Samples] = []
    count = 0
    stream = decode_stream(path, rate)
    try:
        for chunk in stream:
            parts.append(chunk)
            count += len(chunk)
            if count > hold_max:
                return None, _first(parts, MEASURE_S * rate)
    finally:
        _close(stream)
    if count < _ms(MIN_MS, rate):
        raise InputError(f"is too short for a music bed (under {MIN_MS} ms)", file=str(path))
    whole = np.concatenate(parts)
    return whole, whole[: MEASURE_S * rate]


def _first(parts: list[Samples], n: int) -> Samples:
    """The first ``n`` samples of ``parts`` joined (only the parts needed are copied)."""
    needed = int(np.searchsorted(np.cumsum([len(p) for p in parts]), n)) + 1
    return np.concatenate(parts[:needed])[:n]


def _close(stream: Iterator[Samples]) -> None:
    """Stop ffmpeg now rather than whenever the generator is collected."""
    close = getattr(stream, "close", None)
    if close is not None:
        close()


def _held_passes(held: Samples) -> Iterator[Iterable[Samples]]:
    while True:
        yield (held,)


def _file_passes(path: Path, rate: int) -> Iterator[Iterable[Samples]]:
    while True:
        yield decode_stream(path, rate)


def _seamless(passes: Iterator[Iterable[Samples]], seam: int) -> Iterator[Samples]:
    """The passes end to end, each wrap an equal-power crossfade of tail into head."""
    first = next(passes)
    head, tail = yield from _play_pass(first, 0, seam)
    fade = np.sin(0.5 * np.pi * (np.arange(seam) + 0.5) / seam)
    while True:
        yield (tail[len(tail) - seam :] * fade[::-1] + head[:seam] * fade).astype(np.float32)
        _, tail = yield from _play_pass(next(passes), seam, seam)


def _play_pass(
    chunks: Iterable[Samples], skip: int, keep: int
) -> Generator[Samples, None, tuple[Samples, Samples]]:
    """Yield one pass minus its first ``skip`` and last ``keep`` samples.

    Returns (its first ``keep`` samples, its last ``keep`` samples).
    """
    head: Samples = np.zeros(0, np.float32)
    pending: Samples = np.zeros(0, np.float32)
    for chunk in chunks:
        if len(head) < keep:
            head = np.concatenate([head, chunk[: keep - len(head)]])
        pending = np.concatenate([pending, chunk]) if len(pending) else chunk
        if skip:
            dropped = min(skip, len(pending))
            pending, skip = pending[dropped:], skip - dropped
        if len(pending) > keep:
            yield pending[: len(pending) - keep]
            pending = pending[len(pending) - keep :]
    return head, pending


class _Reader:
    """Pull exactly ``n`` samples at a time from an endless iterator of chunks."""

    def __init__(self, chunks: Iterator[Samples]) -> None:
        self.chunks = chunks
        self.buffer: Samples = np.zeros(0, np.float32)

    def read(self, n: int) -> Samples:
        """The next ``n`` samples."""
        if len(self.buffer) >= n:
            out, self.buffer = self.buffer[:n], self.buffer[n:]
            return out
        parts = [self.buffer]
        have = len(self.buffer)
        while have < n:
            chunk = next(self.chunks)
            parts.append(chunk)
            have += len(chunk)
        joined = np.concatenate(parts)
        self.buffer = joined[n:]
        return joined[:n]

    def skip(self, n: int) -> None:
        """Drop the next ``n`` samples, a chunk's worth at a time."""
        step = 1 << 16
        while n > 0:
            self.read(min(n, step))
            n -= step
