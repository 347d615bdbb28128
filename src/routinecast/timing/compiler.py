"""The compiler: (routine, measured clip lengths) -> ``Timeline``. Pure; no audio, no I/O.

Timing rules (``docs/timeline.md``): work intervals last exactly their planned time from
start-tone onset to stop-tone onset; speech never overlaps speech or tones and speech
inside work fits inside it; a gap keeps its planned length unless its narration plus
countdown do not fit, and then grows by exactly the shortfall (with a warning);
blocks tile the file from 0 to ``duration_ms``.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field

from routinecast.durations import format_duration
from routinecast.model import Routine
from routinecast.timeline import TONES, Block, Chapter, Event, Timeline
from routinecast.timing.script import Gap, Timed, Work, build_script

TONE_GUARD_MS = 150
"""Silence kept between a tone and speech."""
SPEECH_GAP_MS = 250
"""Silence between two consecutive spoken lines."""
AFTER_GAP_SPEECH_MS = 250
"""Silence after a gap's narration before its countdown or the next block."""
START_LEAD_MS = 400
"""Silence between narration and a start tone when there is no countdown."""
OUTRO_TAIL_MS = 1500
"""Silence at the very end of the file."""
TICK_SPACING_MS = 1000


def tone_ms(name: str) -> int:
    """Length of a tone in milliseconds."""
    return TONES[name].length_ms


@dataclass
class _Layout:
    """Mutable state while laying out; the result is frozen into a ``Timeline``."""

    clip_ms: Mapping[str, int]
    events: list[Event] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    chapters: list[Chapter] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    now: int = 0
    after_work: bool = False
    last_work_end: int = 0
    chapter: tuple[str, int] | None = None
    """The open chapter: its title and start."""

    def speech(self, start: int, cue: str, text: str) -> int:
        end = start + self.clip_ms[text]
        self.events.append(Event("speech", start, end, cue=cue, text=text))
        return end

    def tone(self, start: int, name: str) -> int:
        spec = TONES[name]
        self.events.append(
            Event("tone", start, start + spec.length_ms, tone=name, freq_hz=spec.freq_hz)
        )
        return start + spec.length_ms

    def warn(self, text: str) -> None:
        """Record a warning once (a cue repeats in every set and on every side)."""
        if text not in self.warnings:
            self.warnings.append(text)


def compile_timeline(
    routine: Routine,
    clip_ms: Mapping[str, int],
    voice: Mapping[str, object] | None = None,
    sample_rate: int = 22050,
) -> Timeline:
    """Lay out ``routine`` given the length in ms of every spoken text."""
    script = build_script(routine)
    layout = _Layout(clip_ms)
    for index, item in enumerate(script):
        if isinstance(item, Work):
            _work(layout, item)
            continue
        _chapter_edge(layout, item)
        following = script[index + 1] if index + 1 < len(script) else None
        _gap(layout, item, isinstance(following, Work))
    _close_chapter(layout)
    layout.events.sort(key=lambda e: (e.start_ms, e.kind))
    return Timeline(
        title=routine.title,
        routine=routine.source,
        sample_rate=sample_rate,
        duration_ms=layout.now,
        voice=dict(voice or {}),
        events=tuple(layout.events),
        blocks=tuple(layout.blocks),
        chapters=tuple(layout.chapters),
        warnings=tuple(layout.warnings),
        target_ms=routine.target_ms,
        overrides=routine.overrides,
    )


# --------------------------------------------------------------------------- chapters


def _chapter_edge(layout: _Layout, gap: Gap) -> None:
    """An announcement opens a chapter; it, a bare rest or the outro closes the open one."""
    bare_rest = gap.step is not None and gap.step.is_rest
    if gap.chapter is not None or bare_rest or gap.kind == "outro":
        _close_chapter(layout)
    if gap.chapter is not None:
        layout.chapter = (gap.chapter, layout.now)


def _close_chapter(layout: _Layout) -> None:
    """End the open chapter at its last stop tone."""
    if layout.chapter is None:
        return
    title, start = layout.chapter
    layout.chapters.append(Chapter(title, start, max(layout.last_work_end, start)))
    layout.chapter = None


# --------------------------------------------------------------------------- gaps


def _gap(layout: _Layout, gap: Gap, before_work: bool) -> None:
    """Narration from the gap's start, then its countdown ticks before the next start tone."""
    start = layout.now
    spoken = _narrate(layout, gap, _first_speech_at(layout))
    countdown = gap.countdown if before_work else 0
    need_end = spoken + _tail_ms(gap, before_work, countdown)
    end = need_end if gap.planned_ms is None else max(start + gap.planned_ms, need_end)
    if gap.planned_ms is not None and end > start + gap.planned_ms:
        layout.warnings.append(_grow_warning(gap, end - start, countdown, layout.clip_ms))
    for k in range(countdown, 0, -1):
        layout.tone(end - k * TICK_SPACING_MS, "tick")
    step = gap.step
    layout.blocks.append(
        Block(
            gap.kind,
            start,
            end,
            planned_ms=gap.planned_ms,
            step=step.number if step else None,
            exercise=step.exercise.id if step and step.exercise else None,
            name=step.exercise.name if step and step.exercise else None,
        )
    )
    layout.now = end
    layout.after_work = False


def _first_speech_at(layout: _Layout) -> int:
    """After a stop tone, wait for it to end; after another gap, pause; at 0, start at once."""
    if layout.after_work:
        return layout.now + tone_ms("stop") + TONE_GUARD_MS
    if layout.blocks:
        return layout.now + AFTER_GAP_SPEECH_MS
    return layout.now


def _narrate(layout: _Layout, gap: Gap, t: int) -> int:
    """Speak the gap's lines from ``t``, ``SPEECH_GAP_MS`` apart; the end of the last one."""
    for number, line in enumerate(gap.lines):
        t = layout.speech(t + (SPEECH_GAP_MS if number else 0), line.cue, line.text)
    return t


def _tail_ms(gap: Gap, before_work: bool, countdown: int) -> int:
    """What the gap needs after its narration."""
    if before_work and countdown:
        return AFTER_GAP_SPEECH_MS + countdown * TICK_SPACING_MS
    if before_work:
        return START_LEAD_MS
    if gap.kind == "outro":
        return OUTRO_TAIL_MS
    return AFTER_GAP_SPEECH_MS


def _grow_warning(gap: Gap, length: int, countdown: int, clip_ms: Mapping[str, int]) -> str:
    """Which gap grew, by how much, to what, and why."""
    planned = gap.planned_ms or 0
    speech = sum(clip_ms[line.text] for line in gap.lines)
    count = len(gap.lines)
    needs = f"its narration ({count} line{'' if count == 1 else 's'}, {format_duration(speech)})"
    needs += f", pauses and a {countdown}-tick countdown" if countdown else " and pauses"
    return (
        f"{gap.label}: {gap.what or 'the ' + gap.kind} grows by "
        f"{format_duration(length - planned)} to {format_duration(length)}: it needs "
        f"{format_duration(length)} for {needs}, more than the planned {format_duration(planned)}"
    )


# --------------------------------------------------------------------------- work


def _work(layout: _Layout, work: Work) -> None:
    """Start tone, countdown ticks, timed sounds in priority order, stop tone."""
    start = layout.now
    end = start + work.planned_ms
    layout.tone(start, "start")
    busy = _Busy()
    busy.add(start, start + tone_ms("start") + TONE_GUARD_MS)
    _work_ticks(layout, busy, start, end, work.countdown)
    for timed in sorted(work.timed, key=lambda x: (x.priority, x.at_ms)):
        _place(layout, busy, timed, start, end, work)
    layout.tone(end, "stop")
    step = work.step
    exercise = step.exercise
    layout.blocks.append(
        Block(
            "work",
            start,
            end,
            planned_ms=work.planned_ms,
            step=step.number,
            exercise=exercise.id if exercise else None,
            name=exercise.name if exercise else None,
            side=work.side,
            set=work.set,
            sets=step.sets,
        )
    )
    layout.now = layout.last_work_end = end
    layout.after_work = True


def _work_ticks(layout: _Layout, busy: _Busy, start: int, end: int, countdown: int) -> None:
    """Ticks 1 s apart ending 1 s before the stop tone, but none on the start tone."""
    clear_of_start = start + tone_ms("start") + TONE_GUARD_MS
    for k in range(countdown, 0, -1):
        tick = end - k * TICK_SPACING_MS
        if tick > clear_of_start:
            layout.tone(tick, "tick")
            busy.add(tick - TONE_GUARD_MS, tick + tone_ms("tick") + TONE_GUARD_MS)


def _place(layout: _Layout, busy: _Busy, timed: Timed, start: int, end: int, work: Work) -> None:
    """Say the line (or play the tone) in the first free slot within its slack."""
    want = start + timed.at_ms
    end_by = end - TONE_GUARD_MS
    if timed.line is not None:
        length = layout.clip_ms[timed.line.text]
        slot = None
        if timed.at_ms >= 0:
            slot = busy.fit(want, length, SPEECH_GAP_MS, want + timed.slack_ms, end_by)
        if slot is not None:
            layout.speech(slot, timed.line.cue, timed.line.text)
            busy.add(slot - SPEECH_GAP_MS, slot + length + SPEECH_GAP_MS)
            return
        if timed.warn_if_dropped:
            layout.warn(_drop_warning(work, timed.line.text, timed, length))
    tone = timed.tone or timed.fallback_tone
    if tone is None or timed.at_ms < 0:
        return
    length = tone_ms(tone)
    slot = busy.fit(want, length, TONE_GUARD_MS, want + timed.slack_ms, end_by)
    if slot is not None:
        layout.tone(slot, tone)
        busy.add(slot - TONE_GUARD_MS, slot + length + TONE_GUARD_MS)


def _drop_warning(work: Work, text: str, timed: Timed, length: int) -> str:
    """Why a form cue is not spoken."""
    said = f'{work.step.label}: "{text}"'
    planned = work.planned_ms
    if not 0 <= timed.at_ms < planned:
        return (
            f"{said} falls outside the {format_duration(planned)} work interval and is not spoken"
        )
    at = f"at {format_duration(timed.at_ms)} into the {format_duration(planned)} work interval"
    if timed.at_ms + length > planned - TONE_GUARD_MS:
        return (
            f"{said} {at} is not spoken: its {format_duration(length)} clip "
            "would run into the stop tone"
        )
    return (
        f"{said} {at} is not spoken: no room between other cues within "
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
