"""Tests for routinecast.audio.tags: ID3v2.4 text frames, CHAP and CTOC."""

from __future__ import annotations

from pathlib import Path

import mutagen.mp3
import numpy as np
import pytest
from mutagen.id3 import CHAP, CTOC, ID3, TIT2, CTOCFlags

from routinecast.audio.decode import decode_audio
from routinecast.audio.encode import encode_mp3
from routinecast.audio.tags import Tags, read_tags, write_tags
from routinecast.errors import InputError, OutputError
from routinecast.timeline import Chapter

SR = 22050
LENGTH_MS = 3000
TAGS = Tags(
    title="Morning mobility \u2013 week 2",
    artist="routinecast",
    album="Routines",
    genre="Fitness",
    comment="Built by routinecast ✓",
    length_ms=LENGTH_MS,
)
CHAPTERS = [
    Chapter("Cat\u2013cow", 0, 900),
    Chapter("Glute bridge march", 900, 2100),
    Chapter("Ünïcödé stretch 💪", 2100, LENGTH_MS),
]


@pytest.fixture
def mp3(tmp_path: Path) -> Path:
    dest = tmp_path / "routine.mp3"
    noise = np.random.default_rng(0).integers(-200, 200, SR * LENGTH_MS // 1000, dtype=np.int16)
    encode_mp3([noise], dest)
    return dest


def test_round_trip(mp3: Path) -> None:
    write_tags(mp3, TAGS, CHAPTERS)
    assert read_tags(mp3) == (TAGS, CHAPTERS)


def test_frames_follow_the_chapter_addendum(mp3: Path) -> None:
    write_tags(mp3, TAGS, CHAPTERS)
    id3 = ID3(mp3)
    assert id3.version == (2, 4, 0)
    comm = id3.getall("COMM")
    assert [(c.lang, c.desc, c.text) for c in comm] == [("eng", "", [TAGS.comment])]
    assert id3["TLEN"].text == [str(LENGTH_MS)]
    chaps = sorted(id3.getall("CHAP"), key=lambda c: c.element_id)
    assert [c.element_id for c in chaps] == ["chp0", "chp1", "chp2"]
    assert all(c.start_offset == c.end_offset == 0xFFFFFFFF for c in chaps)
    assert [(c.start_time, c.end_time) for c in chaps] == [(0, 900), (900, 2100), (2100, 3000)]
    assert [c.sub_frames["TIT2"].text for c in chaps] == [[ch.title] for ch in CHAPTERS]
    (toc,) = id3.getall("CTOC")
    assert toc.element_id == "toc"
    assert toc.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    assert toc.child_element_ids == ["chp0", "chp1", "chp2"]
    assert toc.sub_frames["TIT2"].text == ["Chapters"]


def test_tagging_keeps_the_audio_intact(mp3: Path) -> None:
    before = decode_audio(mp3)
    write_tags(mp3, TAGS, CHAPTERS)
    assert mp3.read_bytes().startswith(b"ID3\x04")
    assert abs(mutagen.mp3.MP3(mp3).info.length - LENGTH_MS / 1000) <= 0.05
    np.testing.assert_array_equal(decode_audio(mp3), before)


def test_rewrite_replaces_everything(mp3: Path) -> None:
    write_tags(mp3, TAGS, CHAPTERS)
    write_tags(mp3, Tags("t", "a", "b", "g", "", 1000), [Chapter("only", 0, 1000)])
    tags, chapters = read_tags(mp3)
    assert tags == Tags("t", "a", "b", "g", "", 1000)
    assert chapters == [Chapter("only", 0, 1000)]
    assert [c.element_id for c in ID3(mp3).getall("CHAP")] == ["chp0"]


def test_no_chapters_means_no_toc(mp3: Path) -> None:
    write_tags(mp3, TAGS, [])
    id3 = ID3(mp3)
    assert id3.getall("CHAP") == [] and id3.getall("CTOC") == []
    assert read_tags(mp3) == (TAGS, [])


def test_read_follows_toc_order(mp3: Path) -> None:
    id3 = ID3()
    for eid, start in (("a", 500), ("b", 0), ("late", 2000), ("early", 100)):
        id3.add(CHAP(element_id=eid, start_time=start, end_time=start + 500, sub_frames=[]))
    id3.add(CTOC(element_id="t", flags=CTOCFlags.TOP_LEVEL, child_element_ids=["a", "b"]))
    id3.add(TIT2(encoding=3, text=["x"]))
    id3.save(mp3)
    tags, chapters = read_tags(mp3)
    assert tags == Tags("x", "", "", "", "", 0)
    # TOC order first (not start order), then chapters missing from the TOC by start time
    starts = [c.start_ms for c in chapters]
    assert starts == [500, 0, 100, 2000]


def test_read_untagged_file_is_input_error(mp3: Path) -> None:
    with pytest.raises(InputError, match="no ID3v2 tag"):
        read_tags(mp3)


def test_read_missing_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing\.mp3"):
        read_tags(tmp_path / "missing.mp3")


def test_write_to_missing_file_is_output_error(tmp_path: Path) -> None:
    dest = tmp_path / "missing.mp3"
    with pytest.raises(OutputError, match="does not exist"):
        write_tags(dest, TAGS, CHAPTERS)
    assert not dest.exists()


def test_tags_reject_negative_length() -> None:
    with pytest.raises(ValueError, match="length_ms"):
        Tags("t", "a", "b", "g", "c", -1)
