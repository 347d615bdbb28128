"""Every field a routine or library may hold, declared once.

One ``FieldSpec`` per field says what type of value it takes, its limits (a ``Limit``
from ``model``, in milliseconds or a count), which kinds of exercise use it, and what
it is for. The loader's checks (``fields.check_field`` and the field lists), the JSON
Schema (``schema``) and the field tables of docs/routine-format.md (``reference``)
are all made from these tables, so the three say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from routinecast.model import (
    BREATH_MS,
    COUNTDOWN,
    CUE_AT_MS,
    ENGINES,
    GAP_MS,
    HOLD_MS,
    KINDS,
    PHASE_MS,
    RATE,
    REMAINING_MS,
    REPS,
    SETS,
    SIDES,
    TARGET_MS,
    TEMPO_MS,
    Kind,
    Limit,
)

FieldType = Literal[
    "text",  # text (numbers are read as their text); "" when left empty unless required
    "duration",  # a duration within ``limit``
    "whole",  # a whole number within ``limit``
    "number",  # a number within ``limit``
    "flag",  # true or false
    "choice",  # one of ``choices``
    "slug",  # lowercase ASCII letters, digits and dashes
    "path",  # a file path relative to the routine
    "paths",  # a path or a list of paths
    "names",  # a name or a list of names
    "breathe",  # inhale-exhale durations within ``limit``, or false
    "cue time",  # a time after the start, half, or a time before the end
    "times",  # a duration or a list of durations within ``limit``, or none
    "pairs",  # a list of mappings with the fields ``of``
    "exercise",  # an exercise id or an exercise mapping
    "fields",  # a mapping with the fields ``of``
    "words",  # a mapping of words to text
    "templates",  # a mapping of cue template names to templates
    "sounds",  # a mapping of tone names to audio files
    "steps",  # a list of steps
    "override",  # a mapping of exercise ids or step numbers to step fields
]


@dataclass(frozen=True)
class FieldSpec:
    """One field: its type, limits, the exercise kinds that use it, and its help text."""

    name: str
    type: FieldType
    help: str
    example: Any
    """A valid value (tests build valid and invalid values from it and from ``limit``)."""
    limit: Limit | None = None
    choices: tuple[str, ...] = ()
    kinds: tuple[Kind, ...] = KINDS
    """The kinds of exercise that use the field; on any other it is an error."""
    noun: str = ""
    """How a message names the field's value when a kind does not use it ("a tempo")."""
    required: bool = False
    nullable: bool = False
    """True when an empty value (``field:`` with nothing after it) means "none"."""
    default: str = ""
    of: tuple[FieldSpec, ...] = ()
    """The fields of a ``fields`` mapping or of each item of a ``pairs`` list."""
    min_items: int = 0
    """The fewest items a list field may hold."""

    def with_help(self, help: str, **changes: Any) -> FieldSpec:
        """The same field described for another place (a step rather than an exercise)."""
        return replace(self, help=help, **changes)

    @property
    def used_by(self) -> str:
        """The kinds of exercise that use the field, for the docs: "all", "hold, flow"."""
        return "all" if self.kinds == KINDS else ", ".join(self.kinds)

    @property
    def allowed(self) -> str:
        """What the field accepts, in words: "a duration, 1s to 30m"."""
        limit = self.limit.text if self.limit else ""
        high = self.limit.show(self.limit.high) if self.limit else ""
        words = {
            "text": "text, required" if self.required else "text",
            "duration": f"a duration, {limit}",
            "whole": f"a whole number, {limit}",
            "number": f"a number, {limit}",
            "flag": "`true` or `false`",
            "choice": _either(self.choices),
            "slug": "a slug: a-z, 0-9 and dashes" + (", required" if self.required else ""),
            "path": "a file path",
            "paths": "a path or a list of paths",
            "names": "a name or a list of names",
            "breathe": f"`inhale-exhale`, each {limit}; or `false`",
            "cue time": f"a time up to {high}, `half`, or a time up to `-{high}`",
            "times": f"a duration or a list of them, each {limit}",
            "pairs": "a list of `{" + ", ".join(f"{f.name}: ..." for f in self.of) + "}`",
            "exercise": "an exercise id, or an exercise mapping",
            "fields": f"a mapping of {self.name} fields",
            "words": "a mapping of words to respellings",
            "templates": "a mapping of template names to templates",
            "sounds": "a mapping of tone names (tick, start, stop, breath) to audio files",
            "steps": "a list of steps",
            "override": "a mapping of exercise ids or step numbers to step fields",
        }
        return words[self.type]


def _either(choices: tuple[str, ...]) -> str:
    quoted = [f"`{c}`" for c in choices]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 1 else "".join(quoted)


def names(group: tuple[FieldSpec, ...]) -> tuple[str, ...]:
    """The field names of a group, in table order."""
    return tuple(spec.name for spec in group)


def spec_of(group: tuple[FieldSpec, ...], name: str) -> FieldSpec:
    """The field ``name`` of ``group``."""
    return next(spec for spec in group if spec.name == name)


PHASE = (
    FieldSpec("say", "text", "the word spoken as the phase begins", "up", required=True),
    FieldSpec("for", "duration", "how long the phase lasts", "1s", PHASE_MS),
)
CUE = (
    FieldSpec(
        "at",
        "cue time",
        "a time after the start tone (`3s`), `half`, or a time before the stop tone (`-10s`)",
        "3s",
        CUE_AT_MS,
    ),
    FieldSpec("say", "text", "what is said", "Breathe.", required=True),
)

HOLD = FieldSpec(
    "hold",
    "duration",
    "default work time of a hold or flow",
    "30s",
    HOLD_MS,
    kinds=("hold", "flow"),
    noun="a hold time (the work time is reps x tempo)",
)
REPS_FIELD = FieldSpec(
    "reps",
    "whole",
    "default number of reps; for `alternate`, reps per side",
    8,
    REPS,
    kinds=("reps",),
    noun="reps",
)
TEMPO = FieldSpec(
    "tempo",
    "duration",
    "seconds per rep, or per cycle of a flow",
    "2s",
    TEMPO_MS,
    kinds=("reps", "flow"),
    noun="a tempo",
)
PHASES = FieldSpec(
    "phases",
    "pairs",
    "the parts of one rep or cycle, spoken as each begins; they add up to the tempo",
    [{"say": "up", "for": "1s"}, {"say": "down", "for": "1s"}],
    kinds=("reps", "flow"),
    noun="phases",
    of=PHASE,
    min_items=1,
)
CUES = FieldSpec(
    "cues",
    "pairs",
    "form cues during the work",
    [{"at": "3s", "say": "Breathe."}],
    of=CUE,
)
BREATHE = FieldSpec(
    "breathe",
    "breathe",
    "paced breathing: inhale and exhale seconds (`4-4`, `5-5`, `4s-6s`)",
    "4-4",
    BREATH_MS,
    kinds=("hold", "flow"),
    noun="paced breathing",
    nullable=True,
)
SIDES_FIELD = FieldSpec(
    "sides",
    "choice",
    "one side, each side in turn, or alternating within the reps",
    "each",
    choices=SIDES,
    default="`none`",
)

EXERCISE: tuple[FieldSpec, ...] = (
    FieldSpec(
        "id",
        "slug",
        "what steps and `routinecast list` call it (`couch-stretch`)",
        "couch-stretch",
        required=True,
    ),
    FieldSpec(
        "name",
        "text",
        "what the voice calls it; default: the id with spaces, first letter capitalised",
        "Couch stretch",
    ),
    FieldSpec(
        "kind",
        "choice",
        "held, counted reps, or continuous movement",
        "reps",
        choices=KINDS,
        default="`hold`",
    ),
    SIDES_FIELD.with_help("`each` works both sides in turn; steps may change it"),
    HOLD,
    REPS_FIELD,
    TEMPO,
    PHASES,
    FieldSpec(
        "setup",
        "text",
        "how to get into position, spoken in the announcement; a template that may use "
        "only `{{ side }}` and `{{ other }}`",
        "Kneel on your {{ side }} knee.",
    ),
    CUES,
    BREATHE,
    FieldSpec("caution", "text", "a safety line, spoken after the setup", "Stop if it hurts."),
    FieldSpec(
        "equipment",
        "names",
        "what the move needs, like `[mat, towel]`; kept for reference, not spoken",
        ["mat", "towel"],
    ),
)

STEP: tuple[FieldSpec, ...] = (
    FieldSpec(
        "exercise",
        "exercise",
        "a library id, or a whole exercise written inline; none in a bare rest step",
        "plank",
    ),
    HOLD.with_help("the hold or flow time"),
    REPS_FIELD.with_help("reps per set (per side for `alternate`)"),
    TEMPO.with_help("seconds per rep (per phase cycle for a flow)"),
    PHASES.with_help("replaces the exercise's phases; they add up to the tempo"),
    FieldSpec("sets", "whole", "how many sets", 2, SETS, default="`1`"),
    replace(SIDES_FIELD, default="the exercise's"),
    FieldSpec(
        "first",
        "choice",
        "which side starts, for `each` and `alternate`",
        "left",
        choices=("right", "left"),
        default="`right`",
    ),
    FieldSpec(
        "rest",
        "duration",
        "gap between this step's sets; in a bare rest step (no `exercise`), the "
        "length of the pause, at least 1s",
        "20s",
        GAP_MS,
        default="`pacing.rest`",
    ),
    FieldSpec(
        "switch",
        "duration",
        "gap between this step's sides",
        "8s",
        GAP_MS,
        default="`pacing.switch`",
    ),
    FieldSpec(
        "transition",
        "duration",
        "gap in which this step is announced",
        "25s",
        GAP_MS,
        default="`pacing.transition`",
    ),
    FieldSpec("say", "text", "extra words spoken right after the announcement", "Go slowly."),
    CUES.with_help("more form cues, added to the exercise's own"),
    BREATHE.with_help("replaces the exercise's breathing; `false` turns it off"),
)

PACING: tuple[FieldSpec, ...] = (
    FieldSpec(
        "transition",
        "duration",
        "the gap before each exercise, where it is announced",
        "20s",
        GAP_MS,
        default="`10s`",
    ),
    FieldSpec(
        "rest", "duration", "the gap between sets of one step", "30s", GAP_MS, default="`15s`"
    ),
    FieldSpec(
        "switch",
        "duration",
        "the gap between the two sides of a `sides: each` step",
        "8s",
        GAP_MS,
        default="`5s`",
    ),
    FieldSpec(
        "countdown",
        "whole",
        "ticks before start tones and before the stop tone of holds and flows",
        5,
        COUNTDOWN,
        default="`3`",
    ),
    FieldSpec(
        "halfway",
        "flag",
        'say "Halfway." in work intervals of 20 s or more',
        False,
        default="`true`",
    ),
    FieldSpec(
        "remaining",
        "times",
        "times to announce before the stop tone; `[]` for none",
        [30, 10],
        REMAINING_MS,
        nullable=True,
        default="`[10]`",
    ),
)

VOICE: tuple[FieldSpec, ...] = (
    FieldSpec(
        "engine",
        "choice",
        "`auto` is piper when it is installed, else pyttsx3",
        "auto",
        choices=ENGINES,
        default="`auto`",
    ),
    FieldSpec(
        "voice",
        "text",
        "an engine's voice id from `routinecast voices`; empty for the engine's default",
        "en_US-joe-medium",
    ),
    FieldSpec("rate", "number", "speaking speed (1.0 is normal)", 0.9, RATE, default="`1.0`"),
)

ROUTINE: tuple[FieldSpec, ...] = (
    FieldSpec(
        "title",
        "text",
        "the MP3 title, read at the start together with the intro",
        "Evening Hips",
        required=True,
    ),
    FieldSpec("summary", "text", "not spoken; stored as the MP3 comment", "Ten calm minutes."),
    FieldSpec(
        "target",
        "duration",
        "a length to aim for; `plan` reports how far over or under the routine lands",
        "12m",
        TARGET_MS,
        nullable=True,
    ),
    FieldSpec(
        "library",
        "paths",
        "your own exercise library files or folders, relative to this file",
        "my-moves.yaml",
    ),
    FieldSpec(
        "voice",
        "fields",
        "the speech engine, voice and rate (command-line options win)",
        {"rate": 0.9},
        nullable=True,
        of=VOICE,
    ),
    FieldSpec(
        "pacing",
        "fields",
        "routine-wide gaps and automatic cues",
        {"rest": "20s"},
        nullable=True,
        of=PACING,
    ),
    FieldSpec("intro", "text", "spoken at the start, after the title", "Five easy minutes."),
    FieldSpec("outro", "text", "spoken at the end, after the closing line", "Well done."),
    FieldSpec("caution", "text", "a safety note spoken right after the intro", "Go gently."),
    FieldSpec(
        "lexicon",
        "words",
        "respellings for words the voice gets wrong (see [The lexicon](#10-the-lexicon))",
        {"psoas": "so-us"},
        nullable=True,
    ),
    FieldSpec(
        "cues",
        "templates",
        "your own wording for any cue template (see [Cue templates](#9-cue-templates))",
        {"halfway": "Half done."},
        nullable=True,
    ),
    FieldSpec(
        "sounds",
        "sounds",
        "your own audio file (WAV, MP3, OGG, M4A...) for any tone, relative to this file",
        {"start": "bell.wav"},
        nullable=True,
    ),
    FieldSpec(
        "steps",
        "steps",
        "the steps, in order (see [Steps](#6-steps))",
        [{"exercise": "plank"}],
        min_items=1,
    ),
    FieldSpec(
        "extends",
        "path",
        "another routine this one is a variant of (see "
        "[Variants](#7-variants-extends-and-override))",
        "base.yaml",
    ),
    FieldSpec(
        "override",
        "override",
        "changes to steps of the routine being extended, by exercise id or step number",
        {"plank": {"hold": "45s"}},
        nullable=True,
    ),
)

GROUPS: dict[str, tuple[FieldSpec, ...]] = {
    "routine": ROUTINE,
    "pacing": PACING,
    "voice": VOICE,
    "step": STEP,
    "exercise": EXERCISE,
}
"""Every table of fields, by the name the docs' markers use."""
