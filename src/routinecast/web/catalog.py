"""The output folder as the web side sees it: complete builds only, read into frozen data.

A routine is listed when ``NAME.mp3``, ``NAME.timeline.json`` and ``NAME.vtt`` are all
regular files (no symlinks, no hidden names, so never a build's ``.NAME.mp3.tmp-PID``) and
its timeline parses. Only those three names per listed routine can ever be opened, and
they are opened without following symlinks. Each file is read from the descriptor it was
stamped by (``fstat``), so what is listed matches what was read even while a rebuild
replaces it; entries are cached by those stamps, so a request re-reads only what changed.
Nothing is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mutagen import MutagenError
from mutagen.id3 import ID3, ID3NoHeaderError

from routinecast.timeline import FORMAT, Chapter
from routinecast.web.handout import Exercise, exercises, routine_cautions

MP3, TIMELINE, VTT = ".mp3", ".timeline.json", ".vtt"
OUTPUTS: Mapping[str, str] = {MP3: "audio/mpeg", TIMELINE: "application/json", VTT: "text/vtt"}
"""The files a build writes, with the MIME type each is served as."""
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
_CHUNK = 1 << 20
_ID3: Any = ID3  # mutagen is unannotated


@dataclass(frozen=True)
class Stamp:
    """One version of one file: device, inode, size and modification time."""

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, info: os.stat_result) -> Stamp:
        """The stamp of a ``stat`` result."""
        return cls(info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)

    @property
    def etag(self) -> str:
        """A strong validator that changes whenever the file is replaced or rewritten."""
        return f"{self.inode:x}-{self.size:x}-{self.mtime_ns:x}"

    @property
    def modified(self) -> float:
        """Modification time in seconds since the epoch."""
        return self.mtime_ns / 1e9


@dataclass(frozen=True)
class Built:
    """One complete build in the folder."""

    name: str
    title: str
    summary: str
    duration_ms: int
    chapters: tuple[Chapter, ...]
    exercises: tuple[Exercise, ...]
    cautions: tuple[str, ...]
    captions: int
    overrides: tuple[str, ...]
    mp3: Stamp
    sha256: str

    def filename(self, suffix: str) -> str:
        """``NAME`` + suffix."""
        return f"{self.name}{suffix}"


@dataclass(frozen=True)
class Catalogue:
    """Every complete build in ``folder``, newest first."""

    folder: Path
    routines: tuple[Built, ...]

    def find(self, name: str) -> Built | None:
        """The build called ``name``, if listed."""
        return next((r for r in self.routines if r.name == name), None)

    def output(self, filename: str) -> tuple[Built, str] | None:
        """(build, suffix) when ``filename`` is exactly one of a listed build's outputs."""
        for suffix in OUTPUTS:
            if filename.endswith(suffix):
                built = self.find(filename.removesuffix(suffix))
                if built is not None:
                    return built, suffix
        return None


def open_output(path: Path) -> IO[bytes]:
    """``path`` opened for reading, refusing symlinks and anything but a regular file."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FileNotFoundError(f"not a regular file: {path.name}")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


_Key = tuple[Stamp, ...]


class CatalogueReader:
    """Reads the folder on demand, re-reading only builds whose files changed (thread-safe)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[_Key, Built | None]] = {}

    def read(self) -> Catalogue:
        """The catalogue as the folder is now."""
        with self._lock:
            found = {name: self._entry(name, key) for name, key in _complete(self.folder).items()}
            self._cache = {n: self._cache[n] for n in found if n in self._cache}
        listed = sorted((b for b in found.values() if b), key=lambda b: -b.mp3.mtime_ns)
        return Catalogue(self.folder, tuple(listed))

    def _entry(self, name: str, key: _Key) -> Built | None:
        cached = self._cache.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        stamps, built = _load(self.folder, name)
        self._cache[name] = (stamps, built)  # a rebuild landing meanwhile: read again next time
        return built


def _complete(folder: Path) -> dict[str, _Key]:
    """Names with all three outputs as regular files, with their stamps (lstat)."""
    try:
        entries = {e.name: e for e in os.scandir(folder) if not e.name.startswith(".")}
    except OSError:
        return {}
    found: dict[str, _Key] = {}
    for filename in entries:
        name = filename.removesuffix(MP3)
        if filename == name or not name or not all(name + s in entries for s in OUTPUTS):
            continue
        with contextlib.suppress(OSError):
            infos = [entries[name + s].stat(follow_symlinks=False) for s in OUTPUTS]
            if all(stat.S_ISREG(i.st_mode) for i in infos):
                found[name] = tuple(Stamp.of(i) for i in infos)
    return found


def _load(folder: Path, name: str) -> tuple[_Key, Built | None]:
    """Read one build; a file that vanished or does not parse leaves it unlisted."""
    try:
        with (
            open_output(folder / f"{name}{MP3}") as mp3,
            open_output(folder / f"{name}{TIMELINE}") as timeline,
            open_output(folder / f"{name}{VTT}") as vtt,
        ):
            stamps = tuple(Stamp.of(os.fstat(f.fileno())) for f in (mp3, timeline, vtt))
            doc = _timeline(timeline)
            if doc is None:
                return stamps, None
            return stamps, _built(name, doc, mp3, stamps[0])
    except (OSError, ValueError, KeyError, TypeError, MutagenError):
        return (), None


def _timeline(handle: IO[bytes]) -> Mapping[str, Any] | None:
    try:
        doc = json.loads(handle.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return doc if isinstance(doc, dict) and doc.get("format") == FORMAT else None


def _built(name: str, doc: Mapping[str, Any], mp3: IO[bytes], stamp: Stamp) -> Built:
    title, summary = _id3_title_and_comment(mp3)
    return Built(
        name=name,
        title=title or str(doc["title"]),
        summary=summary,
        duration_ms=int(doc["duration_ms"]),
        chapters=tuple(
            Chapter(str(c["title"]), int(c["start_ms"]), int(c["end_ms"])) for c in doc["chapters"]
        ),
        exercises=exercises(doc),
        cautions=routine_cautions(doc),
        captions=sum(1 for e in doc["events"] if e.get("kind") == "speech"),
        overrides=tuple(str(o) for o in doc.get("overrides", ())),
        mp3=stamp,
        sha256=_sha256(mp3),
    )


def _id3_title_and_comment(mp3: IO[bytes]) -> tuple[str, str]:
    """TIT2 (the title, overrides noted) and the plain COMM (the summary); "" if absent."""
    try:
        tags: Any = _ID3(mp3)
    except ID3NoHeaderError:
        return "", ""
    title = tags.get("TIT2")
    comments = [c for c in tags.getall("COMM") if c.desc == ""]
    return (
        str(title.text[0]) if title is not None and title.text else "",
        str(comments[0].text[0]) if comments and comments[0].text else "",
    )


def _sha256(handle: IO[bytes]) -> str:
    handle.seek(0)
    digest = hashlib.sha256()
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()
