"""A content-addressed cache of speech clips on disk.

The key is a SHA-256 of everything that changes the sound: the text as sent to the
voice (after the lexicon), the engine identity (engine, voice, rate, versions) and
the version of the clip processing. Changing a hold time changes none of these, so
nothing is re-synthesised for it.

File format (one clip per file, ``<root>/<k[:2]>/<key>.clip``; a sentence part,
``speech.parts``, the same in ``<key>.part``): ``MAGIC``, the
sample count (uint32 LE), the SHA-256 of the payload, then float32 LE samples. The
header alone gives a clip's length and digest (``header``), read with ``struct``: that
is all ``plan`` and an up-to-date build need, so neither imports numpy.
Writes go through ``store.write_atomic`` (a temporary in the same folder, renamed
into place), so two builds sharing a cache never see half a clip; a write that fails
or is interrupted (Ctrl-C) removes its temporary. A truncated or corrupt file (a crash
before the data reached the disk, a bad sector, a hand edit) is detected on read by
its length and checksum, deleted and treated as missing, so the clip is made again.
Any other I/O failure is a ``CacheError`` naming the folder.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from routinecast.errors import CacheError
from routinecast.speech.clip import PROCESSING
from routinecast.store import TMP_SUFFIX, cache_root, remove_quietly, write_atomic

if TYPE_CHECKING:
    from routinecast.dsp.samples import Samples

MAGIC = b"RCCLIP01"
HEADER = struct.Struct("<8sI32s")
CLIP = ".clip"
PART = ".part"
"""A sentence's raw audio (``speech.parts``), in the same format as a clip."""
__all__ = ["CLIP", "HEADER", "MAGIC", "PART", "PROCESSING", "ClipCache", "ClipHeader", "clip_key"]


@dataclass(frozen=True)
class ClipHeader:
    """What a clip file's header says: its sample count and the SHA-256 of its samples."""

    samples: int
    digest: str


def clip_key(spoken: str, identity: Mapping[str, str]) -> str:
    """The cache key of one clip."""
    blob = json.dumps(
        {"text": spoken, "engine": dict(sorted(identity.items())), "processing": PROCESSING},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ClipCache:
    """Clips by key under ``root`` (files ending ``suffix``: ``PART`` for sentence parts)."""

    def __init__(self, root: Path | None = None, suffix: str = CLIP) -> None:
        self.root = root or cache_root()
        self.suffix = suffix

    def path(self, key: str) -> Path:
        """Where the clip with ``key`` lives."""
        return self.root / key[:2] / f"{key}{self.suffix}"

    def header(self, key: str) -> ClipHeader | None:
        """The header alone (length and digest, for ``plan`` and up-to-date builds), or None.

        The payload is not checked here: a build that goes on to use the samples
        loads (and checks) them; one that finds its outputs up to date needs only this.
        """
        try:
            with self.path(key).open("rb") as handle:
                head = handle.read(HEADER.size)
        except OSError:
            return None
        if len(head) != HEADER.size:
            return None
        magic, count, digest = HEADER.unpack(head)
        return ClipHeader(int(count), digest.hex()) if magic == MAGIC else None

    def length(self, key: str) -> int | None:
        """Sample count from the header alone, or None."""
        found = self.header(key)
        return None if found is None else found.samples

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
            remove_quietly(path)
        return clip

    def store(self, key: str, clip: Samples) -> None:
        """Write atomically (``store.write_atomic``); ``CacheError`` when it cannot."""
        import numpy as np

        payload = np.ascontiguousarray(clip, dtype="<f4").tobytes()
        head = HEADER.pack(MAGIC, len(clip), hashlib.sha256(payload).digest())
        try:
            write_atomic(self.path(key), head + payload)
        except OSError as exc:
            raise self._write_error(exc) from None

    def _write_error(self, exc: OSError) -> CacheError:
        return CacheError(
            f"cannot write the speech cache at {self.root}: {exc.strerror or exc}; "
            "set ROUTINECAST_CACHE_DIR to a writable folder"
        )

    def size(self) -> tuple[int, int]:
        """(number of clips, bytes of clips and sentence parts) in the cache."""
        count = total = 0
        for item in self._entries():
            if item.suffix in (CLIP, PART):
                try:
                    total += item.stat().st_size
                except FileNotFoundError:  # removed by another process meanwhile
                    continue
                count += item.suffix == CLIP
        return count, total

    def clear(self) -> int:
        """Delete every clip, sentence part, remembered gain, prepared voice (a file, or a
        ``.voice`` folder) and stray temporary; returns how many clips were removed."""
        count = 0
        for item in self._entries():
            if item.suffix in (CLIP, PART, ".gain", ".sound", ".onnx", ".voice", TMP_SUFFIX):
                try:
                    _delete(item)
                except OSError as exc:
                    raise CacheError(
                        f"cannot clear the speech cache at {self.root}: {exc.strerror or exc}"
                    ) from None
                count += item.suffix == CLIP
        return count

    def _entries(self) -> list[Path]:
        try:
            return list(self.root.glob("*/*")) if self.root.is_dir() else []
        except OSError as exc:
            raise CacheError(
                f"cannot read the speech cache at {self.root}: {exc.strerror or exc}"
            ) from None


def _delete(item: Path) -> None:
    """A file, or a folder and all in it."""
    if item.is_dir() and not item.is_symlink():
        shutil.rmtree(item)
    else:
        item.unlink(missing_ok=True)


def _decode(data: bytes) -> Samples | None:
    import numpy as np

    if len(data) < HEADER.size:
        return None
    magic, count, digest = HEADER.unpack(data[: HEADER.size])
    payload = data[HEADER.size :]
    if magic != MAGIC or len(payload) != 4 * count:
        return None
    if hashlib.sha256(payload).digest() != digest:
        return None
    return np.frombuffer(payload, dtype="<f4").astype(np.float32)
