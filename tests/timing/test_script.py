"""The script: what is said, in which gap or at which moment of a work interval."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from routinecast.model import Breathe, Cue, Exercise, Pacing, Phase, Routine, Step
from routinecast.timing.script import (
    BREATHS_SPOKEN,
    Gap,
    Item,
    Tier,
    Work,
    build_script,
    spoken_texts,
)

QUIET = Pacing(countdown=3, halfway=False, remaining_ms=())


def step(number: int = 1, ident: str = "plank", **fields: Any) -> Step:
    exercise = Exercise(id=ident, name=ident.capitalize(), kind=fields.get("kind", "hold"))
    base = Step(number=number, exercise=exercise, hold_ms=30_000, transition_ms=10_000)
    return replace(base, **fields)


def script(*steps: Step, pacing: Pacing = QUIET, **routine: Any) -> tuple[Item, ...]:
    return build_script(Routine(title="Test", steps=steps, pacing=pacing, **routine))


def gaps(items: tuple[Item, ...]) -> list[Gap]:
    return [i for i in items if isinstance(i, Gap)]


def works(items: tuple[Item, ...]) -> list[Work]:
    return [i for i in items if isinstance(i, Work)]


def texts(gap: Gap) -> list[str]:
    return [line.text for line in gap.lines]


def timed_texts(work: Work, cue: str | None = None) -> list[tuple[int, str]]:
    """(at, text) of the work's spoken lines, optionally of one cue kind."""
    return [
        (t.at_ms, t.line.text)
        for t in work.timed
        if t.line is not None and (cue is None or t.line.cue == cue)
    ]


def test_order_of_items() -> None:
    items = script(step(hold_ms=20_000, sides="each", sets=2, rest_ms=15_000, switch_ms=5000))
    kinds = [i.kind if isinstance(i, Gap) else f"work-{i.side}-{i.set}" for i in items]
    assert kinds == [
        "intro",
        "prepare",
        "work-right-1",
        "switch",
        "work-left-1",
        "rest",
        "work-right-2",
        "switch",
        "work-left-2",
        "outro",
    ]
    intro, prepare, switch, rest, *_ = gaps(items)
    assert intro.planned_ms is None and [ln.text for ln in intro.lines] == ["Test."]
    assert (prepare.planned_ms, prepare.countdown, prepare.chapter) == (10_000, 3, "Plank")
    assert (switch.planned_ms, switch.what) == (5000, "the switch to the left side in set 1")
    assert (rest.planned_ms, rest.what) == (15_000, "the rest before set 2")
    assert all(g.chapter is None for g in gaps(items) if g is not prepare)


def test_announcement_lines() -> None:
    exercise = Exercise(
        id="lunge",
        name="Lunge",
        setup="Step {{ side }} foot forward.",
        caution="Keep the knee over the ankle.",
    )
    s = Step(
        number=1,
        exercise=exercise,
        hold_ms=45_000,
        sides="each",
        first="left",
        sets=2,
        transition_ms=10_000,
        say="Take your time.",
    )
    prepare = gaps(script(s))[1]
    assert texts(prepare) == [
        "First: Lunge. 2 sets of 45 seconds on each side.",
        "Take your time.",
        "Step left foot forward.",
        "Keep the knee over the ankle.",
        "Left side. Begin on the tone.",
    ]
    assert [line.cue for line in prepare.lines] == ["announce", "say", "setup", "caution", "start"]


def test_second_exercise_is_a_transition_and_first_after_a_rest_is_prepare() -> None:
    rest = Step(number=1, exercise=None, rest_ms=20_000)
    items = script(rest, step(2, "plank"), step(3, "squat"))
    assert [g.kind for g in gaps(items)] == ["intro", "rest", "prepare", "transition", "outro"]
    assert texts(gaps(items)[3])[0] == "Next: Squat. 30 seconds."


def test_bare_rest_names_the_next_exercise_and_has_no_countdown() -> None:
    rest = Step(number=2, exercise=None, rest_ms=90_000, say="Drink some water.")
    items = script(step(1, "plank"), rest, step(3, "squat"), replace(rest, number=4))
    first_rest, last_rest = (g for g in gaps(items) if g.kind == "rest")
    assert texts(first_rest) == ["Rest for 1 minute 30.", "Drink some water.", "Next up: Squat."]
    assert first_rest.countdown == 0 and first_rest.label == "step 2 (rest)"
    assert texts(last_rest) == ["Rest for 1 minute 30.", "Drink some water."]


def test_rest_between_sets_and_a_rest_of_zero() -> None:
    rests = [g for g in gaps(script(step(sets=3, rest_ms=20_000))) if g.kind == "rest"]
    assert [texts(g) for g in rests] == [
        ["Rest for 20 seconds.", "Set 2 of 3 is next."],
        ["Rest for 20 seconds.", "Set 3 of 3 is next."],
    ]
    rest = next(g for g in gaps(script(step(sets=2, rest_ms=0))) if g.kind == "rest")
    assert texts(rest) == ["Set 2 of 2 is next."]


def test_outro_and_intro() -> None:
    items = gaps(script(step(), intro="Stand tall.", caution="Stop if it hurts.", outro="Bye."))
    assert texts(items[0]) == ["Test. Stand tall.", "Stop if it hurts."]
    assert texts(items[-1]) == ["Well done. That is the whole routine.", "Bye."]
    assert (items[0].kind, items[-1].kind) == ("intro", "outro")


def test_holds_and_flows_count_down_to_their_stop_tone_rep_sets_count_reps() -> None:
    # rule changed (issue 11): a rep set's counts are its countdown, so no ticks
    # cover its last counts
    assert works(script(step()))[0].countdown == 3
    assert works(script(step(kind="flow")))[0].countdown == 3
    assert works(script(step(kind="reps", reps=5, tempo_ms=2000)))[0].countdown == 0


def test_rep_counts() -> None:
    work = works(script(step(kind="reps", reps=3, tempo_ms=2500)))[0]
    assert work.planned_ms == 7500
    assert timed_texts(work) == [(0, "1"), (2500, "2"), (5000, "3")]
    # counts come first and may only move within their own rep
    assert {(t.tier, t.slack_ms) for t in work.timed} == {(Tier.COUNT, 2499)}


def test_alternate_counts_name_the_side_and_each_side_counts_do_not() -> None:
    alternate = works(script(step(kind="reps", reps=2, tempo_ms=2000, sides="alternate")))
    assert [w.planned_ms for w in alternate] == [8000]
    assert timed_texts(alternate[0]) == [
        (0, "Right 1"),
        (2000, "Left 1"),
        (4000, "Right 2"),
        (6000, "Left 2"),
    ]
    each = works(script(step(kind="reps", reps=2, tempo_ms=2000, sides="each")))
    assert [w.side for w in each] == ["right", "left"]
    assert [timed_texts(w) for w in each] == [[(0, "1"), (2000, "2")]] * 2


def test_phase_words_for_reps_and_flows() -> None:
    phases = (Phase("up", 1000), Phase("hold", 2000), Phase("down", 1000))
    reps = works(script(step(kind="reps", reps=2, tempo_ms=4000, phases=phases)))[0]
    assert timed_texts(reps) == [
        (0, "1"),
        (1000, "hold"),
        (3000, "down"),
        (4000, "2"),
        (5000, "hold"),
        (7000, "down"),
    ]
    flow = works(script(step(kind="flow", hold_ms=9000, tempo_ms=4000, phases=phases)))[0]
    assert timed_texts(flow) == [
        (0, "up"),
        (1000, "hold"),
        (3000, "down"),
        (4000, "up"),
        (5000, "hold"),
        (7000, "down"),
    ]


def test_form_cues_anchors() -> None:
    cues = (
        Cue("start", 3000, "Tall."),
        Cue("half", 0, "Breathe."),
        Cue("end", 5000, "Almost."),
        Cue("end", 40_000, "Too early."),
    )
    work = works(script(step(hold_ms=30_000, cues=cues)))[0]
    form = [
        (t.at_ms, t.line.text if t.line else "", t.tier, t.slack_ms, t.warn_if_dropped)
        for t in work.timed
    ]
    assert form == [
        (3000, "Tall.", Tier.FORM, None, True),
        (15_000, "Breathe.", Tier.FORM, None, True),
        (25_000, "Almost.", Tier.FORM, None, True),
        (-10_000, "Too early.", Tier.FORM, None, True),
    ]


def test_only_the_steps_own_cues_warn_when_left_out() -> None:
    inherited = (Cue("start", 3000, "Tall."),)
    exercise = Exercise(id="plank", name="Plank", cues=inherited)
    own = Cue("start", 5000, "Mine.")
    mine = step(exercise=exercise, cues=(*inherited, own))
    work = works(script(mine))[0]
    assert [(t.line.text if t.line else "", t.warn_if_dropped) for t in work.timed] == [
        ("Tall.", False),
        ("Mine.", True),
    ]


def test_halfway_and_remaining_thresholds() -> None:
    pacing = Pacing(countdown=0, halfway=True, remaining_ms=(30_000, 10_000))
    long = works(script(step(hold_ms=40_000), pacing=pacing))[0]
    assert timed_texts(long) == [
        (20_000, "Halfway."),
        (10_000, "30 seconds left."),
        (30_000, "10 seconds left."),
    ]
    assert {t.tier for t in long.timed} == {Tier.TIME}
    short = works(script(step(hold_ms=39_999), pacing=pacing))[0]
    assert timed_texts(short) == [(19_999, "Halfway."), (29_999, "10 seconds left.")]
    assert timed_texts(works(script(step(hold_ms=19_999), pacing=pacing))[0]) == []


def test_breathing() -> None:
    work = works(script(step(hold_ms=30_000, breathe=Breathe(4000, 6000))))[0]
    # cycles of 10 s from 1 s while a whole one fits: 1, 11 (21 + 10 > 30)
    assert timed_texts(work) == [
        (1000, "Breathe in."),
        (5000, "Breathe out."),
        (11_000, "Breathe in."),
        (15_000, "Breathe out."),
    ]
    assert {t.tier for t in work.timed} == {Tier.RHYTHM}
    assert [t.fallback_tone for t in work.timed] == ["breath", None, "breath", None]
    longer = works(script(step(hold_ms=60_000, breathe=Breathe(4000, 6000))))[0]
    tones = [(t.at_ms, t.tone) for t in longer.timed if t.line is None]
    assert BREATHS_SPOKEN == 2
    assert tones == [(21_000, "breath"), (31_000, "breath"), (41_000, "breath")]


def test_breathing_is_ignored_with_reps_or_phases() -> None:
    reps = step(kind="reps", reps=10, tempo_ms=3000, breathe=Breathe(4000, 4000))
    assert "Breathe in." not in spoken_texts(script(reps))
    flow = step(
        kind="flow",
        tempo_ms=2000,
        phases=(Phase("in", 1000), Phase("out", 1000)),
        breathe=Breathe(4000, 4000),
    )
    assert "Breathe in." not in spoken_texts(script(flow))


def test_spoken_texts_are_distinct_in_first_use_order() -> None:
    items = script(step(kind="reps", reps=2, tempo_ms=2000, sets=2, rest_ms=10_000))
    assert spoken_texts(items) == [
        "Test.",
        "First: Plank. 2 sets of 2 reps.",
        "Begin on the tone.",
        "1",
        "2",
        "Rest for 10 seconds.",
        "Set 2 of 2 is next.",
        "Well done. That is the whole routine.",
    ]


def test_a_template_that_renders_empty_is_silent() -> None:
    templates = (("halfway", ""), ("breathe_in", ""), ("rep", ""), ("switch", ""))
    hold = step(hold_ms=30_000, breathe=Breathe(4000, 4000), sides="each", switch_ms=5000)
    pacing = replace(QUIET, halfway=True)
    items = script(hold, pacing=pacing, templates=templates)
    work = works(items)[0]
    assert [t.line.text for t in work.timed if t.line] == ["Breathe out."] * 2
    # "Breathe in." falls back to its breath tone
    assert [(t.at_ms, t.tone) for t in work.timed if t.line is None][:2] == [
        (1000, "breath"),
        (9000, "breath"),
    ]
    assert next(g for g in gaps(items) if g.kind == "switch").lines == ()
    reps = works(script(step(kind="reps", reps=3, tempo_ms=2000), templates=templates))[0]
    assert reps.timed == ()
    assert "" not in spoken_texts(items)
