"""The validated routine: frozen dataclasses, times in integer milliseconds, and their limits.

Built by the ``load`` stage; read by ``cues``, ``timing`` and the rest. Every value
here has already been checked, so later stages never re-validate. A ``Step`` checks
its own limits when it is made (``__post_init__``), so neither a file nor an override
(``--scale``, ``--hold``) can make one beyond them; the loader's messages about a field
use the same ``Limit`` and read the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from routinecast.durations import format_duration
from routinecast.errors import InputError

Kind = Literal["hold", "reps", "flow"]
Sides = Literal["none", "each", "alternate"]
Side = Literal["right", "left"]
Anchor = Literal["start", "half", "end"]
Engine = Literal["auto", "piper", "pyttsx3"]
GapName = Literal["transition", "rest", "switch"]

KINDS: tuple[Kind, ...] = ("hold", "reps", "flow")
SIDES: tuple[Sides, ...] = ("none", "each", "alternate")
ENGINES: tuple[Engine, ...] = ("auto", "piper", "pyttsx3")
GAP_NAMES: tuple[GapName, ...] = ("transition", "rest", "switch")

MAX_WORK_MS = 30 * 60_000
MAX_GAP_MS = 30 * 60_000
MAX_SETS = 20
MAX_REPS = 200
MIN_TEMPO_MS = 500
MAX_TEMPO_MS = 60_000
SCALE_RANGE = (0.25, 4.0)
"""``--scale`` and ``--fit`` scale work and rest times within this range."""
MAX_TEXT_CHARS = 600
"""A single spoken text longer than this is refused (documented in the README)."""


@dataclass(frozen=True)
class Limit:
    """The allowed range of a number: ``low``..``high`` milliseconds, or a count or number."""

    low: float
    high: float
    unit: Literal["ms", "count", "number"] = "count"

    def show(self, value: float) -> str:
        """A value in this limit's unit: "30m", "1.5s", "24h"; "20"; "0.5"."""
        if self.unit != "ms":
            return str(value)
        ms = int(value)
        if ms >= 3_600_000 and ms % 3_600_000 == 0:
            return f"{ms // 3_600_000}h"
        return format_duration(ms) if ms >= 0 else f"-{format_duration(-ms)}"

    @property
    def text(self) -> str:
        """The range for docs: "1s to 30m", "1 to 200"."""
        return f"{self.show(self.low)} to {self.show(self.high)}"

    def problem(self, value: float, got: str | None = None) -> str | None:
        """What is wrong with ``value`` ("must be at most 30m, got ..."), or None if fine."""
        if self.low <= value <= self.high:
            return None
        got = self.show(value) if got is None else got
        if self.unit != "ms":
            return f"must be between {self.low} and {self.high}, got {got}"
        if value < self.low:
            return f"must be at least {self.show(self.low)}, got {got}"
        return f"must be at most {self.show(self.high)}, got {got}"


HOLD_MS = Limit(1000, MAX_WORK_MS, "ms")
TEMPO_MS = Limit(MIN_TEMPO_MS, MAX_TEMPO_MS, "ms")
PHASE_MS = Limit(100, MAX_TEMPO_MS, "ms")
GAP_MS = Limit(0, MAX_GAP_MS, "ms")
REST_STEP_MS = Limit(1000, MAX_GAP_MS, "ms")
"""A bare rest step's length (an exercise step's rest between sets may be 0)."""
REPS = Limit(1, MAX_REPS)
SETS = Limit(1, MAX_SETS)
BREATH_MS = Limit(1000, 20_000, "ms")
"""One inhale or one exhale of paced breathing."""
CUE_AT_MS = Limit(0, MAX_WORK_MS, "ms")
"""How far from the start (or the end) of the work a form cue may be placed."""
REMAINING_MS = Limit(1000, MAX_WORK_MS, "ms")
COUNTDOWN = Limit(0, 10)
RATE = Limit(0.5, 2.0, "number")
TARGET_MS = Limit(1000, 24 * 3_600_000, "ms")


def work_interval_problem(work_ms: int) -> str | None:
    """What is wrong with one work interval's length, or None if fine."""
    if work_ms <= MAX_WORK_MS:
        return None
    return (
        f"makes one work interval {work_ms / 60000:.1f} minutes long; "
        f"at most {MAX_WORK_MS // 60000} minutes are allowed"
    )


def other_side(side: Side) -> Side:
    """The side that is not ``side``."""
    return "left" if side == "right" else "right"


@dataclass(frozen=True)
class Phase:
    """One part of a rep or flow cycle: a word said at its start and its length."""

    say: str
    ms: int


@dataclass(frozen=True)
class Cue:
    """A line spoken during the work interval, placed relative to an anchor.

    ``anchor`` is ``start`` (``offset_ms`` after the start tone), ``half`` (the middle)
    or ``end`` (``offset_ms`` before the stop tone).
    """

    anchor: Anchor
    offset_ms: int
    say: str


@dataclass(frozen=True)
class Breathe:
    """Paced breathing during a hold: inhale ``in_ms``, exhale ``out_ms``."""

    in_ms: int
    out_ms: int


@dataclass(frozen=True)
class Exercise:
    """A move from a library (or inline in a step), with its defaults."""

    id: str
    name: str
    kind: Kind = "hold"
    sides: Sides = "none"
    hold_ms: int | None = None
    reps: int | None = None
    tempo_ms: int | None = None
    phases: tuple[Phase, ...] = ()
    setup: str = ""
    cues: tuple[Cue, ...] = ()
    breathe: Breathe | None = None
    caution: str = ""
    equipment: tuple[str, ...] = ()
    source: str = ""
    """Where it was defined (``file:line``), for messages."""


@dataclass(frozen=True)
class Pacing:
    """Routine-wide defaults for gaps and automatic cues."""

    transition_ms: int = 10_000
    rest_ms: int = 15_000
    switch_ms: int = 5_000
    countdown: int = 3
    halfway: bool = True
    remaining_ms: tuple[int, ...] = (10_000,)
    written: frozenset[str] = frozenset()
    """The fields the routine's ``pacing:`` sets (the rest are defaults)."""


@dataclass(frozen=True)
class VoiceSpec:
    """Which speech engine and voice, and how fast it speaks."""

    engine: Engine = "auto"
    voice: str | None = None
    rate: float = 1.0


@dataclass(frozen=True)
class Step:
    """One resolved step: the exercise's defaults merged with the step's fields and pacing.

    A bare rest step has ``exercise`` None and only ``rest_ms`` and ``say``.
    """

    number: int
    exercise: Exercise | None
    line: int = 0
    kind: Kind = "hold"
    hold_ms: int = 0
    reps: int = 0
    tempo_ms: int = 0
    phases: tuple[Phase, ...] = ()
    sets: int = 1
    sides: Sides = "none"
    first: Side = "right"
    rest_ms: int = 0
    switch_ms: int = 0
    transition_ms: int = 0
    say: str = ""
    cues: tuple[Cue, ...] = ()
    breathe: Breathe | None = None
    file: str = ""
    """The file the step was written in (with ``line``), for messages."""

    written: frozenset[GapName] = frozenset()
    """The gap lengths the user wrote (on the step, in ``pacing:`` or with ``--rest``).

    A gap whose narration does not fit grows either way; only a length the user wrote
    is warned about (a default grows quietly). A bare rest step's rest is always written.
    """

    def __post_init__(self) -> None:
        """Refuse a step beyond a limit: the first problem, as the loader words it."""
        for name, problem in self._problems():
            raise InputError(
                problem,
                file=self.file or None,
                line=self.line or None,
                where=self.label,
                field=name,
            )

    def _problems(self) -> Iterator[tuple[str, str]]:
        """(field, problem) for every limit this step breaks."""
        if self.exercise is None:
            yield from _beyond("rest", REST_STEP_MS, self.rest_ms)
            return
        yield from _beyond("sets", SETS, self.sets)
        for name, ms in (("rest", self.rest_ms), ("switch", self.switch_ms)):
            yield from _beyond(name, GAP_MS, ms)
        yield from _beyond("transition", GAP_MS, self.transition_ms)
        if self.kind == "reps":
            yield from _beyond("reps", REPS, self.reps)
            yield from _beyond("tempo", TEMPO_MS, self.tempo_ms)
        else:
            yield from _beyond("hold", HOLD_MS, self.hold_ms)
            if self.tempo_ms:
                yield from _beyond("tempo", TEMPO_MS, self.tempo_ms)
        for phase in self.phases:
            yield from _beyond("phases.for", PHASE_MS, phase.ms)
        if self.breathe is not None:
            yield from _beyond("breathe", BREATH_MS, self.breathe.in_ms)
            yield from _beyond("breathe", BREATH_MS, self.breathe.out_ms)
        work = work_interval_problem(self.work_ms)
        if work:
            yield ("reps" if self.kind == "reps" else "hold"), work

    @property
    def is_rest(self) -> bool:
        """True for a bare rest step."""
        return self.exercise is None

    @property
    def own_cues(self) -> tuple[Cue, ...]:
        """The cues the step itself adds (``cues`` is the exercise's followed by these)."""
        inherited = self.exercise.cues if self.exercise else ()
        if self.cues[: len(inherited)] == inherited:
            return self.cues[len(inherited) :]
        return self.cues

    @property
    def work_ms(self) -> int:
        """Length of one work interval: the hold, or reps x tempo (both sides for alternate)."""
        if self.kind == "reps":
            per_side = 2 if self.sides == "alternate" else 1
            return self.reps * per_side * self.tempo_ms
        return self.hold_ms

    @property
    def side_order(self) -> tuple[Side | None, ...]:
        """The sides worked in turn within one set: (right, left), or (None,)."""
        if self.sides != "each":
            return (None,)
        return (self.first, other_side(self.first))

    @property
    def label(self) -> str:
        """How messages name the step: ``step 3 (glute-bridge-march)``."""
        name = self.exercise.id if self.exercise else "rest"
        return f"step {self.number} ({name})"


def _beyond(name: str, limit: Limit, value: float) -> Iterator[tuple[str, str]]:
    problem = limit.problem(value)
    if problem:
        yield name, problem


@dataclass(frozen=True)
class Routine:
    """A whole routine, ready to compile."""

    title: str
    steps: tuple[Step, ...]
    source: str = ""
    summary: str = ""
    target_ms: int | None = None
    voice: VoiceSpec = field(default_factory=VoiceSpec)
    pacing: Pacing = field(default_factory=Pacing)
    intro: str = ""
    outro: str = ""
    caution: str = ""
    lexicon: tuple[tuple[str, str], ...] = ()
    templates: tuple[tuple[str, str], ...] = ()
    sounds: tuple[tuple[str, str], ...] = ()
    """Tone name -> the user's audio file that plays instead (an absolute path)."""
    overrides: tuple[str, ...] = ()
    """Human-readable notes of build-time overrides applied ("holds 45 s")."""

    @property
    def exercise_steps(self) -> tuple[Step, ...]:
        """Steps that have an exercise (not bare rests)."""
        return tuple(s for s in self.steps if s.exercise is not None)
