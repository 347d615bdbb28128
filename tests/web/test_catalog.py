"""The catalogue: exactly the complete builds, read from real outputs, refreshed on change."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from mutagen.id3 import ID3
from sharekit import Shared

from routinecast.web.catalog import CatalogueReader, open_output


def _copy(shared: Shared, name: str, folder: Path, as_name: str | None = None) -> None:
    for suffix in (".mp3", ".timeline.json", ".vtt"):
        shutil.copy(shared.path(name + suffix), folder / f"{as_name or name}{suffix}")


def test_lists_exactly_the_complete_builds(shared: Shared) -> None:
    catalogue = CatalogueReader(shared.folder).read()
    assert sorted(r.name for r in catalogue.routines) == sorted(shared.names)
    for name in shared.hostile:
        assert catalogue.output(name) is None
    assert catalogue.output("tiny-share.mp3") is not None
    assert catalogue.output("tiny-share.chapters.json") is None


def test_each_build_is_read_from_its_files(shared: Shared) -> None:
    catalogue = CatalogueReader(shared.folder).read()
    for built in catalogue.routines:
        mp3 = shared.path(built.filename(".mp3"))
        doc = json.loads(shared.path(built.filename(".timeline.json")).read_text("utf-8"))
        tags = ID3(mp3)
        assert built.title == str(tags["TIT2"].text[0])
        assert built.summary == str(tags.getall("COMM")[0].text[0])
        assert built.duration_ms == doc["duration_ms"]
        chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
        assert [(c.title, c.start_ms, c.end_ms) for c in built.chapters] == [
            (str(c.sub_frames["TIT2"].text[0]), c.start_time, c.end_time) for c in chaps
        ]  # the timeline's chapters are the MP3's
        assert built.sha256 == hashlib.sha256(mp3.read_bytes()).hexdigest()
        assert built.mp3.size == mp3.stat().st_size
        vtt = shared.path(built.filename(".vtt")).read_text("utf-8")
        assert built.captions == vtt.count(" --> ")


def test_exercises_come_from_the_timeline(shared: Shared) -> None:
    built = CatalogueReader(shared.folder).read().find("tiny-share")
    assert built is not None
    stretch, bridge, bug = built.exercises
    assert (stretch.name, stretch.sets, stretch.sides) == (
        "Half-kneeling hip flexor stretch",
        2,
        ("right", "left"),
    )
    assert (stretch.work_ms, stretch.rest_ms) == ((5000,), (4000,))
    assert stretch.plan == "2 sets of 5 seconds on each side"
    assert stretch.setup[0].startswith("Kneel on your right knee")
    assert stretch.cautions == ("Back off if you feel a sharp pinch in the groin.",)
    assert (bridge.name, bridge.work_ms, bridge.plan) == ("Glute bridge", (6000,), "3 reps")
    assert (bug.name, bug.sets, bug.sides) == ("Dead bug", 1, ())
    assert [e.step for e in built.exercises] == [1, 2, 3]


def test_repeated_reads_reuse_what_did_not_change(shared: Shared) -> None:
    reader = CatalogueReader(shared.folder)
    first, second = reader.read(), reader.read()
    assert all(a is b for a, b in zip(first.routines, second.routines, strict=True))


def test_a_rewritten_file_is_read_again(tmp_path: Path, shared: Shared) -> None:
    _copy(shared, "tiny-share", tmp_path)
    reader = CatalogueReader(tmp_path)
    before = reader.read().routines[0]
    timeline = tmp_path / "tiny-share.timeline.json"
    doc = json.loads(timeline.read_text("utf-8"))
    doc["title"] = "Renamed"
    fresh = tmp_path / ".fresh"
    fresh.write_text(json.dumps(doc), encoding="utf-8")
    os.replace(fresh, timeline)  # as a build commits
    after = reader.read().routines[0]
    assert after is not before
    assert after.sha256 == before.sha256  # the MP3 was not hashed into a new episode


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b'{"format": "something-else/1"}',
        b"[]",
        b"\xff\xfe",
        b'{"format": "routinecast.timeline/1"}',
    ],
)
def test_a_broken_timeline_leaves_the_build_unlisted(
    tmp_path: Path, shared: Shared, content: bytes
) -> None:
    _copy(shared, "tiny-share", tmp_path)
    _copy(shared, "tiny-share", tmp_path, "broken")
    (tmp_path / "broken.timeline.json").write_bytes(content)
    assert [r.name for r in CatalogueReader(tmp_path).read().routines] == ["tiny-share"]


def test_a_missing_folder_is_an_empty_catalogue(tmp_path: Path) -> None:
    assert CatalogueReader(tmp_path / "nope").read().routines == ()


def test_open_output_refuses_symlinks_and_special_files(tmp_path: Path) -> None:
    target = tmp_path / "real.mp3"
    target.write_bytes(b"x")
    (tmp_path / "link.mp3").symlink_to(target)
    with pytest.raises(OSError):
        open_output(tmp_path / "link.mp3")
    os.mkfifo(tmp_path / "pipe.mp3")
    with pytest.raises(OSError):
        open_output(tmp_path / "pipe.mp3")  # refused at once, not blocking
    with pytest.raises(OSError):
        open_output(tmp_path)
    with open_output(target) as handle:
        assert handle.read() == b"x"
