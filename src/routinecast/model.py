"""The validated routine: frozen dataclasses, times in integer milliseconds.

Built only by ``loader``; read by ``cues``, ``script`` and ``compiler``. Every value
here has already been checked, so later stages never re-validate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

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
    written: frozenset[GapName] = frozenset()
    """The gap lengths the user wrote (on the step, in ``pacing:`` or with ``--rest``).

    A gap whose narration does not fit grows either way; only a length the user wrote
    is warned about (a default grows quietly). A bare rest step's rest is always written.
    """

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
