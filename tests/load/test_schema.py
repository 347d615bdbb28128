"""The shipped JSON Schema: up to date, printed by the CLI, and true to the shipped files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from routinecast.cli import app
from routinecast.load.schema import json_schema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "docs" / "routinecast.schema.json"
ROUTINES = ROOT / "routines"
SCHEMA_LINE = "# yaml-language-server: $schema=../docs/routinecast.schema.json"
SHIPPED = sorted(ROUTINES.glob("*.y*ml"))

try:
    import jsonschema
except ImportError:  # not a routinecast dependency; the schema tests that need it skip
    jsonschema = None

needs_jsonschema = pytest.mark.skipif(
    jsonschema is None, reason="jsonschema is not installed (it is not a routinecast dependency)"
)


def expected_text() -> str:
    """What scripts/write_schema.py writes."""
    return json.dumps(json_schema(), indent=1) + "\n"


def validator() -> Any:
    """A Draft 7 validator of the generated schema."""
    schema = json_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def problems(document: Any) -> list[str]:
    """Every schema violation of ``document``, as readable lines."""
    out = []
    for error in validator().iter_errors(document):
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        out.append(f"{where}: {error.message}")
        for sub in error.context or ():
            sub_where = "/".join(str(p) for p in sub.absolute_path) or "(top)"
            out.append(f"    {sub_where}: {sub.message}")
    return out


def test_schema_file_is_up_to_date() -> None:
    assert SCHEMA_FILE.exists(), (
        "docs/routinecast.schema.json is missing: run scripts/write_schema.py"
    )
    assert SCHEMA_FILE.read_text(encoding="utf-8") == expected_text(), (
        "docs/routinecast.schema.json differs from routinecast.load.schema.json_schema(); "
        "run `python scripts/write_schema.py` and commit the result"
    )


def test_cli_prints_the_same_schema() -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json_schema()
    assert result.output == expected_text()


def test_shipped_files_point_at_the_schema() -> None:
    assert SHIPPED, "no shipped routines found"
    for path in SHIPPED:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == SCHEMA_LINE, f"{path.name}: first line should be {SCHEMA_LINE!r}"


@needs_jsonschema
def test_the_schema_is_valid_draft_7() -> None:
    validator()


@needs_jsonschema
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_file_validates_against_schema(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = problems(document)
    assert not found, f"{path.name} does not match the schema:\n" + "\n".join(found)


@needs_jsonschema
def test_unknown_routine_field_fails_schema() -> None:
    text = """\
title: Typo
steps:
  - exercise: dead-bug
    hold: 60s
pacnig:
  rest: 20s
"""
    assert problems(yaml.safe_load(text)), "an unknown top-level field must fail the schema"
    fixed = yaml.safe_load(text.replace("pacnig:", "pacing:"))
    assert not problems(fixed), "the same routine spelt right must pass"


@needs_jsonschema
@pytest.mark.parametrize(
    "text",
    [
        "title: T\nsteps:\n  - exercise: dead-bug\n    hodl: 60s\n",
        "title: T\npacing: {rest: 20s, countdwon: 3}\nsteps:\n  - exercise: dead-bug\n",
        "title: T\ncues: {halfwya: Half.}\nsteps:\n  - exercise: dead-bug\n",
        "- id: my-move\n  hold: 30s\n  kinds: hold\n",
    ],
    ids=["step", "pacing", "cue-template", "library"],
)
def test_unknown_nested_field_fails_schema(text: str) -> None:
    assert problems(yaml.safe_load(text)), text
