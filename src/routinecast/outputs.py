"""The files ``build`` writes: JSON timeline, WebVTT captions, and the atomic commit.

``OutputSet`` hands out temporary paths beside the final ones (``.NAME.mp3.tmp-PID``);
``commit`` renames them all into place only after everything was written, and any
failure or Ctrl-C removes the temporaries, so an older output of the same name is
never touched by a failed build.

The commit itself cannot fail half-way either: a folder in the way of a final name
is refused before anything moves; the older outputs are hard-linked aside first
(``.NAME.mp3.old-PID``), and if one of the three renames fails (or Ctrl-C lands
between them) the ones already done are undone from those links. Temporaries are
flushed to disk before the renames, so a power cut leaves the old or the new set,
never empty files. Temporaries left by a build that was killed outright (``kill -9``)
are swept by the next build of the same name once their process is gone.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
from pathlib import Path
from types import TracebackType

from routinecast.errors import OutputError
from routinecast.timeline import Timeline

SUFFIXES = (".mp3", ".timeline.json", ".vtt")
COMMIT_ORDER = (".timeline.json", ".vtt", ".mp3")
"""MP3 last: it is what players and watchers pick up."""
TEMP_MARK = ".tmp-"
BACKUP_MARK = ".old-"
_NO_FSYNC = {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP}


def timeline_json(timeline: Timeline) -> str:
    """The timeline document as text."""
    return json.dumps(timeline.to_json(), indent=1, ensure_ascii=False) + "\n"


def vtt_time(ms: int) -> str:
    """WebVTT timestamp: 00:01:02.345."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def vtt_text(text: str) -> str:
    """Cue or note text made safe for WebVTT: one line, ``&``, ``<`` and ``>`` escaped."""
    flat = " ".join(text.split())
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def timeline_vtt(timeline: Timeline) -> str:
    """WebVTT captions of every spoken line."""
    lines = ["WEBVTT", "", f"NOTE {vtt_text(timeline.title)}", ""]
    for number, event in enumerate(timeline.speech, start=1):
        text = vtt_text(event.text or "")
        lines += [str(number), f"{vtt_time(event.start_ms)} --> {vtt_time(event.end_ms)}", text, ""]
    return "\n".join(lines)


def check_folder(folder: Path) -> None:
    """Refuse now what ``prepare_folder`` would refuse later, without creating anything."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        if existing == folder:
            raise OutputError(f"cannot write into {folder}: it is a file, not a folder")
        raise OutputError(f"cannot create the output folder {folder}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write into {existing}: permission denied")


def prepare_folder(folder: Path) -> None:
    """Create the output folder if missing; refuse a file in the way or no write access."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"cannot write into {folder}: it is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write into {folder}: permission denied")


class OutputSet:
    """The three outputs of one routine, written to temporaries and committed together."""

    def __init__(self, folder: Path, stem: str) -> None:
        self.folder = folder
        self.stem = stem
        self.final = {s: folder / f"{stem}{s}" for s in SUFFIXES}
        pid = os.getpid()
        self.temp = {s: folder / f".{stem}{s}{TEMP_MARK}{pid}" for s in SUFFIXES}
        self.backup = {s: folder / f".{stem}{s}{BACKUP_MARK}{pid}" for s in SUFFIXES}

    def __enter__(self) -> OutputSet:
        prepare_folder(self.folder)
        self.check_targets()
        self.sweep_stale()
        return self

    def precheck(self) -> None:
        """Before any slow work: the folder can be made and written, no folder is in the way."""
        check_folder(self.folder)
        if self.folder.is_dir():
            self.check_targets()

    def check_targets(self) -> None:
        """Refuse a final name taken by a folder (or anything but a file) before any work."""
        for path in self.final.values():
            if path.exists() and not path.is_file():
                what = "a folder" if path.is_dir() else "something that is not a file"
                raise OutputError(f"cannot write {path}: {what} is in the way; remove it")

    def sweep_stale(self) -> None:
        """Remove this name's temporaries left by builds whose process no longer exists."""
        for path in self._leftovers():
            if not _alive(int(path.name.rsplit("-", 1)[1])):
                _remove(path)

    def _leftovers(self) -> list[Path]:
        prefixes = tuple(f".{self.stem}{s}{m}" for s in SUFFIXES for m in (TEMP_MARK, BACKUP_MARK))
        try:
            names = [e.name for e in os.scandir(self.folder)]
        except OSError:
            return []
        return [
            self.folder / name
            for name in names
            if name.startswith(prefixes) and name.rsplit("-", 1)[1].isdigit()
        ]

    def write_text(self, suffix: str, text: str) -> None:
        """Write one text output's temporary file."""
        try:
            self.temp[suffix].write_text(text, encoding="utf-8")
        except OSError as exc:
            raise self._error(self.final[suffix], exc) from None

    def commit(self) -> None:
        """Rename every temporary into place, all or nothing."""
        self.check_targets()
        for suffix in COMMIT_ORDER:
            self._flush(suffix)
        self._keep_old()
        done: list[str] = []
        try:
            for suffix in COMMIT_ORDER:
                os.replace(self.temp[suffix], self.final[suffix])
                done.append(suffix)
        except BaseException as exc:
            self._undo(done)
            if isinstance(exc, OSError):
                raise self._error(self.folder, exc, "cannot move outputs into") from None
            raise
        finally:
            self._drop_backups()
        _sync_folder(self.folder)

    def _flush(self, suffix: str) -> None:
        try:
            with self.temp[suffix].open("rb") as handle:
                os.fsync(handle.fileno())
        except OSError as exc:
            if exc.errno not in _NO_FSYNC:
                raise self._error(self.final[suffix], exc) from None

    def _keep_old(self) -> None:
        """Hard-link (else copy) each older output aside, so a failed commit can undo."""
        for suffix, final in self.final.items():
            if not final.is_file():
                continue
            backup = self.backup[suffix]
            try:
                backup.unlink(missing_ok=True)
                _link_or_copy(final, backup)
            except OSError as exc:
                raise self._error(final, exc, "cannot keep safe the older") from None

    def _undo(self, done: list[str]) -> None:
        """Put back what a failed commit already replaced (best effort: it is failing)."""
        for suffix in reversed(done):
            with contextlib.suppress(OSError):
                if self.backup[suffix].exists():
                    os.replace(self.backup[suffix], self.final[suffix])
                else:
                    self.final[suffix].unlink(missing_ok=True)

    def _drop_backups(self) -> None:
        for path in self.backup.values():
            _remove(path)

    def _error(self, path: Path, exc: OSError, doing: str = "cannot write") -> OutputError:
        return OutputError(str(exc.strerror or exc), path=path, doing=doing, unchanged=True)

    def discard(self) -> None:
        """Remove any temporaries (and backups) left."""
        for path in (*self.temp.values(), *self.backup.values()):
            _remove(path)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.discard()


def _link_or_copy(source: Path, dest: Path) -> None:
    try:
        os.link(source, dest)
    except OSError:  # no hard links here (FAT, some network shares)
        shutil.copy2(source, dest)


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _sync_folder(folder: Path) -> None:
    """Make the renames durable (POSIX; silently skipped where folders cannot be opened)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
