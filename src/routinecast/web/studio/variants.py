"""Save: the studio's changes as a variant file next to the routine, never over the user's.

``variant_text`` writes ``NAME-SUFFIX.yaml`` as ``extends:`` the routine plus an
``override:`` for each step whose resolved values differ, commented, so that
``routinecast build`` on it gives exactly the timeline the studio showed. The values
are the resolved ones (after ``--hold``, ``--rest``, ``--scale`` and ``--fit``), so the
file needs no build options to say the same thing.

``write_variant`` writes it atomically and only where it may: a file of that name
that the studio did not make (no marker on its first line), a symlink, or a file of
the routine's own ``extends`` chain is refused. Before the file is put in place, a
caller-supplied check loads the temporary copy and compares it with what was asked.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from routinecast.durations import format_duration
from routinecast.errors import InputError
from routinecast.model import Routine, Step

MARKER = "# routinecast studio variant: the studio may rewrite this file"
"""The first line of every file the studio writes; it rewrites no file without it."""
MAX_NAME = 40
_NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9 _-]{{0,{MAX_NAME - 1}}}")


def variant_path(folder: Path, stem: str, name: str) -> Path:
    """``folder/STEM-SUFFIX.yaml`` for a variant called ``name``; refuses unsafe names."""
    cleaned = name.strip()
    if not _NAME.fullmatch(cleaned):
        raise InputError(
            f'may hold only the letters a-z, digits, spaces, "-" and "_", at most {MAX_NAME}, '
            'starting with a letter or digit, like "maria week 2"',
            field="name",
        )
    suffix = re.sub(r"[-\s_]+", "-", cleaned.lower()).strip("-")
    return folder / f"{stem}-{suffix}.yaml"


@dataclass(frozen=True)
class Change:
    """One ``override:`` entry: the step's key, a comment, and the fields it sets."""

    key: str | int
    comment: str
    fields: dict[str, Any]


def step_changes(base: Routine, effective: Routine) -> list[Change]:
    """Every step whose resolved values differ, keyed by exercise id where that is unique."""
    ids = [s.exercise.id for s in base.steps if s.exercise]
    changes = []
    for old, new in zip(base.steps, effective.steps, strict=True):
        fields = _fields(old, new)
        if not fields:
            continue
        unique = old.exercise is not None and ids.count(old.exercise.id) == 1
        key: str | int = old.exercise.id if unique and old.exercise else old.number
        changes.append(Change(key, _comment(old, new, fields), fields))
    return changes


def _fields(old: Step, new: Step) -> dict[str, Any]:
    """The step fields (as a routine file writes them) that make ``old`` into ``new``."""
    out: dict[str, Any] = {}
    if new.exercise is None:
        _put(out, "rest", old.rest_ms, new.rest_ms, format_duration)
        _put(out, "say", old.say, new.say, str)
        return out
    if old.exercise != new.exercise:
        out["exercise"] = new.exercise.id
    if new.kind in ("hold", "flow"):
        _put(out, "hold", old.hold_ms, new.hold_ms, format_duration)
        _put(out, "breathe", old.breathe, new.breathe, _breathe)
    if new.kind == "reps":
        _put(out, "reps", old.reps, new.reps, int)
    if new.kind in ("reps", "flow"):
        _put(out, "tempo", old.tempo_ms, new.tempo_ms, format_duration)
        if new.phases and (new.phases != old.phases or "tempo" in out):
            out["phases"] = [{"say": p.say, "for": format_duration(p.ms)} for p in new.phases]
    _put(out, "sets", old.sets, new.sets, int)
    _put(out, "sides", old.sides, new.sides, str)
    _put(out, "first", old.first, new.first, str)
    for name in ("rest", "switch", "transition"):
        _put(out, name, getattr(old, f"{name}_ms"), getattr(new, f"{name}_ms"), format_duration)
    _put(out, "say", old.say, new.say, str)
    return out


def _put(out: dict[str, Any], key: str, old: Any, new: Any, show: Callable[[Any], Any]) -> None:
    if new != old:
        out[key] = show(new)


def _breathe(value: Any) -> str | None:
    if value is None:
        return None
    return f"{value.in_ms / 1000:g}-{value.out_ms / 1000:g}"


def _comment(old: Step, new: Step, fields: dict[str, Any]) -> str:
    name = new.exercise.name if new.exercise else "rest"
    was = _fields(new, old)
    parts = [
        f"{key} {_short(value)} (was {_short(was.get(key))})"
        if key in was and key != "phases"
        else f"{key} {_short(value)}"
        for key, value in fields.items()
    ]
    return f"step {new.number}, {name}: " + ", ".join(parts)


def _short(value: Any) -> str:
    if isinstance(value, list):
        return "changed"
    return one_line(str(value if value is not None else "none"))[:60]


def one_line(text: str) -> str:
    """Any whitespace, line breaks of every kind included, folded to single spaces."""
    return " ".join(text.split())


def variant_text(
    parent: str,
    title: str,
    changes: Sequence[Change],
    notes: Sequence[str],
    extra: dict[str, Any] | None = None,
) -> str:
    """The variant file: marker, comments, ``extends``, any ``extra`` fields, ``override``."""
    today = datetime.date.today().isoformat()
    made = ", ".join(one_line(n) for n in notes) or "no changes"
    lines = [
        MARKER,
        f"# {one_line(title)}, tailored in the studio on {today}: {made}.",
        f"# A variant of {one_line(parent)}, which stays as it was. Each entry under",
        "# override replaces that step's values (docs/routine-format.md, section 7).",
        _dump({"extends": parent}),
    ]
    if extra:
        lines.append(_dump(extra))
    if not changes:
        lines.append("override: {}")
    else:
        lines.append("override:")
    for change in changes:
        lines.append(f"  # {one_line(change.comment)}")
        block = _dump({change.key: change.fields})
        lines += [f"  {line}" for line in block.splitlines()]
    return "\n".join(lines) + "\n"


def _dump(data: dict[Any, Any]) -> str:
    text = yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000
    )
    return text.rstrip("\n")


def write_variant(
    path: Path, text: str, chain: Sequence[Path], check: Callable[[Path], None]
) -> None:
    """Write ``text`` to ``path`` atomically; ``check(temp)`` must pass first.

    Refuses a symlink, a file of the routine's own ``extends`` chain, and a file
    without the studio's marker. A file that appears meanwhile is not overwritten.
    """
    _may_write(path, chain)
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        with open(temp, "x", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        check(temp)
        if path.exists() or path.is_symlink():
            _may_write(path, chain)
            os.replace(temp, path)
        else:
            _create(temp, path, text)
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


def _create(temp: Path, path: Path, text: str) -> None:
    """Put ``temp`` at ``path``, failing if a file of that name appeared meanwhile."""
    try:
        os.link(temp, path)
    except FileExistsError:
        raise _taken(path) from None
    except OSError:  # a file system without hard links: create exclusively instead
        try:
            with open(path, "x", encoding="utf-8") as handle:
                handle.write(text)
        except FileExistsError:
            raise _taken(path) from None


def _may_write(path: Path, chain: Sequence[Path]) -> None:
    if path.is_symlink():
        raise _taken(path)
    if not path.exists():
        return
    if path.resolve() in chain:
        raise InputError(
            f"would make {path.name}, which this routine extends; choose another name",
            field="name",
        )
    if not path.is_file() or not _has_marker(path):
        raise _taken(path)


def _has_marker(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.readline().rstrip("\r\n") == MARKER
    except OSError:
        return False


def _taken(path: Path) -> InputError:
    return InputError(
        f"would make {path.name}, which already exists and was not made by the studio; "
        "choose another name (the studio never rewrites a file it did not make)",
        field="name",
    )
