"""Mix a timeline's clips and tones into PCM, chunk by chunk (memory does not grow).

Every event starts at sample ``start_ms * rate // 1000`` (absolute, so nothing drifts).
Events never overlap (the compiler guarantees it), so each chunk only sums the few
events that touch it. ``master_gain_db`` finds the one gain that brings the whole
file to the loudness target, measured (BS.1770, pyloudnorm) on the events with long
silences shortened, which leaves the gated measurement unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np
import numpy.typing as npt

from ..timeline import Event, Timeline
from .level import integrated_lufs, true_peak_dbtp
from .tones import render_tone

Samples = npt.NDArray[np.float32]
CHUNK_MS = 10_000
MEASURE_GAP_MS = 1000
"""Silences longer than this are shortened to it when measuring loudness."""
MEASURE_MAX_MS = 12 * 60_000
"""At most this much audio is measured; longer routines are sampled evenly."""


def sample_at(ms: int, rate: int) -> int:
    """The sample index of a millisecond time."""
    return ms * rate // 1000


def event_audio(event: Event, clips: Mapping[str, Samples], rate: int) -> Samples:
    """The samples an event plays."""
    if event.kind == "speech":
        assert event.text is not None
        return clips[event.text]
    assert event.tone is not None
    return render_tone(event.tone, rate)


def render(
    timeline: Timeline, clips: Mapping[str, Samples], gain_db: float = 0.0,
    chunk_ms: int = CHUNK_MS, bed: Callable[[int, int], Samples] | None = None,
) -> Iterator[npt.NDArray[np.int16]]:
    """int16 chunks of the whole file; ``bed(start, n)`` adds a music bed if given."""
    rate = timeline.sample_rate
    total = sample_at(timeline.duration_ms, rate)
    gain = np.float32(10 ** (gain_db / 20))
    placed = sorted(
        ((sample_at(e.start_ms, rate), e) for e in timeline.events), key=lambda p: p[0]
    )
    step = sample_at(chunk_ms, rate)
    first = 0
    for a in range(0, total, step):
        b = min(total, a + step)
        buf = np.zeros(b - a, dtype=np.float32)
        while first < len(placed) and placed[first][0] + _len(placed[first][1], clips, rate) <= a:
            first += 1
        for pos, event in placed[first:]:
            if pos >= b:
                break
            _add(buf, a, pos, event_audio(event, clips, rate))
        buf *= gain
        if bed is not None:
            buf += bed(a, b - a)
        yield to_int16(buf)


def _len(event: Event, clips: Mapping[str, Samples], rate: int) -> int:
    return len(event_audio(event, clips, rate))


def _add(buf: Samples, a: int, pos: int, audio: Samples) -> None:
    lo = max(pos, a)
    hi = min(pos + len(audio), a + len(buf))
    if hi > lo:
        buf[lo - a : hi - a] += audio[lo - pos : hi - pos]


def to_int16(buf: Samples) -> npt.NDArray[np.int16]:
    """Float [-1, 1] -> int16 with rounding (values are already within range)."""
    return np.clip(np.rint(buf * 32767.0), -32768, 32767).astype(np.int16)


def measurement_signal(timeline: Timeline, clips: Mapping[str, Samples]) -> Samples:
    """The events in order with silences capped at ``MEASURE_GAP_MS``, sampled if long."""
    rate = timeline.sample_rate
    events = list(timeline.events)
    total_ms = sum(e.end_ms - e.start_ms for e in events)
    stride = max(1, -(-total_ms // MEASURE_MAX_MS))
    pieces: list[Samples] = []
    for index in range(0, len(events), stride):
        event = events[index]
        following = events[index + 1] if index + 1 < len(events) else None
        gap = (following.start_ms - event.end_ms) if following else MEASURE_GAP_MS
        pieces.append(event_audio(event, clips, rate))
        pieces.append(np.zeros(sample_at(min(max(gap, 0), MEASURE_GAP_MS), rate), np.float32))
    return np.concatenate(pieces) if pieces else np.zeros(rate, np.float32)


def master_gain_db(
    timeline: Timeline, clips: Mapping[str, Samples], target_lufs: float, ceiling_dbtp: float
) -> float:
    """The gain that lands the file on ``target_lufs`` without passing ``ceiling_dbtp``."""
    signal = measurement_signal(timeline, clips)
    loudness = integrated_lufs(signal, timeline.sample_rate)
    if not np.isfinite(loudness):
        return 0.0
    gain = target_lufs - loudness
    peak = max(
        (true_peak_dbtp(event_audio(e, clips, timeline.sample_rate), timeline.sample_rate)
         for e in _distinct(timeline)),
        default=-100.0,
    )
    return min(gain, ceiling_dbtp - peak)


def _distinct(timeline: Timeline) -> list[Event]:
    seen: dict[str, Event] = {}
    for event in timeline.events:
        seen.setdefault(event.text or f"tone:{event.tone}", event)
    return list(seen.values())
