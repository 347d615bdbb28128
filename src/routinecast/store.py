"""The cache folder, its one atomic writer, and the bounded store of built files.

Every cache lives under one folder, ``cache_root()``: ``$ROUTINECAST_CACHE_DIR``, else
the user cache folder. The speech clips (``speech.cache``), the remembered master gains
(``audio.mastering``) and the built outputs (``FileStore`` under ``built/``) all write
there through ``write_atomic``: a temporary in the same folder, renamed into place, so
another process sees the old file or the whole new one, never half; a write that fails
or is interrupted (Ctrl-C, a full disk, SIGTERM) removes its temporary.

``FileStore`` keeps whole files by a key the caller computes from everything that made
them (``inputs_key``: ``pipeline`` lists a build's inputs, the package's own files are
added, so edited code never gets an older build's file). Two levels, like a build system's action
cache over its content store: ``<key>.ref`` names the SHA-256 of the file, the file is
``<sha256>.blob``, so identical outputs are stored once and every read is checked
against its name: a damaged blob is deleted and reported missing. The store is bounded:
after each ``put`` the least recently used blobs (``get`` touches what it returns) go
until the total is under ``limit_bytes``.

This module is a contract (the floor every stage may stand on): it knows files, not audio.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

TMP_SUFFIX = ".tmp"
"""Every temporary made here ends so; ``cache clear`` sweeps them."""
STORE_FOLDER = "built"
STORE_MB_ENV = "ROUTINECAST_STORE_MB"
DEFAULT_STORE_MB = 500
"""About 22 cold builds of a 15-minute routine: 11 MB for the MP3 at 96 kbps and as much
for its encoded pieces (``audio.reuse``). Builds that differ late share their earlier
pieces, which are stored once."""
_CHUNK = 1 << 20


def cache_root() -> Path:
    """``$ROUTINECAST_CACHE_DIR``, else the user cache folder (``.../routinecast/clips``)."""
    env = os.environ.get("ROUTINECAST_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("routinecast")) / "clips"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all; ``OSError`` when it cannot.

    The folder is created if missing. Any failure, even ``KeyboardInterrupt``, removes
    the temporary before it propagates.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:12]}-", suffix=TMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        remove_quietly(Path(tmp))
        raise


def link_or_copy(source: Path, dest: Path) -> None:
    """Put ``source``'s bytes at ``dest`` (replaced atomically): a hard link, else a copy."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name[:12]}-", suffix=TMP_SUFFIX)
    os.close(fd)
    try:
        os.unlink(tmp)
        try:
            os.link(source, tmp)
        except OSError:  # another file system, or no hard links (FAT, some shares)
            shutil.copyfile(source, tmp)
        os.replace(tmp, dest)
    except BaseException:
        remove_quietly(Path(tmp))
        raise


def remove_quietly(path: Path) -> None:
    """Delete ``path`` (a file, or a folder and all in it) if it is there; a failure only
    costs space."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
        return
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def store_limit_bytes() -> int:
    """``$ROUTINECAST_STORE_MB`` (0 turns the store off), else ``DEFAULT_STORE_MB``."""
    env = os.environ.get(STORE_MB_ENV, "")
    megabytes = int(env) if env.isdigit() else DEFAULT_STORE_MB
    return megabytes * 1_000_000


@dataclass(frozen=True)
class StoreSize:
    """What ``FileStore.size`` found."""

    files: int
    bytes: int
    limit_bytes: int


class FileStore:
    """Whole files by key, checked on every read, bounded least recently used first."""

    def __init__(self, root: Path | None = None, limit_bytes: int | None = None) -> None:
        self.folder = (root or cache_root()) / STORE_FOLDER
        self.limit_bytes = store_limit_bytes() if limit_bytes is None else limit_bytes
        self._bytes: int | None = None
        """The blobs' bytes as last counted, plus what this object added since (None:
        count again). A build puts its MP3 and every piece it encoded; counting the
        folder for each put took 20-35 ms in a full store of 500 MB."""

    def _ref(self, key: str) -> Path:
        return self.folder / f"{key}.ref"

    def _blob(self, digest: str) -> Path:
        return self.folder / f"{digest}.blob"

    def get(self, key: str) -> Path | None:
        """The stored file for ``key``, verified; None when missing or damaged (then removed)."""
        if self.limit_bytes <= 0:
            return None
        try:
            ref = self._ref(key).read_bytes()
        except OSError:
            return None
        try:
            digest = ref.decode("ascii").strip()
            blob = self._blob(digest)
            if len(digest) != 64 or file_digest(blob) != digest:
                raise ValueError(digest)
            for path in (self._ref(key), blob):
                os.utime(path)  # most recently used
        except (OSError, ValueError):
            self._drop(key, ref)
            return None
        return blob

    def _drop(self, key: str, ref: bytes) -> None:
        """Remove a damaged entry: its ref, and the blob it names if that is damaged too."""
        with contextlib.suppress(ValueError):
            digest = ref.decode("ascii").strip()
            blob = self._blob(digest)
            with contextlib.suppress(OSError):
                if len(digest) == 64 and file_digest(blob) != digest:
                    remove_quietly(blob)
        remove_quietly(self._ref(key))

    def put(self, key: str, source: Path) -> None:
        """Keep a copy (or a hard link) of ``source`` under ``key``; best effort, never raises
        ``OSError`` (a store that cannot be written only costs time next build)."""
        if self.limit_bytes <= 0:
            return
        with contextlib.suppress(OSError):
            self.folder.mkdir(parents=True, exist_ok=True)
            digest = file_digest(source)
            blob = self._blob(digest)
            added = not blob.exists()
            if added:
                link_or_copy(source, blob)
            else:
                os.utime(blob)
            write_atomic(self._ref(key), digest.encode("ascii"))
            if added:
                self._grew(blob.stat().st_size)

    def _grew(self, size: int) -> None:
        """A blob of ``size`` bytes was added: evict once the store may be over its limit
        (counted from the folder the first time, then kept up to date)."""
        if self._bytes is None:
            self._bytes = sum(size for _, _, size in self._stats("*.blob"))
        else:
            self._bytes += size
        if self._bytes > self.limit_bytes:
            self.evict()
            self._bytes = None

    def evict(self) -> None:
        """Remove least recently used blobs (and refs) until the store fits its limit."""
        blobs = sorted(self._stats("*.blob"), key=lambda item: item[1])
        total = sum(size for _, _, size in blobs)
        removed = False
        for path, _, size in blobs:
            if total <= self.limit_bytes:
                break
            remove_quietly(path)
            total -= size
            removed = True
        if not removed:
            return
        alive = {path.stem for path, _, _ in self._stats("*.blob")}
        for ref, _, _ in self._stats("*.ref"):
            with contextlib.suppress(OSError, UnicodeDecodeError):
                if ref.read_text("ascii").strip() not in alive:
                    remove_quietly(ref)

    def _stats(self, pattern: str) -> Iterator[tuple[Path, float, int]]:
        try:
            paths = list(self.folder.glob(pattern))
        except OSError:
            return
        for path in paths:
            with contextlib.suppress(OSError):
                info = path.stat()
                yield path, info.st_mtime, info.st_size

    def size(self) -> StoreSize:
        """How many built files the store holds and their bytes."""
        blobs = list(self._stats("*.blob"))
        return StoreSize(len(blobs), sum(size for _, _, size in blobs), self.limit_bytes)

    def clear(self) -> int:
        """Delete every stored file, ref and temporary; returns how many files were removed."""
        removed = 0
        try:
            items = list(self.folder.iterdir()) if self.folder.is_dir() else []
        except OSError:
            return 0
        for item in items:
            if item.suffix in (".blob", ".ref", TMP_SUFFIX):
                item.unlink(missing_ok=True)
                removed += item.suffix == ".blob"
        return removed


def inputs_key(parts: Mapping[str, object]) -> str:
    """SHA-256 of a build's inputs (JSON-able values) and of the code that builds them."""
    blob = json.dumps(
        {"code": code_fingerprint(), **parts}, sort_keys=True, ensure_ascii=False, default=str
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """The package's version and every one of its files (path, size, modification time).

    More than the version: a build made by edited code (a checkout, a local change)
    must not be served to the code after it.
    """
    import routinecast

    package = Path(routinecast.__file__).parent
    digest = hashlib.sha256(routinecast.__version__.encode())
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".yaml", ".json") and "__pycache__" not in path.parts:
            info = path.stat()
            digest.update(
                f"{path.relative_to(package)}|{info.st_size}|{info.st_mtime_ns}\n".encode()
            )
    return digest.hexdigest()
