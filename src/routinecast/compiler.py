"""The compiler: (routine, measured clip lengths) -> ``Timeline``. Pure; no audio, no I/O.

Timing rules (``timeline.md``): work intervals last exactly their planned time from
start-tone onset to stop-tone onset; speech never overlaps speech or tones and speech
inside work fits inside it; a gap keeps its planned length unless its narration plus
countdown do not fit, and then grows by exactly the shortfall (with a warning);
blocks tile the file from 0 to ``duration_ms``.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field

from .audio.tones import TONES
from .durations import format_duration
from .model import Routine
from .script import Gap, Item, Timed, Work, build_script
from .timeline import Block, Chapter, Event, Timeline

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

    def speech(self, start: int, cue: str, text: str) -> int:
        end = start + self.clip_ms[text]
        self.events.append(Event("speech", start, end, cue=cue, text=text))
        return end

    def tone(self, start: int, name: str) -> int:
        spec = TONES[name]
        self.events.append(Event("tone", start, start + spec.length_ms, tone=name,
                                 freq_hz=spec.freq_hz))
        return start + spec.length_ms


def compile_timeline(
    routine: Routine, clip_ms: Mapping[str, int], voice: Mapping[str, object] | None = None,
    sample_rate: int = 22050,
) -> Timeline:
    """Lay out ``routine`` given the length in ms of every spoken text."""
    script = build_script(routine)
    layout = _Layout(clip_ms)
    chapter_title: str | None = None
    chapter_start = 0
    for index, item in enumerate(script):
        following = script[index + 1] if index + 1 < len(script) else None
        if isinstance(item, Gap):
            if item.chapter is not None or item.kind in ("outro",) or (
                item.kind == "rest" and item.step is not None and item.step.is_rest
            ):
                _close_chapter(layout, chapter_title, chapter_start)
                chapter_title = None
            if item.chapter is not None:
                chapter_title, chapter_start = item.chapter, layout.now
            _gap(layout, item, isinstance(following, Work))
        else:
            _work(layout, item)
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


def _close_chapter(layout: _Layout, title: str | None, start: int) -> None:
    if title is None:
        return
    end = max((b.end_ms for b in layout.blocks if b.kind == "work"), default=layout.now)
    layout.chapters.append(Chapter(title, start, max(end, start)))


def _gap(layout: _Layout, gap: Gap, before_work: bool) -> None:
    start = layout.now
    t = start + (tone_ms("stop") + TONE_GUARD_MS if layout.after_work else 0)
    if layout.blocks and not layout.after_work:
        t = start + AFTER_GAP_SPEECH_MS
    speech_ms = 0
    for number, line in enumerate(gap.lines):
        if number:
            t += SPEECH_GAP_MS
        end = layout.speech(t, line.cue, line.text)
        speech_ms += end - t
        t = end
    countdown = gap.countdown if before_work else 0
    if before_work and countdown:
        need_end = t + AFTER_GAP_SPEECH_MS + countdown * TICK_SPACING_MS
    elif before_work:
        need_end = t + START_LEAD_MS
    elif gap.kind == "outro":
        need_end = t + OUTRO_TAIL_MS
    else:
        need_end = t + AFTER_GAP_SPEECH_MS
    planned_end = start + gap.planned_ms if gap.planned_ms is not None else need_end
    end = max(planned_end, need_end)
    if gap.planned_ms is not None and end > planned_end:
        layout.warnings.append(_grow_warning(gap, end - planned_end, speech_ms, countdown))
    for k in range(countdown, 0, -1):
        layout.tone(end - k * TICK_SPACING_MS, "tick")
    step = gap.step
    layout.blocks.append(Block(
        gap.kind, start, end, planned_ms=gap.planned_ms,
        step=step.number if step else None,
        exercise=step.exercise.id if step and step.exercise else None,
        name=step.exercise.name if step and step.exercise else None,
    ))
    layout.now = end
    layout.after_work = False


def _grow_warning(gap: Gap, grown: int, speech_ms: int, countdown: int) -> str:
    planned = gap.planned_ms or 0
    why = f"its narration ({format_duration(speech_ms)}) plus pauses"
    if countdown:
        why += f" and a {countdown}-tick countdown"
    return (
        f"{gap.label}: the {gap.kind} grows by {format_duration(grown)} to "
        f"{format_duration(planned + grown)}: {why} need "
        f"{format_duration(planned + grown)}, more than the planned {format_duration(planned)}"
    )


def _work(layout: _Layout, work: Work) -> None:
    start = layout.now
    end = start + work.planned_ms
    layout.tone(start, "start")
    busy = _Busy()
    busy.add(start, start + tone_ms("start") + TONE_GUARD_MS)
    ticks = [end - k * TICK_SPACING_MS for k in range(work.countdown, 0, -1)
             if end - k * TICK_SPACING_MS > start + tone_ms("start") + TONE_GUARD_MS]
    for tick in ticks:
        layout.tone(tick, "tick")
        busy.add(tick - TONE_GUARD_MS, tick + tone_ms("tick") + TONE_GUARD_MS)
    limit = end - TONE_GUARD_MS
    for timed in sorted(work.timed, key=lambda x: (x.priority, x.at_ms)):
        _place(layout, busy, timed, start, limit, work)
    layout.tone(end, "stop")
    step = work.step
    exercise = step.exercise
    layout.blocks.append(Block(
        "work", start, end, planned_ms=work.planned_ms, step=step.number,
        exercise=exercise.id if exercise else None, name=exercise.name if exercise else None,
        side=work.side, set=work.set, sets=step.sets,
    ))
    layout.now = end
    layout.after_work = True


def _place(layout: _Layout, busy: _Busy, timed: Timed, start: int, limit: int, work: Work) -> None:
    want = start + timed.at_ms
    if timed.at_ms < 0 and timed.line is not None:
        if timed.warn_if_dropped:
            layout.warnings.append(
                f"{work.step.label}: \"{timed.line.text}\" falls outside the "
                f"{format_duration(work.planned_ms)} work interval and is not spoken"
            )
        return
    if timed.line is not None:
        length = layout.clip_ms[timed.line.text]
        slot = busy.fit(want, length + SPEECH_GAP_MS, want + timed.slack_ms, limit)
        if slot is not None:
            layout.speech(slot, timed.line.cue, timed.line.text)
            busy.add(slot - SPEECH_GAP_MS, slot + length + SPEECH_GAP_MS)
            return
        if timed.warn_if_dropped and want < limit:
            layout.warnings.append(
                f"{work.step.label}: \"{timed.line.text}\" at "
                f"{timed.at_ms / 1000:g} s into the work interval is not spoken: no room "
                "between other cues"
            )
        elif timed.warn_if_dropped:
            layout.warnings.append(
                f"{work.step.label}: \"{timed.line.text}\" falls outside the "
                f"{format_duration(work.planned_ms)} work interval and is not spoken"
            )
    tone = timed.tone or timed.fallback_tone
    if tone is None:
        return
    length = tone_ms(tone)
    slot = busy.fit(want, length + TONE_GUARD_MS, want + timed.slack_ms, limit)
    if slot is not None:
        layout.tone(slot, tone)
        busy.add(slot - TONE_GUARD_MS, slot + length + TONE_GUARD_MS)


class _Busy:
    """Sorted, non-overlapping occupied intervals inside one work interval."""

    def __init__(self) -> None:
        self.spans: list[tuple[int, int]] = []

    def add(self, start: int, end: int) -> None:
        bisect.insort(self.spans, (start, end))

    def fit(self, want: int, length: int, latest: int, limit: int) -> int | None:
        """Earliest start >= want and <= latest where [start, start+length) is free."""
        candidate = want
        for span_start, span_end in self.spans:
            if span_end <= candidate:
                continue
            if span_start >= candidate + length:
                break
            candidate = span_end
        if candidate > latest or candidate + length - SPEECH_GAP_MS > limit or candidate < 0:
            return None
        return candidate
