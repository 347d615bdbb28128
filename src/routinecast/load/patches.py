"""``StepPatch``: a change to step fields made outside the step (``override:`` or ``--set``).

Its own small module so that parsing ``--set`` (``overrides``) does not import the
whole loader: a build that turns out to be up to date never loads anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from routinecast.locations import Val, Where


@dataclass(frozen=True)
class StepPatch:
    """A change to step fields made outside the step: ``override:`` or ``--set``.

    ``key`` is an exercise id or a 1-based step number (as text); ``fields`` are raw
    values checked exactly like the same fields written in the step.
    """

    key: str
    fields: tuple[tuple[str, Val], ...]
    origin: Where
