"""Errors a user can act on: one table row per kind of bad input, run through the CLI.

Each row writes a small bad routine (or library) into ``tmp_path`` and runs
``routinecast validate``, ``plan`` and ``build`` on it. Every run must exit 2 with one
message per mistake, each on its own line, naming the file and ``:LINE:`` of the
offending YAML node, the step or exercise, the field, what is allowed and (where there
is one) a did-you-mean; a failed build must leave the output folder without any MP3,
JSON, VTT or temporary file. Bad input is caught while loading, so ``build`` never
reaches speech synthesis (a guard makes reaching it fail the test).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

import routinecast.pipeline
from routinecast.cli import app
from routinecast.errors import MAX_SHOWN_ERRORS, InputError, InputErrors

BASE = """\
title: Error table
steps:
  - exercise: dead-bug
    hold: 60s
  - exercise: half-kneeling-hip-flexor-stretch
    hold: 30s
    sides: each
  - exercise: glute-bridge-march
    reps: 10
    tempo: 3s
    sets: 3
"""
"""Lines: 3 step 1 (dead-bug), 5-7 step 2, 8-11 step 3 (glute-bridge-march)."""

STEP2 = "step 2 (half-kneeling-hip-flexor-stretch)"
STEP3 = "step 3 (glute-bridge-march)"
ALL = ("validate", "plan", "build")


def edit(old: str, new: str) -> str:
    """BASE with one exact piece of text replaced."""
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


@dataclass(frozen=True)
class Case:
    """One row: the files to write, what to run, and what the message must say."""

    id: str
    files: dict[str, str | bytes]
    line: int | None
    allowed: str
    label: str | None = None
    field: str | None = None
    suggest: str | None = None
    file: str = "routine.yaml"
    args: tuple[str, ...] = ()
    commands: tuple[str, ...] = ALL
    extra: tuple[str, ...] = ()
    more: tuple[tuple[int, tuple[str, ...]], ...] = ()
    """Further independent mistakes, after the first: (line, parts of its message)."""


def routine(text: str | bytes) -> dict[str, str | bytes]:
    return {"routine.yaml": text}


# fmt: off
CASES = [
    # --- the file itself
    Case("yaml-syntax", routine(edit("hold: 60s", "hold: 60s: or so")), 4, "in quotes",
         extra=("YAML syntax error",)),
    Case("yaml-unclosed-bracket", routine(edit("hold: 60s", "hold: [60s")), 4,
         "never closed", extra=("YAML syntax error",)),
    Case("document-is-text", routine("just a string\n"), 1,
         "a routine is a mapping of fields", extra=('"just a string"',)),
    Case("document-is-number", routine("42\n"), 1, "a routine is a mapping of fields"),
    Case("library-as-routine", routine("- id: my-move\n  hold: 5s\n"), 1,
         "name the library with library:", commands=("plan", "build"),
         extra=("is an exercise library",)),
    Case("not-utf8", routine(b"title: caf\xe9\n"), 1, "save it as UTF-8"),
    Case("empty-file", routine(""), None, "needs at least title and steps"),
    Case("comments-only", routine("# a routine\n\n# to be written\n"), None,
         "needs at least title and steps"),
    Case("duplicate-key", routine(edit("    hold: 30s\n", "    hold: 30s\n    hold: 40s\n")), 7,
         "may be given only once", field='"hold"', extra=("first on line 6",)),
    # --- unknown names
    Case("unknown-top-field", routine(edit("title:", "titel:")), 1, "allowed: caution, cues",
         field='"titel"', suggest="title"),
    Case("unknown-step-field", routine(edit("hold: 30s", "hodl: 30s")), 6,
         "allowed: breathe, cues, exercise", label=STEP2, field='"hodl"', suggest="hold"),
    Case("unknown-exercise", routine(edit("exercise: dead-bug", "exercise: dead-bugg")), 3,
         "routinecast list", label="step 1", field="exercise", suggest="dead-bug"),
    Case("override-unknown-exercise",
         routine(BASE + "override:\n  dead-bugg: {hold: 45s}\n"), 13,
         "use a step number (1-3) or one of: dead-bug", label="override dead-bugg",
         suggest="dead-bug"),
    Case("voice-engine", routine(BASE + "voice: {engine: espeak}\n"), 12,
         "auto | piper | pyttsx3", field="voice.engine"),
    # --- wrong types
    Case("sets-text", routine(edit("sets: 3", "sets: three")), 11, "must be a whole number",
         label=STEP3, field="sets"),
    Case("reps-list", routine(edit("reps: 10", "reps: [1]")), 9, "must be a whole number",
         label=STEP3, field="reps"),
    Case("title-mapping", routine(edit("title: Error table", "title: {a: 1}")), 1,
         "must be text", field="title"),
    Case("pacing-number", routine(BASE + "pacing: 5\n"), 12,
         "transition, rest, switch, countdown", field="pacing"),
    # --- durations
    Case("tempo-word", routine(edit("tempo: 3s", "tempo: fast")), 10,
         "a duration like 45, 45s, 1m", label=STEP3, field="tempo", extra=('"fast"',)),
    Case("hold-negative", routine(edit("hold: 30s", "hold: -5s")), 6, "a duration like 45",
         label=STEP2, field="hold"),
    Case("hold-zero", routine(edit("hold: 30s", "hold: 0")), 6, "must be at least 1s",
         label=STEP2, field="hold"),
    Case("tempo-zero", routine(edit("tempo: 3s", "tempo: 0s")), 10, "must be at least 0.5s",
         label=STEP3, field="tempo"),
    # --- absurd values
    Case("hold-10h", routine(edit("hold: 30s", "hold: 10h")), 6, "must be at most 30m",
         label=STEP2, field="hold"),
    Case("sets-zero", routine(edit("sets: 3", "sets: 0")), 11, "between 1 and 20",
         label=STEP3, field="sets"),
    Case("reps-10000", routine(edit("reps: 10", "reps: 10000")), 9, "between 1 and 200",
         label=STEP3, field="reps"),
    Case("tempo-2m", routine(edit("tempo: 3s", "tempo: 2m")), 10, "must be at most 1m",
         label=STEP3, field="tempo"),
    Case("phases-not-tempo",
         routine(BASE + "    phases: [{say: up, for: 1s}, {say: down, for: 1s}]\n"), 12,
         "must be equal", label=STEP3, field="phases", extra=("add up to 2s", "tempo is 3s")),
    Case("breathe-slash", routine(edit("    sides: each\n", "    sides: each\n    breathe: 4/4\n")),
         8, "like 4-4 or 5-5", label=STEP2, field="breathe"),
    Case("cue-at-word",
         routine(edit("    sides: each\n",
                      "    sides: each\n    cues:\n      - at: soon\n        say: Breathe.\n")),
         9, "half, or -10s", label=STEP2, field="cues.at"),
    # --- templates
    Case("template-unknown-variable", routine(BASE + 'cues:\n  rest: "Rest {{ restt }}"\n'), 13,
         "it may use: exercise, next, rest", label="cue template rest", field="cues.rest",
         suggest="rest"),
    Case("template-syntax", routine(BASE + 'cues:\n  rest: "{{ rest"\n'), 13,
         "write {{ variable }}", label="cue template rest", field="cues.rest",
         extra=("template syntax error",)),
    Case("template-unknown-name", routine(BASE + 'cues:\n  rets: "Rest."\n'), 13,
         "templates are: intro", field="cues.rets", suggest="rest"),
    # --- extends
    Case("extends-missing", routine("extends: nope.yaml\n" + BASE), 1, "does not exist",
         field="extends", extra=("nope.yaml",)),
    Case("extends-cycle",
         {"routine.yaml": "extends: other.yaml\ntitle: A\n",
          "other.yaml": "title: B\nextends: routine.yaml\n"},
         2, "cannot extend itself", field="extends", file="other.yaml",
         extra=("routine.yaml -> other.yaml -> routine.yaml",)),
    Case("extends-inherited-value",
         {"routine.yaml": "extends: base.yaml\ntitle: Variant\n",
          "base.yaml": edit("tempo: 3s", "tempo: fast")},
         10, "a duration like 45", label=STEP3, field="tempo", file="base.yaml"),
    Case("extends-inherited-pacing",
         {"routine.yaml": "extends: base.yaml\ntitle: Variant\npacing: {rest: 5s}\n",
          "base.yaml": "pacing:\n  switch: soon\n" + BASE},
         2, "a duration like 45", field="pacing.switch", file="base.yaml"),
    Case("override-bad-value",
         {"routine.yaml": "extends: base.yaml\ntitle: V\noverride:\n"
                          "  glute-bridge-march: {tempo: fast}\n",
          "base.yaml": BASE},
         4, "a duration like 45", label=STEP3, field="tempo"),
    # --- steps
    Case("steps-empty", routine("title: Nothing\nsteps: []\n"), 2, "list at least one step",
         field="steps"),
    Case("steps-missing", routine("title: Nothing\nsummary: yet\n"), 1,
         "list at least one step", field="steps"),
    Case("rest-step-extra-field", routine(BASE + "  - rest: 30s\n    hold: 10s\n"), 13,
         "only rest and say", label="step 4 (rest)", field="hold"),
    Case("inline-exercise",
         routine(BASE + "  - exercise:\n      id: my-move\n      kind: reps\n"
                 "      reps: 5\n      tempo: quick\n"),
         16, "a duration like 45", label="step 4 (my-move)", field="tempo"),
    Case("library-exercise",
         {"routine.yaml": "library: moves.yaml\n" + BASE,
          "moves.yaml": "- id: foo\n  hold: 3s\n- id: bar\n  kind: reps\n  tempo: slow\n"},
         5, "a duration like 45", label="exercise bar", field="tempo", file="moves.yaml"),
    # --- build-time --set (validate has no --set)
    Case("set-unknown-step", routine(BASE), None, "use a step number (1-3) or one of",
         file="--set", args=("--set", "nosuch.hold=45s"), commands=("plan", "build")),
    Case("set-unknown-field", routine(BASE), None, "allowed: exercise, hold, reps, tempo",
         suggest="hold", file="--set", args=("--set", "2.hodl=3"), commands=("plan", "build")),
    Case("set-bad-value", routine(BASE), None, "a duration like 45", label=STEP2,
         field="hold", file='--set "2.hold=fast"', args=("--set", "2.hold=fast"),
         commands=("plan", "build")),
    Case("set-no-such-number", routine(BASE), None, "numbered 1 to 3", file="--set",
         args=("--set", "99.hold=3s"), commands=("plan", "build")),
    Case("set-garbage", routine(BASE), None, "STEP.FIELD=VALUE", file="--set",
         args=("--set", "garbage"), commands=("plan", "build")),
    Case("set-phases-list", routine(BASE), None, "must be equal", label="step 1 (dead-bug)",
         field="phases", file='--set "1.phases=', commands=("plan", "build"),
         args=("--set", "1.phases=[{say: out, for: 3s}, {say: back, for: 2s}]")),
    Case("set-inline-exercise", routine(BASE), None, "allowed: breathe, caution",
         label="step 2 (my-move)", field='"hodl"', suggest="hold", file='--set "2.exercise=',
         args=("--set", "2.exercise={id: my-move, hodl: 5s}"), commands=("plan", "build")),
    # --- several independent mistakes: every one, in file order
    Case("three-mistakes",
         routine(edit("hold: 30s", "hold: fast").replace("sets: 3", "sets: 0")
                 + "voice: {engine: espeak}\n"),
         6, "a duration like 45", label=STEP2, field="hold",
         more=((11, (STEP3, "sets", "between 1 and 20")),
               (12, ("voice.engine", "auto | piper | pyttsx3")))),
    Case("mistakes-in-one-step", routine(edit("tempo: 3s", "tempo: fast\n    sides: both")), 10,
         "a duration like 45", label=STEP3, field="tempo",
         more=((11, (STEP3, "sides", "none | each | alternate")),)),
    Case("unknown-fields-each", routine(edit("title:", "titel:") + "sumary: x\n"), 1,
         "allowed: caution", field='"titel"', suggest="title",
         more=((12, ('"sumary"', 'did you mean "summary"')),)),
    Case("library-mistakes",
         {"routine.yaml": "library: moves.yaml\n" + BASE,
          "moves.yaml": "- id: foo\n  hold: forever\n- id: Bar\n  hold: 3s\n"},
         2, "a duration like 45", label="exercise foo", field="hold", file="moves.yaml",
         more=((3, ("exercise 2", "id", "must be a slug")),)),
]
# fmt: on


@pytest.fixture(autouse=True)
def no_synthesis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bad input must be refused before any speech engine is set up."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("bad input reached speech synthesis")

    monkeypatch.setattr(routinecast.pipeline, "synthesizer", refuse)


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder / "routine.yaml"


def invoke(command: str, target: Path, out: Path, args: tuple[str, ...]) -> tuple[int, str]:
    argv = [command, str(target), *args]
    if command == "build":
        argv += ["--output", str(out)]
    result = CliRunner().invoke(app, argv)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stderr or result.output


def check_message(case: Case, message: str) -> None:
    """Location, step, field, allowed values and did-you-mean, all in one message."""
    if case.file.startswith("--"):  # an option, not a file: no line
        assert f"error: {case.file}" in message
        assert not re.search(r":\d+:", message)
    elif case.line is None:
        assert f"error: {case.file}: " in message
        assert not re.search(rf"{re.escape(case.file)}:\d+:", message)
    else:
        assert message.startswith(f"error: {case.file}:{case.line}: ")
    for part in (case.label, case.field, case.allowed, *case.extra):
        if part is not None:
            assert part in message, f"{part!r} missing"
    if case.suggest is not None:
        assert f'(did you mean "{case.suggest}"?)' in message
    assert "Traceback" not in message
    lines = message.strip().splitlines()
    assert len(lines) == 1 + len(case.more), "one message per mistake, each on one line"
    for (line, parts), text in zip(case.more, lines[1:], strict=True):
        assert text.startswith(f"error: {case.file}:{line}: "), text
        for part in parts:
            assert part in text, f"{part!r} missing from {text!r}"


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.rglob("*")) if out.exists() else []


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gets_one_clear_message(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = write_files(tmp_path, case.files)
    out = tmp_path / "out"
    for command in case.commands:
        code, message = invoke(command, target, out, case.args)
        assert code == 2, f"{command}: exit {code}: {message}"
        check_message(case, message)
    assert leftovers(out) == []


def test_library_file_is_fine_for_validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``validate`` checks libraries too, so a library passed to it is not an error."""
    monkeypatch.chdir(tmp_path)
    target = write_files(tmp_path, routine("- id: my-move\n  hold: 5s\n"))
    code, message = invoke("validate", target, tmp_path / "out", ())
    assert code == 0
    assert "library, 1 exercises" in message


def test_failed_build_leaves_older_mp3_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = write_files(tmp_path, routine(edit("tempo: 3s", "tempo: fast")))
    out = tmp_path / "out"
    out.mkdir()
    old = out / "routine.mp3"
    old.write_bytes(b"ID3 an older build \x00\x01\x02")
    code, message = invoke("build", target, out, ())
    assert code == 2
    assert f"error: routine.yaml:10: {STEP3}: tempo" in message
    assert old.read_bytes() == b"ID3 an older build \x00\x01\x02"
    assert leftovers(out) == ["routine.mp3"]


@pytest.mark.parametrize(
    "command",
    ["validate", "plan", "build"],
)
def test_brackets_in_a_value_are_shown_literally(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value like "[/x]" is quoted back as written, not taken for console markup."""
    monkeypatch.chdir(tmp_path)
    target = write_files(tmp_path, routine(edit("tempo: 3s", 'tempo: "[bold]x[/x]"')))
    code, message = invoke(command, target, tmp_path / "out", ())
    assert code == 2
    assert 'got "[bold]x[/x]"' in message


def test_many_mistakes_are_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """25 independent mistakes: the first 20, each on its line, then "and 5 more"."""
    monkeypatch.chdir(tmp_path)
    steps = "".join(f"  - exercise: plank\n    hold: {n} apples\n" for n in range(25))
    target = write_files(tmp_path, routine("title: Many\nsteps:\n" + steps))
    for command in ALL:
        code, message = invoke(command, target, tmp_path / "out", ())
        assert code == 2
        lines = message.strip().splitlines()
        assert len(lines) == MAX_SHOWN_ERRORS + 1
        for n, text in enumerate(lines[:-1]):
            assert text.startswith(f"error: routine.yaml:{4 + 2 * n}: step {n + 1} (plank): hold")
        assert lines[-1] == "and 5 more"
    assert leftovers(tmp_path / "out") == []


def test_a_syntax_error_stays_one_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bad YAML makes every later check meaningless: one message, however much else is wrong."""
    monkeypatch.chdir(tmp_path)
    text = edit("hold: 60s", "hold: 60s: or so").replace("sets: 3", "sets: 0")
    target = write_files(tmp_path, routine(text))
    code, message = invoke("validate", target, tmp_path / "out", ())
    assert code == 2
    assert len(message.strip().splitlines()) == 1
    assert "YAML syntax error" in message


def test_an_error_group_behaves_like_its_first_error() -> None:
    first = InputError("must be a duration", file="r.yaml", line=6, where="step 2", field="hold")
    second = InputError("must be between 1 and 20, got 0", file="r.yaml", line=11, field="sets")
    group = InputErrors.combine([first, second, first])
    assert isinstance(group, InputErrors) and isinstance(group, InputError)
    assert (group.file, group.line, group.where, group.field) == ("r.yaml", 6, "step 2", "hold")
    assert group.lines() == (first.render(), second.render())
    assert str(group) == first.render() + "\n" + second.render()
    assert InputErrors.combine([first]) is first
    nested = InputErrors.combine([group, InputError("x", file="--set")])
    assert isinstance(nested, InputErrors) and len(nested.errors) == 3
    located = InputErrors([InputError("is empty", field="steps"), first]).located(file="v.yaml")
    assert located.lines()[0] == "v.yaml: steps is empty"
    many = InputErrors([InputError(f"mistake {n}", line=n + 1) for n in range(23)])
    assert len(many.lines()) == MAX_SHOWN_ERRORS and many.hidden == 3
    assert str(many).endswith("\nand 3 more")
