"""Locate the ffmpeg binary every encode and decode runs.

Search order: ``$ROUTINECAST_FFMPEG`` (a path or a command name), a system
``ffmpeg`` on ``PATH``, then the static build shipped in the ``imageio-ffmpeg``
wheel. The answer is cached for the life of the process (tests that change the
environment call ``ffmpeg_exe.cache_clear()``).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import IO

from routinecast.errors import BuildError

ENV_VAR = "ROUTINECAST_FFMPEG"
"""Environment variable naming the ffmpeg binary to use instead of searching."""

_INSTALL_HINT = "install it with `pip install imageio-ffmpeg` (or put ffmpeg on PATH)"
_VERSION_TIMEOUT_S = 30.0
_TAIL_BYTES = 16384


@functools.cache
def ffmpeg_exe() -> str:
    """The path of the ffmpeg binary to run; ``BuildError`` when none is usable."""
    override = os.environ.get(ENV_VAR)
    if override:
        return _from_override(override)
    system = shutil.which("ffmpeg")
    if system:
        return system
    return _bundled()


def ffmpeg_identity() -> str:
    """Which ffmpeg would encode, without running one (``ffmpeg_exe`` checks the bundled
    binary by running it): path, size and modification time, for keys of built files."""
    override = os.environ.get(ENV_VAR)
    found = shutil.which(override) if override else shutil.which("ffmpeg")
    if found:
        return _stat_identity(Path(found))
    spec = importlib.util.find_spec("imageio_ffmpeg")
    folders = list(spec.submodule_search_locations or []) if spec else []
    binaries = sorted(p for f in folders for p in (Path(f) / "binaries").glob("ffmpeg*"))
    return " ".join(_stat_identity(p) for p in binaries) or "no ffmpeg"


def _stat_identity(path: Path) -> str:
    try:
        info = path.stat()
    except OSError:
        return f"{path} missing"
    return f"{path} {info.st_size} {info.st_mtime_ns}"


@functools.cache
def ffmpeg_version() -> str:
    """The first line of ``ffmpeg -version``, e.g. ``"ffmpeg version 7.1 Copyright ..."``."""
    exe = ffmpeg_exe()
    try:
        done = subprocess.run(
            [exe, "-hide_banner", "-version"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_VERSION_TIMEOUT_S,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise BuildError(f"ffmpeg at {exe} does not run ({exc}); {_INSTALL_HINT}") from exc
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    return lines[0].strip() if lines else ""


def stderr_tail(source: IO[bytes] | bytes, count: int = 5) -> str:
    """The last ``count`` non-blank lines of ffmpeg's stderr (a file or bytes), joined by " | "."""
    data = source if isinstance(source, bytes) else _read_end(source)
    text = data[-_TAIL_BYTES:].decode("utf-8", "replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(lines[-count:])


def _read_end(log: IO[bytes]) -> bytes:
    size = log.seek(0, os.SEEK_END)
    log.seek(max(0, size - _TAIL_BYTES))
    return log.read()


def _from_override(value: str) -> str:
    found = shutil.which(value)
    if found is None:
        raise BuildError(
            f"${ENV_VAR} is {value!r}, which is not an executable ffmpeg; "
            f"fix or unset it, or {_INSTALL_HINT}"
        )
    return found


def _bundled() -> str:
    try:
        import imageio_ffmpeg

        exe = _bundled_unrun(imageio_ffmpeg) or str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError, OSError) as exc:
        raise BuildError(f"no ffmpeg found; {_INSTALL_HINT}") from exc
    if not os.access(exe, os.X_OK):
        raise BuildError(f"the bundled ffmpeg at {exe} is not executable; {_INSTALL_HINT}")
    return exe


def _bundled_unrun(package: ModuleType) -> str | None:
    """The wheel's binary for this platform, found by the wheel's own table of names.

    ``get_ffmpeg_exe`` runs ``ffmpeg -version`` to check the binary first: 60 ms of
    every build that encodes. A binary that does not run is reported by the encode that
    starts it (``encode._start``). None when the wheel sets its binary some other way.
    """
    if os.environ.get("IMAGEIO_FFMPEG_EXE"):
        return None
    try:
        from imageio_ffmpeg import _definitions

        name = _definitions.FNAME_PER_PLATFORM.get(_definitions.get_platform())
    except (ImportError, AttributeError):
        return None
    exe = Path(package.__file__ or "").parent / "binaries" / (name or "")
    return str(exe) if name and exe.is_file() else None
