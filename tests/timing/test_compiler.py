"""The compiler on small routines, against times worked out by hand.

Constants used in the hand computations (``compiler``): speech starts 250 ms into a gap
that follows another gap and 400 + 150 ms after a stop tone (its length plus the
guard); lines in a gap are 250 ms apart; a gap before work needs 250 ms + 1 s per tick
after its narration (400 ms without a countdown); the start tone and its 150 ms guard
keep the first 450 ms of a work interval free; the outro ends 1.5 s after its speech.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from routinecast.audio.verify import timeline_problems
from routinecast.model import Breathe, Cue, Exercise, Pacing, Phase, Routine, Step
from routinecast.timeline import Event, Timeline
from routinecast.timing.compiler import compile_timeline
from routinecast.timing.script import build_script, spoken_texts

QUIET = Pacing(countdown=0, halfway=False, remaining_ms=())
FINISH = "Well done. That is the whole routine."


def step(number: int = 1, ident: str = "plank", **fields: Any) -> Step:
    """An exercise step; ``fields`` override the step's (hold 30 s, transition 10 s)."""
    kind = fields.get("kind", "hold")
    exercise = Exercise(id=ident, name=ident.capitalize(), kind=kind)
    base = Step(number=number, exercise=exercise, hold_ms=30_000, transition_ms=10_000)
    return replace(base, **fields)


def routine(*steps: Step, pacing: Pacing = QUIET) -> Routine:
    # The intro template is silenced so that hand-computed times start at 0.
    return Routine(title="Test", steps=steps, pacing=pacing, templates=(("intro", ""),))


def build(r: Routine, default: int = 1000) -> Timeline:
    """Compile with ``default`` ms for every text."""
    return build_with(r, {}, default)


def build_with(r: Routine, lengths: dict[str, int], default: int = 1000) -> Timeline:
    """Compile with ``default`` ms for every text except those in ``lengths``."""
    texts = spoken_texts(build_script(r))
    assert set(lengths) <= set(texts), set(lengths) - set(texts)
    clip_ms = {text: lengths.get(text, default) for text in texts}
    timeline = compile_timeline(r, clip_ms)
    assert timeline_problems(timeline.to_json()) == []
    return timeline


def spans(timeline: Timeline, kind: str | None = None) -> list[tuple[str, int, int]]:
    """(kind, start, end) of the blocks."""
    return [
        (b.kind, b.start_ms, b.end_ms) for b in timeline.blocks if kind is None or b.kind == kind
    ]


def sounds(timeline: Timeline) -> list[tuple[str, int, int]]:
    """(text or tone name, start, end) of every event, in time order."""
    return [(e.text or e.tone or "", e.start_ms, e.end_ms) for e in timeline.events]


def said(timeline: Timeline, start: int = 0, end: int | None = None) -> list[tuple[str, int]]:
    """(text, start) of the speech between ``start`` and ``end``."""
    stop = timeline.duration_ms if end is None else end
    return [(e.text or "", e.start_ms) for e in timeline.speech if start <= e.start_ms < stop]


def ticks(timeline: Timeline) -> list[int]:
    return [e.start_ms for e in timeline.events if e.tone == "tick"]


# --------------------------------------------------------------------------- one hold


def test_one_30s_hold_every_block_and_event() -> None:
    r = routine(step(), pacing=Pacing(countdown=3, halfway=True, remaining_ms=(10_000,)))
    lengths = {
        "First: Plank. 30 seconds.": 2000,
        "Begin on the tone.": 1000,
        "Halfway.": 800,
        "10 seconds left.": 1200,
        FINISH: 3000,
    }
    tl = build_with(r, lengths)
    # intro: nothing to say, a 250 ms pause; prepare: 250 + 10 s planned.
    assert spans(tl) == [
        ("intro", 0, 250),
        ("prepare", 250, 10_250),
        ("work", 10_250, 40_250),
        ("outro", 40_250, 45_300),
    ]
    assert sounds(tl) == [
        ("First: Plank. 30 seconds.", 500, 2500),
        ("Begin on the tone.", 2750, 3750),
        ("tick", 7250, 7370),
        ("tick", 8250, 8370),
        ("tick", 9250, 9370),
        ("start", 10_250, 10_550),
        ("Halfway.", 25_250, 26_050),
        ("10 seconds left.", 30_250, 31_450),
        ("tick", 37_250, 37_370),
        ("tick", 38_250, 38_370),
        ("tick", 39_250, 39_370),
        ("stop", 40_250, 40_650),
        (FINISH, 40_800, 43_800),
    ]
    assert tl.duration_ms == 45_300
    assert [(c.title, c.start_ms, c.end_ms) for c in tl.chapters] == [("Plank", 250, 40_250)]
    assert tl.warnings == ()
    work = tl.blocks[2]
    assert (
        work.planned_ms,
        work.step,
        work.exercise,
        work.name,
        work.side,
        work.set,
        work.sets,
    ) == (30_000, 1, "plank", "Plank", None, 1, 1)
    assert [e.cue for e in tl.speech] == ["announce", "start", "halfway", "remaining", "finish"]
    assert {e.tone: e.freq_hz for e in tl.events if e.kind == "tone"} == {
        "tick": 880,
        "start": 1320,
        "stop": 660,
    }


def test_intro_and_caution_open_the_file() -> None:
    r = replace(routine(step()), intro="Stand tall.", caution="Stop if it hurts.", templates=())
    tl = build(r)
    assert said(tl, 0, 2500) == [("Test. Stand tall.", 0), ("Stop if it hurts.", 1250)]
    assert spans(tl)[0] == ("intro", 0, 2500)
    assert said(tl, 2500, 5000)[0] == ("First: Plank. 30 seconds.", 2750)


# --------------------------------------------------------------------------- gaps


def test_sides_each_with_a_switch() -> None:
    r = routine(
        step(hold_ms=20_000, sides="each", switch_ms=5000), pacing=replace(QUIET, countdown=2)
    )
    tl = build(r)
    assert spans(tl) == [
        ("intro", 0, 250),
        ("prepare", 250, 10_250),
        ("work", 10_250, 30_250),
        ("switch", 30_250, 35_250),
        ("work", 35_250, 55_250),
        ("outro", 55_250, 58_300),
    ]
    assert [b.side for b in tl.blocks if b.kind == "work"] == ["right", "left"]
    assert said(tl, 250, 10_250) == [
        ("First: Plank. 20 seconds on each side.", 500),
        ("Right side. Begin on the tone.", 1750),
    ]
    assert said(tl, 30_250, 35_250) == [("Switch to your left side.", 30_800)]
    # two ticks before each start tone, two before each stop tone
    assert ticks(tl) == [8250, 9250, 28_250, 29_250, 33_250, 34_250, 53_250, 54_250]


def test_sets_with_rests() -> None:
    r = routine(step(hold_ms=10_000, sets=3, rest_ms=20_000))
    tl = build(r)
    assert spans(tl) == [
        ("intro", 0, 250),
        ("prepare", 250, 10_250),
        ("work", 10_250, 20_250),
        ("rest", 20_250, 40_250),
        ("work", 40_250, 50_250),
        ("rest", 50_250, 70_250),
        ("work", 70_250, 80_250),
        ("outro", 80_250, 83_300),
    ]
    assert [(b.set, b.sets) for b in tl.blocks if b.kind == "work"] == [(1, 3), (2, 3), (3, 3)]
    assert said(tl, 20_250, 40_250) == [
        ("Rest for 20 seconds.", 20_800),
        ("Set 2 of 3 is next.", 22_050),
    ]
    assert said(tl, 50_250, 70_250)[1] == ("Set 3 of 3 is next.", 52_050)
    assert [b.planned_ms for b in tl.blocks if b.kind == "rest"] == [20_000, 20_000]


def test_a_bare_rest_step_and_chapters() -> None:
    rest = Step(number=2, exercise=None, rest_ms=30_000, say="Drink some water.")
    r = routine(
        step(1, "plank", hold_ms=10_000), rest, step(3, "squat", hold_ms=10_000, transition_ms=8000)
    )
    tl = build(r)
    assert spans(tl) == [
        ("intro", 0, 250),
        ("prepare", 250, 10_250),
        ("work", 10_250, 20_250),
        ("rest", 20_250, 50_250),
        ("transition", 50_250, 58_250),
        ("work", 58_250, 68_250),
        ("outro", 68_250, 71_300),
    ]
    assert said(tl, 20_250, 50_250) == [
        ("Rest for 30 seconds.", 20_800),
        ("Drink some water.", 22_050),
        ("Next up: Squat.", 23_300),
    ]
    # no countdown in a bare rest (the transition follows); the transition speaks 250 ms in
    assert said(tl, 50_250, 58_250)[0] == ("Next: Squat. 10 seconds.", 50_500)
    assert tl.blocks[3].step == 2 and tl.blocks[3].exercise is None
    assert [(c.title, c.start_ms, c.end_ms) for c in tl.chapters] == [
        ("Plank", 250, 20_250),
        ("Squat", 50_250, 68_250),
    ]


def test_a_gap_that_grows_says_which_by_how_much_and_why() -> None:
    written = step(transition_ms=2000, written=frozenset({"transition"}))
    r = routine(written, pacing=replace(QUIET, countdown=3))
    tl = build(r, default=3000)
    # speech 500-3500 and 3750-6750, then 250 ms and three 1 s ticks: ends at 10 000
    assert spans(tl)[1] == ("prepare", 250, 10_000)
    assert ticks(tl)[:3] == [7000, 8000, 9000]
    assert tl.warnings == (
        "step 1 (plank): the prepare grows by 7.75s to 9.75s: it needs 9.75s for its "
        "narration (2 lines, 6s), pauses and a 3-tick countdown, more than the planned 2s",
    )
    assert tl.blocks[1].planned_ms == 2000


def test_a_default_gap_grows_quietly_to_fit_its_words() -> None:
    # issue 11: a length the user never wrote is not warned about; the block's
    # planned length is the length it got
    r = routine(step(transition_ms=2000), pacing=replace(QUIET, countdown=3))
    tl = build(r, default=3000)
    assert spans(tl)[1] == ("prepare", 250, 10_000)
    assert tl.blocks[1].planned_ms == 9750
    assert tl.warnings == ()


def test_a_switch_of_zero_grows_and_is_named() -> None:
    r = routine(
        step(
            hold_ms=5000,
            sides="each",
            switch_ms=0,
            sets=2,
            rest_ms=30_000,
            written=frozenset({"switch"}),
        )
    )
    tl = build(r)
    # stop tone + guard 550, "Switch to your left side." 1 s, then 400 ms before the start
    assert [b.length_ms for b in tl.blocks if b.kind == "switch"] == [1950, 1950]
    assert tl.warnings == tuple(
        f"step 1 (plank): the switch to the left side in set {n} grows by 1.95s to 1.95s: "
        "it needs 1.95s for its narration (1 line, 1s) and pauses, more than the planned 0s"
        for n in (1, 2)
    )


def test_a_rest_of_zero_only_names_the_next_set() -> None:
    r = routine(step(hold_ms=5000, sets=2, rest_ms=0, written=frozenset({"rest"})))
    tl = build(r)
    rest = tl.blocks[3]
    assert (rest.kind, rest.planned_ms, rest.length_ms) == ("rest", 0, 1950)
    assert said(tl, rest.start_ms, rest.end_ms) == [("Set 2 of 2 is next.", rest.start_ms + 550)]
    assert tl.warnings[0].startswith("step 1 (plank): the rest before set 2 grows by 1.95s")


def test_a_long_countdown_in_a_short_switch() -> None:
    r = routine(
        step(hold_ms=5000, sides="each", switch_ms=2000), pacing=replace(QUIET, countdown=5)
    )
    tl = build(r)
    switch = tl.blocks[3]
    # 550 + 1000 speech + 250 + 5 ticks
    assert switch.length_ms == 6800
    assert [t - switch.start_ms for t in ticks(tl) if switch.start_ms <= t < switch.end_ms] == [
        1800,
        2800,
        3800,
        4800,
        5800,
    ]
    # in the 5 s holds the tick 5 s before the stop tone would sit on the start tone
    work = tl.blocks[2]
    assert [t - work.start_ms for t in ticks(tl) if work.start_ms <= t < work.end_ms] == [
        1000,
        2000,
        3000,
        4000,
    ]


# --------------------------------------------------------------------------- in work


def test_rep_counts() -> None:
    r = routine(step(kind="reps", reps=3, tempo_ms=3000), pacing=replace(QUIET, countdown=3))
    tl = build(r, default=300)
    work = tl.blocks[2]
    assert work.length_ms == 9000
    # the first count waits for the start tone and its guard; rule changed (issue 11):
    # the counts are the countdown, so no ticks cover the last one, which is on time
    assert said(tl, work.start_ms, work.end_ms) == [
        ("1", work.start_ms + 450),
        ("2", work.start_ms + 3000),
        ("3", work.start_ms + 6000),
    ]
    assert [t for t in ticks(tl) if work.start_ms <= t < work.end_ms] == []


def test_alternate_counts_name_the_side() -> None:
    r = routine(step(kind="reps", reps=2, tempo_ms=2000, sides="alternate", first="left"))
    tl = build(r, default=300)
    work = tl.blocks[2]
    assert work.length_ms == 8000
    assert said(tl, work.start_ms, work.end_ms) == [
        ("Left 1", work.start_ms + 450),
        ("Right 1", work.start_ms + 2000),
        ("Left 2", work.start_ms + 4000),
        ("Right 2", work.start_ms + 6000),
    ]


def test_each_side_counts_are_plain_numbers() -> None:
    r = routine(step(kind="reps", reps=2, tempo_ms=2000, sides="each"))
    tl = build(r, default=300)
    for work in (b for b in tl.blocks if b.kind == "work"):
        assert [t for t, _ in said(tl, work.start_ms, work.end_ms)] == ["1", "2"]


def test_phase_words() -> None:
    phases = (Phase("up", 1000), Phase("hold", 2000), Phase("down", 1000))
    r = routine(step(kind="reps", reps=2, tempo_ms=4000, phases=phases))
    tl = build(r, default=300)
    s = tl.blocks[2].start_ms
    # the first phase of each rep is replaced by its count
    assert said(tl, s, s + 8000) == [
        ("1", s + 450),
        ("hold", s + 1000),
        ("down", s + 3000),
        ("2", s + 4000),
        ("hold", s + 5000),
        ("down", s + 7000),
    ]


def test_flow_phase_words_repeat_for_whole_cycles() -> None:
    phases = (Phase("in", 2000), Phase("out", 2000))
    r = routine(step(kind="flow", hold_ms=10_000, tempo_ms=4000, phases=phases))
    tl = build(r, default=300)
    s = tl.blocks[2].start_ms
    assert said(tl, s, s + 10_000) == [
        ("in", s + 450),
        ("out", s + 2000),
        ("in", s + 4000),
        ("out", s + 6000),
    ]


def test_breathing_words_then_breath_tones() -> None:
    r = routine(step(hold_ms=40_000, breathe=Breathe(4000, 4000)))
    tl = build(r)
    s = tl.blocks[2].start_ms
    assert said(tl, s, s + 40_000) == [
        ("Breathe in.", s + 1000),
        ("Breathe out.", s + 5000),
        ("Breathe in.", s + 9000),
        ("Breathe out.", s + 13_000),
    ]
    assert [e.start_ms - s for e in tl.events if e.tone == "breath"] == [17_000, 25_000]


def test_halfway_and_time_left() -> None:
    r = routine(
        step(hold_ms=60_000), pacing=replace(QUIET, halfway=True, remaining_ms=(30_000, 10_000))
    )
    tl = build(r)
    s = tl.blocks[2].start_ms
    # rule changed (issue 11): "30 seconds left." wants the same moment as "Halfway.",
    # so only it is said (it says more); the merge is listed as left out
    assert said(tl, s, s + 60_000) == [
        ("30 seconds left.", s + 30_000),
        ("10 seconds left.", s + 50_000),
    ]
    assert [(d.at_ms - s, d.text, d.reason) for d in tl.dropped] == [
        (30_000, "Halfway.", 'said as one with "30 seconds left.", wanted at nearly the same time')
    ]


def test_time_cues_a_few_seconds_apart_merge() -> None:
    r = routine(step(hold_ms=24_000), pacing=replace(QUIET, halfway=True, remaining_ms=(10_000,)))
    tl = build(r)
    s = tl.blocks[2].start_ms
    # "Halfway." at 12 s and "10 seconds left." at 14 s are 2 s apart: one is said
    assert said(tl, s, s + 24_000) == [("10 seconds left.", s + 14_000)]


def test_a_time_cue_that_slips_keeps_its_distance_from_another() -> None:
    r = routine(
        step(hold_ms=40_000, cues=(Cue("start", 20_000, "Hold it."),)),
        pacing=replace(QUIET, halfway=True, remaining_ms=(16_000,)),
    )
    tl = build_with(r, {"Hold it.": 500})
    s = tl.blocks[2].start_ms
    # "Halfway." at 20 s, "16 seconds left." at 24 s: 4 s apart, both said
    times = [t - s for text, t in said(tl, s, s + 40_000) if text != "Hold it."]
    assert times == [20_000, 24_000]


def test_short_work_gets_no_halfway_or_time_left() -> None:
    r = routine(step(hold_ms=19_000), pacing=replace(QUIET, halfway=True, remaining_ms=(10_000,)))
    tl = build(r)
    s = tl.blocks[2].start_ms
    assert said(tl, s, s + 19_000) == []


def test_form_cues_at_start_half_and_end() -> None:
    cues = (
        Cue("start", 2000, "Knees soft."),
        Cue("half", 0, "Breathe."),
        Cue("end", 5000, "Almost."),
    )
    r = routine(step(hold_ms=20_000, cues=cues))
    tl = build(r)
    s = tl.blocks[2].start_ms
    assert said(tl, s, s + 20_000) == [
        ("Knees soft.", s + 2000),
        ("Breathe.", s + 10_000),
        ("Almost.", s + 15_000),
    ]
    assert tl.warnings == ()


def test_form_cues_that_cannot_fit_are_warned_about_once() -> None:
    cues = (
        Cue("start", 1000, "Knees soft."),
        Cue("end", 10_000, "Almost."),
        Cue("start", 1000, "Long and slow."),
    )
    r = routine(step(hold_ms=5000, sets=2, rest_ms=10_000, cues=cues))
    tl = build_with(r, {"Knees soft.": 6000, "Long and slow.": 200})
    assert tl.warnings == (
        'step 1 (plank): "Almost." falls outside the 5s work interval and is not spoken',
        'step 1 (plank): "Knees soft." at 1s into the 5s work interval is not spoken: '
        "its 6s clip would run into the stop tone",
    )
    s = tl.blocks[2].start_ms
    assert said(tl, s, s + 5000) == [("Long and slow.", s + 1000)]


def test_a_form_cue_crowded_out_moves_to_the_next_free_gap() -> None:
    # rule changed (issue 11): a form cue is no longer limited to 8 s of slack
    cues = (Cue("start", 1000, "Reach long."), Cue("start", 1000, "Press down."))
    r = routine(step(hold_ms=30_000, cues=cues))
    tl = build_with(r, {"Reach long.": 9000})
    s = tl.blocks[2].start_ms
    assert said(tl, s, s + 30_000) == [("Reach long.", s + 1000), ("Press down.", s + 10_250)]
    assert tl.warnings == ()


def test_a_form_cue_with_no_gap_left_is_left_out() -> None:
    cues = (Cue("start", 1000, "Reach long."), Cue("start", 1000, "Press down."))
    r = routine(step(hold_ms=12_000, cues=cues))
    tl = build_with(r, {"Reach long.": 9000, "Press down.": 2000})
    assert tl.warnings == (
        'step 1 (plank): "Press down." at 1s into the 12s work interval is not spoken: '
        "no gap long enough for it is left in the interval",
    )
    assert [d.text for d in tl.dropped] == ["Press down."]


def test_a_count_wins_over_a_form_cue() -> None:
    # rule changed (issue 11): counts are placed first and never leave their rep;
    # the form cue moves to the next free gap
    r = routine(step(kind="reps", reps=3, tempo_ms=2000, cues=(Cue("start", 1900, "Tall."),)))
    tl = build(r, default=500)
    s = tl.blocks[2].start_ms
    assert said(tl, s, s + 6000) == [
        ("1", s + 450),
        ("2", s + 2000),
        ("Tall.", s + 2750),
        ("3", s + 4000),
    ]
    assert tl.warnings == () and tl.dropped == ()


def test_a_count_too_long_for_its_rep_is_a_warning() -> None:
    r = routine(step(kind="reps", reps=2, tempo_ms=1000))
    tl = build_with(r, {"1": 400, "2": 1200})
    s = tl.blocks[2].start_ms
    # "1" 450-850 ms, "2" from 1.1 s would end at 2.3 s, past the stop tone's guard
    assert said(tl, s, s + 2000) == [("1", s + 450)]
    assert tl.warnings == (
        'step 1 (plank): the count "2" is not spoken: its 1.2s clip finds no room within '
        "its 1s rep (the tempo is too short to say it)",
    )


# --------------------------------------------------------------------------- JSON


def test_json_shape() -> None:
    r = routine(step(hold_ms=10_000, sides="each", switch_ms=5000))
    doc = compile_timeline(
        r,
        dict.fromkeys(spoken_texts(build_script(r)), 700),
        voice={"engine": "fake", "voice": "hum", "rate": 1.0},
    ).to_json()
    assert set(doc) == {
        "format",
        "title",
        "routine",
        "sample_rate",
        "duration_ms",
        "voice",
        "events",
        "blocks",
        "chapters",
        "warnings",
        "overrides",
    }
    assert doc["format"] == "routinecast.timeline/1"
    assert doc["voice"] == {"engine": "fake", "voice": "hum", "rate": 1.0}
    assert isinstance(doc["sample_rate"], int) and isinstance(doc["duration_ms"], int)
    for event in doc["events"]:
        extra = {"cue", "text"} if event["kind"] == "speech" else {"tone", "freq_hz"}
        assert set(event) == {"kind", "start_ms", "end_ms"} | extra
    assert {e["tone"] for e in doc["events"] if e["kind"] == "tone"} == {"start", "stop"}
    for block in doc["blocks"]:
        assert set(block) == {
            "kind",
            "start_ms",
            "end_ms",
            "planned_ms",
            "step",
            "exercise",
            "name",
            "side",
            "set",
            "sets",
        }
    assert [b["side"] for b in doc["blocks"] if b["kind"] == "work"] == ["right", "left"]
    assert [set(c) for c in doc["chapters"]] == [{"title", "start_ms", "end_ms"}]
    assert doc["warnings"] == []


def test_json_carries_target_when_set() -> None:
    r = replace(routine(step()), target_ms=600_000, overrides=("holds 45 s",))
    doc = build(r).to_json()
    assert doc["target_ms"] == 600_000
    assert doc["overrides"] == ["holds 45 s"]


def test_events_are_in_time_order() -> None:
    r = routine(
        step(hold_ms=40_000, breathe=Breathe(3000, 3000), sets=2), pacing=Pacing(countdown=3)
    )
    tl = build(r)
    assert [e.start_ms for e in tl.events] == sorted(e.start_ms for e in tl.events)
    assert all(isinstance(e, Event) for e in tl.events)


def test_a_blank_template_silences_its_cue() -> None:
    r = replace(routine(step(), pacing=replace(QUIET, halfway=True)), templates=(("halfway", ""),))
    tl = build(r)
    assert all(e.cue != "halfway" for e in tl.events)
    assert tl.speech[0].text == "Test."
