"""Cue text from jinja2 templates: the built-in English set plus a routine's ``cues:``.

Templates run with ``StrictUndefined``: an unknown variable is an ``InputError`` naming
the template (and the routine file), never a silent blank. Exercise ``setup`` texts
are templates too and see ``side`` and ``other``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import jinja2
import yaml

from .durations import spoken_seconds
from .errors import InputError
from .fields import MAX_TEXT_CHARS, Val, suggest
from .model import Exercise, Routine, Side, Step, other_side


@cache
def builtin_templates() -> Mapping[str, str]:
    """The shipped English templates, by name."""
    text = resources.files("routinecast").joinpath("templates/en.yaml").read_text("utf-8")
    data: dict[str, str] = yaml.safe_load(text)
    return data


def template_names() -> tuple[str, ...]:
    """Every template a routine may override."""
    return tuple(builtin_templates())


def _env() -> jinja2.Environment:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    env.globals["seconds"] = spoken_seconds
    return env


_ENV = _env()


def _compile(name: str, source: str, origin: str, line: int | None) -> jinja2.Template:
    try:
        return _ENV.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(
            f"has a template syntax error: {exc.message}", file=origin or None, line=line,
            where=f"cue template {name}",
        ) from None


def check_template_names(templates: Mapping[str, Val]) -> None:
    """Refuse unknown template names and templates that do not parse."""
    names = template_names()
    for name, val in templates.items():
        if name not in names:
            raise InputError(
                f'"{name}" is not a cue template{suggest(name, names)}; '
                f"templates are: {', '.join(names)}",
                file=val.file, line=val.line, field="cues",
            )
        _compile(name, str(val.value), val.file, val.line)


class CueBook:
    """Renders cue lines for one routine."""

    def __init__(self, routine: Routine) -> None:
        self.routine = routine
        own = dict(routine.templates)
        self._templates = {
            name: _compile(name, own.get(name, source), routine.source, None)
            for name, source in builtin_templates().items()
        }
        self._own = set(own)

    def line(self, name: str, **context: Any) -> str:
        """The text of template ``name``; '' when it renders empty."""
        context.setdefault("routine", self.routine)
        try:
            text = self._templates[name].render(**context)
        except jinja2.UndefinedError as exc:
            raise self._error(name, f"uses an unknown variable: {exc.message}") from None
        except jinja2.TemplateError as exc:
            raise self._error(name, f"failed: {exc}") from None
        return _clean(text, name, self)

    def _error(self, name: str, message: str) -> InputError:
        origin = "the routine's cues" if name in self._own else "the built-in template"
        return InputError(
            f"{message} ({origin}); variables: routine, step, exercise, side, other, set, "
            "sets, rep, reps, rest, remaining, next, first, plan, text, seconds()",
            file=self.routine.source or None,
            where=f"cue template {name}",
        )

    def setup(self, exercise: Exercise, side: Side | None) -> str:
        """The exercise's setup text for ``side``."""
        if not exercise.setup:
            return ""
        template = _compile("setup", exercise.setup, exercise.source, None)
        try:
            text = template.render(side=side or "", other=other_side(side) if side else "")
        except jinja2.UndefinedError as exc:
            raise InputError(
                f"uses an unknown variable: {exc.message}; setup sees side and other",
                file=exercise.source or None, where=f"exercise {exercise.id}", field="setup",
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
