"""routinecast: compile an exercise routine into one voice-guided MP3.

The pipeline flows one way, a folder per stage (``README.md``, Development, draws it):
``load`` (routine YAML -> validated model) -> ``timing`` (what is said and when, pure)
-> ``speech`` (cached clips from an engine) -> ``audio`` (mix, MP3 with tags and
chapters) -> ``outputs`` (timeline JSON and WebVTT beside it); ``pipeline`` runs them.

The public API, for scripts and the web app (imported lazily, so ``import routinecast``
stays cheap)::

    import routinecast
    routine = routinecast.load_routine(Path("routines/desk-hip-reset.yaml"))
    timeline = routinecast.plan(Path("routines/desk-hip-reset.yaml"))
    result = routinecast.build(Path("routines/desk-hip-reset.yaml"), routinecast.BuildOptions())

Every error raised on purpose is a ``routinecast.RoutinecastError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
SAMPLE_RATE = 22050
"""Every clip, tone and output file runs at this rate (Hz), mono."""

__all__ = [
    "SAMPLE_RATE",
    "BuildOptions",
    "BuildResult",
    "InputError",
    "RoutinecastError",
    "__version__",
    "build",
    "load_routine",
    "plan",
]

_LAZY = {
    "BuildOptions": "routinecast.request",
    "BuildResult": "routinecast.request",
    "build": "routinecast.pipeline",
    "plan": "routinecast.pipeline",
    "load_routine": "routinecast.load.routine",
    "RoutinecastError": "routinecast.errors",
    "InputError": "routinecast.errors",
}

if TYPE_CHECKING:
    from routinecast.errors import InputError, RoutinecastError
    from routinecast.load.routine import load_routine
    from routinecast.pipeline import build, plan
    from routinecast.request import BuildOptions, BuildResult


def __getattr__(name: str) -> Any:
    """Import a public name on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'routinecast' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
