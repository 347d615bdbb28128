"""Voices kept loaded for the life of the process.

Loading the piper voice takes 0.2-0.3 s (its optimised graph read and its kernels set
up, ``prepared``). A command loads it at most once anyway, but the studio and the share
server build many times in one process, and each build made a new engine: every hold
changed in the studio loaded the voice again before speaking its one new line.
``resident`` hands out one loaded voice per key (for piper: its kept graph's name,
which holds the model file's path, size and time, the config file as it is on disk, the
thread count), so a voice changed on disk is loaded again; at most ``KEEP`` are kept,
the least recently used dropped first. A loaded voice speaks from several threads at
once (onnxruntime's sessions allow it; piper locks its phonemizer).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

KEEP = 2
"""Voices kept at once (the bundled one, and a user's own while they try it)."""

_LOCK = threading.Lock()
_KEPT: OrderedDict[Hashable, Any] = OrderedDict()


def resident(key: Hashable, load: Callable[[], Any]) -> Any:
    """The voice kept under ``key``, loaded by ``load()`` if none is (once: a second
    thread asking meanwhile waits for the first's)."""
    with _LOCK:
        if key in _KEPT:
            _KEPT.move_to_end(key)
            return _KEPT[key]
        voice = load()
        _KEPT[key] = voice
        while len(_KEPT) > KEEP:
            _KEPT.popitem(last=False)
        return voice


def file_identity(path: Path) -> tuple[str, int, int] | None:
    """A file as it is on disk now (path, size, modification time); None if it is not there."""
    try:
        info = path.stat()
    except OSError:
        return None
    return str(path.resolve()), info.st_size, info.st_mtime_ns


def forget_all() -> None:
    """Drop every kept voice (tests that need a fresh load)."""
    with _LOCK:
        _KEPT.clear()
