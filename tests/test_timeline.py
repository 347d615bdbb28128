"""Timeline dataclasses: spans are checked when built, and ``to_json`` has the documented shape."""

from __future__ import annotations

from typing import Any

import pytest

from routinecast.timeline import FORMAT, Block, Chapter, Event, Timeline


def timeline(**fields: Any) -> Timeline:
    values: dict[str, Any] = {
        "title": "T",
        "routine": "routines/t.yaml",
        "sample_rate": 22050,
        "duration_ms": 3000,
        "voice": {"engine": "fake"},
        "events": (
            Event("speech", 0, 1000, cue="intro", text="Hello."),
            Event("tone", 1000, 1300, tone="start", freq_hz=1320),
            Event("tone", 2000, 2400, tone="stop", freq_hz=660),
        ),
        "blocks": (
            Block("intro", 0, 1000),
            Block(
                "work",
                1000,
                2000,
                planned_ms=1000,
                step=1,
                exercise="a",
                name="A",
                side="left",
                set=1,
                sets=2,
            ),
            Block("outro", 2000, 3000),
        ),
        "chapters": (Chapter("A", 0, 2000),),
    }
    values.update(fields)
    return Timeline(**values)


@pytest.mark.parametrize(("start", "end"), [(-1, 10), (10, 9), (-5, -1)])
def test_negative_or_reversed_spans_raise(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="bad span"):
        Event("tone", start, end, tone="tick")
    with pytest.raises(ValueError, match="bad span"):
        Block("rest", start, end)
    with pytest.raises(ValueError, match="bad span"):
        Chapter("A", start, end)


@pytest.mark.parametrize(("start", "end"), [(0.5, 10), (0, 10.0), (True, 10), ("0", 10)])
def test_times_must_be_integer_ms(start: Any, end: Any) -> None:
    with pytest.raises(TypeError, match="integer milliseconds"):
        Block("rest", start, end)


def test_empty_spans_are_allowed() -> None:
    assert Block("intro", 0, 0).length_ms == 0
    assert Chapter("A", 5, 5).end_ms == 5


def test_events_need_their_payload() -> None:
    with pytest.raises(ValueError, match="needs text"):
        Event("speech", 0, 10)
    with pytest.raises(ValueError, match="needs a tone name"):
        Event("tone", 0, 10)


def test_blocks_must_end_at_the_duration() -> None:
    with pytest.raises(ValueError, match="duration_ms"):
        timeline(duration_ms=2999)
    with pytest.raises(ValueError, match="duration_ms"):
        timeline(duration_ms=-1, blocks=())


def test_event_json() -> None:
    speech = Event("speech", 0, 1000, cue="intro", text="Hello.")
    tone = Event("tone", 1000, 1120, tone="tick", freq_hz=880)
    assert speech.to_json() == {
        "kind": "speech",
        "start_ms": 0,
        "end_ms": 1000,
        "cue": "intro",
        "text": "Hello.",
    }
    assert tone.to_json() == {
        "kind": "tone",
        "start_ms": 1000,
        "end_ms": 1120,
        "tone": "tick",
        "freq_hz": 880,
    }


def test_block_json() -> None:
    block = Block(
        "work",
        1000,
        2000,
        planned_ms=1000,
        step=1,
        exercise="a",
        name="A",
        side="left",
        set=1,
        sets=2,
    )
    assert block.length_ms == 1000
    assert block.to_json() == {
        "kind": "work",
        "start_ms": 1000,
        "end_ms": 2000,
        "planned_ms": 1000,
        "step": 1,
        "exercise": "a",
        "name": "A",
        "side": "left",
        "set": 1,
        "sets": 2,
    }
    assert Block("intro", 0, 10).to_json()["side"] is None


def test_timeline_json() -> None:
    doc = timeline().to_json()
    assert list(doc) == [
        "format",
        "title",
        "routine",
        "sample_rate",
        "duration_ms",
        "voice",
        "events",
        "blocks",
        "chapters",
        "warnings",
        "overrides",
    ]
    assert doc["format"] == FORMAT == "routinecast.timeline/1"
    assert doc["duration_ms"] == 3000 and doc["voice"] == {"engine": "fake"}
    assert [e["kind"] for e in doc["events"]] == ["speech", "tone", "tone"]
    assert [b["kind"] for b in doc["blocks"]] == ["intro", "work", "outro"]
    assert doc["chapters"] == [{"title": "A", "start_ms": 0, "end_ms": 2000}]
    assert doc["warnings"] == [] and doc["overrides"] == []
    assert "target_ms" not in doc
    with_target = timeline(target_ms=600_000, warnings=("w",), overrides=("holds 45 s",))
    assert with_target.to_json()["target_ms"] == 600_000
    assert with_target.to_json()["warnings"] == ["w"]
    assert with_target.to_json()["overrides"] == ["holds 45 s"]


def test_speech_and_work_ms() -> None:
    t = timeline()
    assert [e.text for e in t.speech] == ["Hello."]
    assert t.work_ms == 1000


def test_estimated_does_not_affect_equality() -> None:
    assert timeline(estimated=("Hello.",)) == timeline()
