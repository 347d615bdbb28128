"""Check a built routine against the timing rules of ``docs/timeline.md``.

``timeline_problems`` checks the timeline document alone (rules 1-4);
``audio_problems`` decodes the MP3 and checks rule 5: the decoded length and every
tone's onset within a tolerance. Both return human-readable problems (empty = good).
Used by the tests, ``scripts/bench.py`` and ``routinecast verify``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from routinecast.audio.decode import decode_audio

ONSET_FRACTION = 0.2
"""A tone's onset is the first sample above this fraction of the tone's own peak."""
SEARCH_MS = 40


Doc = Mapping[str, Any]
GAP_KINDS = ("rest", "switch", "transition", "prepare")


def timeline_problems(doc: Doc) -> list[str]:
    """Rules 1-4: tiling, exact work with tones at its edges, no speech overlap, gaps.

    Also: countdown ticks 1 s apart ending 1 s before their start tone, and a warning
    for every gap that grew past its planned length.
    """
    blocks: Sequence[Doc] = doc["blocks"]
    events: Sequence[Doc] = doc["events"]
    return [
        *_tiling(blocks, doc["duration_ms"]),
        *_work_edges(blocks, events),
        *_overlaps(events),
        *_speech_in_work(blocks, events),
        *_gaps(blocks, doc.get("warnings", [])),
        *_countdowns(blocks, events),
    ]


def _tiling(blocks: Sequence[Doc], duration: int) -> list[str]:
    out = []
    t = 0
    for block in blocks:
        if block["start_ms"] != t:
            out.append(f"block {block['kind']} at {block['start_ms']} ms does not start at {t} ms")
        if block["end_ms"] < block["start_ms"]:
            out.append(f"block {block['kind']} at {block['start_ms']} ms ends before it starts")
        t = block["end_ms"]
    if t != duration:
        out.append(f"blocks end at {t} ms, not at duration_ms {duration}")
    return out


def _work_edges(blocks: Sequence[Doc], events: Sequence[Doc]) -> list[str]:
    out = []
    tones = {(e["tone"], e["start_ms"]) for e in events if e["kind"] == "tone"}
    for block in blocks:
        if block["kind"] != "work":
            continue
        start, end = block["start_ms"], block["end_ms"]
        if end - start != block["planned_ms"]:
            out.append(
                f"work block at {start} ms lasts {end - start} ms, planned {block['planned_ms']}"
            )
        if ("start", start) not in tones:
            out.append(f"no start tone at {start} ms")
        if ("stop", end) not in tones:
            out.append(f"no stop tone at {end} ms")
    return out


def _name(event: Doc) -> str:
    return f"{event['kind']} {event.get('text') or event.get('tone')!r}"


def _overlaps(events: Sequence[Doc]) -> list[str]:
    """Speech that overlaps any other sound, and tones that overlap each other.

    One sweep in start order, remembering the latest-ending sound so far of each kind,
    so an overlap is found even when a short sound sits between the two.
    """
    out = []
    latest: dict[str, Doc] = {}
    for event in sorted(events, key=lambda e: (e["start_ms"], e["end_ms"])):
        for kind in ("speech", "tone"):
            other = latest.get(kind)
            if other is not None and event["start_ms"] < other["end_ms"]:
                out.append(f"{_name(other)} overlaps {_name(event)} at {event['start_ms']} ms")
        mine = latest.get(event["kind"])
        if mine is None or event["end_ms"] > mine["end_ms"]:
            latest[event["kind"]] = event
    return out


def _speech_in_work(blocks: Sequence[Doc], events: Sequence[Doc]) -> list[str]:
    out = []
    works = [(b["start_ms"], b["end_ms"]) for b in blocks if b["kind"] == "work"]
    for event in events:
        if event["kind"] != "speech":
            continue
        for start, end in works:
            if start <= event["start_ms"] < end and event["end_ms"] > end:
                out.append(f"speech {event['text']!r} runs past the work interval ending {end} ms")
    return out


def _gaps(blocks: Sequence[Doc], warnings: Sequence[str]) -> list[str]:
    """A gap never shrinks below its planned length, and one that grew is warned about."""
    out = []
    for block in blocks:
        planned = block.get("planned_ms")
        if block["kind"] not in GAP_KINDS or planned is None:
            continue
        length = block["end_ms"] - block["start_ms"]
        where = f"{block['kind']} block at {block['start_ms']} ms"
        if length < planned:
            out.append(f"{where} lasts {length} ms, less than the planned {planned}")
        named = f"step {block.get('step')} ("
        if length > planned and not any(
            w.startswith(named) and block["kind"] in w for w in warnings
        ):
            out.append(f"{where} grew by {length - planned} ms without a warning")
    return out


def _countdowns(blocks: Sequence[Doc], events: Sequence[Doc]) -> list[str]:
    """The ticks of a gap before a work interval: 1 s apart, the last 1 s before its start."""
    out = []
    ticks = sorted(e["start_ms"] for e in events if e.get("tone") == "tick")
    for gap, work in itertools.pairwise(blocks):
        if work["kind"] != "work" or gap["kind"] == "work":
            continue
        start = work["start_ms"]
        mine = [t for t in ticks if gap["start_ms"] <= t < start]
        wanted = [start - k * 1000 for k in range(len(mine), 0, -1)]
        if mine != wanted:
            out.append(
                f"countdown before the start tone at {start} ms is at {mine} ms, not {wanted}"
            )
    return out


def tone_onset_errors(
    samples: npt.NDArray[np.float32], doc: Doc, rate: int
) -> list[tuple[Doc, float]]:
    """(tone event, onset error in ms) for every tick/start/stop tone; inf where silent.

    The onset is the first sample within ``SEARCH_MS`` before the tone's ``start_ms``
    (up to its end) above ``ONSET_FRACTION`` of the loudest sample there.
    """
    found = []
    for event in doc["events"]:
        if event["kind"] != "tone" or event["tone"] == "breath":
            continue
        start = event["start_ms"] * rate // 1000
        lo = max(0, start - SEARCH_MS * rate // 1000)
        hi = min(len(samples), event["end_ms"] * rate // 1000)
        window = np.abs(samples[lo:hi])
        if window.size == 0 or not window.max() > 0:
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
            problems.append(
                f"{event['tone']} tone at {event['start_ms']} ms starts {error:+.1f} ms off"
            )
    return problems
