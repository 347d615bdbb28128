"""A content-addressed cache of speech clips on disk.

The key is a SHA-256 of everything that changes the sound: the text as sent to the
voice (after the lexicon), the engine identity (engine, voice, rate, versions) and
the version of the clip processing. Changing a hold time changes none of these, so
nothing is re-synthesised for it.

File format (one clip per file, ``<root>/<k[:2]>/<key>.clip``): ``MAGIC``, the
sample count (uint32 LE), the SHA-256 of the payload, then float32 LE samples.
Writes go to a unique temporary file in the same folder and are renamed into place,
so two builds sharing a cache never see half a clip; a write that fails or is
interrupted (Ctrl-C) removes its temporary. A truncated or corrupt file (a crash
before the data reached the disk, a bad sector, a hand edit) is detected on read by
its length and checksum, deleted and treated as missing, so the clip is made again.
Any other I/O failure is a ``CacheError`` naming the folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from routinecast.errors import CacheError
from routinecast.speech.engines.base import Samples

MAGIC = b"RCCLIP01"
HEADER = struct.Struct("<8sI32s")
TMP_SUFFIX = ".tmp"
PROCESSING = "level-v2:lp8k:-16LUFS:-3.3dBTP:trim15ms"
"""Bump when clip processing changes, so old clips are not reused."""


def default_cache_dir() -> Path:
    """``$ROUTINECAST_CACHE_DIR``, else the user cache folder."""
    env = os.environ.get("ROUTINECAST_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("routinecast")) / "clips"


def clip_key(spoken: str, identity: Mapping[str, str]) -> str:
    """The cache key of one clip."""
    blob = json.dumps(
        {"text": spoken, "engine": dict(sorted(identity.items())), "processing": PROCESSING},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ClipCache:
    """Clips by key under ``root``."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_cache_dir()

    def path(self, key: str) -> Path:
        """Where the clip with ``key`` lives."""
        return self.root / key[:2] / f"{key}.clip"

    def length(self, key: str) -> int | None:
        """Sample count from the header alone (for ``plan``), or None."""
        try:
            with self.path(key).open("rb") as handle:
                head = handle.read(HEADER.size)
        except OSError:
            return None
        if len(head) != HEADER.size:
            return None
        magic, count, _ = HEADER.unpack(head)
        return int(count) if magic == MAGIC else None

    def load(self, key: str) -> Samples | None:
        """The clip, or None when missing; a damaged file is removed and reported missing."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CacheError(f"cannot read the speech cache at {path}: {exc.strerror}") from None
        clip = _decode(data)
        if clip is None:
            _remove(path)
        return clip

    def store(self, key: str, clip: Samples) -> None:
        """Write atomically: a temp file in the same folder, then rename."""
        path = self.path(key)
        payload = np.ascontiguousarray(clip, dtype="<f4").tobytes()
        head = HEADER.pack(MAGIC, len(clip), hashlib.sha256(payload).digest())
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:8]}-", suffix=TMP_SUFFIX)
        except OSError as exc:
            raise self._write_error(exc) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(head + payload)
            os.replace(tmp, path)
        except BaseException as exc:
            _remove(Path(tmp))
            if isinstance(exc, OSError):
                raise self._write_error(exc) from None
            raise

    def _write_error(self, exc: OSError) -> CacheError:
        return CacheError(
            f"cannot write the speech cache at {self.root}: {exc.strerror or exc}; "
            "set ROUTINECAST_CACHE_DIR to a writable folder"
        )

    def size(self) -> tuple[int, int]:
        """(number of clips, bytes) in the cache."""
        count = total = 0
        for item in self._entries():
            if item.suffix == ".clip":
                try:
                    total += item.stat().st_size
                except FileNotFoundError:  # removed by another process meanwhile
                    continue
                count += 1
        return count, total

    def clear(self) -> int:
        """Delete every clip (and stray temporaries); returns how many clips were removed."""
        count = 0
        for item in self._entries():
            if item.suffix in (".clip", ".gain", ".sound", TMP_SUFFIX):
                try:
                    item.unlink(missing_ok=True)
                except OSError as exc:
                    raise CacheError(
                        f"cannot clear the speech cache at {self.root}: {exc.strerror or exc}"
                    ) from None
                count += item.suffix == ".clip"
        return count

    def _entries(self) -> list[Path]:
        try:
            return list(self.root.glob("*/*")) if self.root.is_dir() else []
        except OSError as exc:
            raise CacheError(
                f"cannot read the speech cache at {self.root}: {exc.strerror or exc}"
            ) from None


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _decode(data: bytes) -> Samples | None:
    if len(data) < HEADER.size:
        return None
    magic, count, digest = HEADER.unpack(data[: HEADER.size])
    payload = data[HEADER.size :]
    if magic != MAGIC or len(payload) != 4 * count:
        return None
    if hashlib.sha256(payload).digest() != digest:
        return None
    return np.frombuffer(payload, dtype="<f4").astype(np.float32)
