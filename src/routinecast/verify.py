"""Check a built routine against the timing rules of ``timeline.md``.

``timeline_problems`` checks the timeline document alone (rules 1-4);
``audio_problems`` decodes the MP3 and checks rule 5: the decoded length and every
tone's onset within a tolerance. Both return human-readable problems (empty = good).
Used by the tests, ``scripts/bench.py`` and ``routinecast verify``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .audio.decode import decode_audio

ONSET_FRACTION = 0.2
"""A tone's onset is the first sample above this fraction of the tone's own peak."""
SEARCH_MS = 40


def timeline_problems(doc: Mapping[str, Any]) -> list[str]:
    """Rules 1-4: tiling, exact work, tones at work edges, no speech overlap."""
    problems: list[str] = []
    blocks: Sequence[Mapping[str, Any]] = doc["blocks"]
    events: Sequence[Mapping[str, Any]] = doc["events"]
    problems += _tiling(blocks, doc["duration_ms"])
    problems += _work_edges(blocks, events)
    problems += _overlaps(events)
    problems += _speech_in_work(blocks, events)
    return problems


def _tiling(blocks: Sequence[Mapping[str, Any]], duration: int) -> list[str]:
    out = []
    t = 0
    for block in blocks:
        if block["start_ms"] != t:
            out.append(f"block {block['kind']} at {block['start_ms']} ms does not start at {t} ms")
        t = block["end_ms"]
    if t != duration:
        out.append(f"blocks end at {t} ms, not at duration_ms {duration}")
    return out


def _work_edges(blocks: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]]) -> list[str]:
    out = []
    tones = {(e["tone"], e["start_ms"]) for e in events if e["kind"] == "tone"}
    for block in blocks:
        if block["kind"] != "work":
            continue
        if block["end_ms"] - block["start_ms"] != block["planned_ms"]:
            out.append(f"work block at {block['start_ms']} ms lasts "
                       f"{block['end_ms'] - block['start_ms']} ms, planned {block['planned_ms']}")
        if ("start", block["start_ms"]) not in tones:
            out.append(f"no start tone at {block['start_ms']} ms")
        if ("stop", block["end_ms"]) not in tones:
            out.append(f"no stop tone at {block['end_ms']} ms")
    return out


def _overlaps(events: Sequence[Mapping[str, Any]]) -> list[str]:
    out = []
    ordered = sorted(events, key=lambda e: (e["start_ms"], e["end_ms"]))
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b["start_ms"] < a["end_ms"] and "speech" in (a["kind"], b["kind"]):
            out.append(f"{a['kind']} {a.get('text') or a.get('tone')!r} overlaps "
                       f"{b['kind']} {b.get('text') or b.get('tone')!r} at {b['start_ms']} ms")
    return out


def _speech_in_work(
    blocks: Sequence[Mapping[str, Any]], events: Sequence[Mapping[str, Any]]
) -> list[str]:
    out = []
    works = [(b["start_ms"], b["end_ms"]) for b in blocks if b["kind"] == "work"]
    for event in events:
        if event["kind"] != "speech":
            continue
        for start, end in works:
            if start <= event["start_ms"] < end and event["end_ms"] > end:
                out.append(f"speech {event['text']!r} runs past the work interval ending {end} ms")
    return out


def tone_onset_errors(
    samples: npt.NDArray[np.float32], doc: Mapping[str, Any], rate: int
) -> list[tuple[Mapping[str, Any], float]]:
    """(tone event, onset error in ms) for every tick/start/stop tone."""
    found = []
    for event in doc["events"]:
        if event["kind"] != "tone" or event["tone"] == "breath":
            continue
        start = event["start_ms"] * rate // 1000
        lo = max(0, start - SEARCH_MS * rate // 1000)
        hi = min(len(samples), event["end_ms"] * rate // 1000)
        window = np.abs(samples[lo:hi])
        if window.size == 0:
            found.append((event, float("inf")))
            continue
        first = int(np.argmax(window >= ONSET_FRACTION * window.max()))
        found.append((event, (lo + first - start) * 1000 / rate))
    return found


def audio_problems(mp3: Path, doc: Mapping[str, Any], tolerance_ms: float = 5.0) -> list[str]:
    """Rule 5: decoded duration and tone onsets within ``tolerance_ms``."""
    rate = int(doc["sample_rate"])
    samples = decode_audio(mp3, rate)
    problems = []
    length_ms = len(samples) * 1000 / rate
    if abs(length_ms - doc["duration_ms"]) > tolerance_ms:
        problems.append(f"decoded length {length_ms:.1f} ms, timeline {doc['duration_ms']} ms")
    for event, error in tone_onset_errors(samples, doc, rate):
        if abs(error) > tolerance_ms:
            problems.append(f"{event['tone']} tone at {event['start_ms']} ms starts "
                            f"{error:+.1f} ms off")
    return problems
