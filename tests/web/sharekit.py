"""Helpers for the web tests: the routines built once, the hostile files planted beside
them, the test app's token, and a running ``routinecast share`` (a subprocess running
this checkout's code). Fixtures live in ``conftest.py``; tests import from here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routinecast.pipeline import BuildOptions, build
from routinecast.web.guard import new_token

ROOT = Path(__file__).resolve().parents[2]
TOKEN = new_token()
BASE = f"/{TOKEN}/"
SECRET = "SECRET-do-not-serve"
"""Planted in every file that must never be served."""

TINY = """\
title: Tiny Share
summary: Three short moves for the share tests.
pacing: {transition: 6s, rest: 4s, switch: 4s, countdown: 2}
intro: Three short moves.
outro: Done.
steps:
  - exercise: half-kneeling-hip-flexor-stretch
    hold: 5s
    sides: each
    sets: 2
    rest: 4s
  - exercise: glute-bridge
    reps: 3
    tempo: 2s
  - exercise: dead-bug
    hold: 6s
"""

SECOND = """\
title: Second Share
intro: Two moves.
steps:
  - exercise: glute-bridge
    reps: 2
    tempo: 2s
  - exercise: dead-bug
    hold: 4s
"""


@dataclass(frozen=True)
class Shared:
    """An output folder with two real builds and files that must never be served."""

    folder: Path
    outside: Path
    names: tuple[str, ...]
    hostile: tuple[str, ...]
    """File names in ``folder`` that must 404."""

    def path(self, filename: str) -> Path:
        return self.folder / filename


def build_shared(root: Path, cache: Path) -> Shared:
    """Build the two routines (fake engine, real encoder) into ROOT/output, then salt it."""
    folder = root / "output"
    for name, text in (("tiny-share", TINY), ("second-share", SECOND)):
        routine = root / f"{name}.yaml"
        routine.write_text(text, encoding="utf-8")
        build(routine, BuildOptions(output_dir=folder, engine="fake", cache_dir=cache))
    outside, hostile = _salt(root, folder)
    return Shared(folder, outside, ("tiny-share", "second-share"), hostile)


def _salt(root: Path, folder: Path) -> tuple[Path, tuple[str, ...]]:
    """Files beside the builds that look servable and are not."""
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.mp3").write_text(SECRET)
    (outside / "secret.vtt").write_text(f"WEBVTT\n\n{SECRET}\n")
    (folder / "notes.txt").write_text(SECRET)
    (folder / ".tiny-share.mp3.tmp-99999").write_text(SECRET)
    (folder / ".tiny-share.vtt.old-99999").write_text(SECRET)
    # a routine whose MP3 is a symlink pointing out of the folder
    os.symlink(outside / "secret.mp3", folder / "evil.mp3")
    shutil.copy(folder / "tiny-share.timeline.json", folder / "evil.timeline.json")
    shutil.copy(folder / "tiny-share.vtt", folder / "evil.vtt")
    # a routine whose captions are a symlink pointing out
    (folder / "sneaky.mp3").write_text(SECRET)
    shutil.copy(folder / "tiny-share.timeline.json", folder / "sneaky.timeline.json")
    os.symlink(outside / "secret.vtt", folder / "sneaky.vtt")
    # an MP3 without the other outputs (a build never leaves that)
    (folder / "half.mp3").write_text(SECRET)
    # a folder named like an output
    (folder / "dir.mp3").mkdir()
    (folder / "dir.timeline.json").write_text(SECRET)
    (folder / "dir.vtt").write_text(SECRET)
    hostile = (
        "notes.txt",
        ".tiny-share.mp3.tmp-99999",
        ".tiny-share.vtt.old-99999",
        "evil.mp3",
        "evil.timeline.json",
        "evil.vtt",
        "sneaky.mp3",
        "sneaky.vtt",
        "sneaky.timeline.json",
        "half.mp3",
        "dir.mp3",
        "dir.vtt",
    )
    return outside, hostile


@dataclass
class ServerProcess:
    """A running ``routinecast share`` or ``studio``: its process, URL and first lines."""

    proc: subprocess.Popen[str]
    url: str
    head: list[str]

    def stop(self, timeout: float = 60) -> tuple[int, str, str]:
        """Ctrl-C; the exit code, all of stdout and stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, "".join(self.head) + out, err


class ShareProcess(ServerProcess):
    """A running ``routinecast share``, with its memory and threads."""

    @property
    def rss_kb(self) -> int:
        """Resident memory of the server process (Linux /proc), in KiB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    @property
    def open_fds(self) -> list[str]:
        """What the server process's descriptors point at (``socket:[...]``, file paths)."""
        fd_dir = Path(f"/proc/{self.proc.pid}/fd")
        found = []
        for fd in os.listdir(fd_dir):
            with contextlib.suppress(OSError):  # closed meanwhile
                found.append(os.readlink(fd_dir / fd))
        return found

    @property
    def threads(self) -> int:
        """Threads of the server process."""
        return len(os.listdir(f"/proc/{self.proc.pid}/task"))


def cli_command(*args: str) -> list[str]:
    """``routinecast ARGS`` running this checkout's code."""
    code = "import sys; from routinecast.cli import main; sys.argv[0] = 'routinecast'; main()"
    return [sys.executable, "-c", code, *args]


def cli_env() -> dict[str, str]:
    """The environment with this checkout's ``src`` first on the path."""
    path = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}


def start_server(command: str, *args: str, timeout: float = 60) -> tuple[Any, str, list[str]]:
    """Start ``routinecast COMMAND ARGS``; wait for its URL line: (process, URL, lines so far)."""
    proc = subprocess.Popen(
        cli_command(command, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )
    assert proc.stdout is not None
    head: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        head.append(line)
        if line.startswith("http://"):
            return proc, line.strip(), head
    proc.kill()
    _, err = proc.communicate()
    raise AssertionError(f"{command} printed no URL: {''.join(head)!r} {err!r}")


def start_share(*args: str, timeout: float = 60) -> ShareProcess:
    """Start ``routinecast share ARGS`` and wait for its URL line."""
    return ShareProcess(*start_server("share", *args, timeout=timeout))


def listening_on(port: int) -> set[str]:
    """The IPv4 addresses a TCP socket listens on at ``port`` (from /proc/net/tcp).

    Tests read where a server listens here instead of connecting to a non-loopback
    address: test traffic stays on loopback.
    """
    found: set[str] = set()
    for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = row.split()[1], row.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
            octets = bytes.fromhex(address)[::-1]  # little-endian on the machines we run on
            found.add(".".join(str(b) for b in octets))
    return found
