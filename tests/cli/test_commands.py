"""The CLI through typer's runner: plan, list, new, schema, build of a folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routinecast.cli import app

ROUTINES = Path(__file__).resolve().parents[2] / "routines"


def test_plan_shows_total_target_and_estimates(runner: CliRunner) -> None:
    result = runner.invoke(app, ["plan", str(ROUTINES / "desk-hip-reset.yaml")])
    assert result.exit_code == 0, result.output
    assert "Knees-over-towel psoas release" in result.output
    assert "target 12m:" in result.output and "over" in result.output
    assert "total " in result.output


def test_plan_psoas_release_is_ten_minutes_of_work(runner: CliRunner) -> None:
    result = runner.invoke(app, ["plan", str(ROUTINES / "psoas-release.yaml")])
    assert result.exit_code == 0, result.output
    assert "work 10m;" in result.output


def test_plan_with_override_says_so(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["plan", str(ROUTINES / "desk-hip-reset.yaml"), "--hold", "45s", "--events"]
    )
    assert result.exit_code == 0, result.output
    assert "overrides: holds 45 s" in result.output


def test_list_shows_every_routine_with_a_length(runner: CliRunner) -> None:
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    for path in ROUTINES.glob("*.yaml"):
        assert path.name in result.output
    assert "invalid" not in result.output
    assert "dead-bug" in result.output


def test_new_writes_a_routine_that_validates(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["new", "my-evening", "--folder", str(tmp_path)])
    assert result.exit_code == 0, result.output
    path = tmp_path / "my-evening.yaml"
    assert path.read_text("utf-8").startswith("# yaml-language-server: $schema=")
    check = runner.invoke(app, ["validate", str(path)])
    assert check.exit_code == 0, check.output
    again = runner.invoke(app, ["new", "my-evening", "--folder", str(tmp_path)])
    assert again.exit_code == 2 and "already exists" in again.output


def test_schema_is_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert "oneOf" in schema


def test_validate_all_shipped_files(runner: CliRunner) -> None:
    files = [str(p) for p in sorted(ROUTINES.glob("*.yaml"))]
    result = runner.invoke(app, ["validate", *files])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok ") == len(files)


@pytest.mark.slow
def test_build_folder_reports_failures_and_goes_on(runner: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "good.yaml").write_text(
        "title: Good\nsteps:\n  - exercise: plank\n    hold: 5s\n", encoding="utf-8"
    )
    (folder / "bad.yaml").write_text(
        "title: Bad\nsteps:\n  - exercise: plonk\n    hold: 5s\n", encoding="utf-8"
    )
    (folder / "lib.yaml").write_text("- id: my-move\n  hold: 5s\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", str(folder), "--output", str(out)])
    assert result.exit_code == 2, result.output
    assert "built 1 of 2 routines" in result.output
    assert 'did you mean "plank"' in result.output
    assert (out / "good.mp3").exists() and not (out / "bad.mp3").exists()
    assert not (out / "lib.mp3").exists()


def test_plan_verbose_lists_what_was_left_out_and_why(runner: CliRunner) -> None:
    result = runner.invoke(app, ["plan", str(ROUTINES / "desk-hip-reset.yaml"), "--verbose"])
    assert result.exit_code == 0, result.output
    assert "left out (" in result.output
    # the 20 s holds: "Halfway." and "10 seconds left." fall together; one is said
    assert '"Halfway.": said as one with "10 seconds left."' in result.output
    quiet = runner.invoke(app, ["plan", str(ROUTINES / "desk-hip-reset.yaml")])
    assert "left out" not in quiet.output


def test_plan_events_shows_tones(runner: CliRunner) -> None:
    result = runner.invoke(app, ["plan", str(ROUTINES / "desk-micro-break.yaml"), "--events"])
    assert result.exit_code == 0, result.output
    assert "[start]" in result.output and "[stop]" in result.output


def test_share_takes_every_build_option_with_the_same_help() -> None:
    import typer

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    options = {
        name: {p.name: p.help for p in commands[name].params if p.param_type_name == "option"}
        for name in ("build", "share")
    }
    assert options["build"].items() <= options["share"].items()


def test_share_refuses_build_options_without_routines_to_build(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["share", str(tmp_path), "--sound", "start=bell.wav"])
    assert result.exit_code == 2
    assert "build options need routine files to build" in result.output
