"""verify: a good timeline has no problems; each kind of broken one is caught."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from routinecast.audio.tones import render_tone
from routinecast.audio.verify import timeline_problems, tone_onset_errors
from routinecast.model import Exercise, Pacing, Routine, Step
from routinecast.timing.compiler import compile_timeline
from routinecast.timing.script import build_script, spoken_texts

RATE = 22050


def good_doc() -> dict[str, Any]:
    """A compiled two-sided hold with a countdown: intro, prepare, work, switch, work, outro."""
    exercise = Exercise(id="plank", name="Plank")
    step = Step(
        number=1,
        exercise=exercise,
        hold_ms=20_000,
        sides="each",
        switch_ms=5000,
        transition_ms=10_000,
    )
    routine = Routine(title="T", steps=(step,), pacing=Pacing(countdown=3))
    clips = dict.fromkeys(spoken_texts(build_script(routine)), 1000)
    return compile_timeline(routine, clips).to_json()


def first(doc: dict[str, Any], **match: Any) -> dict[str, Any]:
    return next(
        x for x in doc["events"] + doc["blocks"] if all(x.get(k) == v for k, v in match.items())
    )


def test_a_compiled_timeline_has_no_problems() -> None:
    assert timeline_problems(good_doc()) == []


def test_blocks_that_do_not_tile() -> None:
    doc = good_doc()
    doc["blocks"][1]["end_ms"] -= 10
    problems = timeline_problems(doc)
    assert any("does not start at" in p for p in problems)
    doc = good_doc()
    doc["duration_ms"] += 1
    assert any("not at duration_ms" in p for p in timeline_problems(doc))


def test_a_block_that_ends_before_it_starts() -> None:
    doc = good_doc()
    intro = doc["blocks"][0]
    intro["end_ms"] = -1
    doc["blocks"][1]["start_ms"] = -1
    assert any("ends before it starts" in p for p in timeline_problems(doc))


def test_a_work_interval_of_the_wrong_length_or_without_tones() -> None:
    doc = good_doc()
    work = first(doc, kind="work")
    work["planned_ms"] += 500
    assert any("planned" in p for p in timeline_problems(doc))
    doc = good_doc()
    doc["events"].remove(first(doc, tone="start"))
    assert any("no start tone" in p for p in timeline_problems(doc))
    doc = good_doc()
    doc["events"].remove(first(doc, tone="stop"))
    assert any("no stop tone" in p for p in timeline_problems(doc))


def test_speech_overlapping_speech_or_a_tone() -> None:
    doc = good_doc()
    speech = [e for e in doc["events"] if e["kind"] == "speech"]
    speech[1]["start_ms"] = speech[0]["end_ms"] - 1
    assert any("overlaps" in p for p in timeline_problems(doc))
    doc = good_doc()
    tick = first(doc, tone="tick")
    doc["events"].append(
        {
            "kind": "speech",
            "start_ms": tick["start_ms"] + 50,
            "end_ms": tick["start_ms"] + 900,
            "cue": "x",
            "text": "Now.",
        }
    )
    assert any("overlaps speech 'Now.'" in p for p in timeline_problems(doc))


def test_an_overlap_hidden_behind_a_short_sound() -> None:
    """A long tone, a tick inside it, then speech that starts inside the long tone only."""
    doc = good_doc()
    work = first(doc, kind="work")
    at = work["start_ms"] + 5000
    doc["events"] += [
        {"kind": "tone", "start_ms": at, "end_ms": at + 500, "tone": "breath", "freq_hz": 440},
        {"kind": "tone", "start_ms": at + 10, "end_ms": at + 130, "tone": "tick", "freq_hz": 880},
        {"kind": "speech", "start_ms": at + 200, "end_ms": at + 900, "cue": "x", "text": "Hm."},
    ]
    problems = timeline_problems(doc)
    assert f"tone 'breath' overlaps speech 'Hm.' at {at + 200} ms" in problems
    assert f"tone 'breath' overlaps tone 'tick' at {at + 10} ms" in problems


def test_speech_running_past_a_work_interval() -> None:
    doc = good_doc()
    work = first(doc, kind="work")
    doc["events"].append(
        {
            "kind": "speech",
            "start_ms": work["end_ms"] - 100,
            "end_ms": work["end_ms"] - 50,
            "cue": "x",
            "text": "Ok.",
        }
    )
    assert timeline_problems(doc) == []
    doc["events"][-1]["end_ms"] = work["end_ms"] + 10
    assert any("runs past the work interval" in p for p in timeline_problems(doc))


def test_a_gap_cut_short_or_grown_without_a_warning() -> None:
    doc = good_doc()
    switch = first(doc, kind="switch")
    switch["planned_ms"] += 1
    assert any("less than the planned" in p for p in timeline_problems(doc))
    switch["planned_ms"] -= 2
    assert any("without a warning" in p for p in timeline_problems(doc))
    doc["warnings"].append("step 1 (plank): the switch to the left side grows by 0.001s")
    assert timeline_problems(doc) == []


def test_countdown_ticks_off_the_beat() -> None:
    doc = good_doc()
    first(doc, tone="tick")["start_ms"] -= 20
    assert any("countdown before the start tone" in p for p in timeline_problems(doc))


# --------------------------------------------------------------------------- onsets


def synthetic(doc: dict[str, Any], shift_ms: int = 0) -> npt.NDArray[np.float32]:
    """Every tone of ``doc`` rendered at its start (+ ``shift_ms``) over a low noise floor."""
    n = (doc["duration_ms"] + 1000) * RATE // 1000
    noise = np.random.default_rng(1).standard_normal(n) * 1e-4
    samples: npt.NDArray[np.float32] = noise.astype(np.float32)
    for event in doc["events"]:
        if event["kind"] == "tone":
            tone = render_tone(event["tone"], RATE)
            at = (event["start_ms"] + shift_ms) * RATE // 1000
            samples[at : at + len(tone)] += tone
    return samples


def test_tone_onsets_of_a_faithful_signal() -> None:
    doc = good_doc()
    errors = tone_onset_errors(synthetic(doc), doc, RATE)
    assert {e["tone"] for e, _ in errors} == {"tick", "start", "stop"}
    assert len(errors) == sum(1 for e in doc["events"] if e["kind"] == "tone")
    assert max(abs(err) for _, err in errors) < 3


@pytest.mark.parametrize("shift_ms", [-20, 12])
def test_tone_onsets_of_a_shifted_signal(shift_ms: int) -> None:
    doc = good_doc()
    errors = tone_onset_errors(synthetic(doc, shift_ms), doc, RATE)
    assert all(abs(err - shift_ms) < 3 for _, err in errors), errors


def test_a_missing_tone_is_an_infinite_error() -> None:
    doc = good_doc()
    silence = np.zeros((doc["duration_ms"] + 1000) * RATE // 1000, dtype=np.float32)
    assert all(err == float("inf") for _, err in tone_onset_errors(silence, doc, RATE))
    tone = copy.deepcopy(first(doc, tone="stop"))
    tone["start_ms"] = tone["end_ms"] = doc["duration_ms"] + 5000
    assert tone_onset_errors(silence, {"events": [tone]}, RATE)[0][1] == float("inf")
