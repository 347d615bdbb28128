"""The files ``build`` writes: JSON timeline, WebVTT captions, and the atomic commit.

``OutputSet`` hands out temporary paths beside the final ones; ``commit`` renames them
all into place only after everything was written, and any failure or Ctrl-C removes
the temporaries, so an older output of the same name is never touched by a failed build.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import TracebackType

from .errors import OutputError
from .timeline import Timeline

SUFFIXES = (".mp3", ".timeline.json", ".vtt")


def timeline_json(timeline: Timeline) -> str:
    """The timeline document as text."""
    return json.dumps(timeline.to_json(), indent=1, ensure_ascii=False) + "\n"


def vtt_time(ms: int) -> str:
    """WebVTT timestamp: 00:01:02.345."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def timeline_vtt(timeline: Timeline) -> str:
    """WebVTT captions of every spoken line."""
    lines = ["WEBVTT", f"NOTE {timeline.title}", ""]
    for number, event in enumerate(timeline.speech, start=1):
        text = (event.text or "").replace("-->", "->")
        lines += [str(number), f"{vtt_time(event.start_ms)} --> {vtt_time(event.end_ms)}", text, ""]
    return "\n".join(lines)


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
        tag = f".tmp-{os.getpid()}"
        self.temp = {s: folder / f".{stem}{s}{tag}" for s in SUFFIXES}

    def __enter__(self) -> OutputSet:
        prepare_folder(self.folder)
        return self

    def write_text(self, suffix: str, text: str) -> None:
        """Write one text output's temporary file."""
        try:
            self.temp[suffix].write_text(text, encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write {self.final[suffix]}: {exc.strerror}") from None

    def commit(self) -> None:
        """Rename every temporary into place (MP3 last: it is what players pick up)."""
        try:
            for suffix in (".timeline.json", ".vtt", ".mp3"):
                os.replace(self.temp[suffix], self.final[suffix])
        except OSError as exc:
            raise OutputError(f"cannot move outputs into {self.folder}: {exc.strerror}") from None

    def discard(self) -> None:
        """Remove any temporaries left."""
        for path in self.temp.values():
            path.unlink(missing_ok=True)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.discard()
