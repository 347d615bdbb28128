"""Turning the build options of the command line into ``BuildOptions``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from routinecast.load.overrides import parse_overrides
from routinecast.pipeline import BuildOptions


@dataclass(frozen=True)
class OverrideOptions:
    """The raw override options as typed."""

    sets: tuple[str, ...] = ()
    hold: str | None = None
    rest: str | None = None
    scale: float | None = None
    fit: str | None = None


def apply_overrides(path: Path, base: BuildOptions, raw: OverrideOptions) -> BuildOptions:
    """``base`` with the parsed overrides (raises ``InputError`` on a bad one)."""
    overrides = parse_overrides(raw.sets, raw.hold, raw.rest, raw.scale, raw.fit)
    return replace(base, overrides=overrides)
