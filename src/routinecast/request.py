"""What a build is asked (``BuildOptions``) and what it answers (``BuildResult``).

Their own module, apart from ``pipeline``, so that the command line can ask for a
build, and ``receipts`` answer one that nothing has changed, without importing the
stages: the loader, the templates, timing, speech or audio.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from routinecast.load.overrides import Overrides
from routinecast.timeline import Timeline

DEFAULT_LOUDNESS = -16.0
"""Integrated loudness of every MP3, in LUFS (``--loudness``)."""


@dataclass(frozen=True)
class BuildOptions:
    """Everything a build can be told from outside the routine file."""

    output_dir: Path = Path("output")
    engine: str | None = None
    voice: str | None = None
    rate: float | None = None
    loudness: float = DEFAULT_LOUDNESS
    bitrate_kbps: int = 96
    """96, not 64: at 64 kbps the encoder's noise raised speech peaks by up to 1 dB (true
    peak -0.83 dBTP from a -1.8 dBTP master); at 96 kbps they stay under the master's."""
    overrides: Overrides = field(default_factory=Overrides)
    cache_dir: Path | None = None
    workers: int | None = None
    music: Path | None = None
    name: str | None = None
    """The output files' name (``NAME.mp3``...); the routine file's stem by default."""
    sounds: tuple[tuple[str, Path], ...] = ()
    """``--sound NAME=FILE``: the user's files for tones; they win over the routine's."""

    def output_name(self, routine: Path) -> str:
        """The outputs' name: ``name``, else the routine file's stem."""
        return self.name or (routine.stem if routine.suffix else routine.name)


@dataclass
class BuildResult:
    """What a build wrote and how long each stage took (seconds)."""

    mp3: Path
    timeline_path: Path
    vtt: Path
    timeline: Timeline
    stages: dict[str, float] = field(default_factory=dict)
    clips_made: int = 0
    clips_cached: int = 0
    up_to_date: bool = False
    """True when the MP3 came from the store of built files (nothing mixed or encoded)."""
