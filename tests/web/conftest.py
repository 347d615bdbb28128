"""Fixtures for the web side: real builds made once, a folder salted with hostile files,
the app behind its guard, a running ``routinecast share`` and a headless browser.

The builds go through the real pipeline with the fake engine (a hum of known length:
the layout is what matters here); ffmpeg still encodes a real MP3 with real tags.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from routinecast.pipeline import BuildOptions, build
from routinecast.web.app import create_app
from routinecast.web.guard import Guard, host_names, new_token

ROOT = Path(__file__).resolve().parents[2]

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

SECRET = "SECRET-do-not-serve"
"""Planted in every file that must never be served."""


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


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Shared:
    """Build two routines once per session, then salt the folder."""
    root = tmp_path_factory.mktemp("share")
    folder = root / "output"
    for name, text in (("tiny-share", TINY), ("second-share", SECOND)):
        routine = root / f"{name}.yaml"
        routine.write_text(text, encoding="utf-8")
        build(routine, BuildOptions(output_dir=folder, engine="fake", cache_dir=session_cache))
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


TOKEN = new_token()
BASE = f"/{TOKEN}/"


@pytest.fixture(scope="session")
def app(shared: Shared) -> Flask:
    """The app for the shared folder, answering to the test client's Host (localhost)."""
    return create_app(shared.folder, Guard(TOKEN, host_names(["localhost"], 80)))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


@dataclass
class ShareProcess:
    """A running ``routinecast share``: its process, its URL and what it printed."""

    proc: subprocess.Popen[str]
    url: str
    head: list[str]

    @property
    def rss_kb(self) -> int:
        """Resident memory of the server process (Linux /proc), in KiB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    @property
    def open_fds(self) -> int:
        """Open file descriptors of the server process."""
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def stop(self, timeout: float = 10) -> tuple[int, str, str]:
        """Ctrl-C; the exit code and the rest of stdout and stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, "".join(self.head) + out, err


def cli_command(*args: str) -> list[str]:
    """``routinecast ARGS`` with this checkout's code."""
    code = "import sys; from routinecast.cli import main; sys.argv[0] = 'routinecast'; main()"
    return [sys.executable, "-c", code, *args]


def cli_env() -> dict[str, str]:
    """The environment with this checkout's ``src`` first on the path."""
    path = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}


def start_share(*args: str, timeout: float = 30) -> ShareProcess:
    """Start ``routinecast share ARGS``; wait for the URL line."""
    proc = subprocess.Popen(
        cli_command("share", *args),
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
            return ShareProcess(proc, line.strip(), head)
    proc.kill()
    _, err = proc.communicate()
    raise AssertionError(f"share printed no URL: {''.join(head)!r} {err!r}")


@pytest.fixture(scope="module")
def live(shared: Shared) -> Iterator[ShareProcess]:
    """``routinecast share`` serving the shared folder on loopback, for one test module."""
    running = start_share(str(shared.folder), "--host", "127.0.0.1", "--port", "0")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    """A headless Chromium (Selenium with the system chromedriver); skips if not installed."""
    from browser import chromium

    with chromium(tmp_path / "profile") as driver:
        yield driver
