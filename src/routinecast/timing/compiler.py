"""The compiler: (routine, measured clip lengths) -> ``Timeline``. Pure; no audio, no I/O.

Timing rules (``docs/timeline.md``): work intervals last exactly their planned time from
start-tone onset to stop-tone onset; speech never overlaps speech or tones and speech
inside work fits inside it; a gap keeps its planned length unless its narration plus
countdown do not fit, and then grows by exactly the shortfall; blocks tile the file
from 0 to ``duration_ms``. A length the user wrote that grows is a warning; a default
length simply becomes what its words need (its block's ``planned_ms`` says so).
What happens inside a work interval is ``schedule``'s business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from routinecast.durations import format_duration
from routinecast.model import Routine
from routinecast.timeline import BUILTIN_SOUNDS, Block, Chapter, Dropped, Event, Sound, Timeline
from routinecast.timing.schedule import (
    SPEECH_GAP_MS,
    TICK_SPACING_MS,
    TONE_GUARD_MS,
    schedule,
)
from routinecast.timing.script import Gap, Work, build_script

AFTER_GAP_SPEECH_MS = 250
"""Silence after a gap's narration before its countdown or the next block."""
START_LEAD_MS = 400
"""Silence between narration and a start tone when there is no countdown."""
OUTRO_TAIL_MS = 1500
"""Silence at the very end of the file."""


def tone_ms(name: str, sounds: Mapping[str, Sound] = BUILTIN_SOUNDS) -> int:
    """Length of a tone (or the user's sound in its place) in milliseconds."""
    return sounds[name].length_ms


@dataclass
class _Layout:
    """Mutable state while laying out; the result is frozen into a ``Timeline``."""

    clip_ms: Mapping[str, int]
    sounds: Mapping[str, Sound]
    events: list[Event] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    chapters: list[Chapter] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
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
        sound = self.sounds[name]
        end = start + sound.length_ms
        self.events.append(
            Event("tone", start, end, tone=name, freq_hz=sound.freq_hz, sound=sound.file)
        )
        return end

    def warn(self, text: str) -> None:
        """Record a warning once (a cue repeats in every set and on every side)."""
        if text not in self.warnings:
            self.warnings.append(text)


def compile_timeline(
    routine: Routine,
    clip_ms: Mapping[str, int],
    voice: Mapping[str, object] | None = None,
    sample_rate: int = 22050,
    sounds: Mapping[str, Sound] | None = None,
) -> Timeline:
    """Lay out ``routine`` given the length in ms of every spoken text.

    ``sounds`` gives what plays for each tone name (the user's files replace some);
    by default every tone is the built-in one.
    """
    script = build_script(routine)
    layout = _Layout(clip_ms, {**BUILTIN_SOUNDS, **(sounds or {})})
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
        dropped=tuple(layout.dropped),
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
    planned = gap.planned_ms
    if planned is not None and end > start + planned:
        if gap.written:
            layout.warnings.append(_grow_warning(gap, end - start, countdown, layout.clip_ms))
        else:
            planned = end - start  # a default: it is simply as long as its words need
    for k in range(countdown, 0, -1):
        layout.tone(end - k * TICK_SPACING_MS, "tick")
    step = gap.step
    layout.blocks.append(
        Block(
            gap.kind,
            start,
            end,
            planned_ms=planned,
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
        return layout.now + tone_ms("stop", layout.sounds) + TONE_GUARD_MS
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
    """Start tone, then everything the scheduler places, then the stop tone."""
    start = layout.now
    end = start + work.planned_ms
    layout.tone(start, "start")
    placed = schedule(work, start, layout.clip_ms, layout.sounds)
    layout.events.extend(placed.events)
    layout.dropped.extend(placed.dropped)
    for warning in placed.warnings:
        layout.warn(warning)
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
