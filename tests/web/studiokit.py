"""Helpers for the studio's tests: a running ``routinecast studio`` (this checkout's code)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from sharekit import ServerProcess, start_server

ROUTINES = Path(__file__).resolve().parents[2] / "routines"


class StudioProcess(ServerProcess):
    """A running ``routinecast studio``, with JSON calls to its API."""

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


def start_studio(*args: str, timeout: float = 60) -> StudioProcess:
    """Start ``routinecast studio ARGS`` and wait for its URL line."""
    return StudioProcess(*start_server("studio", *args, timeout=timeout))
