"""End-to-end: a short routine through the real engines, the MP3 decoded and checked."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from routinecast.audio.decode import decode_audio
from routinecast.audio.quality import measure, problems
from routinecast.audio.tags import read_tags
from routinecast.audio.verify import audio_problems, timeline_problems, tone_onset_errors
from routinecast.pipeline import BuildOptions, build

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
    quality = measure(mp3, doc)
    assert problems(quality) == [], quality


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


DESK = Path(__file__).resolve().parents[1] / "routines" / "desk-hip-reset.yaml"


def _work_intervals_from_audio(mp3: Path, doc: dict[str, object]) -> list[float]:
    """Start-tone onset to stop-tone onset of every work block, measured in the audio."""
    samples = decode_audio(mp3)
    onsets = {
        (event["tone"], event["start_ms"]): event["start_ms"] + err
        for event, err in tone_onset_errors(samples, doc, 22050)
    }
    return [
        onsets[("stop", b["end_ms"])] - onsets[("start", b["start_ms"])]
        for b in doc["blocks"]  # type: ignore[attr-defined]
        if b["kind"] == "work"
    ]


@pytest.mark.slow
def test_set_override_changes_exactly_those_holds_and_fit_lands(tmp_path: Path) -> None:
    from routinecast.load.overrides import parse_overrides

    base = build(DESK, BuildOptions(output_dir=tmp_path / "base"))
    step = "half-kneeling-hip-flexor-stretch"
    options = BuildOptions(
        output_dir=tmp_path / "set", overrides=parse_overrides((f"{step}.hold=45s",))
    )
    changed = build(DESK, options)
    doc = json.loads(changed.timeline_path.read_text("utf-8"))
    base_doc = json.loads(base.timeline_path.read_text("utf-8"))
    measured = _work_intervals_from_audio(changed.mp3, doc)
    works = [b for b in doc["blocks"] if b["kind"] == "work"]
    old = [b for b in base_doc["blocks"] if b["kind"] == "work"]
    hits = [i for i, b in enumerate(works) if b["exercise"] == step]
    assert len(hits) == 4
    for i, (block, before) in enumerate(zip(works, old, strict=True)):
        want = 45000 if i in hits else before["planned_ms"]
        assert block["planned_ms"] == want
        assert abs(measured[i] - want) <= 5.0
    assert doc["overrides"] == [f"{step}.hold=45s"]
    assert f"{step}.hold=45s" in read_tags(changed.mp3)[0].title
    assert changed.clips_made <= 2
    fitted = build(
        DESK, BuildOptions(output_dir=tmp_path / "fit", overrides=parse_overrides(fit="15m"))
    )
    assert abs(fitted.timeline.duration_ms - 15 * 60_000) <= 1000


@pytest.mark.slow
def test_skipping_silences_changes_no_byte_of_a_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from routinecast.audio import silence, splice

    fed: list[int] = []
    encode = splice.encode_mp3

    def counted(chunks: Iterable[npt.NDArray[np.int16]], dest: Path, *args: Any) -> None:
        def tee() -> Iterator[npt.NDArray[np.int16]]:
            for chunk in chunks:
                fed.append(len(chunk))
                yield chunk

        encode(tee(), dest, *args)

    monkeypatch.setattr(splice, "encode_mp3", counted)
    (tmp_path / "a").mkdir()
    skipping, doc = _build(tmp_path / "a", "pyttsx3")
    total = int(doc["duration_ms"]) * 22050 // 1000  # type: ignore[call-overload]
    assert sum(fed) < 0.9 * total  # the holds' silences are not fed

    monkeypatch.setattr(silence, "cuts", lambda *_: ())
    monkeypatch.setenv("ROUTINECAST_STORE_MB", "0")  # encode again, from the same clips
    (tmp_path / "b").mkdir()
    fed.clear()
    whole, _ = _build(tmp_path / "b", "pyttsx3")
    assert sum(fed) >= total
    assert _audio(skipping) == _audio(whole)


def _audio(mp3: Path) -> bytes:
    """The MPEG stream behind the ID3v2 tag (whose text names where the routine was)."""
    data = mp3.read_bytes()
    assert data[:3] == b"ID3"
    size = sum((data[6 + i] & 0x7F) << (7 * (3 - i)) for i in range(4))
    return data[10 + size :]
