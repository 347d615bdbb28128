"""Mix a timeline's clips and tones into PCM, chunk by chunk (memory does not grow).

Every event starts at sample ``start_ms * rate // 1000`` (absolute, so nothing drifts).
Events never overlap (the compiler guarantees it), so each chunk only sums the few
events that touch it, found from a pointer that only moves forward: time is linear
in the routine's length. ``master_gain_db`` finds the one gain that brings the whole
file to the loudness target, measured (BS.1770) on every event in order with long
silences shortened, which leaves the gated measurement unchanged. The measurement
streams: ``LoudnessMeter`` K-weights piece by piece and keeps only one sum of squares
per 100 ms, so a six-hour routine measures in a few MB. (Joining the pieces into one
array for pyloudnorm cost about 26 bytes per measured sample, and a two-hour build
peaked at 820 MB even with the measurement sampled down to 12 minutes of events.)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping

import numpy as np
import numpy.typing as npt

from routinecast.audio.tones import render_tone
from routinecast.dsp import filters
from routinecast.dsp.level import gated_lufs, true_peak_dbtp
from routinecast.dsp.samples import Samples
from routinecast.timeline import Event, Timeline

CHUNK_MS = 10_000
MEASURE_GAP_MS = 1000
"""Silences longer than this are shortened to it when measuring loudness."""
RING_S = 0.25
"""The K-weighting filters' slowest poles (the 38 Hz high-pass, a double pole) fall to
about 1e-22 of where they start within this much silence."""
SETTLED = 1e-12
"""Filter state this small after ``RING_S`` of silence is taken as zero."""
GAIN_STEP_DB = 0.5
"""The master gain is a multiple of this, so that an edit almost never changes it: a
changed hold or line moves the exact gain by a few hundredths of a dB, and a gain that
stays keeps every stretch of the file before the change the same, for ``audio.splice``
to reuse. On a grid of 0.1 dB, ``desk-hip-reset``'s exact gain sat at 1.33-1.37 dB and
the hold of its second exercise set to 30, 31, ... 46 s flipped it between 1.3 and
1.4 dB eleven times in sixteen: each flip re-encoded the whole file. The shipped
routines' exact gains are 1.03-1.39 dB (or capped by the true-peak ceiling at 1.5), none
within 0.03 dB of a step's edge. A file lands within 0.25 LU of the target, against the
1 LU it may be off."""


def sample_at(ms: int, rate: int) -> int:
    """The sample index of a millisecond time."""
    return ms * rate // 1000


def event_audio(
    event: Event,
    clips: Mapping[str, Samples],
    rate: int,
    sounds: Mapping[str, Samples] | None = None,
) -> Samples:
    """The samples an event plays: its clip, the user's sound for its tone, or the tone."""
    if event.kind == "speech":
        assert event.text is not None
        return clips[event.text]
    assert event.tone is not None
    if event.sound is not None and sounds is not None:
        return sounds[event.tone]
    return render_tone(event.tone, rate)


def render(
    timeline: Timeline,
    clips: Mapping[str, Samples],
    gain_db: float = 0.0,
    chunk_ms: int = CHUNK_MS,
    bed: Callable[[int, int], Samples] | None = None,
    sounds: Mapping[str, Samples] | None = None,
    start: int = 0,
    stop: int | None = None,
) -> Iterator[npt.NDArray[np.int16]]:
    """int16 chunks of the file from sample ``start`` to ``stop`` (its end if None).

    ``bed(start, n)`` adds a music bed if given. ``sounds`` holds the user's sound (by
    tone name) for every event that names one. Any range renders exactly the samples
    the whole file has there, so pieces can be rendered apart (``audio.splice``).
    """
    rate = timeline.sample_rate
    total = total_samples(timeline) if stop is None else min(stop, total_samples(timeline))
    gain = np.float32(10 ** (gain_db / 20))
    placed = sorted(((sample_at(e.start_ms, rate), e) for e in timeline.events), key=lambda p: p[0])
    step = sample_at(chunk_ms, rate)
    first = 0
    for a in range(start, total, step):
        b = min(total, a + step)
        buf = np.zeros(b - a, dtype=np.float32)
        while (
            first < len(placed)
            and placed[first][0] + len(event_audio(placed[first][1], clips, rate, sounds)) <= a
        ):
            first += 1
        index = first
        while index < len(placed) and placed[index][0] < b:
            pos, event = placed[index]
            _add(buf, a, pos, event_audio(event, clips, rate, sounds))
            index += 1
        buf *= gain
        if bed is not None:
            buf += bed(a, b - a)
        yield to_int16(buf)


def sounding(
    timeline: Timeline,
    clips: Mapping[str, Samples],
    sounds: Mapping[str, Samples] | None = None,
) -> list[tuple[int, int]]:
    """The sample spans ``[start, end)`` where an event plays, in time order: everywhere
    else ``render`` writes exact zeros (without a music bed), which ``audio.silence``
    lets the encoder skip."""
    rate = timeline.sample_rate
    spans = []
    for event in timeline.events:
        start = sample_at(event.start_ms, rate)
        spans.append((start, start + len(event_audio(event, clips, rate, sounds))))
    return sorted(spans)


def total_samples(timeline: Timeline) -> int:
    """How many samples the file holds."""
    return sample_at(timeline.duration_ms, timeline.sample_rate)


def _add(buf: Samples, a: int, pos: int, audio: Samples) -> None:
    lo = max(pos, a)
    hi = min(pos + len(audio), a + len(buf))
    if hi > lo:
        buf[lo - a : hi - a] += audio[lo - pos : hi - pos]


def to_int16(buf: Samples) -> npt.NDArray[np.int16]:
    """Float [-1, 1] -> int16 with rounding (values are already within range)."""
    out: npt.NDArray[np.int16] = np.clip(np.rint(buf * 32767.0), -32768, 32767).astype(np.int16)
    return out


def measurement_pieces(
    timeline: Timeline,
    clips: Mapping[str, Samples],
    sounds: Mapping[str, Samples] | None = None,
) -> Iterator[tuple[Samples, int]]:
    """The events in order, each with the samples of silence after it, capped at
    ``MEASURE_GAP_MS``."""
    rate = timeline.sample_rate
    events = timeline.events
    for index, event in enumerate(events):
        following = events[index + 1] if index + 1 < len(events) else None
        gap = (following.start_ms - event.end_ms) if following else MEASURE_GAP_MS
        yield (
            event_audio(event, clips, rate, sounds),
            sample_at(min(max(gap, 0), MEASURE_GAP_MS), rate),
        )


class LoudnessMeter:
    """BS.1770-4 integrated loudness of a mono signal fed in pieces, in O(length / 100 ms).

    The same K-weighting filters (``dsp.filters.k_weighting``), 400 ms blocks every
    100 ms and gates (-70 LUFS absolute, -10 LU relative) as ``level.integrated_lufs``,
    which it matches to within 0.001 LU; a signal under 400 ms is padded with silence.
    Silence is fed by its length (``silence``): it is filtered only until the filters
    have rung out (``RING_S``) and the rest is counted. The gaps of ``desk-hip-reset``
    are a third of its measured samples; measuring took 0.155 s -> 0.13 s, the same
    loudness to 1e-12 LU.
    """

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.hop = rate // 10
        self.sos, self.scale = filters.k_weighting(rate)
        self.state = np.zeros((2, 2))
        self.segments: list[float] = []
        self.partial = 0.0
        self.filled = 0
        self.count = 0

    def feed(self, samples: Samples, then_silent: int = 0) -> None:
        """Add the next piece of the signal, and ``then_silent`` samples of silence after it
        (filtered with it, in one go, for as long as the filters ring)."""
        ring = min(then_silent, round(RING_S * self.rate))
        signal = np.zeros(len(samples) + ring)
        signal[: len(samples)] = samples
        y, self.state = filters.sosfilt(self.sos, signal, zi=self.state)
        self.count += len(y)
        self._accumulate(np.square(self.scale * y))
        if then_silent > ring:
            self._settled(then_silent - ring)

    def silence(self, n: int) -> None:
        """Add ``n`` samples of digital silence."""
        self.feed(np.zeros(0, np.float32), then_silent=n)

    def _settled(self, n: int) -> None:
        """``n`` more samples of silence, once the filters have rung for ``RING_S``."""
        if float(np.max(np.abs(self.state))) > SETTLED:
            self.feed(np.zeros(n, np.float32))
            return
        self.state = np.zeros_like(self.state)
        self.count += n
        self._accumulate(np.zeros(n))

    def _accumulate(self, power: npt.NDArray[np.float64]) -> None:
        """Sum squares into 100 ms segments."""
        take = min(len(power), self.hop - self.filled)
        self.partial += float(np.sum(power[:take]))
        self.filled += take
        rest = power[take:]
        if self.filled < self.hop:
            return
        self.segments.append(self.partial)
        whole = len(rest) // self.hop * self.hop
        self.segments.extend(rest[:whole].reshape(-1, self.hop).sum(axis=1).tolist())
        self.partial, self.filled = float(np.sum(rest[whole:])), len(rest) - whole

    def lufs(self) -> float:
        """The integrated loudness so far; ``-inf`` for silence."""
        block = 4 * self.hop
        if self.count < block:
            self.silence(block - self.count)
        blocks = round((self.count / self.rate - 0.4) / 0.1) + 1
        segments = np.array([*self.segments, self.partial, 0.0, 0.0, 0.0])
        z = np.convolve(segments, np.ones(4), mode="valid")[:blocks] / block
        return gated_lufs(z)


def streamed_lufs(pieces: Iterable[Samples], rate: int) -> float:
    """Integrated loudness of ``pieces`` played end to end, without joining them."""
    meter = LoudnessMeter(rate)
    for piece in pieces:
        meter.feed(piece)
    return meter.lufs()


def master_gain_db(
    timeline: Timeline,
    clips: Mapping[str, Samples],
    target_lufs: float,
    ceiling_dbtp: float,
    speech_peak_dbtp: float | None = None,
    sounds: Mapping[str, Samples] | None = None,
) -> float:
    """The gain that lands the file on ``target_lufs`` without passing ``ceiling_dbtp``.

    ``speech_peak_dbtp`` is a known bound on every clip's true peak (clips levelled by
    ``synth`` are limited to one); without it every distinct clip is measured. The
    user's ``sounds`` are measured like tones.
    """
    rate = timeline.sample_rate
    meter = LoudnessMeter(rate)
    for audio, gap in measurement_pieces(timeline, clips, sounds):
        meter.feed(audio, then_silent=gap)
    loudness = meter.lufs()
    if not np.isfinite(loudness):
        return 0.0
    gain = target_lufs - loudness
    peaks = [
        _tone_peak(e.tone, rate)
        if e.sound is None or sounds is None
        else true_peak_dbtp(sounds[e.tone], rate)
        for e in _distinct(timeline)
        if e.tone is not None
    ]
    if speech_peak_dbtp is None:
        peaks += [
            true_peak_dbtp(event_audio(e, clips, rate), rate)
            for e in _distinct(timeline)
            if e.tone is None
        ]
    elif clips:
        peaks.append(speech_peak_dbtp)
    return _on_grid(gain, ceiling_dbtp - max(peaks, default=-100.0))


def _on_grid(gain: float, bound: float) -> float:
    """``min(gain, bound)`` on a grid of ``GAIN_STEP_DB``: the loudness gain rounded, the
    ceiling's bound rounded down (it must hold)."""
    steps = min(round(gain / GAIN_STEP_DB), math.floor(bound / GAIN_STEP_DB + 1e-9))
    return steps * GAIN_STEP_DB


@functools.cache
def _tone_peak(name: str, rate: int) -> float:
    return true_peak_dbtp(render_tone(name, rate), rate)


def _distinct(timeline: Timeline) -> list[Event]:
    seen: dict[str, Event] = {}
    for event in timeline.events:
        seen.setdefault(event.text or f"tone:{event.tone}:{event.sound}", event)
    return list(seen.values())
