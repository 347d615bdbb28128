"""Cue text from jinja2 templates: the built-in English set plus a routine's ``cues:``.

Templates run sandboxed with ``StrictUndefined``. The loader checks a routine's
templates up front (``check_templates``): an unknown name, a syntax error or an unknown
variable is an ``InputError`` naming the routine file, the line under ``cues:`` and the
template, never a silent blank. A failure while rendering (a variable that one call
site lacks, ``{{ 1/0 }}``) is reported the same way, at the same line. Exercise
``setup`` texts are templates too and see ``side`` and ``other``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import jinja2
import jinja2.meta
import yaml
from jinja2.sandbox import SandboxedEnvironment

from routinecast.durations import spoken_seconds
from routinecast.errors import InputError
from routinecast.locations import Val, Where, suggest
from routinecast.model import MAX_TEXT_CHARS, Exercise, Routine, Side, Step, other_side

_STEP = frozenset({"step", "exercise", "side", "set", "sets"})
TEMPLATE_VARIABLES: Mapping[str, frozenset[str]] = {
    "intro": frozenset(),
    "caution": frozenset({"text"}),
    "announce": _STEP | {"first", "plan"},
    "setup": frozenset({"text", "exercise", "side"}),
    "start": _STEP,
    "halfway": _STEP,
    "remaining": _STEP | {"remaining"},
    "switch": frozenset({"side", "other", "step", "exercise"}),
    "rest": _STEP - {"side"} | {"rest", "next"},
    "set": _STEP - {"side"} | {"rest", "next"},
    "next": frozenset({"next"}),
    "rep": _STEP | {"rep", "reps"},
    "breathe_in": frozenset(),
    "breathe_out": frozenset(),
    "finish": frozenset(),
    "outro": frozenset(),
}
"""The variables each template is given (besides ``routine``), at one call site or another."""
ALL_VARIABLES = frozenset[str]().union(*TEMPLATE_VARIABLES.values()) | {"routine"}
SETUP_VARIABLES = frozenset({"side", "other"})
_MAX_ORIGINS = 4096


@cache
def builtin_templates() -> Mapping[str, str]:
    """The shipped English templates, by name."""
    text = resources.files("routinecast").joinpath("templates/en.yaml").read_text("utf-8")
    data: dict[str, str] = yaml.safe_load(text)
    return data


def template_names() -> tuple[str, ...]:
    """Every template a routine may override."""
    return tuple(builtin_templates())


def variables_of(name: str) -> frozenset[str]:
    """What template ``name`` may use (every variable for a name this module does not know)."""
    known = TEMPLATE_VARIABLES.get(name)
    return ALL_VARIABLES if known is None else known | {"routine"}


def _env() -> jinja2.Environment:
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
    env.globals["seconds"] = spoken_seconds
    return env


_ENV = _env()
_ORIGINS: dict[tuple[str, str, str], tuple[str, int]] = {}
"""(routine source, template name, template text) -> (file, line) under ``cues:``."""


@lru_cache(maxsize=1024)
def _template(source: str) -> jinja2.Template:
    """A compiled template; compiled once per distinct text (they are reused by every book)."""
    return _ENV.from_string(source)


def _compile(name: str, source: str, origin: Where, field: str | None = None) -> jinja2.Template:
    try:
        return _template(source)
    except jinja2.TemplateSyntaxError as exc:
        raise origin.error(
            f"has a template syntax error: {(exc.message or '').rstrip('.')}; "
            "write {{ variable }} and "
            "{% if ... %}...{% endif %}",
            field=field,
        ) from None


def _check_variables(
    source: str, allowed: frozenset[str], origin: Where, field: str, helpers: str
) -> None:
    """Refuse a variable the template will never be given."""
    used = jinja2.meta.find_undeclared_variables(_ENV.parse(source))
    unknown = sorted(used - allowed - set(_ENV.globals))
    if unknown:
        known = sorted(allowed)
        raise origin.error(
            f'uses an unknown variable "{unknown[0]}"{suggest(unknown[0], known)}; '
            f"it may use: {', '.join(known) or 'no variables'}{helpers}",
            field=field,
        )


def check_templates(templates: Mapping[str, Val], routine: str = "") -> None:
    """Refuse unknown template names, templates that do not parse and unknown variables.

    ``routine`` is the routine's shown file name; a later ``CueBook`` uses it to find
    where each template was written.
    """
    names = template_names()
    for name, val in templates.items():
        origin = Where(val.file, val.line, f"cue template {name}")
        if name not in names:
            raise Where(val.file, val.line).error(
                f"is not a cue template{suggest(name, names)}; templates are: {', '.join(names)}",
                field=f"cues.{name}",
            )
        source = str(val.value)
        _compile(name, source, origin, f"cues.{name}")
        _check_variables(source, variables_of(name), origin, f"cues.{name}", " and seconds()")
        _remember(routine, name, source, val)


def check_setup(val: Val, where: Where) -> None:
    """An exercise's ``setup`` parses and uses only ``side`` and ``other``."""
    origin = where.at(val)
    _compile("setup", str(val.value), origin, "setup")
    _check_variables(str(val.value), SETUP_VARIABLES, origin, "setup", "")


def _remember(routine: str, name: str, source: str, val: Val) -> None:
    if len(_ORIGINS) >= _MAX_ORIGINS:
        _ORIGINS.clear()
    _ORIGINS[(routine, name, source)] = (val.file, val.line)


class CueBook:
    """Renders cue lines for one routine."""

    def __init__(self, routine: Routine) -> None:
        self.routine = routine
        own = dict(routine.templates)
        self._own = set(own)
        self._templates = {
            name: _compile(name, own.get(name, source), self._origin(name, own.get(name)))
            for name, source in builtin_templates().items()
        }

    def _origin(self, name: str, own: str | None) -> Where:
        """Where template ``name`` was written: its line under ``cues:``, or the routine."""
        file, line = self.routine.source, 0
        if own is not None:
            file, line = _ORIGINS.get((self.routine.source, name, own), (file, line))
        return Where(file, line, f"cue template {name}")

    def line(self, name: str, **context: Any) -> str:
        """The text of template ``name``; '' when it renders empty."""
        context.setdefault("routine", self.routine)
        try:
            text = self._templates[name].render(**context)
        except jinja2.UndefinedError as exc:
            step = context.get("step")
            at = f" at {step.label}" if isinstance(step, Step) else ""
            variables = ", ".join(sorted(variables_of(name)))
            raise self._error(
                name,
                f"uses a variable it is not given{at} ({exc.message}); it may use: "
                f"{variables} and seconds(), but not every use of a template gets every "
                "variable, so guard one with {% if name is defined %}",
            ) from None
        except Exception as exc:  # a template is user code: {{ 1/0 }}, seconds("x")
            raise self._error(name, f"failed: {type(exc).__name__}: {exc}") from None
        return _clean(text, name, self)

    def _error(self, name: str, message: str) -> InputError:
        own = dict(self.routine.templates).get(name)
        origin = "in the routine's cues" if name in self._own else "the built-in template"
        return self._origin(name, own).error(
            f"{message} ({origin})", field=f"cues.{name}" if name in self._own else None
        )

    def setup(self, exercise: Exercise, side: Side | None) -> str:
        """The exercise's setup text for ``side``."""
        if not exercise.setup:
            return ""
        file, _, line = exercise.source.rpartition(":")
        here = Where(
            file or exercise.source, int(line) if line.isdigit() else 0, f"exercise {exercise.id}"
        )
        template = _compile("setup", exercise.setup, here, "setup")
        try:
            text = template.render(side=side or "", other=other_side(side) if side else "")
        except Exception as exc:  # user code, as in ``line``
            raise here.error(
                f"failed: {type(exc).__name__}: {exc}; setup sees side and other", field="setup"
            ) from None
        return self.line("setup", text=_clean(text, "setup", self), exercise=exercise, side=side)


def _clean(text: str, name: str, book: CueBook) -> str:
    text = " ".join(text.split())
    if len(text) > MAX_TEXT_CHARS:
        raise book._error(
            name, f"renders {len(text)} characters; a spoken line may be at most {MAX_TEXT_CHARS}"
        )
    return text


def plan_text(step: Step) -> str:
    """How the announcement describes the work: "2 sets of 30 seconds on each side"."""
    if step.kind == "reps":
        per = f"{step.reps} reps"
        if step.sides == "alternate":
            per += " on each side, alternating"
    else:
        per = spoken_seconds(step.hold_ms)
        if step.kind == "flow":
            per += " of steady movement"
    if step.sides == "each":
        per += " on each side"
    if step.sets > 1:
        return f"{step.sets} sets of {per}"
    return per[0].upper() + per[1:]
