"""The handout's rows from a timeline document (pure)."""

from __future__ import annotations

from typing import Any

from routinecast.web.handout import Exercise, exercises, routine_cautions


def _block(
    kind: str, start: int, end: int, step: int | None = None, **extra: Any
) -> dict[str, Any]:
    return {"kind": kind, "start_ms": start, "end_ms": end, "step": step, **extra}


def _say(start: int, cue: str, text: str) -> dict[str, Any]:
    return {"kind": "speech", "start_ms": start, "end_ms": start + 100, "cue": cue, "text": text}


DOC: dict[str, Any] = {
    "events": [
        _say(0, "intro", "Hello."),
        _say(500, "caution", "Stop if it hurts."),
        _say(1000, "announce", "First: Dead bug. 2 sets of 30 seconds."),
        _say(2000, "setup", "Lie on your back."),
        _say(2500, "caution", "Keep your back flat."),
        {"kind": "tone", "start_ms": 5000, "end_ms": 5300, "tone": "start", "freq_hz": 1320},
        _say(40000, "rest", "Rest for 10 seconds."),
        _say(60000, "announce", "Next: Bird dog. 8 reps on each side."),
        _say(61000, "setup", "On hands and knees."),
    ],
    "blocks": [
        _block("intro", 0, 1000),
        _block("prepare", 1000, 5000, 1, name="Dead bug", planned_ms=4000),
        _block("work", 5000, 35000, 1, name="Dead bug", planned_ms=30000, set=1, sets=2),
        _block("rest", 35000, 45000, 1, name="Dead bug", planned_ms=10000),
        _block("work", 45000, 60000, 1, name="Dead bug", planned_ms=30000, set=2, sets=2),
        _block("transition", 60000, 65000, 2, name="Bird dog", planned_ms=5000),
        _block("work", 65000, 80000, 2, name="Bird dog", planned_ms=15000, side="right", sets=1),
        _block("switch", 80000, 84000, 2, name="Bird dog", planned_ms=4000),
        _block("work", 84000, 99000, 2, name="Bird dog", planned_ms=15000, side="left", sets=1),
        _block("rest", 99000, 100000, 3, planned_ms=1000),  # a rest step: no work, no row
        _block("outro", 100000, 101000),
    ],
}


def test_rows_per_exercise() -> None:
    bug, dog = exercises(DOC)
    assert bug == Exercise(
        step=1,
        name="Dead bug",
        start_ms=1000,
        plan="2 sets of 30 seconds",
        work_ms=(30000,),
        rest_ms=(10000,),
        sets=2,
        sides=(),
        setup=("Lie on your back.",),
        cautions=("Keep your back flat.",),
    )
    assert (dog.plan, dog.sides, dog.work_ms, dog.setup) == (
        "8 reps on each side",
        ("right", "left"),
        (15000,),
        ("On hands and knees.",),
    )


def test_details_add_only_what_the_plan_leaves_out() -> None:
    bug, dog = exercises(DOC)
    assert bug.details() == ("2 sets of 30 seconds", "rest 10 seconds")
    assert dog.details() == ("8 reps on each side", "15 seconds of work")


def test_without_an_announcement_the_numbers_speak() -> None:
    silent = {**DOC, "events": []}
    bug, dog = exercises(silent)
    assert bug.details() == ("30 seconds per set", "2 sets", "rest 10 seconds")
    assert dog.details() == ("15 seconds of work", "right, then left side")


def test_intro_cautions_belong_to_the_routine() -> None:
    assert routine_cautions(DOC) == ("Stop if it hurts.",)


def test_an_announcement_in_other_words_is_kept_whole() -> None:
    doc = {**DOC, "events": [_say(1000, "announce", "Time for the dead bug, twice.")]}
    assert exercises(doc)[0].plan == "Time for the dead bug, twice"
