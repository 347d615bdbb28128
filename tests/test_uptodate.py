"""Up to date is instant: a build made before comes from the store, never mixed or encoded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from routinecast import pipeline
from routinecast.load.overrides import parse_overrides
from routinecast.pipeline import BuildOptions, BuildResult
from routinecast.speech.engines.fake import SilentEngine
from routinecast.store import FileStore

ROUTINE = """\
title: Store Check
steps:
  - exercise: knees-over-towel-psoas-release
    hold: 5s
  - exercise: dead-bug
    hold: 8s
"""
SUFFIXES = (".mp3", ".timeline.json", ".vtt")


@pytest.fixture
def encodes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every MP3 the build encodes (a spy around ``encode_split``)."""
    from routinecast.audio import splice

    real, calls = splice.encode_split, []

    def spy(render: Any, total: int, dest: Path, *args: Any, **kwargs: Any) -> None:
        calls.append(dest)
        real(render, total, dest, *args, **kwargs)

    monkeypatch.setattr(splice, "encode_split", spy)
    return calls


def files(result: BuildResult) -> dict[str, bytes]:
    return {s: Path(str(result.mp3).removesuffix(".mp3") + s).read_bytes() for s in SUFFIXES}


def build(
    tmp_path: Path,
    out: str = "out",
    engine: str = "fake",
    sets: tuple[str, ...] = (),
    loudness: float = -16.0,
) -> BuildResult:
    path = tmp_path / "store-check.yaml"
    if not path.exists():
        path.write_text(ROUTINE, encoding="utf-8")
    options = BuildOptions(
        output_dir=tmp_path / out,
        engine=engine,
        cache_dir=tmp_path / "cache",
        overrides=parse_overrides(sets),
        loudness=loudness,
    )
    return pipeline.build(path, options, engine=SilentEngine() if engine == "fake" else None)


def test_a_second_identical_build_writes_the_same_files_without_encoding(
    tmp_path: Path, encodes: list[Path]
) -> None:
    first = build(tmp_path)
    assert len(encodes) == 1 and not first.up_to_date
    before = files(first)
    again = build(tmp_path)
    assert again.up_to_date and len(encodes) == 1, "nothing mixed or encoded"
    assert "mix+encode" not in again.stages and "master" not in again.stages
    assert files(again) == before
    elsewhere = build(tmp_path, out="elsewhere")
    assert elsewhere.up_to_date and files(elsewhere) == before


def test_changing_and_reverting_a_hold_reuses_the_store(
    tmp_path: Path, encodes: list[Path]
) -> None:
    first = files(build(tmp_path, sets=("1.hold=5s",)))
    changed = build(tmp_path, sets=("1.hold=7s",))
    assert not changed.up_to_date and files(changed) != first
    back = build(tmp_path, sets=("1.hold=5s",))
    assert back.up_to_date and len(encodes) == 2
    assert files(back) == first


def test_the_title_and_the_loudness_are_inputs(tmp_path: Path, encodes: list[Path]) -> None:
    """An override that changes nothing audible still changes the tags: not up to date."""
    plain = files(build(tmp_path))
    same_time = build(tmp_path, sets=("1.hold=5s",))  # as written, but named in the title
    assert not same_time.up_to_date
    assert files(same_time)[".mp3"] != plain[".mp3"]
    louder = build(tmp_path, loudness=-14.0)
    assert not louder.up_to_date and len(encodes) == 3


def test_a_damaged_store_entry_is_dropped_and_rebuilt(tmp_path: Path, encodes: list[Path]) -> None:
    first = files(build(tmp_path))
    store = FileStore(tmp_path / "cache")
    (blob,) = [b for b in store.folder.glob("*.blob") if b.read_bytes() == first[".mp3"]]
    data = bytearray(blob.read_bytes())  # the MP3 (the store also keeps its encoded pieces)
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    again = build(tmp_path)
    assert not again.up_to_date and len(encodes) == 2
    assert files(again) == first
    third = build(tmp_path)
    assert third.up_to_date and files(third) == first, "the store holds the good file again"


def test_a_missing_clip_means_not_up_to_date(tmp_path: Path, encodes: list[Path]) -> None:
    build(tmp_path)
    for clip in (tmp_path / "cache").glob("*/*.clip"):
        clip.unlink()
    again = build(tmp_path)
    assert not again.up_to_date and again.clips_made > 0 and len(encodes) == 2


@pytest.mark.slow
def test_the_real_path_with_the_espeak_voice(tmp_path: Path, encodes: list[Path]) -> None:
    first = build(tmp_path, engine="pyttsx3")
    again = build(tmp_path, engine="pyttsx3", out="again")
    assert again.up_to_date and len(encodes) == 1
    assert files(again) == files(first)


UP_TO_DATE = """
import sys
from pathlib import Path
from routinecast.pipeline import BuildOptions, build
result = build(Path(sys.argv[1]), BuildOptions(output_dir=Path(sys.argv[2]), engine="fake"))
heavy = sorted(m for m in ("numpy", "scipy", "onnxruntime") if m in sys.modules)
print(result.up_to_date, ",".join(heavy) or "-")
"""


def test_an_up_to_date_build_imports_no_numpy(tmp_path: Path) -> None:
    path = tmp_path / "store-check.yaml"
    path.write_text(ROUTINE, encoding="utf-8")
    env = {**os.environ, "ROUTINECAST_CACHE_DIR": str(tmp_path / "cache")}
    runs = [
        subprocess.run(
            [sys.executable, "-c", UP_TO_DATE, str(path), str(tmp_path / "out")],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout.split()
        for _ in range(2)
    ]
    assert runs[0] == ["False", "numpy"]  # a full build levels and encodes, scipy-free
    assert runs[1] == ["True", "-"]
