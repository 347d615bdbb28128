"""Fuzz: random YAML trees and mutated shipped routines never raise anything but ``InputError``.

Whatever a routine file holds, loading it (and laying out a routine that loaded) either
works or raises the project's own ``InputError`` whose message names a file: never a
``KeyError``, ``TypeError``, ``RecursionError`` or any other crash.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from routinecast.cues import template_names
from routinecast.errors import InputError
from routinecast.load.routine import (
    EXERCISE_FIELDS,
    PACING_FIELDS,
    ROUTINE_FIELDS,
    STEP_FIELDS,
    VOICE_FIELDS,
    load_library,
    load_routine,
    shipped_library_path,
)
from routinecast.timing.compiler import compile_timeline
from routinecast.timing.script import build_script, spoken_texts

ROUTINES = Path(__file__).resolve().parents[2] / "routines"
SHIPPED = sorted(p.name for p in ROUTINES.glob("*.yaml") if p.name != "exercises.yaml")
FIELDS = sorted(
    {
        *ROUTINE_FIELDS,
        *STEP_FIELDS,
        *EXERCISE_FIELDS,
        *PACING_FIELDS,
        *VOICE_FIELDS,
        *template_names(),
        "at",
        "say",
        "for",
    }
)
IDS = sorted(load_library(shipped_library_path()))
# fmt: off
WORDS = [
    "3s", "45", "1m30s", "0", "-10s", "half", "4-4", "5-5", "each", "alternate", "none",
    "left", "right", "hold", "reps", "flow", "auto", "piper", "{{ rest }}", "{{ restt }}",
    "{{ seconds(rest) }}", "{% if side %}x{% endif %}", "{{", "exercises.yaml", ".", "",
    "desk-hip-reset.yaml", "10h", "1e400", "nan", "[/x]", "\u00b2", "caf\u00e9",
]
# fmt: on
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(WORDS),
    st.sampled_from(IDS),
)
keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=6))
trees = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=30,
)
plausible = st.one_of(
    st.sampled_from(WORDS), st.integers(min_value=0, max_value=40), st.sampled_from(IDS)
)
values = st.one_of(plausible, plausible, trees)
steps = st.lists(
    st.builds(
        lambda exercise, fields: {"exercise": exercise, **fields},
        st.one_of(st.sampled_from(IDS), st.sampled_from(IDS), trees),
        st.dictionaries(st.sampled_from(STEP_FIELDS), values, max_size=3),
    ),
    min_size=1,
    max_size=4,
)
routine_like = st.builds(
    lambda extra, title, steps: {**extra, "title": title, "steps": steps},
    st.dictionaries(st.sampled_from(ROUTINE_FIELDS), values, max_size=3),
    scalars,
    steps,
)


def load_and_lay_out(path: Path, text: bytes) -> None:
    """Write ``text`` to ``path``, check the property, then put the shipped file back.

    The property: loading and layout raise nothing but ``InputError``s naming a file.
    """
    original = ROUTINES / path.name
    path.write_bytes(text)
    try:
        _check(path)
    finally:
        if original.exists():
            shutil.copyfile(original, path)


def _check(path: Path) -> None:
    try:
        routine = load_routine(path)
        texts = spoken_texts(build_script(routine))
        compile_timeline(routine, dict.fromkeys(texts, 1000))
        event("loaded and laid out")
    except InputError as exc:
        event(f"InputError about {exc.field or exc.where or 'the file'}")
        message = str(exc)
        assert exc.file, message
        assert message.startswith(exc.file), message
        assert path.name in message or (path.parent / Path(exc.file).name).exists(), message


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the shipped routines (so ``extends`` between them still works)."""
    target = tmp_path / "routines"
    shutil.copytree(ROUTINES, target)
    return target


@FUZZ
@given(doc=st.one_of(trees, routine_like))
def test_random_yaml_trees(folder: Path, doc: Any) -> None:
    load_and_lay_out(folder / "fuzz.yaml", yaml.safe_dump(doc, allow_unicode=True).encode())


def spots(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a mapping value or list item in a plain YAML tree."""
    found: list[tuple[Any, ...]] = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, value in items:
        found.append((*prefix, key))
        found.extend(spots(value, (*prefix, key)))
    return found


def mutate(doc: Any, spot: tuple[Any, ...], action: str, value: Any) -> Any:
    """``doc`` with the value at ``spot`` deleted, replaced or duplicated."""
    doc = copy.deepcopy(doc)
    parent = doc
    for key in spot[:-1]:
        parent = parent[key]
    last = spot[-1]
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(last, copy.deepcopy(parent[last]))
    else:
        parent[last] = [parent[last], copy.deepcopy(parent[last])]
    return doc


@FUZZ
@given(data=st.data(), name=st.sampled_from(SHIPPED))
def test_mutated_shipped_routines(folder: Path, data: st.DataObject, name: str) -> None:
    doc = yaml.safe_load((ROUTINES / name).read_text(encoding="utf-8"))
    for _ in range(data.draw(st.integers(min_value=1, max_value=3), label="mutations")):
        places = spots(doc)
        if not places:
            break
        spot = data.draw(st.sampled_from(places), label="spot")
        action = data.draw(st.sampled_from(["delete", "replace", "duplicate"]), label="action")
        doc = mutate(doc, spot, action, data.draw(trees, label="value"))
    load_and_lay_out(folder / name, yaml.safe_dump(doc, allow_unicode=True).encode())


@FUZZ
@given(
    name=st.sampled_from(SHIPPED),
    where=st.floats(min_value=0, max_value=1),
    insert=st.one_of(
        st.binary(min_size=1, max_size=6),
        st.text(min_size=1, max_size=6).map(lambda t: t.encode("utf-8")),
        st.sampled_from(
            [
                b"\t",
                b": ",
                b"- ",
                b"{",
                b"[",
                b"'",
                b'"',
                b"&a ",
                b"*a",
                b"\n  ",
                b"\n",
                b"#",
                b"---\n",
                b"\xef\xbb\xbf",
            ]
        ),
    ),
    cut=st.integers(min_value=0, max_value=4),
)
def test_shipped_routines_with_bytes_inserted(
    folder: Path, name: str, where: float, insert: bytes, cut: int
) -> None:
    data = (ROUTINES / name).read_bytes()
    at = int(where * len(data))
    load_and_lay_out(folder / name, data[:at] + insert + data[at + cut :])
