"""The cue scheduler: which sound gets which moment inside one work interval.

Pure (no audio, no I/O). The rules, in the order they are applied (``docs/cues.md``):

0. Tones first: the start tone at the interval's start, the stop tone at its end and,
   in a hold or flow, the countdown ticks before the stop tone. A rep set has no
   ticks: its counts are its countdown.
1. Counts (``Tier.COUNT``): each at the start of its rep (the first waits for the
   start tone). A count may come later only within its own rep; it is never left
   out unless the tempo is too short to say it at all, and that is a warning.
2. Phase words and paced breathing (``Tier.RHYTHM``): up to a moment late; a
   "Breathe in." with no room becomes the soft breath tone.
3. Time cues (``Tier.TIME``): "Halfway." and "... seconds left." Cues wanted less
   than ``TIME_CUE_SPACING_MS`` apart are said as one (a time-left cue over
   "Halfway.", the earliest time-left cue over later ones); a placed time cue keeps
   that distance from every other.
4. Form cues (``Tier.FORM``): at their time, else in the next free gap of the same
   interval, else left out (a warning only for a cue the step itself adds).

Speech keeps ``SPEECH_GAP_MS`` from other speech and ``TONE_GUARD_MS`` from tones, and
ends ``TONE_GUARD_MS`` before the stop tone. Whatever is left out is returned as
``Dropped`` with the reason (``plan --verbose`` lists them).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from routinecast.durations import format_duration
from routinecast.timeline import Dropped, Event, Sound
from routinecast.timing.script import Tier, Timed, Work

TONE_GUARD_MS = 150
"""Silence kept between a tone and speech."""
SPEECH_GAP_MS = 250
"""Silence between two consecutive spoken lines."""
TICK_SPACING_MS = 1000
TIME_CUE_SPACING_MS = 3000
"""Time cues start at least this far apart; closer ones are said as one."""


@dataclass
class Placed:
    """What one work interval holds besides its start and stop tone."""

    events: list[Event] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Interval:
    """One work interval being filled."""

    work: Work
    start: int
    clip_ms: Mapping[str, int]
    sounds: Mapping[str, Sound]
    busy: _Busy = field(default_factory=lambda: _Busy())
    placed: Placed = field(default_factory=Placed)
    time_cues: list[int] = field(default_factory=list)
    """Start times of the time cues placed so far."""

    @property
    def end(self) -> int:
        return self.start + self.work.planned_ms

    @property
    def speech_end_by(self) -> int:
        return self.end - TONE_GUARD_MS

    def tone(self, at: int, name: str) -> None:
        sound = self.sounds[name]
        self.placed.events.append(
            Event(
                "tone", at, at + sound.length_ms, tone=name, freq_hz=sound.freq_hz, sound=sound.file
            )
        )
        self.busy.add(at - TONE_GUARD_MS, at + sound.length_ms + TONE_GUARD_MS)

    def speech(self, at: int, timed: Timed) -> None:
        assert timed.line is not None
        length = self.clip_ms[timed.line.text]
        self.placed.events.append(
            Event("speech", at, at + length, cue=timed.line.cue, text=timed.line.text)
        )
        self.busy.add(at - SPEECH_GAP_MS, at + length + SPEECH_GAP_MS)

    def drop(self, timed: Timed, reason: str) -> None:
        line = timed.line
        self.placed.dropped.append(
            Dropped(
                self.start + timed.at_ms,
                self.work.step.number,
                line.cue if line else "tone",
                line.text if line else (timed.tone or ""),
                reason,
            )
        )


def schedule(
    work: Work, start: int, clip_ms: Mapping[str, int], sounds: Mapping[str, Sound]
) -> Placed:
    """Every sound of ``work`` (started at ``start``) but its start and stop tone."""
    interval = _Interval(work, start, clip_ms, sounds)
    start_sound = sounds["start"].length_ms
    interval.busy.add(start, start + start_sound + TONE_GUARD_MS)
    _ticks(interval, start + start_sound + TONE_GUARD_MS)
    timed = sorted(work.timed, key=lambda t: (t.tier, t.at_ms))
    said = {id(t) for t in _merge_time_cues(interval, [t for t in timed if t.tier == Tier.TIME])}
    for item in timed:
        if item.tier != Tier.TIME or id(item) in said:
            _place(interval, item)
    interval.placed.events.sort(key=lambda e: e.start_ms)
    interval.placed.dropped.sort(key=lambda d: d.at_ms)
    return interval.placed


def _ticks(interval: _Interval, clear_of_start: int) -> None:
    """Ticks 1 s apart ending 1 s before the stop tone, but none on the start tone."""
    for k in range(interval.work.countdown, 0, -1):
        tick = interval.end - k * TICK_SPACING_MS
        if tick > clear_of_start:
            interval.tone(tick, "tick")


def _merge_time_cues(interval: _Interval, cues: Sequence[Timed]) -> list[Timed]:
    """The time cues to say: of those wanted less than the spacing apart, one."""
    kept: list[Timed] = []
    group: list[Timed] = []
    for cue in sorted(cues, key=lambda c: c.at_ms):
        if group and cue.at_ms - group[0].at_ms >= TIME_CUE_SPACING_MS:
            kept.append(_one_of(interval, group))
            group = []
        group.append(cue)
    if group:
        kept.append(_one_of(interval, group))
    return kept


def _one_of(interval: _Interval, group: list[Timed]) -> Timed:
    """A time-left cue over "Halfway.", the earliest time-left cue over the others."""
    winner = next((c for c in group if c.line and c.line.cue == "remaining"), group[0])
    said = winner.line.text if winner.line else ""
    for cue in group:
        if cue is not winner:
            interval.drop(cue, f'said as one with "{said}", wanted at nearly the same time')
    return winner


def _place(interval: _Interval, timed: Timed) -> None:
    """Say the line (or play the tone) in the first free slot its tier allows."""
    if timed.line is not None:
        slot = _speech_slot(interval, timed)
        if slot is not None:
            interval.speech(slot, timed)
            if timed.tier == Tier.TIME:
                interval.time_cues.append(slot)
            return
        if timed.fallback_tone is None:
            _left_out(interval, timed)
            return
    tone = timed.tone or timed.fallback_tone
    if tone is None:
        return
    want = interval.start + timed.at_ms
    latest = want + (timed.slack_ms or 0)
    length = interval.sounds[tone].length_ms
    slot = interval.busy.fit(want, length, TONE_GUARD_MS, latest, interval.speech_end_by)
    if slot is None or timed.at_ms < 0:
        interval.drop(timed, "no room for it, even as a tone")
        return
    interval.tone(slot, tone)


def _speech_slot(interval: _Interval, timed: Timed) -> int | None:
    """The first free start for the line within its slack, or None."""
    assert timed.line is not None
    if not 0 <= timed.at_ms < interval.work.planned_ms:
        return None
    want = interval.start + timed.at_ms
    latest = interval.end if timed.slack_ms is None else want + timed.slack_ms
    length = interval.clip_ms[timed.line.text]
    while True:
        slot = interval.busy.fit(want, length, SPEECH_GAP_MS, latest, interval.speech_end_by)
        if slot is None or timed.tier != Tier.TIME:
            return slot
        near = [t for t in interval.time_cues if abs(slot - t) < TIME_CUE_SPACING_MS]
        if not near:
            return slot
        want = max(near) + TIME_CUE_SPACING_MS


def _left_out(interval: _Interval, timed: Timed) -> None:
    """Record why a line is not said; warn when the user asked for it or it is a count."""
    assert timed.line is not None
    work = interval.work
    length = interval.clip_ms[timed.line.text]
    reason = _reason(work, timed, length)
    interval.drop(timed, reason)
    if timed.tier == Tier.COUNT:
        interval.placed.warnings.append(
            f'{work.step.label}: the count "{timed.line.text}" is not spoken: {reason}'
        )
    elif timed.warn_if_dropped:
        interval.placed.warnings.append(f'{work.step.label}: "{timed.line.text}" {reason}')


def _reason(work: Work, timed: Timed, length: int) -> str:
    """Why a line found no slot."""
    planned = work.planned_ms
    if not 0 <= timed.at_ms < planned:
        return f"falls outside the {format_duration(planned)} work interval and is not spoken"
    at = f"at {format_duration(timed.at_ms)} into the {format_duration(planned)} work interval"
    if timed.tier == Tier.COUNT:
        return (
            f"its {format_duration(length)} clip finds no room within its "
            f"{format_duration(work.step.tempo_ms)} rep (the tempo is too short to say it)"
        )
    if timed.at_ms + length > planned - TONE_GUARD_MS:
        return (
            f"{at} is not spoken: its {format_duration(length)} clip would run into the stop tone"
        )
    if timed.slack_ms is None:
        return f"{at} is not spoken: no gap long enough for it is left in the interval"
    return (
        f"{at} is not spoken: no room between other cues within "
        f"{format_duration(timed.slack_ms)} of it"
    )


class _Busy:
    """Occupied intervals inside one work interval, sorted by start (they may overlap)."""

    def __init__(self) -> None:
        self.spans: list[tuple[int, int]] = []

    def add(self, start: int, end: int) -> None:
        bisect.insort(self.spans, (start, end))

    def fit(self, want: int, length: int, pad: int, latest: int, end_by: int) -> int | None:
        """The earliest start >= ``want`` where ``length`` plus ``pad`` after it is free.

        None when that start is after ``latest`` or the sound would end after ``end_by``.
        """
        candidate = want
        for span_start, span_end in self.spans:
            if span_end <= candidate:
                continue
            if span_start >= candidate + length + pad:
                break
            candidate = span_end
        if candidate > latest or candidate + length > end_by:
            return None
        return candidate
