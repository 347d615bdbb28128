"""Cue templates: the built-in set renders, a routine's ``cues:`` wins, helpers and errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from routinecast.cues import (
    TEMPLATE_VARIABLES,
    CueBook,
    builtin_templates,
    check_setup,
    check_templates,
    plan_text,
    template_names,
    variables_of,
)
from routinecast.errors import InputError
from routinecast.load.routine import load_routine
from routinecast.locations import Val, Where
from routinecast.model import Exercise, Routine, Step
from routinecast.timing.compiler import compile_timeline
from routinecast.timing.script import build_script, spoken_texts

STRETCH = Exercise(
    id="hip-stretch",
    name="Hip stretch",
    sides="each",
    hold_ms=30_000,
    setup="Kneel on your {{ side }} knee, {{ other }} foot flat in front.",
    source="lib.yaml:7",
)
STEP = Step(number=1, exercise=STRETCH, hold_ms=30_000, sides="each", sets=2, rest_ms=20_000)


def make_routine(*templates: tuple[str, str], source: str = "r.yaml") -> Routine:
    return Routine(
        title="Cue test",
        steps=(STEP,),
        source=source,
        intro="Find a mat.",
        outro="Done for today.",
        templates=templates,
    )


def test_builtin_templates_are_the_documented_set() -> None:
    names = set(template_names())
    documented = {
        "intro",
        "announce",
        "setup",
        "start",
        "halfway",
        "remaining",
        "switch",
        "rest",
        "next",
        "set",
        "rep",
        "breathe_in",
        "breathe_out",
        "finish",
        "outro",
    }
    assert documented <= names
    assert set(TEMPLATE_VARIABLES) == names


def test_every_builtin_template_passes_its_own_variable_check() -> None:
    templates = {name: Val(source, "en.yaml", 1) for name, source in builtin_templates().items()}
    check_templates(templates)


def test_builtin_templates_render() -> None:
    book = CueBook(make_routine())
    assert book.line("intro") == "Cue test. Find a mat."
    assert book.line("rest", rest=20_000, step=STEP, exercise=STRETCH) == "Rest for 20 seconds."
    assert book.line("remaining", remaining=10_000) == "10 seconds left."
    assert book.line("switch", side="left") == "Switch to your left side."
    assert book.line("start", side="right") == "Right side. Begin on the tone."
    assert book.line("start", side=None) == "Begin on the tone."
    assert book.line("rep", side=None, rep=3) == "3"
    assert book.line("set", set=2, sets=3) == "Set 2 of 3 is next."
    assert book.line("next", next=STRETCH) == "Next up: Hip stretch."
    assert book.line("outro") == "Done for today."


def test_whole_script_renders_with_builtin_templates() -> None:
    texts = spoken_texts(build_script(make_routine()))
    assert "Rest for 20 seconds." in texts
    assert "Switch to your left side." in texts
    assert any(t.startswith("Kneel on your right knee, left foot") for t in texts)


def test_routine_template_wins() -> None:
    book = CueBook(make_routine(("rest", "Pause, {{ seconds(rest) }}. {{ next.name }} is next.")))
    assert book.line("rest", rest=90_000, next=STRETCH) == (
        "Pause, 1 minute 30. Hip stretch is next."
    )
    assert book.line("halfway") == "Halfway."


@pytest.mark.parametrize(
    ("ms", "spoken"),
    [
        (1000, "1 second"),
        (45_000, "45 seconds"),
        (60_000, "1 minute"),
        (90_000, "1 minute 30"),
        (120_000, "2 minutes"),
        (0, "0 seconds"),
    ],
)
def test_seconds_helper(ms: int, spoken: str) -> None:
    book = CueBook(make_routine(("halfway", "{{ seconds(remaining) }}")))
    assert book.line("halfway", remaining=ms) == spoken


def test_setup_sees_side_and_other() -> None:
    book = CueBook(make_routine())
    assert book.setup(STRETCH, "left") == "Kneel on your left knee, right foot flat in front."
    assert book.setup(STRETCH, None) == "Kneel on your knee, foot flat in front."


def test_setup_template_wraps_the_exercise_text() -> None:
    book = CueBook(make_routine(("setup", "{{ exercise.name }}: {{ text }}")))
    assert book.setup(STRETCH, "right").startswith("Hip stretch: Kneel on your right knee")


def test_strict_undefined_names_the_template() -> None:
    book = CueBook(make_routine(("rest", "Rest {{ seconds(rest) }}")))
    with pytest.raises(InputError) as info:
        book.line("rest")
    message = str(info.value)
    assert message.startswith("r.yaml: cue template rest: cues.rest uses a variable")
    assert "'rest' is undefined" in message
    assert "in the routine's cues" in message


def test_render_error_points_at_the_line_under_cues(tmp_path: Path) -> None:
    routine = tmp_path / "r.yaml"
    routine.write_text(
        "title: X\ncues:\n  rest: 'Rest, then {{ exercise.name }}'\nsteps:\n"
        "  - exercise: dead-bug\n  - rest: 10s\n  - exercise: plank\n",
        encoding="utf-8",
    )
    loaded = load_routine(routine)
    with pytest.raises(InputError) as info:
        build_script(loaded)
    assert info.value.file == str(routine)
    assert info.value.line == 3
    assert "at step 2 (rest)" in str(info.value)
    assert "'exercise' is undefined" in str(info.value)


def test_python_errors_in_a_template_are_input_errors() -> None:
    book = CueBook(make_routine(("finish", "{{ 1 / 0 }}"), ("outro", "{{ seconds('x') }}")))
    with pytest.raises(InputError, match=r"cue template finish: .*ZeroDivisionError"):
        book.line("finish")
    with pytest.raises(InputError, match=r"cue template outro: .*TypeError"):
        book.line("outro")


def test_templates_are_sandboxed() -> None:
    book = CueBook(make_routine(("finish", "{{ routine.__class__.__mro__ }}")))
    with pytest.raises(InputError, match="cue template finish"):
        book.line("finish")


def test_rendered_line_length_is_capped() -> None:
    book = CueBook(make_routine(("finish", "{% for i in range(200) %}word {% endfor %}")))
    with pytest.raises(
        InputError, match="renders 999 characters; a spoken line may be at most 600"
    ):
        book.line("finish")


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        ("rest", "Rest {{ restt }}", 'unknown variable "restt" (did you mean "rest"?)'),
        ("intro", "{{ rep }}", "it may use: routine and seconds()"),
        ("rest", "{{ rest", "template syntax error"),
        ("rets", "Rest.", 'is not a cue template (did you mean "rest"?)'),
    ],
)
def test_check_templates_refuses_before_rendering(name: str, source: str, expected: str) -> None:
    with pytest.raises(InputError) as info:
        check_templates({name: Val(source, "r.yaml", 14)}, "r.yaml")
    assert expected in str(info.value)
    assert str(info.value).startswith("r.yaml:14: ")
    assert f"cues.{name}" in str(info.value)


def test_check_templates_accepts_guards_and_locals() -> None:
    check_templates(
        {
            "rest": Val("{% if exercise is defined %}{{ exercise.name }}{% endif %}", "r.yaml", 3),
            "rep": Val(
                "{% set n = rep * 2 %}{% for i in range(n) %}{{ i }}{% endfor %}", "r.yaml", 4
            ),
        }
    )


def test_check_setup() -> None:
    where = Where("lib.yaml", 3, "exercise x")
    check_setup(Val("On your {{ side }} side, {{ other }} hand down.", "lib.yaml", 9), where)
    with pytest.raises(
        InputError,
        match=r"lib.yaml:9: exercise x: setup uses an unknown "
        r'variable "sidee" \(did you mean "side"\?\)',
    ):
        check_setup(Val("On your {{ sidee }} side.", "lib.yaml", 9), where)


def test_variables_of_unknown_template_is_everything() -> None:
    assert "rep" in variables_of("not-a-template")
    assert variables_of("next") == {"next", "routine"}


def test_plan_text() -> None:
    assert plan_text(STEP) == "2 sets of 30 seconds on each side"
    reps = Step(number=2, exercise=STRETCH, kind="reps", reps=10, tempo_ms=3000, sides="alternate")
    assert plan_text(reps) == "10 reps on each side, alternating"
    flow = Step(number=3, exercise=STRETCH, kind="flow", hold_ms=60_000)
    assert plan_text(flow) == "1 minute of steady movement"


def test_a_template_that_renders_empty_silences_its_cue(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(
        "title: Quiet\ncues:\n  halfway: ''\nsteps:\n  - exercise: dead-bug\n", encoding="utf-8"
    )
    routine = load_routine(path)
    texts = spoken_texts(build_script(routine))
    timeline = compile_timeline(routine, dict.fromkeys(texts, 1000))
    assert all(event.cue != "halfway" for event in timeline.events)


RUNAWAY = {
    "nested-loops": "{% for i in range(99999) %}{% for j in range(99999) %}"
    "{% endfor %}{% endfor %}",
    "huge-repeat": "{{ 'x' * 100000000 }}",
    "doubling": "{% set ns = namespace(s='xxxxxxxx') %}"
    "{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
    "loop-over-text": "{% set s = 'x' * 500 %}"
    "{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
    "wide-filter": "{{ 'x' | center(100000000) }}",
    "wide-format": "{{ '{:>100000000}'.format('x') }}",
    "wide-percent": "{{ '%100000000s' % 'x' }}",
    "width-from-argument": "{{ '%*s' % (100000000, 'x') }}",
    "nested-width": "{{ '{:{}}'.format('x', 100000000) }}",
    "huge-power": "{{ 2 ** 100000000 }}",
    "macro-tree": "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
    "{{ f(40) }}",
    "huge-join": "{{ (['x' * 9999] * 9999) | join }}",
    "replace-grows": "{{ ('ab' * 99) | replace('', 'x' * 999) }}",
    "indent-every-line": "{{ ('\\n' * 9999) | indent('x' * 9999) }}",
    "tabs-expand": "{{ ('\\t' * 9999).expandtabs(9999) }}",
}
"""Templates that would run for minutes or take gigabytes without the budget."""


@pytest.mark.parametrize("source", RUNAWAY.values(), ids=RUNAWAY.keys())
def test_a_runaway_template_is_refused_naming_it(source: str, tmp_path: Path) -> None:
    routine = tmp_path / "r.yaml"
    routine.write_text(
        f"title: X\ncues:\n  start: {json.dumps(source)}\nsteps:\n  - exercise: plank\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        build_script(load_routine(routine))
    message = str(info.value)
    assert message.startswith(f"{routine}:3: cue template start: cues.start "), message
    assert "in the routine's cues" in message


def test_no_filler_text_generator() -> None:
    with pytest.raises(InputError, match='unknown variable "lipsum"'):
        check_templates({"finish": Val("{{ lipsum(100000) }}", "r.yaml", 3)}, "r.yaml")


def test_templates_within_the_budget_still_work() -> None:
    book = CueBook(
        make_routine(
            ("finish", "{% for i in range(3) %}{{ i + 1 }}{{ '!' * 2 }} {% endfor %}"),
            ("outro", "{{ ['Well', 'done'] | join(' ') | center(12) | trim }}"),
            ("halfway", "{{ 'Half of %d.' % 20000 }} {{ '{} and {:>3}'.format(1, 2) }}"),
        )
    )
    assert book.line("finish") == "1!! 2!! 3!!"
    assert book.line("outro") == "Well done"
    assert book.line("halfway") == "Half of 20000. 1 and 2"


MEASURE = """\
import json, sys, time, tracemalloc
from pathlib import Path
from routinecast.errors import InputError
from routinecast.load.routine import load_routine
from routinecast.timing.script import build_script

routine = load_routine(Path(sys.argv[1]))
tracemalloc.start()
start = time.perf_counter()
try:
    build_script(routine)
    outcome = "rendered"
except InputError as exc:
    outcome = str(exc)
seconds = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"outcome": outcome, "seconds": seconds, "peak": peak}))
"""


@pytest.mark.parametrize("name", ["nested-loops", "huge-repeat"])
def test_the_budget_stops_them_fast_and_small(name: str, tmp_path: Path) -> None:
    """The two templates of the issue: refused in under a second, with under 100 MB."""
    routine = tmp_path / "r.yaml"
    routine.write_text(
        f"title: X\ncues:\n  start: {json.dumps(RUNAWAY[name])}\nsteps:\n  - exercise: plank\n",
        encoding="utf-8",
    )
    script = tmp_path / "measure.py"
    script.write_text(MEASURE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(routine)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(done.stdout)
    assert "cue template start" in result["outcome"]
    assert result["seconds"] < 1.0
    assert result["peak"] < 100_000_000
