"""What a printed sheet says about each exercise, read from a timeline document.

Pure: a parsed ``NAME.timeline.json`` in, frozen ``Exercise`` rows out. The blocks give
the numbers (work and rest times as planned, sets, sides); the speech events give the
words, each assigned to the step of the block it is spoken in: ``announce`` (the plan as
spoken, e.g. "2 sets of 30 seconds on each side"), ``setup`` and ``caution``. Cautions
spoken before the first exercise (the routine's red flags) belong to the whole routine.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from routinecast.durations import spoken_seconds

Doc = Mapping[str, Any]


@dataclass(frozen=True)
class Exercise:
    """One exercise (one step with work in it), as a handout lists it."""

    step: int
    name: str
    start_ms: int
    plan: str
    work_ms: tuple[int, ...]
    rest_ms: tuple[int, ...]
    sets: int
    sides: tuple[str, ...]
    setup: tuple[str, ...]
    cautions: tuple[str, ...]

    def details(self) -> tuple[str, ...]:
        """The plan as announced, then what it leaves out: work time, sets, sides, rests."""
        plan = self.plan.lower()
        work = [spoken_seconds(ms) for ms in self.work_ms]
        parts = [self.plan] if self.plan else []
        if work and not all(w in plan for w in work):
            parts.append(" or ".join(work) + (" per set" if self.sets > 1 else " of work"))
        if self.sets > 1 and "set" not in plan:
            parts.append(f"{self.sets} sets")
        if self.sides and "side" not in plan:
            parts.append(", then ".join(self.sides) + " side")
        if self.rest_ms:
            parts.append(f"rest {' or '.join(spoken_seconds(ms) for ms in self.rest_ms)}")
        return tuple(parts)


@dataclass(frozen=True)
class _Spoken:
    step: int | None
    cue: str
    text: str


def exercises(doc: Doc) -> tuple[Exercise, ...]:
    """The exercises of the routine, in order."""
    blocks = [b for b in doc["blocks"] if isinstance(b, Mapping)]
    spoken = _spoken(doc, blocks)
    steps = sorted({b["step"] for b in blocks if b["kind"] == "work" and _is_int(b.get("step"))})
    return tuple(_exercise(step, blocks, spoken) for step in steps)


def routine_cautions(doc: Doc) -> tuple[str, ...]:
    """Cautions spoken outside any step (the intro's red flags)."""
    blocks = [b for b in doc["blocks"] if isinstance(b, Mapping)]
    return tuple(s.text for s in _spoken(doc, blocks) if s.step is None and s.cue == "caution")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _spoken(doc: Doc, blocks: Sequence[Doc]) -> list[_Spoken]:
    """Every speech event with the step of the block it starts in."""
    starts = [int(b["start_ms"]) for b in blocks]
    found = []
    for event in doc["events"]:
        if event.get("kind") != "speech":
            continue
        index = bisect.bisect_right(starts, int(event["start_ms"])) - 1
        step = blocks[index].get("step") if index >= 0 else None
        found.append(_Spoken(step if _is_int(step) else None, str(event.get("cue")), event["text"]))
    return found


def _exercise(step: int, blocks: Sequence[Doc], spoken: Sequence[_Spoken]) -> Exercise:
    mine = [b for b in blocks if b.get("step") == step]
    work = [b for b in mine if b["kind"] == "work"]
    name = str(work[0].get("name") or work[0].get("exercise") or f"Step {step}")
    words = [s for s in spoken if s.step == step]
    return Exercise(
        step=step,
        name=name,
        start_ms=int(mine[0]["start_ms"]),
        plan=_plan(name, [s.text for s in words if s.cue == "announce"]),
        work_ms=_distinct(b.get("planned_ms") for b in work),
        rest_ms=_distinct(b.get("planned_ms") for b in mine if b["kind"] == "rest"),
        sets=max(int(b.get("sets") or 1) for b in work),
        sides=tuple(dict.fromkeys(str(b["side"]) for b in work if b.get("side"))),
        setup=tuple(s.text for s in words if s.cue == "setup"),
        cautions=tuple(s.text for s in words if s.cue == "caution"),
    )


def _distinct(values: Any) -> tuple[int, ...]:
    return tuple(dict.fromkeys(v for v in values if _is_int(v)))


def _plan(name: str, announced: Sequence[str]) -> str:
    """ "Next: Dead bug. 1 minute of steady movement." -> "1 minute of steady movement"."""
    if not announced:
        return ""
    text = announced[0]
    _, found, tail = text.partition(f"{name}.")
    plan = tail if found and tail.strip() else text
    return plan.strip().removesuffix(".")
