"""Outputs: WebVTT that parses and matches the speech, JSON round trip, the atomic commit."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from routinecast.errors import OutputError
from routinecast.outputs import (
    SUFFIXES,
    OutputSet,
    check_folder,
    timeline_json,
    timeline_vtt,
    vtt_time,
)
from routinecast.timeline import Block, Chapter, Event, Timeline

CUE_TIMING = re.compile(r"^(\d{2}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2}):(\d{2}):(\d{2})\.(\d{3})$")


def a_timeline(texts: tuple[str, ...] = ("Welcome.", "Begin on the tone.", "Halfway.")) -> Timeline:
    events = []
    at = 500
    for text in texts:
        events.append(Event("speech", at, at + 1200, cue="line", text=text))
        events.append(Event("tone", at + 1400, at + 1600, tone="start", freq_hz=880))
        at += 2000
    end = at + 3_600_000  # past an hour: the hours field must be right
    return Timeline(
        title="Out <Check> & Co",
        routine="check.yaml",
        sample_rate=22050,
        duration_ms=end,
        voice={"engine": "fake"},
        events=tuple(events),
        blocks=(Block("intro", 0, 2000), Block("work", 2000, end, planned_ms=end - 2000)),
        chapters=(Chapter("Check", 0, end),),
    )


def _ms(parts: tuple[str, ...]) -> int:
    hours, minutes, seconds, millis = (int(p) for p in parts)
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


def parse_vtt(text: str) -> list[tuple[int, int, str]]:
    """A strict-enough WebVTT reader: header, then blocks of id, timing, one text line."""
    blocks = text.strip("\n").split("\n\n")
    assert blocks[0] == "WEBVTT"
    cues = []
    for block in blocks[1:]:
        lines = block.split("\n")
        if lines[0].startswith("NOTE"):
            assert "-->" not in block
            continue
        assert len(lines) == 3 and lines[0].isdigit(), block
        timing = CUE_TIMING.match(lines[1])
        assert timing, lines[1]
        cues.append((_ms(timing.groups()[:4]), _ms(timing.groups()[4:]), lines[2]))
    return cues


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_vtt_time() -> None:
    assert vtt_time(0) == "00:00:00.000"
    assert vtt_time(3_723_045) == "01:02:03.045"


def test_vtt_parses_and_matches_the_speech() -> None:
    timeline = a_timeline()
    vtt = timeline_vtt(timeline)
    assert vtt.startswith("WEBVTT\n")
    cues = parse_vtt(vtt)
    starts = [start for start, _, _ in cues]
    assert starts == sorted(starts)
    assert all(start < end for start, end, _ in cues)
    assert [(s, e, unescape(t)) for s, e, t in cues] == [
        (ev.start_ms, ev.end_ms, ev.text) for ev in timeline.speech
    ]


def test_vtt_escapes_what_would_break_a_cue() -> None:
    timeline = a_timeline(("Hips < knees & shoulders", "Then --> the other side"))
    cues = parse_vtt(timeline_vtt(timeline))
    assert [text for _, _, text in cues] == [
        "Hips &lt; knees &amp; shoulders",
        "Then --&gt; the other side",
    ]
    assert "NOTE Out &lt;Check&gt; &amp; Co" in timeline_vtt(timeline)


def test_json_round_trip() -> None:
    timeline = a_timeline()
    doc = json.loads(timeline_json(timeline))
    assert doc == timeline.to_json()
    assert doc["format"] == "routinecast.timeline/1"
    speech = [e for e in doc["events"] if e["kind"] == "speech"]
    assert [e["text"] for e in speech] == [e.text for e in timeline.speech]


# --------------------------------------------------------------------------- commit


def _write_all(outputs: OutputSet, tag: str) -> None:
    outputs.temp[".mp3"].write_bytes(f"mp3 {tag}".encode())
    outputs.write_text(".timeline.json", f'{{"build": "{tag}"}}')
    outputs.write_text(".vtt", f"WEBVTT\n\nNOTE {tag}\n")


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _finals(stem: str) -> list[str]:
    return sorted(f"{stem}{s}" for s in SUFFIXES)


def test_commit_renames_all_three(tmp_path: Path) -> None:
    with OutputSet(tmp_path / "out", "x") as outputs:
        _write_all(outputs, "new")
        assert all(p.exists() for p in outputs.temp.values())
        outputs.commit()
    assert _names(tmp_path / "out") == _finals("x")
    assert (tmp_path / "out" / "x.mp3").read_bytes() == b"mp3 new"


def test_commit_replaces_older_outputs(tmp_path: Path) -> None:
    for tag in ("old", "new"):
        with OutputSet(tmp_path, "x") as outputs:
            _write_all(outputs, tag)
            outputs.commit()
    assert _names(tmp_path) == _finals("x")
    assert (tmp_path / "x.vtt").read_text() == "WEBVTT\n\nNOTE new\n"


def test_discard_removes_temporaries(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), OutputSet(tmp_path, "x") as outputs:
        _write_all(outputs, "new")
        raise RuntimeError("a later stage failed")
    assert _names(tmp_path) == []


def _fail_on_mp3(monkeypatch: pytest.MonkeyPatch, fault: BaseException) -> None:
    real = os.replace

    def replace(src: str | Path, dst: str | Path) -> None:
        if str(dst).endswith(".mp3") and ".tmp-" in str(src):
            raise fault
        real(src, dst)

    monkeypatch.setattr("routinecast.outputs.os.replace", replace)


@pytest.mark.parametrize(
    "fault", [OSError(5, "Input/output error"), KeyboardInterrupt()], ids=["EIO", "Ctrl-C"]
)
@pytest.mark.parametrize("older", [True, False], ids=["older-set", "first-build"])
def test_commit_failing_half_way_is_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: BaseException, older: bool
) -> None:
    """JSON and VTT were already renamed when the MP3 rename fails: both are put back."""
    if older:
        with OutputSet(tmp_path, "x") as outputs:
            _write_all(outputs, "old")
            outputs.commit()
    before = {name: (tmp_path / name).read_bytes() for name in _names(tmp_path)}
    _fail_on_mp3(monkeypatch, fault)
    expected: type[BaseException] = OutputError if isinstance(fault, OSError) else KeyboardInterrupt
    with pytest.raises(expected), OutputSet(tmp_path, "x") as outputs:
        _write_all(outputs, "new")
        outputs.commit()
    assert {name: (tmp_path / name).read_bytes() for name in _names(tmp_path)} == before


def test_a_folder_in_the_way_is_refused_before_anything_moves(tmp_path: Path) -> None:
    (tmp_path / "x.vtt").write_text("older")
    (tmp_path / "x.mp3").mkdir()
    with pytest.raises(OutputError, match="a folder is in the way"), OutputSet(tmp_path, "x"):
        pass
    assert _names(tmp_path) == ["x.mp3", "x.vtt"]
    assert (tmp_path / "x.vtt").read_text() == "older"


def test_leftovers_of_dead_builds_are_swept(tmp_path: Path) -> None:
    dead = tmp_path / ".x.mp3.tmp-999999999"
    dead.write_bytes(b"half an mp3")
    alive = tmp_path / f".x.mp3.tmp-{os.getppid()}"
    alive.write_bytes(b"another build, still running")
    other = tmp_path / ".y.mp3.tmp-999999999"
    other.write_bytes(b"another routine")
    with OutputSet(tmp_path, "x"):
        pass
    assert not dead.exists() and alive.exists() and other.exists()


def test_check_folder_creates_nothing(tmp_path: Path) -> None:
    check_folder(tmp_path / "a" / "b")
    assert _names(tmp_path) == []
    (tmp_path / "f").write_text("")
    with pytest.raises(OutputError, match="it is a file, not a folder"):
        check_folder(tmp_path / "f")
    with pytest.raises(OutputError, match="is a file"):
        check_folder(tmp_path / "f" / "sub")
