"""The console script ends a finished command at once, output flushed, exit handlers run;
the usual way when a thread is still working (``routinecast.console``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from routinecast.console import exit_code


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_leave_flushes_runs_the_exit_handlers_and_keeps_the_code() -> None:
    done = _python(
        "import atexit, sys\n"
        "from routinecast.console import leave\n"
        "atexit.register(lambda: print('handler', end=''))\n"
        "print('said ', end='')\n"
        "print('warned', end='', file=sys.stderr)\n"
        "leave(3)\n"
    )
    assert (done.returncode, done.stdout, done.stderr) == (3, "said handler", "warned")


def test_leave_skips_the_teardown() -> None:
    done = _python(
        "from routinecast.console import leave\n"
        "class Noisy:\n"
        "    def __del__(self): print('torn down')\n"
        "kept = Noisy()\n"
        "leave(0)\n"
    )
    assert (done.returncode, done.stdout) == (0, "")


def test_leave_waits_for_a_working_thread() -> None:
    done = _python(
        "import threading, time\n"
        "from routinecast.console import leave\n"
        "def work(): time.sleep(0.3); print('finished', flush=True)\n"
        "threading.Thread(target=work).start()\n"
        "leave(4)\n"
    )
    assert (done.returncode, done.stdout.strip()) == (4, "finished")


@pytest.mark.parametrize(("code", "status", "said"), [(None, 0, ""), (2, 2, ""), ("no", 1, "no")])
def test_exit_code_is_what_sys_exit_gives(
    code: int | str | None, status: int, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exit_code(SystemExit(code)) == status
    assert capsys.readouterr().err.strip() == said


def test_the_script_ends_with_its_output_and_status(tmp_path: Path, routines_dir: Path) -> None:
    script = shutil.which("routinecast")
    assert script, "the routinecast console script is installed (pip install -e .)"
    listed = [script, "list", str(routines_dir)]
    good = subprocess.run(listed, capture_output=True, text=True, timeout=60)
    assert good.returncode == 0 and "desk-hip-reset" in good.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [\n", encoding="utf-8")
    refused = subprocess.run([script, "validate", str(bad)], capture_output=True, text=True)
    assert refused.returncode == 2 and "bad.yaml" in refused.stderr
