"""Helpers for the studio's tests: a running ``routinecast studio`` (this checkout's code)."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sharekit import start_server

ROUTINES = Path(__file__).resolve().parents[2] / "routines"


@dataclass
class StudioProcess:
    """A running ``routinecast studio``: its process, its URL and what it printed first."""

    proc: subprocess.Popen[str]
    url: str
    head: list[str]

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=30) as response:
            return json.loads(response.read())

    def post(self, path: str, body: Any, token: str) -> Any:
        request = urllib.request.Request(
            self.url + path.lstrip("/"),
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-Routinecast-Token": token},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

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


def start_studio(*args: str, timeout: float = 60) -> StudioProcess:
    """Start ``routinecast studio ARGS`` and wait for its URL line."""
    return StudioProcess(*start_server("studio", *args, timeout=timeout))
