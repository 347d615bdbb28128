"""The field table is the one truth: the loader, the JSON Schema and the guide agree with it.

For every field of every table in ``routinecast.load.spec``, valid values (its example,
its limits, null where that means none) and invalid ones (a value of the wrong type,
just past each limit) are made from the table, put in a small routine or library, and
given to both the loader and the schema: they must give the same verdict, and the
verdict must be the expected one. The guide's field tables must be the generated ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from routinecast.errors import InputError
from routinecast.load.reference import field_table, marked_groups, update_guide
from routinecast.load.routine import load_library, load_routine
from routinecast.load.schema import json_schema
from routinecast.load.spec import GROUPS, FieldSpec

jsonschema = pytest.importorskip("jsonschema")

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "routine-format.md"
ROUTINE: dict[str, Any] = {"title": "T", "steps": [{"exercise": "plank"}]}
WORK: dict[str, dict[str, Any]] = {
    "hold": {"hold": "30s"},
    "reps": {"reps": 5, "tempo": "2s"},
    "flow": {"hold": "30s"},
}
"""An exercise of each kind with the work fields it needs."""
COMPANIONS = {
    "base.yaml": "title: Base\nsteps:\n  - exercise: plank\n",
    "my-moves.yaml": "- id: wall-sit\n  hold: 30s\n",
    "bell.wav": "",
}
"""Files the examples of ``extends`` and ``library`` name."""
WRONG_TYPE: dict[str, list[Any]] = {
    "text": [{"a": 1}, ["a"], True, "x" * 601],
    "duration": ["fast", True, [30], "1m30", "-5s"],
    "whole": ["three", 2.5, True, [3]],
    "number": ["fast", True, [1]],
    "flag": ["maybe", 1, None],
    "choice": ["sideways", 3, None],
    "slug": ["Dead Bug", "d\u00e9ad-bug", "dead_bug", 4.5, {"a": 1}],
    "path": [{"a": 1}, ["a"]],
    "paths": [{"a": 1}, [["a"]], None],
    "names": [{"a": 1}, [["mat"]], [{"a": 1}]],
    "breathe": ["4/4", 4, "4-4-4", True, ["4", "4"]],
    "cue time": ["soon", True, [3], "+3s"],
    "times": ["soon", True, [[10]], {"a": 1}],
    "pairs": ["up", {"say": "up"}, [{"say": "up"}], [{"say": "up", "for": "1s", "x": 1}]],
    "exercise": [5, ["plank"], {"hold": "10s"}, {"id": "Bad Id", "hold": "10s"}],
    "fields": [5, "x", ["a"], {"nope": 1}],
    "words": [5, "x", {"psoas": {"a": 1}}],
    "templates": [5, "x", {"rets": "Rest."}, {"rest": ["x"]}],
    "sounds": [5, "x", ["bell.wav"], {"beep": "bell.wav"}, {"start": ["bell.wav"]}],
    "steps": [[], "plank", [5], [{"hodl": 3}], None],
    "override": [5, {"plank": 5}, {"plank": {"hodl": 1}}],
}
"""Values of the wrong shape for each type of field (some also break a rule of the type)."""
RIGHT_TYPE: dict[str, list[Any]] = {
    "slug": [42, "a-1"],
    "breathe": [False, None, "1-20", "4 seconds-6 seconds"],
    "cue time": ["half", -10, "-10s", " - 10 s", "1 min"],
    "times": [[], None, False, 10, [30, "10s"]],
    "names": ["mat", None, []],
    "exercise": [{"id": "my-move", "hold": "10s"}],
    "override": [{"1": {"hold": "45s"}}, {"plank": {"sets": 2}}],
    "duration": ["40 seconds"],
    "whole": [" 3 "],
}
"""More valid values of each type, written the other ways the type allows."""


def limit_values(spec: FieldSpec) -> tuple[list[Any], list[Any]]:
    """(valid, invalid) values at and just past the field's limits, as numbers."""
    limit = spec.limit
    if limit is None or spec.type not in ("duration", "whole", "number", "cue time", "times"):
        return [], []
    if spec.type == "whole":
        return [int(limit.low), int(limit.high)], [int(limit.low) - 1, int(limit.high) + 1]
    if spec.type == "number":
        return [limit.low, limit.high], [limit.low - 0.1, limit.high + 0.1]
    low, high = limit.low / 1000, limit.high / 1000
    valid: list[Any] = [low, high, limit.show(limit.high)]
    invalid: list[Any] = [high + 0.001, low - 0.001 if low > 0 else -0.001]
    if spec.type == "cue time":
        return [*valid, -high], [high + 0.001, -high - 0.001]
    if spec.type == "times":
        return [*valid, [high, low]], [*invalid, [low, high + 0.001]]
    return valid, invalid


def pair_values(spec: FieldSpec) -> tuple[list[Any], list[Any]]:
    """(valid, invalid) lists of pairs, from the fields of one pair and their own samples."""
    if spec.type != "pairs":
        return [], []
    base = {sub.name: sub.example for sub in spec.of}
    valid, invalid = [], []
    for sub in spec.of:
        edges = limit_values(sub)[0]  # one phase at a limit is a tempo beyond its own
        for value, ok in samples(sub):
            if not (ok and value in edges):
                (valid if ok else invalid).append([{**base, sub.name: value}])
    return valid, invalid


def samples(spec: FieldSpec) -> list[tuple[Any, bool]]:
    """(value, expected to be valid) pairs for one field."""
    valid = [spec.example, *RIGHT_TYPE.get(spec.type, []), *limit_values(spec)[0]]
    invalid = [*WRONG_TYPE[spec.type], *limit_values(spec)[1]]
    valid += pair_values(spec)[0]
    invalid += pair_values(spec)[1]
    if spec.type == "text":
        (invalid if spec.required else valid).append(None)
        (invalid if spec.required else valid).append("   ")
    if spec.nullable:
        valid.append(None)
    if spec.min_items:
        invalid.append([])
    return [(v, True) for v in valid] + [(v, False) for v in invalid]


def document(group: str, spec: FieldSpec, value: Any) -> Any:
    """A routine or library that is valid but for ``value`` in field ``spec``."""
    if group == "routine":
        return {**ROUTINE, spec.name: value}
    if group in ("pacing", "voice"):
        return {**ROUTINE, group: {spec.name: value}}
    if spec.name == "exercise":
        return {**ROUTINE, "steps": [{"exercise": value}]}
    if spec.name == "id":
        return [{"id": value, **WORK["hold"]}]
    kind = value if spec.name == "kind" and value in WORK else spec.kinds[0]
    dropped = {spec.name, "tempo"} if spec.name == "phases" else {spec.name}  # phases set it
    work = {key: v for key, v in WORK[kind].items() if key not in dropped}
    exercise = {"id": "move", "kind": kind, **work}
    if group == "exercise":
        return [{**exercise, spec.name: value}]
    return {**ROUTINE, "steps": [{"exercise": exercise, spec.name: value}]}


CASES = [
    pytest.param(group, spec, value, ok, id=f"{group}.{spec.name}-{'ok' if ok else 'bad'}{n}")
    for group, table in GROUPS.items()
    for spec in table
    for n, (value, ok) in enumerate(samples(spec))
]


def loader_accepts(text: str, folder: Path, library: bool) -> bool:
    path = folder / "doc.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        (load_library if library else load_routine)(path)
    except InputError:
        return False
    return True


@pytest.mark.parametrize(("group", "spec", "value", "ok"), CASES)
def test_loader_and_schema_agree(
    group: str, spec: FieldSpec, value: Any, ok: bool, tmp_path: Path
) -> None:
    for name, text in COMPANIONS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    text = yaml.safe_dump(document(group, spec, value), allow_unicode=True)
    doc = yaml.safe_load(text)
    by_schema = jsonschema.Draft7Validator(json_schema()).is_valid(doc)
    by_loader = loader_accepts(text, tmp_path, isinstance(doc, list))
    assert (by_loader, by_schema) == (ok, ok), f"{group}.{spec.name}: {value!r}\n{text}"


def test_every_field_has_samples_both_ways() -> None:
    for group, table in GROUPS.items():
        for spec in table:
            verdicts = {ok for _, ok in samples(spec)}
            assert verdicts == {True, False}, f"{group}.{spec.name}"


def test_the_guide_shows_the_generated_field_tables() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert sorted(marked_groups(text)) == sorted(GROUPS)
    assert text == update_guide(text), (
        "docs/routine-format.md's field tables differ from routinecast.load.spec; "
        "run `python scripts/write_schema.py` and commit the result"
    )


def test_a_table_lists_every_field_with_its_limits() -> None:
    table = field_table(GROUPS["step"])
    assert "| `sets`" in table and "a whole number, 1 to 20" in table
    assert "hold, flow" in table
