"""Receipts: a build that nothing has changed, answered before anything is loaded.

A build is decided by its *request* (the routine file, the options, the
``ROUTINECAST_*`` environment and the code: ``request_key``) and by what it *read*:
every YAML file's bytes and every library folder's listing (``reads``), the user's
sounds, music bed and voice file, the installed packages (the speech engine and its
voice: ``environment_stamp``, the modification times of the package folders, which
every install, upgrade or removal changes) and ffmpeg.

After a build the pipeline leaves a receipt in the store of built files
(``store.FileStore``: bounded, shown by ``cache info``, emptied by ``cache clear``
with the MP3s) under the request's key: what was read, the MP3's key in the store,
and the timeline and captions as written. ``replay`` finds the receipt, reads every listed file
again (their digests, not modification times), and when nothing changed and the MP3
is still stored writes the three outputs as any build does (temporaries, then
renamed together) without loading the routine, laying anything out or importing the
loader, the templates, numpy or an engine: a command line that is up to date costs
the interpreter, typer and a few milliseconds. Anything else (no receipt, a changed
file, a damaged or foreign receipt, a build given its own engine object) returns
None, and the build runs its full path, whose own up-to-date check
(``pipeline._from_store``) still avoids mixing and encoding when only the receipt is
missing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import site
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routinecast.audio.ffmpeg import ffmpeg_identity
from routinecast.errors import OutputError
from routinecast.outputs import OutputSet, timeline_json, timeline_vtt
from routinecast.reads import Reads
from routinecast.request import BuildOptions, BuildResult
from routinecast.store import FileStore, code_fingerprint, link_or_copy
from routinecast.timeline import Timeline

FORMAT = "routinecast.receipt/1"


def request_key(path: Path, options: BuildOptions) -> str:
    """The key of a build request: routine file, options, environment and code.

    Where the outputs go (folder, name) and how many workers speak do not change
    what is built; every path in the options is made absolute, so the same words
    typed in another folder are another request.
    """
    asked = dataclasses.replace(
        options,
        output_dir=Path(),
        name=None,
        workers=None,
        cache_dir=None,
        music=None if options.music is None else _absolute(options.music),
        sounds=tuple((name, _absolute(file)) for name, file in options.sounds),
    )
    environment = sorted((k, v) for k, v in os.environ.items() if k.startswith("ROUTINECAST_"))
    doc = [FORMAT, code_fingerprint(), str(path.resolve()), repr(asked), environment]
    return "receipt-" + hashlib.sha256(json.dumps(doc).encode("utf-8")).hexdigest()


def _absolute(path: Path) -> Path:
    return path.expanduser().resolve()


def environment_stamp() -> list[tuple[str, int]]:
    """The package folders and their modification times (installing anything changes one)."""
    folders = [*site.getsitepackages(), site.getusersitepackages()]
    stamp = []
    for folder in dict.fromkeys(folders):
        with contextlib.suppress(OSError):
            stamp.append((folder, os.stat(folder).st_mtime_ns))
    return stamp


def texts_of(timeline: Timeline) -> dict[str, str]:
    """The timeline document and the captions, as the build writes them."""
    return {".timeline.json": timeline_json(timeline), ".vtt": timeline_vtt(timeline)}


@dataclass(frozen=True)
class Receipt:
    """What one build read and made (``texts``: see ``texts_of``)."""

    reads: Reads
    mp3_key: str
    texts: dict[str, str]
    lines: int
    stamp: list[tuple[str, int]]
    ffmpeg: str

    @property
    def timeline(self) -> Timeline:
        """The timeline, read back from its document."""
        return Timeline.from_json(json.loads(self.texts[".timeline.json"]))

    def to_json(self) -> dict[str, Any]:
        """The JSON document kept in the store."""
        return {
            "format": FORMAT,
            "reads": self.reads.to_json(),
            "mp3": self.mp3_key,
            "texts": self.texts,
            "lines": self.lines,
            "stamp": self.stamp,
            "ffmpeg": self.ffmpeg,
        }

    @classmethod
    def from_json(cls, doc: Any) -> Receipt:
        """The receipt ``to_json`` wrote; ``ValueError`` for anything else."""
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError("not a receipt")
        try:
            return cls(
                Reads.from_json(doc["reads"]),
                str(doc["mp3"]),
                {suffix: str(doc["texts"][suffix]) for suffix in (".timeline.json", ".vtt")},
                int(doc["lines"]),
                [(str(folder), int(mtime)) for folder, mtime in doc["stamp"]],
                str(doc["ffmpeg"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a receipt: {exc!r}") from None

    def still_true(self) -> bool:
        """Nothing the build depended on has changed since."""
        if self.stamp != environment_stamp() or self.ffmpeg != ffmpeg_identity():
            return False
        return self.reads.unchanged()


def remember(path: Path, options: BuildOptions, receipt: Receipt) -> None:
    """Keep ``receipt`` for this request; best effort (a missing receipt costs time only)."""
    store = FileStore(options.cache_dir)
    if store.limit_bytes <= 0:
        return
    with contextlib.suppress(OSError):
        store.folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=store.folder, prefix=".receipt-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(receipt.to_json(), file, ensure_ascii=False)
            store.put(request_key(path, options), Path(name))
        finally:
            Path(name).unlink(missing_ok=True)


def replay(path: Path, options: BuildOptions) -> BuildResult | None:
    """Write the outputs from the store when nothing has changed since the last build."""
    started = time.perf_counter()
    store = FileStore(options.cache_dir)
    if store.limit_bytes <= 0:
        return None
    found = _receipt(store, request_key(path, options))
    if found is None or not found[0].still_true():
        return None
    receipt, timeline = found
    blob = store.get(receipt.mp3_key)
    if blob is None:
        return None
    outputs = OutputSet(options.output_dir, options.output_name(path))
    write_stored(outputs, blob, receipt.texts)
    final = outputs.final
    stages = {"up-to-date": time.perf_counter() - started}
    return BuildResult(
        final[".mp3"],
        final[".timeline.json"],
        final[".vtt"],
        timeline,
        stages,
        0,
        receipt.lines,
        up_to_date=True,
    )


def _receipt(store: FileStore, key: str) -> tuple[Receipt, Timeline] | None:
    """The receipt kept for ``key`` and its timeline; None when missing or not one."""
    found = store.get(key)
    if found is None:
        return None
    try:
        receipt = Receipt.from_json(json.loads(found.read_text(encoding="utf-8")))
        return receipt, receipt.timeline
    except (OSError, ValueError):
        return None


def write_stored(outputs: OutputSet, blob: Path, texts: dict[str, str]) -> None:
    """The stored MP3 (linked or copied) and the timeline's JSON and captions, committed."""
    with outputs, final_names(outputs):
        try:
            link_or_copy(blob, outputs.temp[".mp3"])
        except OSError as exc:
            raise OutputError(str(exc.strerror or exc), path=outputs.final[".mp3"]) from None
        for suffix, text in texts.items():
            outputs.write_text(suffix, text)
        outputs.commit()


@contextmanager
def final_names(outputs: OutputSet) -> Iterator[None]:
    """An ``OutputError`` about a temporary file names the output the user asked for."""
    try:
        yield
    except OutputError as exc:
        finals = {str(temp): outputs.final[suffix] for suffix, temp in outputs.temp.items()}
        raise exc.about(finals.get(str(exc.path), exc.path)) from None
