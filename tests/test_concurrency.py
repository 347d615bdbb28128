"""Two builds sharing one speech cache at the same time both produce valid files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from routinecast.audio.verify import audio_problems, timeline_problems

ROUTINE = """\
title: Shared Cache
intro: Two builds at once.
steps:
  - exercise: dead-bug
    hold: 8s
  - exercise: plank
    hold: 6s
"""


@pytest.mark.slow
def test_two_builds_one_cache(tmp_path: Path) -> None:
    exe = shutil.which("routinecast")
    assert exe, "the routinecast console script is installed"
    routine = tmp_path / "shared.yaml"
    routine.write_text(ROUTINE, encoding="utf-8")
    env = {
        **os.environ,
        "ROUTINECAST_CACHE_DIR": str(tmp_path / "cache"),
        "ROUTINECAST_WORKERS": "1",
    }
    procs = [
        subprocess.Popen(
            [exe, "build", str(routine), "--output", str(tmp_path / f"out{i}")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    docs = []
    for i in range(2):
        out = tmp_path / f"out{i}"
        doc = json.loads((out / "shared.timeline.json").read_text("utf-8"))
        assert timeline_problems(doc) == []
        assert audio_problems(out / "shared.mp3", doc) == []
        docs.append(doc)
    assert [b["planned_ms"] for b in docs[0]["blocks"]] == [
        b["planned_ms"] for b in docs[1]["blocks"]
    ]
    clips = list((tmp_path / "cache").glob("*/*"))
    whole = (".clip", ".part", ".gain", ".blob", ".ref", ".voice")  # + sentences, MP3s, voice
    assert clips and all(p.suffix in whole for p in clips)
    third = subprocess.run(
        [exe, "build", str(routine), "--output", str(tmp_path / "out3")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert " 0 clips made" in third.stdout
