"""``routinecast studio`` as a real process: the URL line, loopback only, Ctrl-C, mistakes.

Each test starts this checkout's command in a subprocess (real sockets, real signals)
on a copy of the routines folder, with the fake engine where speech is not the point.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from sharekit import cli_command, cli_env, listening_on
from studiokit import ROUTINES, start_studio


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return Path(shutil.copytree(ROUTINES, tmp_path / "routines"))


def test_it_prints_its_url_serves_on_loopback_only_and_stops_on_ctrl_c(
    folder: Path, tmp_path: Path
) -> None:
    running = start_studio(
        str(folder), "--no-browser", "--port", "0", "--engine", "fake", "-o", str(tmp_path / "o")
    )
    try:
        assert running.url.startswith("http://127.0.0.1:") and running.url.endswith("/")
        assert running.head[-1].strip() == running.url  # the URL on a line of its own
        assert len(running.get("/api/session")["token"]) >= 32
        assert "desk-hip-reset.yaml" in {r["file"] for r in running.get("/api/routines")}
        port = int(running.url.rsplit(":", 1)[1].strip("/"))
        if Path("/proc/net/tcp").is_file():
            assert listening_on(port) == {"127.0.0.1"}  # not the LAN address, not 0.0.0.0
    finally:
        code, out, err = running.stop()
    assert code == 0, err
    assert out.rstrip().endswith("stopped")
    assert "Traceback" not in err


def test_ctrl_c_during_a_build_leaves_nothing_half_written(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    running = start_studio(
        str(folder), "--no-browser", "--port", "0", "--engine", "fake", "-o", str(out)
    )
    try:
        token = running.get("/api/session")["token"]
        job = running.post("/api/build", {"routine": "hip-strength.yaml", "scale": 1.5}, token)
        deadline = time.monotonic() + 120
        while running.get(f"/api/jobs/{job['job']}")["state"] == "queued":
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        code, printed, err = running.stop()
    assert code == 0, err
    assert "Traceback" not in err
    left = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert not [name for name in left if name.startswith(".")], left  # no temporaries
    if left:  # the build finished before Ctrl-C landed: then all three files, whole
        assert len(left) == 3, left
        assert printed.rstrip().endswith("stopped")
    else:
        assert "the build in progress was abandoned (nothing was written)" in printed


def test_a_folder_that_is_not_there_is_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        cli_command("studio", str(tmp_path / "nope"), "--no-browser"),
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "does not exist" in done.stderr


def test_a_port_in_use_is_a_clear_error(folder: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            cli_command("studio", str(folder), "--no-browser", "--port", str(port)),
            capture_output=True,
            text=True,
            env=cli_env(),
            timeout=60,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1 port {port}" in done.stderr
