"""End-to-end: a short routine through the real engines, the MP3 decoded and checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routinecast.audio.decode import decode_audio
from routinecast.audio.tags import read_tags
from routinecast.pipeline import BuildOptions, build
from routinecast.verify import audio_problems, timeline_problems, tone_onset_errors

SHORT = """\
title: Short Check
summary: Two moves to prove the pipeline.
pacing: {transition: 8s, rest: 6s, switch: 6s, countdown: 3}
intro: A quick check of the whole pipeline.
outro: All done.
steps:
  - exercise: half-kneeling-hip-flexor-stretch
    hold: 12s
    sides: each
  - exercise: glute-bridge
    reps: 4
    tempo: 2s
    sets: 2
    rest: 6s
"""


def _build(tmp_path: Path, engine: str) -> tuple[Path, dict[str, object]]:
    routine = tmp_path / "short-check.yaml"
    routine.write_text(SHORT, encoding="utf-8")
    result = build(routine, BuildOptions(output_dir=tmp_path / "out", engine=engine))
    doc = json.loads(result.timeline_path.read_text("utf-8"))
    return result.mp3, doc


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["piper", "pyttsx3"])
def test_build_decodes_to_its_timeline(tmp_path: Path, engine: str) -> None:
    mp3, doc = _build(tmp_path, engine)
    assert timeline_problems(doc) == []
    assert audio_problems(mp3, doc, tolerance_ms=5.0) == []
    samples = decode_audio(mp3)
    errors = [abs(err) for _, err in tone_onset_errors(samples, doc, 22050)]
    assert len(errors) >= 2 * (2 + 2) and max(errors) <= 5.0
    assert abs(len(samples) * 1000 / 22050 - doc["duration_ms"]) <= 5
    works = [b for b in doc["blocks"] if b["kind"] == "work"]
    assert [b["end_ms"] - b["start_ms"] for b in works] == [12000, 12000, 8000, 8000]
    assert doc["voice"]["engine"] == engine


@pytest.mark.slow
def test_tags_chapters_captions_and_warm_rebuild(tmp_path: Path) -> None:
    mp3, doc = _build(tmp_path, "piper")
    tags, chapters = read_tags(mp3)
    assert tags.title == "Short Check" and tags.comment.startswith("Two moves")
    assert tags.length_ms == doc["duration_ms"]
    assert [c.title for c in chapters] == [c["title"] for c in doc["chapters"]]
    assert len(chapters) == 2
    vtt = mp3.with_suffix(".vtt").read_text("utf-8")
    assert vtt.startswith("WEBVTT") and "A quick check of the whole pipeline." in vtt
    again = build(tmp_path / "short-check.yaml", BuildOptions(output_dir=tmp_path / "out"))
    assert again.clips_made == 0 and again.clips_cached > 0
    assert json.loads(again.timeline_path.read_text("utf-8")) == doc
