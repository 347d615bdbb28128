"""Turning the build options of the command line into ``BuildOptions``."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from routinecast.errors import InputError
from routinecast.load.overrides import parse_overrides
from routinecast.locations import suggest
from routinecast.request import BuildOptions
from routinecast.timeline import TONES


@dataclass(frozen=True)
class OverrideOptions:
    """The raw override options as typed."""

    sets: tuple[str, ...] = ()
    hold: str | None = None
    rest: str | None = None
    scale: float | None = None
    fit: str | None = None
    sounds: tuple[str, ...] = ()


def apply_overrides(path: Path, base: BuildOptions, raw: OverrideOptions) -> BuildOptions:
    """``base`` with the parsed overrides (raises ``InputError`` on a bad one)."""
    overrides = parse_overrides(raw.sets, raw.hold, raw.rest, raw.scale, raw.fit)
    return replace(base, overrides=overrides, sounds=tuple(parse_sound(s) for s in raw.sounds))


def parse_sound(text: str) -> tuple[str, Path]:
    """``NAME=FILE`` -> (tone name, file); the file must exist (relative to here)."""
    name, eq, file = text.partition("=")
    name, file = name.strip(), file.strip()
    if not eq or not name or not file:
        raise InputError(
            f'must look like NAME=FILE, e.g. start=bell.wav, got "{text}"', field="--sound"
        )
    if name not in TONES:
        raise InputError(
            f'"{name}" is not a tone{suggest(name, tuple(TONES))}; a sound can replace: '
            + ", ".join(TONES),
            field="--sound",
        )
    path = Path(file).expanduser()
    if not path.is_file():
        raise InputError(
            f"{name}={file}: {file} is not a file" + ("" if path.exists() else " (no such file)"),
            field="--sound",
        )
    return name, path
