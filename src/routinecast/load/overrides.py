"""Build-time changes without editing files: --set, --hold, --rest, --scale and --fit.

``parse_overrides`` checks the command-line strings (errors name the option and say
what is allowed). ``--set`` becomes a ``StepPatch`` that the loader applies exactly
like ``override:`` in a file, so its values get the same checks. ``--hold``,
``--rest`` and ``--scale`` transform the validated routine, and every ``Step`` checks
its limits when it is made, so ``--scale 4`` on a 29-minute hold is refused with the
message the same hold written in the file gets. ``--fit`` is solved by the pipeline
because it needs clip lengths; the scales it tries stop each time at its limit
instead. Every change is noted on the routine (``Routine.overrides``) so the timeline
and the MP3's title can say it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any

from routinecast.durations import format_duration
from routinecast.errors import InputError
from routinecast.load.fields import check_duration
from routinecast.load.patches import StepPatch
from routinecast.load.spec import STEP, names
from routinecast.locations import Val, Where, suggest
from routinecast.model import (
    GAP_MS,
    HOLD_MS,
    MAX_GAP_MS,
    MAX_WORK_MS,
    PHASE_MS,
    REST_STEP_MS,
    SCALE_RANGE,
    TEMPO_MS,
    Phase,
    Routine,
    Step,
)

SETTABLE = tuple(f for f in names(STEP) if f != "cues")


@dataclass(frozen=True)
class Overrides:
    """Validated build-time overrides."""

    patches: tuple[StepPatch, ...] = ()
    hold_ms: int | None = None
    rest_ms: int | None = None
    scale: float | None = None
    fit_ms: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when nothing is overridden."""
        return not (
            self.patches or self.hold_ms or self.rest_ms is not None or self.scale or self.fit_ms
        )


def parse_set(text: str) -> StepPatch:
    """``STEP.FIELD=VALUE`` -> a patch; STEP is an exercise id or a step number."""
    origin = Where("", 0, f'--set "{text}"')
    target, eq, raw = text.partition("=")
    step, dot, field = target.strip().rpartition(".")
    if not eq or not dot or not step or not field:
        raise origin.error(
            "must look like STEP.FIELD=VALUE, e.g. half-kneeling-hip-flexor-stretch.hold=45s "
            "or 2.sets=3"
        )
    if field not in SETTABLE:
        raise origin.error(
            f'"{field}" is not a field --set can change{suggest(field, SETTABLE)}; '
            f"allowed: {', '.join(SETTABLE)}"
        )
    value = _set_value(raw.strip())
    if value is None:
        raise origin.error(f"needs a value after = for {field}")
    return StepPatch(step.strip(), ((field, Val(value, "--set", 0)),), origin)


_COUNT = re.compile(r"0|[1-9][0-9]*")
_DURATION = re.compile(r"[1-9][0-9]*[a-z][a-z0-9]*")


def _set_value(raw: str) -> Any:
    """A ``--set`` value read as YAML reads it (``3`` a number, ``[a, b]`` a list).

    The usual values, a count or a duration like ``45s``, are read without importing
    the YAML parser (a replayed build needs none); YAML reads them the same way.
    """
    if not raw:
        return None
    if _COUNT.fullmatch(raw):
        return int(raw)
    if _DURATION.fullmatch(raw):
        return raw
    import yaml

    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw


def parse_overrides(
    sets: tuple[str, ...] = (),
    hold: str | None = None,
    rest: str | None = None,
    scale: float | None = None,
    fit: str | None = None,
) -> Overrides:
    """Check every option; the first bad one raises ``InputError``."""
    patches = tuple(parse_set(s) for s in sets)
    notes = [s.strip() for s in sets]
    hold_ms = _option_duration("--hold", hold, 1000, MAX_WORK_MS)
    rest_ms = _option_duration("--rest", rest, 0, MAX_GAP_MS)
    fit_ms = _option_duration("--fit", fit, 10_000, 24 * 3_600_000)
    if hold_ms is not None:
        notes.append(f"holds {_spoken(hold_ms)}")
    if rest_ms is not None:
        notes.append(f"rests {_spoken(rest_ms)}")
    if scale is not None:
        low, high = SCALE_RANGE
        if not low <= scale <= high:
            raise InputError(f"must be between {low} and {high}, got {scale:g}", field="--scale")
        if fit_ms is not None:
            raise InputError(
                "cannot be combined with --fit (fit chooses the scale)", field="--scale"
            )
        notes.append(f"times x{scale:g}")
    if fit_ms is not None:
        notes.append(f"fit to {format_duration(fit_ms)}")
    return Overrides(patches, hold_ms, rest_ms, scale, fit_ms, tuple(notes))


def _spoken(ms: int) -> str:
    return f"{ms / 1000:g} s"


def _option_duration(option: str, raw: str | None, low: int, high: int) -> int | None:
    if raw is None:
        return None
    return check_duration(Val(raw, option, 0), Where(option, 0), option, low=low, high=high)


def adjust(routine: Routine, overrides: Overrides, scale: float | None = None) -> Routine:
    """Apply ``--hold``, ``--rest`` and a scale (``--scale``, or the one ``--fit`` found).

    A step that ``--hold``, ``--rest`` or ``--scale`` would take beyond a limit raises
    ``InputError`` (the ``Step`` refuses itself). With a ``scale`` from ``--fit``, each
    time stops at its limit instead, so fitting can reach every length they allow.
    """
    steps = routine.steps
    if overrides.hold_ms is not None:
        steps = tuple(_with_hold(s, overrides.hold_ms) for s in steps)
    if overrides.rest_ms is not None:
        steps = tuple(_with_rest(s, overrides.rest_ms) for s in steps)
    factor = scale if scale is not None else overrides.scale
    if factor is not None and factor != 1.0:
        steps = tuple(scale_step(s, factor, at_limits=scale is not None) for s in steps)
    return replace(routine, steps=steps, overrides=routine.overrides + overrides.notes)


def _with_rest(step: Step, rest_ms: int) -> Step:
    """``--rest``: the user asked for this rest, so it warns if it must grow."""
    if step.exercise is None:
        return step
    return replace(step, rest_ms=rest_ms, written=step.written | {"rest"})


def _with_hold(step: Step, hold_ms: int) -> Step:
    if step.exercise is None or step.kind == "reps":
        return step
    return replace(step, hold_ms=hold_ms)


def scale_ms(ms: int, factor: float, *, high: float | None = None) -> int:
    """Scale a time, rounded to 10 ms (fine enough for --fit to land within a second).

    With ``high``, the result is rounded down and never above it.
    """
    if not ms:
        return 0
    if high is None:
        return max(100, round(ms * factor / 10) * 10)
    return max(100, min(int(high), math.floor(ms * factor / 10) * 10))


def scale_step(step: Step, factor: float, *, at_limits: bool = False) -> Step:
    """Every work and rest time of a step times ``factor``.

    With ``at_limits``, each time stops at its limit (a rep set's tempo and phases
    together, so the phases still add up to the tempo).
    """

    def scaled(ms: int, high: float, by: float = factor) -> int:
        return scale_ms(ms, by, high=high if at_limits else None)

    if step.exercise is None:
        return replace(step, rest_ms=scaled(step.rest_ms, REST_STEP_MS.high))
    rest = scaled(step.rest_ms, GAP_MS.high)
    if step.kind == "reps":
        by = min(factor, _reps_headroom(step)) if at_limits else factor
        phases = tuple(Phase(p.say, scaled(p.ms, PHASE_MS.high, by)) for p in step.phases)
        tempo = scaled(step.tempo_ms, TEMPO_MS.high, by)
        tempo = sum(p.ms for p in phases) if phases else max(500, tempo)
        return replace(step, tempo_ms=tempo, phases=phases, rest_ms=rest)
    hold = max(1000, scaled(step.hold_ms, HOLD_MS.high))
    if step.phases and step.tempo_ms:
        hold = max(step.tempo_ms, hold)
    return replace(step, hold_ms=hold, rest_ms=rest)


def _reps_headroom(step: Step) -> float:
    """How far a rep set's tempo may be scaled up before a limit: tempo, phase or work time."""
    longest_phase = max((p.ms for p in step.phases), default=0)
    caps = [TEMPO_MS.high / step.tempo_ms, MAX_WORK_MS / max(1, step.work_ms)]
    if longest_phase:
        caps.append(PHASE_MS.high / longest_phase)
    return max(1.0, min(caps))
