"""Receipts: a request nothing has changed is answered before anything is loaded.

Built for real (the silent engine by name, real ffmpeg and MP3s); every test changes
one thing a build depends on and checks the answer is then rebuilt, not replayed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from routinecast import pipeline, receipts
from routinecast.load.overrides import parse_overrides
from routinecast.reads import Reads, recording
from routinecast.request import BuildOptions, BuildResult
from routinecast.store import FileStore
from routinecast.timeline import Timeline

LIBRARY = """\
- id: wall-lean
  name: Wall lean
  kind: hold
  setup: Lean on a wall.
  hold: 5s
"""
ROUTINE = """\
title: Receipt Check
library: lib/
steps:
  - exercise: wall-lean
  - exercise: dead-bug
    hold: 6s
"""
SUFFIXES = (".mp3", ".timeline.json", ".vtt")


@pytest.fixture
def routine(tmp_path: Path) -> Path:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "extra.yaml").write_text(LIBRARY, encoding="utf-8")
    path = tmp_path / "receipt-check.yaml"
    path.write_text(ROUTINE, encoding="utf-8")
    return path


def options(tmp_path: Path, *sets: str, out: str = "out") -> BuildOptions:
    return BuildOptions(
        output_dir=tmp_path / out,
        engine="fake",
        cache_dir=tmp_path / "cache",
        overrides=parse_overrides(sets),
    )


def files(result: BuildResult) -> dict[str, bytes]:
    return {s: Path(str(result.mp3).removesuffix(".mp3") + s).read_bytes() for s in SUFFIXES}


def replayed(routine: Path, asked: BuildOptions) -> bool:
    return receipts.replay(routine, asked) is not None


def test_a_second_request_is_replayed_byte_for_byte(routine: Path, tmp_path: Path) -> None:
    first = pipeline.build(routine, options(tmp_path))
    assert not first.up_to_date
    again = pipeline.build(routine, options(tmp_path, out="again"))
    assert again.up_to_date and list(again.stages) == ["up-to-date"]
    assert files(again) == files(first)
    assert again.timeline == replace(first.timeline, dropped=())
    assert (again.clips_made, again.clips_cached) == (0, first.clips_made + first.clips_cached)


@pytest.mark.parametrize(
    "change",
    ["routine", "library file", "library folder", "override", "environment", "packages"],
)
def test_a_change_to_anything_read_means_a_real_build(
    change: str, routine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = files(pipeline.build(routine, options(tmp_path)))
    asked = options(tmp_path)
    if change == "routine":
        routine.write_text(ROUTINE.replace("hold: 6s", "hold: 7s"), encoding="utf-8")
    elif change == "library file":
        library = tmp_path / "lib" / "extra.yaml"
        library.write_text(LIBRARY.replace("Lean on a wall.", "Lean back."), encoding="utf-8")
    elif change == "library folder":
        more = LIBRARY.replace("wall-lean", "door-lean").replace("Wall", "Door")
        (tmp_path / "lib" / "more.yaml").write_text(more, encoding="utf-8")
    elif change == "override":
        asked = options(tmp_path, "2.hold=7s")
    elif change == "environment":
        monkeypatch.setenv("ROUTINECAST_SOMETHING", "1")
    else:
        monkeypatch.setattr(receipts, "environment_stamp", lambda: [("/elsewhere", 1)])
    assert not replayed(routine, asked)
    second = pipeline.build(routine, asked)
    if change in ("routine", "library file", "override"):
        assert files(second)[".timeline.json"] != first[".timeline.json"]
    assert replayed(routine, asked), "the new build left its own receipt"


def test_a_request_is_the_same_only_from_the_same_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    routine = tmp_path / "r.yaml"
    asked = BuildOptions(sounds=(("start", Path("bell.wav")),))
    here = receipts.request_key(routine, asked)
    assert receipts.request_key(routine, replace(asked, output_dir=tmp_path / "x")) == here
    assert receipts.request_key(routine, replace(asked, name="other")) == here
    assert receipts.request_key(routine, replace(asked, loudness=-14.0)) != here
    monkeypatch.chdir(tmp_path)
    assert receipts.request_key(routine, asked) != here, "bell.wav is another file here"


def test_a_damaged_receipt_or_a_missing_mp3_means_a_real_build(
    routine: Path, tmp_path: Path
) -> None:
    first = files(pipeline.build(routine, options(tmp_path)))
    store = FileStore(tmp_path / "cache")
    found = store.get(receipts.request_key(routine, options(tmp_path)))
    assert found is not None
    found.unlink()
    assert not replayed(routine, options(tmp_path))
    again = pipeline.build(routine, options(tmp_path))
    assert again.up_to_date and files(again) == first, "from the store: nothing encoded"
    for blob in store.folder.glob("*.blob"):
        if blob.stat().st_size > 100_000:  # the MP3, not the receipt
            blob.unlink()
    assert not replayed(routine, options(tmp_path))
    assert files(pipeline.build(routine, options(tmp_path))) == first


def test_no_store_means_no_receipts(
    routine: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTINECAST_STORE_MB", "0")
    pipeline.build(routine, options(tmp_path))
    assert not replayed(routine, options(tmp_path))
    assert not list(tmp_path.glob("cache/built/*")), "nothing kept: neither MP3 nor receipt"


def test_reads_are_recorded_only_inside_a_record(routine: Path, tmp_path: Path) -> None:
    from routinecast.load.routine import load_routine

    load_routine(routine)  # outside a record: nothing noted, nothing fails
    with recording() as read:
        load_routine(routine)
    assert set(read.files) == {str(routine.resolve()), str(tmp_path / "lib/extra.yaml")}
    assert read.folders == {str(tmp_path / "lib"): ["extra.yaml"]}
    assert read.unchanged()
    again = Reads.from_json(json.loads(json.dumps(read.to_json())))
    assert again == read
    routine.write_text(ROUTINE + "\n# a comment changes the bytes\n", encoding="utf-8")
    assert not again.unchanged()


def test_a_timeline_reads_back_from_its_json(routines_dir: Path) -> None:
    for path in sorted(routines_dir.glob("*.yaml")):
        if path.name == "exercises.yaml":
            continue
        timeline = pipeline.plan(path)
        back = Timeline.from_json(json.loads(json.dumps(timeline.to_json())))
        assert back == replace(timeline, dropped=()), path.name
    with pytest.raises(ValueError, match="timeline"):
        Timeline.from_json({"format": "something else"})


CLI = """
import atexit, sys
STAGES = ("numpy", "jinja2", "yaml", "routinecast.load.routine", "routinecast.timing",
          "routinecast.pipeline", "routinecast.speech.synth")
atexit.register(lambda: print("imported:", sorted(m for m in STAGES if m in sys.modules)))
from routinecast.cli import main
sys.argv = ["routinecast", "build", *sys.argv[1:]]
main()
"""


@pytest.mark.slow
def test_the_command_line_replays_without_importing_a_stage(routine: Path, tmp_path: Path) -> None:
    env = {**os.environ, "ROUTINECAST_CACHE_DIR": str(tmp_path / "cache")}
    args = [sys.executable, "-c", CLI, str(routine), "-o", str(tmp_path / "out"), "--engine"]
    runs = [
        subprocess.run([*args, "pyttsx3"], capture_output=True, text=True, env=env, check=True)
        for _ in range(2)
    ]
    first, second = (run.stdout.strip() for run in runs)
    assert "0 clips made" not in first and not first.endswith("imported: []")
    assert "0 clips made" in second and second.endswith("imported: []")
    out = tmp_path / "out" / "receipt-check.mp3"
    assert out.stat().st_size > 10_000
