"""The studio's operations, free of Flask: list, plan, build and save.

``Studio`` holds the routines folder, the build options the studio was started with
(output folder, engine, voice, rate) and the job queue. Every routine a request names
must be a ``file`` from ``routines()``; it is checked by ``Confinement`` before the
loader sees it. Input problems are ``RequestError``s carrying the 422 list. What a build
writes is served by the share blueprint (only complete builds, by their exact names).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from routinecast.cli.common import explain
from routinecast.durations import format_duration
from routinecast.errors import InputError, RoutinecastError
from routinecast.load.routine import is_library_file, load_routine
from routinecast.model import Routine, Step
from routinecast.pipeline import build, tailor
from routinecast.request import BuildOptions
from routinecast.speech.engines.base import SpeechEngine
from routinecast.timeline import Timeline
from routinecast.web.studio.confine import Confinement
from routinecast.web.studio.jobs import Job, JobQueue, Reporter
from routinecast.web.studio.requests import RequestError, StudioRequest, error_item
from routinecast.web.studio.variants import step_changes, variant_path, variant_text, write_variant

SHIPPED = "shipped/"
"""The prefix of a shipped routine's ``file`` when the routines folder is another one."""
_ROUTINE_FILE = re.compile(r"[^./\\][^/\\]*\.ya?ml")


class Studio:
    """One routines folder, the options builds use, and the builds made so far."""

    def __init__(
        self,
        folder: Path,
        options: BuildOptions | None = None,
        engine: SpeechEngine | None = None,
    ) -> None:
        """``options`` are the CLI's (output folder, engine...); ``engine`` is for tests."""
        self.folder = folder
        self.confinement = Confinement.for_folder(folder)
        self.options = options or BuildOptions()
        self.engine = engine
        self.jobs = JobQueue(describe)

    # -- routines ---------------------------------------------------------------------

    def files(self) -> dict[str, Path]:
        """``file`` -> path of every routine file the studio offers (libraries included)."""
        found = {p.name: p for p in _yaml_files(self.folder)}
        shipped = self.confinement.shipped
        if shipped != self.confinement.routines:
            found |= {
                SHIPPED + p.name: p
                for p in _yaml_files(shipped)
                if not _same_file(p, found.get(p.name))  # a copy in the folder is that one
            }
        return {name: path for name, path in found.items() if self.confinement.inside(path)}

    def routines(self) -> list[dict[str, Any]]:
        """``GET /api/routines``: ``file``, ``title``, ``length_ms`` (and ``error``)."""
        out = []
        for name, path in sorted(self.files().items(), key=lambda item: _order(item[0])):
            entry = self._describe_routine(name, path)
            if entry is not None:
                out.append(entry)
        return out

    def _describe_routine(self, name: str, path: Path) -> dict[str, Any] | None:
        entry: dict[str, Any] = {
            "file": name,
            "title": path.stem,
            "length_ms": None,
            "shipped": name.startswith(SHIPPED),
        }
        try:
            self.confinement.check(path)
            if is_library_file(path):
                return None
            routine, timeline = tailor(path, self.options)
        except RoutinecastError as exc:
            return None if entry["shipped"] else entry | {"error": describe(exc)}
        return entry | {
            "title": routine.title,
            "length_ms": timeline.duration_ms,
            "target_ms": routine.target_ms,
        }

    def resolve(self, name: str) -> Path:
        """The path of a ``file`` from ``routines()``, checked; ``RequestError`` otherwise."""
        path = self.files().get(name)
        if path is None:
            raise RequestError(
                [error_item(InputError("is not a routine the studio lists", field="routine"))]
            )
        try:
            self.confinement.check(path)
        except InputError as exc:
            raise RequestError([error_item(exc)]) from None
        return path

    # -- plan, build, save --------------------------------------------------------------

    def _options(self, request: StudioRequest) -> BuildOptions:
        return replace(self.options, overrides=request.overrides())

    def tailored(self, request: StudioRequest) -> tuple[Path, Routine, Timeline]:
        """The routine with the request's changes and its planned timeline."""
        path = self.resolve(request.routine)
        options = self._options(request)
        try:
            routine, timeline = tailor(path, options)
        except InputError as exc:
            raise RequestError([error_item(exc, request)]) from None
        return path, routine, timeline

    def plan(self, request: StudioRequest) -> dict[str, Any]:
        """``POST /api/plan``: the timeline JSON, plus ``estimated``, ``steps`` and ``file``."""
        _, routine, timeline = self.tailored(request)
        return plan_json(request.routine, routine, timeline)

    def build(self, request: StudioRequest) -> Job:
        """``POST /api/build``: checked now (422 before anything is queued), built later."""
        path, _, _ = self.tailored(request)
        options = replace(self._options(request), name=self._output_name(request, path))

        def run(report: Reporter) -> dict[str, str]:
            result = build(
                path, options, engine=self.engine, progress=report.progress, on_stage=report.stage
            )
            return {
                "mp3": result.mp3.name,
                "timeline": result.timeline_path.name,
                "vtt": result.vtt.name,
            }

        return self.jobs.submit(request.key(), run)

    def _output_name(self, request: StudioRequest, path: Path) -> str:
        """The routine's own name when unchanged; otherwise one per distinct request."""
        plain = request.key()[1:] == StudioRequest(request.routine).key()[1:]
        if plain and not request.routine.startswith(SHIPPED):
            return path.stem
        digest = hashlib.sha256(json.dumps(request.key()).encode("utf-8")).hexdigest()
        return f"{path.stem}-{digest[:8]}"

    def save(self, request: StudioRequest) -> dict[str, Any]:
        """``POST /api/save``: write ``NAME-SUFFIX.yaml`` in the routines folder."""
        path, routine, _ = self.tailored(request)
        try:
            target = variant_path(self.folder, path.stem, request.name or "")
        except InputError as exc:
            raise RequestError([error_item(exc, request)]) from None
        chain = self.confinement.check(path)
        base = load_routine(path)
        text = variant_text(
            os.path.relpath(path, self.folder),
            base.title,
            step_changes(base, routine),
            routine.overrides,
        )

        def check(temp: Path) -> None:
            self.confinement.check(temp)
            written = load_routine(temp)
            _same_routine(written, routine)

        try:
            write_variant(target, text, chain, check)
        except InputError as exc:
            raise RequestError([error_item(exc, request)]) from None
        return {"file": target.name}

    def close(self, timeout: float = 30.0) -> bool:
        """Stop: waiting builds fail, a running one is abandoned; True when it ended."""
        return self.jobs.shutdown(timeout)


def describe(exc: BaseException) -> str | None:
    """The message the CLI prints for this error, or None for an unexpected one."""
    if isinstance(exc, RoutinecastError | OSError):
        return explain(exc)[0]
    return None


def _yaml_files(folder: Path) -> list[Path]:
    try:
        return sorted(
            p for p in folder.iterdir() if _ROUTINE_FILE.fullmatch(p.name) and p.is_file()
        )
    except OSError:
        return []


def _same_file(path: Path, other: Path | None) -> bool:
    try:
        return other is not None and path.read_bytes() == other.read_bytes()
    except OSError:
        return False


def _order(name: str) -> tuple[bool, str]:
    return name.startswith(SHIPPED), name.lower()


def _same_routine(written: Routine, wanted: Routine) -> None:
    """Refuse a variant that would not load as the routine the studio showed."""
    if replace(written, source="", overrides=()) == replace(wanted, source="", overrides=()):
        return
    steps = zip(written.steps, wanted.steps, strict=False)
    differing = [s.label for s, w in steps if s != w] or ["the routine's settings"]
    raise RoutinecastError(
        f"these changes cannot be written as a variant: {differing[0]} would come out "
        "differently; build it with the changes instead"
    )


def plan_json(name: str, routine: Routine, timeline: Timeline) -> dict[str, Any]:
    """The timeline JSON with the studio's extras: ``file``, ``estimated`` and ``steps``."""
    return timeline.to_json() | {
        "file": name,
        "estimated": list(timeline.estimated),
        "steps": [step_json(step) for step in routine.steps],
    }


def step_json(step: Step) -> dict[str, Any]:
    """A step's fields as the studio's inputs show them (written like a routine file)."""
    if step.exercise is None:
        return {"number": step.number, "kind": "rest", "name": "Rest",
                "rest": format_duration(step.rest_ms), "say": step.say}  # fmt: skip
    out: dict[str, Any] = {
        "number": step.number,
        "kind": step.kind,
        "exercise": step.exercise.id,
        "name": step.exercise.name,
        "sets": step.sets,
        "sides": step.sides,
        "rest": format_duration(step.rest_ms),
        "work_ms": step.work_ms,
    }
    if step.kind in ("hold", "flow"):
        out["hold"] = format_duration(step.hold_ms)
    if step.kind == "reps":
        out["reps"] = step.reps
    if step.kind == "reps" or (step.kind == "flow" and step.tempo_ms):
        out["tempo"] = format_duration(step.tempo_ms)
    return out
