"""Cue text from jinja2 templates: the built-in English set plus a routine's ``cues:``.

Templates run sandboxed with ``StrictUndefined``. The loader checks a routine's
templates up front (``check_templates``): an unknown name, a syntax error or an unknown
variable is an ``InputError`` naming the routine file, the line under ``cues:`` and the
template, never a silent blank. A failure while rendering (a variable that one call
site lacks, ``{{ 1/0 }}``) is reported the same way, at the same line. Exercise
``setup`` texts are templates too and see ``side`` and ``other``.

Every render runs on a budget (``_Budget``): at most ``MAX_TEMPLATE_STEPS`` steps (loop
turns, calls, attribute lookups, operators) and ``MAX_TEMPLATE_SECONDS``, and no text
or list longer than ``MAX_TEMPLATE_CHARS``, checked before it is built (``'x' * 10**8``
is refused without allocating it). A template beyond the budget is an ``InputError``
naming it, like any other failure, within a fraction of a second.
"""

from __future__ import annotations

import re
import string
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, lru_cache, wraps
from importlib import resources
from typing import Any

import jinja2
import jinja2.meta
import yaml
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import ImmutableSandboxedEnvironment

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
    data: dict[str, str] = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return data


def template_names() -> tuple[str, ...]:
    """Every template a routine may override."""
    return tuple(builtin_templates())


def variables_of(name: str) -> frozenset[str]:
    """What template ``name`` may use (every variable for a name this module does not know)."""
    known = TEMPLATE_VARIABLES.get(name)
    return ALL_VARIABLES if known is None else known | {"routine"}


MAX_TEMPLATE_STEPS = 10_000
"""Steps one render may take: loop turns, calls, attribute lookups, operators, joins."""
MAX_TEMPLATE_CHARS = 10_000
"""The longest text or list a template may build, and the most it may render."""
MAX_TEMPLATE_SECONDS = 0.5
"""CPU time one render may take: a backstop, as the step budget is normally hit first
(CPU time, not wall time, so a busy machine does not fail a good template)."""
MAX_INT_BITS = 4096
"""The largest whole number a template may compute, in bits."""
_WIDTH_METHODS = frozenset({"ljust", "rjust", "center", "zfill"})
_WIDTH_FILTERS = frozenset({"center", "batch", "slice", "wordwrap", "truncate"})
_NUMBER = re.compile(r"[0-9]+")
_PERCENT_SPEC = re.compile(r"%[#0\- +]*(\*|[0-9]*)(?:\.(\*|[0-9]*))?")


class _OverBudget(Exception):
    """A template went beyond its budget; the message says how."""


@dataclass
class _Budget:
    """What one render has spent."""

    deadline: float
    steps: int = 0

    def charge(self) -> None:
        self.steps += 1
        if self.steps > MAX_TEMPLATE_STEPS:
            raise _OverBudget(
                f"runs too long: more than {MAX_TEMPLATE_STEPS:,} steps (loop turns, calls, "
                "lookups); a cue template should be a line of words with a few ifs"
            )
        if time.thread_time() > self.deadline:
            raise _OverBudget(
                f"runs too long: more than {MAX_TEMPLATE_SECONDS:g} seconds of computing"
            )


_BUDGET: ContextVar[_Budget | None] = ContextVar("template budget", default=None)


def _charge() -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.charge()


def _size(value: Any, limit: int = MAX_TEMPLATE_CHARS) -> int:
    """How big ``value`` is: characters of text, items of lists; stops counting past ``limit``."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, list | tuple | set | frozenset | dict):
            total += len(item)
            if total <= limit:
                stack.extend(item.items() if isinstance(item, dict) else item)
        elif isinstance(item, int) and not isinstance(item, bool):
            total += item.bit_length() // 3
        else:
            total += 1
    return total


def _refuse_size(size: int, what: str = "builds") -> None:
    if size > MAX_TEMPLATE_CHARS:
        raise _OverBudget(
            f"{what} a text or list of more than {MAX_TEMPLATE_CHARS:,} characters or items"
        )


def _refuse_number(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise _OverBudget(f"computes a number of more than {MAX_INT_BITS:,} bits")


def _check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would be too big, before it is computed."""
    seq, count = (left, right) if isinstance(right, int) else (right, left)
    if operator == "*" and isinstance(seq, str | list | tuple) and isinstance(count, int):
        _refuse_size(_size(seq) * max(count, 0))
    elif operator == "*" and _is_int(left) and _is_int(right):
        _refuse_number(left.bit_length() + right.bit_length())
    elif operator == "**" and _is_int(left) and _is_int(right) and right > 0:
        _refuse_number(left.bit_length() * right)
    elif operator == "+" and isinstance(left, str | list | tuple):
        _refuse_size(_size(left) + _size(right))
    elif operator == "%" and isinstance(left, str):
        _check_format(left, right if isinstance(right, tuple) else (right,))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_format(pattern: str, args: Iterable[Any], braces: bool = False) -> None:
    """A ``%`` or ``{}`` format: no width beyond the limit, in the pattern or from arguments."""
    values = list(args)
    widths, from_args = _format_widths(pattern, braces)
    if from_args:
        widths += [v for v in values if _is_int(v)]
    if any(w > MAX_TEMPLATE_CHARS for w in widths):
        raise _OverBudget(f"formats a text wider than {MAX_TEMPLATE_CHARS:,} characters")
    _refuse_size(len(pattern) + sum(_size(v) for v in values))


def _format_widths(pattern: str, braces: bool) -> tuple[list[int], bool]:
    """The widths and precisions a format pattern names, and whether arguments give some."""
    if not braces:
        parts = [p for m in _PERCENT_SPEC.finditer(pattern) for p in m.groups() if p]
        return [int(p) for p in parts if p != "*"], "*" in parts
    try:
        specs = [spec or "" for _, _, spec, _ in string.Formatter().parse(pattern)]
    except ValueError:  # a broken pattern: formatting it fails on its own
        return [], False
    numbers = [int(n) for spec in specs for n in _NUMBER.findall(spec)]
    return numbers, any("{" in spec for spec in specs)


def _check_call(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse a call whose arguments, or whose result as far as it can be foreseen, are too big."""
    values = [*args, *kwargs.values()]
    _refuse_size(sum(_size(v) for v in values))
    method = getattr(func, "__wrapped__", func)
    name, owner = getattr(method, "__name__", ""), getattr(method, "__self__", None)
    if not isinstance(owner, str):
        return
    if name in _WIDTH_METHODS:
        _check_widths(values, len(owner))
    elif name == "expandtabs":
        _check_repeated(owner, "\t", values[0] if values else 8)
    elif name == "replace" and len(args) >= 2:
        _check_replace(owner, args[0], args[1])
    elif name in ("format", "format_map"):
        _check_format(owner, values, braces=True)


def _check_widths(values: Iterable[Any], base: int) -> None:
    """Refuse a width that would pad a text of ``base`` characters past the limit."""
    for value in values:
        if _is_int(value):
            _refuse_size(base + value)


def _check_repeated(text: str, mark: str, pad: Any) -> None:
    """Refuse adding ``pad`` (a width or a text) at every ``mark`` when it would be too long."""
    width = pad if _is_int(pad) else len(str(pad))
    _refuse_size(len(text) + (text.count(mark) + 1) * max(width, 0))


def _check_replace(text: Any, old: Any, new: Any) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        _refuse_size(len(text) + (text.count(old) if old else len(text) + 1) * len(new))


def _guarded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that charges the budget and refuses too big arguments and results."""

    own = 1 if getattr(func, "jinja_pass_arg", None) else 0  # context or environment first

    @wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _charge()
        if name == "join" and len(args) > own and not isinstance(args[own], str):
            args = (*args[:own], _bounded_list(args[own]), *args[own + 1 :])
        values = [*args[own:], *kwargs.values()]
        _refuse_size(sum(_size(v) for v in values))
        text = next((v for v in values if isinstance(v, str)), "")
        if name in _WIDTH_FILTERS:
            _check_widths(values[1:], len(text))
        elif name == "indent":
            _check_repeated(text, "\n", values[1] if len(values) > 1 else 4)
        elif name == "replace" and len(values) >= 3:
            _check_replace(values[0], values[1], values[2])
        elif name == "format" and values and isinstance(values[0], str):
            _check_format(values[0], values[1:])
        result = func(*args, **kwargs)
        _refuse_size(_size(result))
        return result

    return guarded


def _bounded_list(items: Iterable[Any]) -> list[Any]:
    """The items (of a generator too), refusing more than the limit's worth."""
    out, size = [], 0
    for item in items:
        _charge()
        size += 1 + _size(item)
        _refuse_size(size)
        out.append(item)
    return out


def _counted(items: Iterable[Any]) -> Iterator[Any]:
    """A loop's items, each charged to the budget."""
    for item in items:
        _charge()
        yield item


_LOOP_FILTER = "_routinecast_counted"


class _BudgetCodeGenerator(CodeGenerator):
    """Compiles templates so that every loop turn and every ``~`` goes through the budget."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        for loop in list(node.find_all(nodes.For)):
            loop.iter = nodes.Filter(loop.iter, _LOOP_FILTER, [], [], None, None)
            loop.iter.set_lineno(loop.lineno)
        super().visit_Template(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.joined((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox of cue templates, with the budget on every step that can grow or repeat."""

    code_generator_class = _BudgetCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        _charge()
        _check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(
        __self,  # jinja's own spelling, so that no keyword argument can clash
        __context: jinja2.runtime.Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        _charge()
        _check_call(__obj, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        _refuse_size(_size(result))
        return result

    def getattr(self, obj: Any, attribute: str) -> Any:
        _charge()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _charge()
        return super().getitem(obj, argument)

    def joined(self, parts: tuple[Any, ...]) -> str:
        """``a ~ b ~ c``, refused before it is built when it would be too long."""
        _charge()
        _refuse_size(sum(_size(p) for p in parts))
        return "".join(str(p) for p in parts)


def _finalize(value: Any) -> Any:
    """Every ``{{ ... }}`` value: refused before it is printed when it is too big."""
    _charge()
    _refuse_size(_size(value), "prints")
    return value


def _env() -> jinja2.Environment:
    env = _Sandbox(undefined=jinja2.StrictUndefined, autoescape=False, finalize=_finalize)
    env.filters = {name: _guarded_filter(name, f) for name, f in env.filters.items()}
    env.filters[_LOOP_FILTER] = _counted
    del env.globals["lipsum"]  # makes paragraphs of filler text on request
    env.globals["seconds"] = spoken_seconds
    return env


def _render(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """Render on a fresh budget, streaming, stopping as soon as the text is too long."""
    token = _BUDGET.set(_Budget(deadline=time.thread_time() + MAX_TEMPLATE_SECONDS))
    try:
        parts, length = [], 0
        for chunk in template.generate(**context):
            length += len(chunk)
            _refuse_size(length, "renders")
            parts.append(chunk)
        return "".join(parts)
    finally:
        _BUDGET.reset(token)


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


def _plain(source: str) -> bool:
    """Text with no template syntax at all renders as itself: no need to compile it."""
    return not any(mark in source for mark in ("{{", "{%", "{#"))


def check_setup(val: Val, where: Where) -> None:
    """An exercise's ``setup`` parses and uses only ``side`` and ``other``."""
    if _plain(str(val.value)):
        return  # most setups: compiling 23 of them cost ~15 ms on every command
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
        self._sources = {
            name: own.get(name, source) for name, source in builtin_templates().items()
        }
        self._templates: dict[str, jinja2.Template] = {}
        """Compiled on first use: a routine speaks a few of the templates, not all."""

    def _compiled(self, name: str) -> jinja2.Template:
        if name not in self._templates:
            own = dict(self.routine.templates).get(name)
            source = self._sources[name]
            self._templates[name] = _compile(name, source, self._origin(name, own))
        return self._templates[name]

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
            text = _render(self._compiled(name), context)
        except _OverBudget as exc:
            raise self._error(name, str(exc)) from None
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
        if _plain(exercise.setup):
            return self.line(
                "setup", text=_clean(exercise.setup, "setup", self), exercise=exercise, side=side
            )
        template = _compile("setup", exercise.setup, here, "setup")
        try:
            text = _render(
                template, {"side": side or "", "other": other_side(side) if side else ""}
            )
        except _OverBudget as exc:
            raise here.error(str(exc), field="setup") from None
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
