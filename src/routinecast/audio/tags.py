"""ID3v2.4 tags and chapters for the finished MP3, written and read with mutagen.

Text frames: TIT2 title, TPE1 artist, TALB album, TCON genre, COMM comment
(language "eng", empty description) and TLEN length in milliseconds. Chapters
follow the ID3v2 Chapter Frame Addendum: one CHAP per chapter (element ids
"chp0", "chp1", ..., times in ms, byte offsets unused = 0xFFFFFFFF, a TIT2
sub-frame with the chapter title) and one top-level, ordered CTOC "toc"
listing them, which podcast players use to show the chapter list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mutagen import MutagenError
from mutagen.id3 import (
    CHAP,
    COMM,
    CTOC,
    ID3,
    TALB,
    TCON,
    TIT2,
    TLEN,
    TPE1,
    CTOCFlags,
    Encoding,
    ID3NoHeaderError,
)

from routinecast.errors import InputError, OutputError
from routinecast.timeline import Chapter

TOC_ID = "toc"
"""Element id of the single top-level table of contents."""
TOC_TITLE = "Chapters"
_NO_OFFSET = 0xFFFFFFFF
_UTF8 = Encoding.UTF8


@dataclass(frozen=True)
class Tags:
    """The text tags of one output file; ``length_ms`` is the audio length (TLEN)."""

    title: str
    artist: str
    album: str
    genre: str
    comment: str
    length_ms: int

    def __post_init__(self) -> None:
        if not isinstance(self.length_ms, int) or self.length_ms < 0:
            raise ValueError(f"length_ms must be a non-negative int, got {self.length_ms!r}")


def _new(mutagen_class: Any, *args: Any, **fields: Any) -> Any:
    """Instantiate a mutagen class; mutagen is unannotated, so go through ``Any``."""
    return mutagen_class(*args, **fields)


def chapter_id(index: int) -> str:
    """The CHAP element id of the chapter at ``index`` ("chp0", "chp1", ...)."""
    return f"chp{index}"


def write_tags(path: Path, tags: Tags, chapters: Sequence[Chapter]) -> None:
    """Replace every ID3 tag of the MP3 at ``path`` with ``tags`` and ``chapters`` (ID3v2.4).

    Any earlier ID3v2 or ID3v1 tag is dropped. Raises ``OutputError`` when the
    file is missing or cannot be rewritten.
    """
    if not path.is_file():
        raise OutputError("the file does not exist", path=path, doing="cannot tag")
    id3 = _new(ID3)
    for frame in [*_text_frames(tags), *_chapter_frames(chapters)]:
        id3.add(frame)
    try:
        id3.save(path, v1=0, v2_version=4)
    except (MutagenError, OSError) as exc:
        raise OutputError(str(exc), path=path, doing="cannot write tags to") from exc


def read_tags(path: Path) -> tuple[Tags, list[Chapter]]:
    """The tags and chapters of ``path``, as ``write_tags`` wrote them.

    Missing text frames read as "" (TLEN as 0); chapters come in table-of-contents
    order (by start time if there is no CTOC). Raises ``InputError`` when the file
    is missing, has no ID3v2 tag, or holds a malformed length or chapter.
    """
    id3 = _load(path)
    tags = Tags(
        title=_text(id3, "TIT2"),
        artist=_text(id3, "TPE1"),
        album=_text(id3, "TALB"),
        genre=_text(id3, "TCON"),
        comment=_comment(id3),
        length_ms=_length_ms(id3, path),
    )
    return tags, _chapters(id3, path)


def _text_frames(tags: Tags) -> list[Any]:
    return [
        _new(TIT2, encoding=_UTF8, text=[tags.title]),
        _new(TPE1, encoding=_UTF8, text=[tags.artist]),
        _new(TALB, encoding=_UTF8, text=[tags.album]),
        _new(TCON, encoding=_UTF8, text=[tags.genre]),
        _new(COMM, encoding=_UTF8, lang="eng", desc="", text=[tags.comment]),
        _new(TLEN, encoding=_UTF8, text=[str(tags.length_ms)]),
    ]


def _chapter_frames(chapters: Sequence[Chapter]) -> list[Any]:
    if not chapters:
        return []
    frames = [_chap(chapter_id(i), ch) for i, ch in enumerate(chapters)]
    toc = _new(
        CTOC,
        element_id=TOC_ID,
        flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
        child_element_ids=[chapter_id(i) for i in range(len(chapters))],
        sub_frames=[_new(TIT2, encoding=_UTF8, text=[TOC_TITLE])],
    )
    return [*frames, toc]


def _chap(element_id: str, chapter: Chapter) -> Any:
    return _new(
        CHAP,
        element_id=element_id,
        start_time=chapter.start_ms,
        end_time=chapter.end_ms,
        start_offset=_NO_OFFSET,
        end_offset=_NO_OFFSET,
        sub_frames=[_new(TIT2, encoding=_UTF8, text=[chapter.title])],
    )


def _load(path: Path) -> Any:
    try:
        return _new(ID3, path)
    except ID3NoHeaderError as exc:
        raise InputError("has no ID3v2 tag", file=str(path)) from exc
    except (MutagenError, OSError) as exc:
        raise InputError(f"cannot read ID3 tags ({exc})", file=str(path)) from exc


def _text(frames: Any, frame_id: str) -> str:
    frame = frames.get(frame_id)
    return str(frame.text[0]) if frame is not None and frame.text else ""


def _comment(id3: Any) -> str:
    frames = id3.getall("COMM")
    plain = [f for f in frames if f.desc == ""] or frames
    return str(plain[0].text[0]) if plain and plain[0].text else ""


def _length_ms(id3: Any, path: Path) -> int:
    text = _text(id3, "TLEN")
    if not text:
        return 0
    try:
        return int(text)
    except ValueError as exc:
        raise InputError(f"TLEN must be milliseconds, got {text!r}", file=str(path)) from exc


def _chapters(id3: Any, path: Path) -> list[Chapter]:
    chaps = {f.element_id: f for f in id3.getall("CHAP")}
    order = _toc_order(id3, chaps)
    try:
        return [_chapter(chaps[eid]) for eid in order]
    except (TypeError, ValueError) as exc:
        raise InputError(f"malformed chapter ({exc})", file=str(path)) from exc


def _toc_order(id3: Any, chaps: dict[str, Any]) -> list[str]:
    tops = [t for t in id3.getall("CTOC") if t.flags & CTOCFlags.TOP_LEVEL]
    listed = [eid for eid in tops[0].child_element_ids if eid in chaps] if tops else []
    rest = sorted((c for eid, c in chaps.items() if eid not in listed), key=_start_time)
    return listed + [c.element_id for c in rest]


def _start_time(chap: Any) -> int:
    return int(chap.start_time)


def _chapter(chap: Any) -> Chapter:
    return Chapter(
        title=_text(chap.sub_frames, "TIT2"),
        start_ms=int(chap.start_time),
        end_ms=int(chap.end_time),
    )
