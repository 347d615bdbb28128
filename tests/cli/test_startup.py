"""Start-up: a command imports only what it needs.

Each command runs in a fresh interpreter through a tiny wrapper (the CLI, then the
heavy modules found in ``sys.modules``): ``plan``, ``validate``, ``list`` and
``schema`` never load numpy, scipy, onnxruntime or pydantic (typer 0.29 and later
coerce every option through pydantic, 0.1 s more per command); ``plan`` on a routine whose lines
are cached reads their lengths from the clip headers alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from routinecast.pipeline import BuildOptions, build

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("numpy", "scipy", "onnxruntime", "piper", "multiprocessing.pool", "pydantic")
WRAPPER = f"""
import sys
from routinecast.cli import app
try:
    app(sys.argv[1:])
except SystemExit as done:
    code = done.code or 0
print("HEAVY:" + ",".join(m for m in {HEAVY!r} if m in sys.modules), "EXIT:" + str(code))
"""

ROUTINE = """\
title: Startup Check
steps:
  - exercise: dead-bug
    hold: 8s
"""


def run(args: list[str], cache: Path) -> tuple[list[str], int, str]:
    """(heavy modules loaded, exit code, stdout) of one command in a fresh interpreter."""
    env = {**os.environ, "ROUTINECAST_CACHE_DIR": str(cache), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    last = done.stdout.strip().splitlines()[-1]
    heavy, code = last.split(" EXIT:")
    names = heavy.removeprefix("HEAVY:")
    return [n for n in names.split(",") if n], int(code), done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "routines/desk-hip-reset.yaml"],
        ["plan", "routines/desk-hip-reset.yaml", "--fit", "15m", "--engine", "pyttsx3"],
        ["validate", "routines/desk-hip-reset.yaml", "routines/exercises.yaml"],
        ["list"],
        ["schema"],
    ],
    ids=["plan", "plan-fit", "validate", "list", "schema"],
)
def test_light_commands_import_no_numpy(args: list[str], tmp_path: Path) -> None:
    heavy, code, _ = run(args, tmp_path / "cache")
    assert code == 0
    assert heavy == []


def test_plan_of_a_cached_routine_reads_headers_only(tmp_path: Path) -> None:
    path = tmp_path / "startup-check.yaml"
    path.write_text(ROUTINE, encoding="utf-8")
    cache = tmp_path / "cache"
    build(path, BuildOptions(output_dir=tmp_path / "out", engine="fake", cache_dir=cache))
    heavy, code, stdout = run(["plan", str(path), "--engine", "fake"], cache)
    assert code == 0 and heavy == []
    assert "not synthesised yet" not in stdout, "every length came from the cache"


def test_a_spawned_speech_worker_does_not_import_the_command_line() -> None:
    # A spawned process first runs the script that started its parent, as __mp_main__:
    # the console script imports only routinecast.console, not typer and every command.
    script = shutil.which("routinecast")
    assert script, "the routinecast console script is installed (pip install -e .)"
    code = (
        "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__mp_main__'); "
        "print(sorted(m for m in ('typer', 'click', 'routinecast.cli') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
    assert "routinecast.console" in Path(script).read_text("utf-8")
