"""Property tests: every timing rule of ``timeline.md`` holds for random routines.

Routines are built straight from the frozen model dataclasses (no YAML) and every
spoken text gets a random clip length, so the compiler sees shapes no shipped
routine has: tiny gaps with long countdowns, 20-second rep counts, cues past the end.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routinecast.audio.verify import timeline_problems
from routinecast.durations import format_duration
from routinecast.model import (
    GAP_NAMES,
    KINDS,
    SIDES,
    Anchor,
    Breathe,
    Cue,
    Exercise,
    Kind,
    Pacing,
    Phase,
    Routine,
    Side,
    Sides,
    Step,
)
from routinecast.timeline import Block, Event, Timeline
from routinecast.timing import compiler
from routinecast.timing.compiler import compile_timeline
from routinecast.timing.schedule import _Busy
from routinecast.timing.script import build_script, spoken_texts

GAP_KINDS = ("rest", "switch", "transition", "prepare")
WORDS = ("knees", "slow", "breathe", "reach", "tall", "soft", "hips", "down", "press")

words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)
maybe_words = st.one_of(st.just(""), words)


def gap_ms(high_s: int) -> st.SearchStrategy[int]:
    """A planned gap: often 0 or a few seconds (where narration cannot fit), up to ``high_s``."""
    return st.one_of(st.just(0), st.integers(0, 4000), st.integers(0, high_s * 1000))


# --------------------------------------------------------------------------- strategies


@st.composite
def split_tempo(draw: st.DrawFn, tempo: int) -> tuple[Phase, ...]:
    """One to three phases of at least 100 ms summing to ``tempo`` (>= 500 ms)."""
    inner = st.integers(100, tempo - 100)
    cuts = sorted(set(draw(st.lists(inner, max_size=2))))
    edges = [0]
    for cut in cuts:
        if cut - edges[-1] >= 100:
            edges.append(cut)
    edges.append(tempo)
    names = st.sampled_from(("up", "down", "hold", "open", "close"))
    return tuple(Phase(draw(names), b - a) for a, b in itertools.pairwise(edges))


ANCHORS: tuple[Anchor, ...] = ("start", "half", "end")
SILENCEABLE = (
    "announce", "start", "switch", "rest", "set", "next",
    "halfway", "remaining", "rep", "breathe_in", "breathe_out",
)  # fmt: skip
"""Templates a routine may blank out with ``cues:``, leaving gaps with fewer or no words."""
ONE_SIDED: tuple[Sides, ...] = ("none", "each")
FIRST: tuple[Side, ...] = ("right", "left")


@st.composite
def cues(draw: st.DrawFn) -> tuple[Cue, ...]:
    """Zero to three form cues at any anchor, offsets possibly beyond the work."""
    out = []
    for _ in range(draw(st.integers(0, 3))):
        anchor = draw(st.sampled_from(ANCHORS))
        offset = 0 if anchor == "half" else draw(st.integers(0, 90_000))
        out.append(Cue(anchor, offset, draw(words)))
    return tuple(out)


@st.composite
def work_fields(draw: st.DrawFn, kind: Kind) -> dict[str, Any]:
    """hold (1 s - 5 min), or reps (1-30) at a tempo of 0.5-6 s, and phases summing to it."""
    fields: dict[str, Any] = {}
    if kind == "reps":
        fields["reps"] = draw(st.integers(1, 30))
        fields["tempo_ms"] = draw(
            st.one_of(st.integers(5, 60).map(lambda t: t * 100), st.integers(500, 6000))
        )
        if draw(st.booleans()):
            fields["phases"] = draw(split_tempo(fields["tempo_ms"]))
        return fields
    fields["hold_ms"] = draw(
        st.one_of(st.integers(1, 30).map(lambda s: s * 1000), st.integers(1000, 300_000))
    )
    if kind == "flow" and draw(st.booleans()):
        fields["tempo_ms"] = draw(st.integers(500, 6000))
        fields["phases"] = draw(split_tempo(fields["tempo_ms"]))
    return fields


@st.composite
def exercise_step(draw: st.DrawFn, number: int) -> Step:
    """A valid exercise step of any kind."""
    kind = draw(st.sampled_from(KINDS))
    sides = draw(st.sampled_from(SIDES if kind == "reps" else ONE_SIDED))
    breathe = draw(
        st.one_of(
            st.none(), st.builds(Breathe, st.integers(1000, 20_000), st.integers(1000, 20_000))
        )
    )
    exercise = Exercise(
        id=f"move-{number}",
        name=f"Move {number}",
        kind=kind,
        sides=sides,
        setup=draw(maybe_words),
        caution=draw(maybe_words),
    )
    return Step(
        number=number,
        exercise=exercise,
        kind=kind,
        sets=draw(st.integers(1, 5)),
        sides=sides,
        first=draw(st.sampled_from(FIRST)),
        rest_ms=draw(gap_ms(120)),
        switch_ms=draw(gap_ms(30)),
        transition_ms=draw(gap_ms(30)),
        say=draw(maybe_words),
        cues=draw(cues()),
        breathe=breathe,
        written=frozenset(draw(st.lists(st.sampled_from(GAP_NAMES), unique=True))),
        **draw(work_fields(kind)),
    )


@st.composite
def rest_step(draw: st.DrawFn, number: int) -> Step:
    """A bare rest step (at least 1 s, as the loader requires)."""
    return Step(
        number=number,
        exercise=None,
        rest_ms=max(1000, draw(gap_ms(120))),
        say=draw(maybe_words),
        written=frozenset({"rest"}),
    )


@st.composite
def routines(draw: st.DrawFn) -> Routine:
    """A valid routine of one to six steps (bare rests included)."""
    steps = []
    for number in range(1, draw(st.integers(1, 6)) + 1):
        rest = draw(st.integers(0, 4)) == 0
        steps.append(draw(rest_step(number) if rest else exercise_step(number)))
    remaining = draw(st.lists(st.integers(1, 60), max_size=3, unique=True))
    pacing = Pacing(
        countdown=draw(st.integers(0, 5)),
        halfway=draw(st.booleans()),
        remaining_ms=tuple(sorted((r * 1000 for r in remaining), reverse=True)),
    )
    silenced = draw(st.lists(st.sampled_from(SILENCEABLE), unique=True, max_size=3))
    return Routine(
        title="Random routine",
        steps=tuple(steps),
        pacing=pacing,
        templates=tuple((name, "") for name in silenced),
        intro=draw(maybe_words),
        outro=draw(maybe_words),
        caution=draw(maybe_words),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[Routine, dict[str, int]]:
    """A routine and a clip length (200 ms - 20 s) for each of its texts."""
    routine = draw(routines())
    texts = spoken_texts(build_script(routine))
    clip = st.one_of(st.integers(200, 1500), st.integers(200, 20_000))
    lengths = draw(st.lists(clip, min_size=len(texts), max_size=len(texts)))
    return routine, dict(zip(texts, lengths, strict=True))


# --------------------------------------------------------------------------- checks


def expected_works(routine: Routine) -> list[tuple[int, Side | None, int, int]]:
    """(step, side, set, planned ms) of every work interval, in order."""
    return [
        (step.number, side, set_no, step.work_ms)
        for step in routine.exercise_steps
        for set_no in range(1, step.sets + 1)
        for side in step.side_order
    ]


def check_tiling(tl: Timeline) -> None:
    assert tl.blocks[0].start_ms == 0
    assert tl.blocks[0].kind == "intro" and tl.blocks[-1].kind == "outro"
    for a, b in itertools.pairwise(tl.blocks):
        assert a.end_ms == b.start_ms, (a, b)
        assert a.start_ms <= a.end_ms
    assert tl.blocks[-1].end_ms == tl.duration_ms
    for event in tl.events:
        assert 0 <= event.start_ms < event.end_ms <= tl.duration_ms, event


def tone_at(tl: Timeline, name: str, at: int) -> bool:
    return any(e.tone == name and e.start_ms == at for e in tl.events)


def check_work(routine: Routine, tl: Timeline) -> None:
    works = [b for b in tl.blocks if b.kind == "work"]
    got = [(b.step, b.side, b.set, b.length_ms) for b in works]
    assert got == expected_works(routine)
    assert len(works) == sum(
        s.sets * (2 if s.sides == "each" else 1) for s in routine.exercise_steps
    )
    for block in works:
        assert block.planned_ms == block.length_ms
        assert tone_at(tl, "start", block.start_ms), block
        assert tone_at(tl, "stop", block.end_ms), block


def check_no_overlap(events: Sequence[Event]) -> None:
    """Speech overlaps nothing; tones overlap no tone. Intervals are [start, end)."""
    ordered = sorted(events, key=lambda e: (e.start_ms, e.end_ms))
    last_any: Event | None = None
    last_speech: Event | None = None
    for event in ordered:
        if last_any is not None and event.start_ms < last_any.end_ms:
            clash = event.kind == "speech" or last_any.kind == "tone"
            assert not clash, (last_any, event)
        if last_speech is not None:
            assert event.start_ms >= last_speech.end_ms, (last_speech, event)
        if last_any is None or event.end_ms > last_any.end_ms:
            last_any = event
        if event.kind == "speech" and (last_speech is None or event.end_ms > last_speech.end_ms):
            last_speech = event
    tones = [e for e in ordered if e.kind == "tone"]
    for a, b in itertools.pairwise(tones):
        assert b.start_ms >= a.end_ms, (a, b)


def block_at(tl: Timeline, starts: list[int], at: int) -> Block:
    return tl.blocks[bisect.bisect_right(starts, at) - 1]


def check_speech_in_work(tl: Timeline) -> None:
    starts = [b.start_ms for b in tl.blocks]
    for event in tl.speech:
        block = block_at(tl, starts, event.start_ms)
        if block.kind == "work":
            assert event.end_ms <= block.end_ms, (event, block)


def events_in(tl: Timeline, block: Block) -> list[Event]:
    return [e for e in tl.events if block.start_ms <= e.start_ms < block.end_ms]


def needed_end(
    block_events: list[Event], silent_until: int, before_work: bool, countdown: int
) -> int:
    """Where the gap must end at the earliest, recomputed from its events.

    ``silent_until`` is where its speech would start: after the previous stop tone and
    its guard, or a pause after a previous gap.
    """
    last = max((e.end_ms for e in block_events if e.kind == "speech"), default=silent_until)
    if not before_work:
        return last + compiler.AFTER_GAP_SPEECH_MS
    if countdown:
        return last + compiler.AFTER_GAP_SPEECH_MS + countdown * 1000
    return last + compiler.START_LEAD_MS


def speech_from(previous: Block, block: Block) -> int:
    """The earliest a gap's narration may start."""
    if previous.kind == "work":
        return block.start_ms + compiler.tone_ms("stop") + compiler.TONE_GUARD_MS
    return block.start_ms + compiler.AFTER_GAP_SPEECH_MS


def check_gaps(routine: Routine, tl: Timeline) -> None:
    """A gap is as long as its planned length or its needs; only a written one grows.

    A default length that does not fit becomes what its words need (``planned_ms``
    says so), so only lengths the user wrote grow past ``planned_ms``, with a warning.
    """
    grown: list[tuple[Block, int]] = []
    blocks = tl.blocks
    steps = {s.number: s for s in routine.steps}
    for index, block in enumerate(blocks):
        if block.kind not in GAP_KINDS:
            continue
        assert block.planned_ms is not None
        assert block.length_ms >= block.planned_ms, block
        before_work = blocks[index + 1].kind == "work"
        countdown = routine.pacing.countdown if before_work else 0
        inside = events_in(tl, block)
        need = needed_end(inside, speech_from(blocks[index - 1], block), before_work, countdown)
        assert block.end_ms == max(block.start_ms + block.planned_ms, need), block
        ticks = sorted(e.start_ms for e in inside if e.tone == "tick")
        assert ticks == [block.end_ms - k * 1000 for k in range(countdown, 0, -1)], block
        if block.length_ms > block.planned_ms:
            assert block.step is not None
            assert _written(steps[block.step], block), block
            grown.append((block, block.length_ms - block.planned_ms))
    check_grow_warnings(routine, tl, grown)


def _written(step: Step, block: Block) -> bool:
    name = "transition" if block.kind == "prepare" else block.kind
    return name in step.written


def check_grow_warnings(routine: Routine, tl: Timeline, grown: list[tuple[Block, int]]) -> None:
    labels = {s.number: s.label for s in routine.steps}
    warnings = [w for w in tl.warnings if " grows by " in w]
    assert len(warnings) == len(grown), (warnings, grown)
    for (block, by), warning in zip(grown, warnings, strict=True):
        assert block.step is not None
        assert warning.startswith(labels[block.step]), warning
        assert f"the {block.kind}" in warning, warning
        assert f"grows by {format_duration(by)} to {format_duration(block.length_ms)}" in warning
    for warning in tl.warnings:
        assert any(warning.startswith(f"{label}: ") for label in labels.values()), warning


def check_work_ticks(routine: Routine, tl: Timeline) -> None:
    """Ticks inside a hold or flow count down to its stop tone, 1 s apart; a rep set's
    counts are its countdown (no ticks)."""
    kinds = {s.number: s.kind for s in routine.steps}
    for block in tl.blocks:
        if block.kind != "work":
            continue
        ticks = sorted(e.start_ms for e in events_in(tl, block) if e.tone == "tick")
        countdown = 0 if kinds[block.step or 0] == "reps" else routine.pacing.countdown
        wanted = [block.end_ms - k * 1000 for k in range(countdown, 0, -1)]
        clear = block.start_ms + compiler.tone_ms("start") + compiler.TONE_GUARD_MS
        assert ticks == [t for t in wanted if t > clear], (ticks, block)


def check_chapters(routine: Routine, tl: Timeline) -> None:
    expected = []
    for step in routine.exercise_steps:
        assert step.exercise is not None
        mine = [b for b in tl.blocks if b.step == step.number]
        works = [b for b in mine if b.kind == "work"]
        assert mine[0].kind in ("prepare", "transition")
        expected.append((step.exercise.name, mine[0].start_ms, works[-1].end_ms))
    assert [(c.title, c.start_ms, c.end_ms) for c in tl.chapters] == expected


def check_json(tl: Timeline) -> None:
    doc = tl.to_json()
    assert timeline_problems(doc) == []
    assert doc["duration_ms"] == tl.duration_ms
    assert re.fullmatch(r"routinecast\.timeline/\d+", doc["format"])


def check_all(routine: Routine, clip_ms: Mapping[str, int], tl: Timeline) -> None:
    check_tiling(tl)
    check_work(routine, tl)
    check_no_overlap(tl.events)
    check_speech_in_work(tl)
    check_gaps(routine, tl)
    check_work_ticks(routine, tl)
    check_chapters(routine, tl)
    check_json(tl)
    assert [e.start_ms for e in tl.events] == sorted(e.start_ms for e in tl.events)
    for event in tl.speech:
        assert event.end_ms - event.start_ms == clip_ms[event.text or ""], event


# --------------------------------------------------------------------------- tests


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_every_timing_rule_holds(case: tuple[Routine, dict[str, int]]) -> None:
    routine, clip_ms = case
    check_all(routine, clip_ms, compile_timeline(routine, clip_ms))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_compiling_is_pure(case: tuple[Routine, dict[str, int]]) -> None:
    routine, clip_ms = case
    assert compile_timeline(routine, clip_ms) == compile_timeline(routine, dict(clip_ms))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.integers(1, 5_000))
def test_longer_clips_never_shorten_the_file(
    case: tuple[Routine, dict[str, int]], extra: int
) -> None:
    routine, clip_ms = case
    longer = {text: ms + extra for text, ms in clip_ms.items()}
    before, after = compile_timeline(routine, clip_ms), compile_timeline(routine, longer)
    assert after.work_ms == before.work_ms
    assert after.duration_ms >= before.duration_ms


spans = st.lists(
    st.tuples(st.integers(0, 3000), st.integers(1, 800)).map(lambda p: (p[0], p[0] + p[1])),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(
    spans,
    st.integers(0, 3000),
    st.integers(1, 800),
    st.integers(0, 300),
    st.integers(0, 1500),
    st.integers(0, 5000),
)
def test_busy_fit_finds_the_first_free_slot(
    taken: list[tuple[int, int]], want: int, length: int, pad: int, slack: int, end_by: int
) -> None:
    """Against brute force, with spans that overlap each other in any order."""
    busy = _Busy()
    for start, end in taken:
        busy.add(start, end)
    free = (
        c
        for c in range(want, want + slack + 1)
        if all(c + length + pad <= a or c >= b for a, b in taken)
    )
    first = next(free, None)
    if first is not None and first + length > end_by:
        first = None
    assert busy.fit(want, length, pad, want + slack, end_by) == first
