"""The script: a routine as an ordered list of gaps and work intervals with their words.

Pure and audio-free: it decides *what* is said and roughly *when* (relative to a work
interval), but not how long anything takes. ``compiler`` lays it out once clip
lengths are known; ``synth`` reads ``spoken_texts`` to know what to synthesise.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import IntEnum

from routinecast.cues import CueBook, plan_text
from routinecast.model import Breathe, Exercise, Routine, Side, Step, other_side
from routinecast.timeline import BlockKind

BREATHS_SPOKEN = 2
"""Breathing cycles spoken as words before soft breath tones take over."""

RHYTHM_SLACK_MS = 600
"""How late a phase word may come."""
BREATH_WORD_SLACK_MS, BREATH_TONE_SLACK_MS = 300, 200
HALFWAY_SLACK_MS, REMAINING_SLACK_MS = 3000, 1500


class Tier(IntEnum):
    """Who wins a moment inside a work interval, first to last (``docs/cues.md``).

    The start tone, the stop tone and the countdown ticks are fixed before all of
    these. Side and switch words are said in the gaps, where nothing is left out.
    """

    COUNT = 1
    """A rep set's counts: the instruction itself, never moved off their rep."""
    RHYTHM = 2
    """Phase words and paced breathing."""
    TIME = 3
    """Halfway and time left; those wanted within a few seconds of each other merge."""
    FORM = 4
    """Form cues: at their time, else in the next free gap of the interval, else left out."""


@dataclass(frozen=True)
class Line:
    """One spoken line: the template it came from and its display text."""

    cue: str
    text: str


@dataclass(frozen=True)
class Timed:
    """A sound inside a work interval, wanted at ``at_ms`` after the start tone.

    It may slip up to ``slack_ms`` later to avoid other sounds (None: anywhere later
    in the interval); ``fallback_tone`` plays instead when the line cannot fit. Lower
    ``tier`` is placed first. ``warn_if_dropped`` marks a line the user wrote.
    """

    at_ms: int
    tier: Tier
    slack_ms: int | None
    line: Line | None = None
    tone: str | None = None
    fallback_tone: str | None = None
    warn_if_dropped: bool = False


@dataclass(frozen=True)
class Gap:
    """Time between work intervals (or the intro/outro) with narration at its start.

    ``planned_ms`` None means "as long as its words" (intro, outro); ``written`` says
    the user wrote that length (only then is its growing warned about). ``countdown``
    ticks precede the next start tone. ``chapter`` starts a chapter with that title.
    ``label`` names the step and ``what`` the gap in messages ("the rest before set 2").
    """

    kind: BlockKind
    planned_ms: int | None
    lines: tuple[Line, ...]
    label: str
    countdown: int = 0
    step: Step | None = None
    chapter: str | None = None
    what: str = ""
    written: bool = False


@dataclass(frozen=True)
class Work:
    """One work interval: exactly ``planned_ms`` from start tone to stop tone.

    ``countdown`` ticks lead to the stop tone of a hold or flow; a rep set has none:
    its counts are its countdown, so the last one is heard too.
    """

    planned_ms: int
    step: Step
    side: Side | None
    set: int
    timed: tuple[Timed, ...]
    countdown: int


Item = Gap | Work


def build_script(routine: Routine) -> tuple[Item, ...]:
    """Every gap and work interval of the routine, in order."""
    book = CueBook(routine)
    return tuple(_items(routine, book))


def spoken_texts(script: tuple[Item, ...]) -> list[str]:
    """Every distinct display text the script speaks, in first-use order."""
    seen: dict[str, None] = {}
    for item in script:
        lines = item.lines if isinstance(item, Gap) else [t.line for t in item.timed if t.line]
        for line in lines:
            seen.setdefault(line.text, None)
    return list(seen)


def _lines(*pairs: tuple[str, str]) -> tuple[Line, ...]:
    return tuple(Line(cue, text) for cue, text in pairs if text)


def _items(routine: Routine, book: CueBook) -> Iterator[Item]:
    intro = book.line("intro")
    caution = book.line("caution", text=routine.caution) if routine.caution else ""
    yield Gap("intro", None, _lines(("intro", intro), ("caution", caution)), "the intro")
    steps = routine.steps
    first = True
    for index, step in enumerate(steps):
        upcoming = _next_exercise(steps, index + 1)
        if step.exercise is None:
            yield _rest_step_gap(step, book, upcoming)
            continue
        yield _announce_gap(step, step.exercise, book, first, routine)
        first = False
        yield from _step_items(step, step.exercise, book, routine)
    yield Gap(
        "outro",
        None,
        _lines(
            ("finish", book.line("finish")), ("outro", book.line("outro") if routine.outro else "")
        ),
        "the outro",
    )


def _next_exercise(steps: tuple[Step, ...], start: int) -> Exercise | None:
    return next((s.exercise for s in steps[start:] if s.exercise is not None), None)


def _rest_step_gap(step: Step, book: CueBook, upcoming: Exercise | None) -> Gap:
    lines = _lines(
        ("rest", book.line("rest", rest=step.rest_ms, step=step, next=upcoming)),
        ("say", step.say),
        ("next", book.line("next", next=upcoming) if upcoming else ""),
    )
    return Gap("rest", step.rest_ms, lines, step.label, step=step, written=True)


def _announce_gap(
    step: Step, exercise: Exercise, book: CueBook, first: bool, routine: Routine
) -> Gap:
    side = step.side_order[0]
    ctx = {"step": step, "exercise": exercise, "side": side, "sets": step.sets, "set": 1}
    lines = _lines(
        ("announce", book.line("announce", first=first, plan=plan_text(step), **ctx)),
        ("say", step.say),
        (
            "setup",
            book.setup(exercise, side or (step.first if step.sides == "alternate" else None)),
        ),
        ("caution", book.line("caution", text=exercise.caution) if exercise.caution else ""),
        ("start", book.line("start", **ctx)),
    )
    kind: BlockKind = "prepare" if first else "transition"
    return Gap(
        kind,
        step.transition_ms,
        lines,
        step.label,
        routine.pacing.countdown,
        step,
        exercise.name,
        written="transition" in step.written,
    )


def _step_items(step: Step, exercise: Exercise, book: CueBook, routine: Routine) -> Iterator[Item]:
    countdown = routine.pacing.countdown
    for set_no in range(1, step.sets + 1):
        for turn, side in enumerate(step.side_order):
            if turn:
                yield _switch_gap(step, exercise, side, set_no, book, countdown)
            timed = tuple(_timed(step, exercise, side, set_no, book, routine))
            ticks = 0 if step.kind == "reps" else countdown
            yield Work(step.work_ms, step, side, set_no, timed, ticks)
        if set_no < step.sets:
            yield _set_rest_gap(step, exercise, set_no + 1, book, countdown)


def _switch_gap(
    step: Step, exercise: Exercise, side: Side | None, set_no: int, book: CueBook, countdown: int
) -> Gap:
    line = book.line(
        "switch", side=side, other=other_side(side) if side else "", step=step, exercise=exercise
    )
    what = f"the switch to the {side} side" + (f" in set {set_no}" if step.sets > 1 else "")
    return Gap(
        "switch",
        step.switch_ms,
        _lines(("switch", line)),
        step.label,
        countdown,
        step,
        what=what,
        written="switch" in step.written,
    )


def _set_rest_gap(
    step: Step, exercise: Exercise, next_set: int, book: CueBook, countdown: int
) -> Gap:
    """The rest before ``next_set``; a rest of 0 s is not announced, only the next set.

    With ``sides: each`` it ends as the announcement does, naming the side the set
    starts on ("Right side. Begin on the tone.").
    """
    ctx = {
        "step": step,
        "exercise": exercise,
        "set": next_set,
        "sets": step.sets,
        "next": exercise,
        "rest": step.rest_ms,
    }
    rest = book.line("rest", **ctx) if step.rest_ms else ""
    side = step.side_order[0]
    start = book.line("start", **{**ctx, "side": side}) if side else ""
    lines = _lines(("rest", rest), ("set", book.line("set", **ctx)), ("start", start))
    return Gap(
        "rest",
        step.rest_ms,
        lines,
        step.label,
        countdown,
        step,
        what=f"the rest before set {next_set}",
        written="rest" in step.written,
    )


def _timed(
    step: Step,
    exercise: Exercise,
    side: Side | None,
    set_no: int,
    book: CueBook,
    routine: Routine,
) -> Iterator[Timed]:
    """Every sound wanted inside one work interval.

    A line whose template renders empty is silent: it is left out, and its fallback
    tone (the breath tone for "Breathe in.") plays in its place.
    """
    ctx = {"step": step, "exercise": exercise, "side": side, "set": set_no, "sets": step.sets}
    wanted = itertools.chain(
        _rhythm(step, book, ctx),
        _form_cues(step, book),
        _auto_cues(step, book, routine, ctx),
        _breaths(step.breathe, step.work_ms, book)
        if step.breathe and not step.phases and step.kind != "reps"
        else (),
    )
    for timed in wanted:
        if timed.line is None or timed.line.text:
            yield timed
        elif timed.fallback_tone is not None:
            yield replace(timed, line=None, tone=timed.fallback_tone, fallback_tone=None)


def _rhythm(step: Step, book: CueBook, ctx: dict[str, object]) -> Iterator[Timed]:
    """Rep counts (reps) and phase words (reps with phases, flow with phases)."""
    if step.kind == "reps":
        total = step.reps * (2 if step.sides == "alternate" else 1)
        for index in range(total):
            at = index * step.tempo_ms
            count = _count(step, book, ctx, index)
            yield Timed(at, Tier.COUNT, step.tempo_ms - 1, Line("rep", count))
            yield from _phase_words(step, at, skip_first=True)
    elif step.kind == "flow" and step.phases and step.tempo_ms:
        for at in range(0, step.work_ms - step.tempo_ms + 1, step.tempo_ms):
            yield from _phase_words(step, at, skip_first=False)


def _count(step: Step, book: CueBook, ctx: dict[str, object], index: int) -> str:
    """The count of rep ``index``: "3"; with ``sides: alternate`` "Right 2" (sides take turns).

    Only alternate counts name the side: a ``sides: each`` set works one side throughout,
    already named by its "Right side." or switch line.
    """
    side: Side | None = None
    rep = index + 1
    if step.sides == "alternate":
        side = step.first if index % 2 == 0 else other_side(step.first)
        rep = index // 2 + 1
    return book.line("rep", **{**ctx, "side": side, "rep": rep, "reps": step.reps})


def _phase_words(step: Step, at: int, *, skip_first: bool) -> Iterator[Timed]:
    offset = 0
    for index, phase in enumerate(step.phases):
        if not (skip_first and index == 0):
            yield Timed(at + offset, Tier.RHYTHM, RHYTHM_SLACK_MS, Line("phase", phase.say))
        offset += phase.ms


def _form_cues(step: Step, book: CueBook) -> Iterator[Timed]:
    """The exercise's and the step's cues; only the step's own (the user's) warn if left out."""
    own = step.own_cues
    inherited = len(step.cues) - len(own)
    for index, cue in enumerate(step.cues):
        if cue.anchor == "start":
            at = cue.offset_ms
        elif cue.anchor == "half":
            at = step.work_ms // 2
        else:
            at = step.work_ms - cue.offset_ms
        yield Timed(at, Tier.FORM, None, Line("cue", cue.say), warn_if_dropped=index >= inherited)


def _auto_cues(
    step: Step, book: CueBook, routine: Routine, ctx: dict[str, object]
) -> Iterator[Timed]:
    work = step.work_ms
    pacing = routine.pacing
    if pacing.halfway and work >= 20_000:
        line = Line("halfway", book.line("halfway", **ctx))
        yield Timed(work // 2, Tier.TIME, HALFWAY_SLACK_MS, line)
    for left in pacing.remaining_ms:
        if work >= left + 10_000:
            text = book.line("remaining", remaining=left, **ctx)
            yield Timed(work - left, Tier.TIME, REMAINING_SLACK_MS, Line("remaining", text))


def _breaths(breathe: Breathe, work_ms: int, book: CueBook) -> Iterator[Timed]:
    cycle = breathe.in_ms + breathe.out_ms
    at, number = 1000, 0
    while at + cycle <= work_ms:
        if number < BREATHS_SPOKEN:
            yield Timed(
                at,
                Tier.RHYTHM,
                BREATH_WORD_SLACK_MS,
                Line("breathe_in", book.line("breathe_in")),
                fallback_tone="breath",
            )
            yield Timed(
                at + breathe.in_ms,
                Tier.RHYTHM,
                BREATH_WORD_SLACK_MS,
                Line("breathe_out", book.line("breathe_out")),
            )
        else:
            yield Timed(at, Tier.RHYTHM, BREATH_TONE_SLACK_MS, tone="breath")
        at += cycle
        number += 1
