"""``sounds:`` in a routine: tone names to files, each relative to the file naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from routinecast.errors import InputError
from routinecast.load.routine import load_routine

STEPS = "steps:\n  - exercise: dead-bug\n    hold: 30s\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_paths_are_relative_to_the_file_that_names_them(tmp_path: Path) -> None:
    write(tmp_path / "base" / "bell.wav", "x")
    write(tmp_path / "mine" / "clap.wav", "x")
    write(tmp_path / "base" / "base.yaml", "title: Base\nsounds:\n  start: bell.wav\n" + STEPS)
    child = write(
        tmp_path / "mine" / "child.yaml",
        "extends: ../base/base.yaml\nsounds:\n  stop: clap.wav\n",
    )
    routine = load_routine(child)
    assert dict(routine.sounds) == {
        "start": str((tmp_path / "base" / "bell.wav").resolve()),
        "stop": str((tmp_path / "mine" / "clap.wav").resolve()),
    }


def test_a_missing_file_names_the_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path / "r.yaml", "title: R\nsounds:\n  start: bell.wav\n" + STEPS)
    with pytest.raises(InputError, match=r"r\.yaml:3: sounds\.start names .*bell\.wav"):
        load_routine(path)


def test_only_tones_can_be_replaced(tmp_path: Path) -> None:
    write(tmp_path / "bell.wav", "x")
    path = write(tmp_path / "r.yaml", "title: R\nsounds:\n  strat: bell.wav\n" + STEPS)
    with pytest.raises(InputError, match=r'r\.yaml:3: "strat" is not a known field') as error:
        load_routine(path)
    assert 'did you mean "start"' in str(error.value)
    assert "allowed: breath, start, stop, tick" in str(error.value)
