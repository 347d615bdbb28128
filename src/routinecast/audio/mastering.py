"""The master gain of a build, remembered so an unchanged rebuild does not measure again.

Measuring the loudness of a whole routine (``audio.mix.master_gain_db``) costs about
a second, half of it importing the measuring libraries. The gain depends only on the
sounds and where they fall, so it is stored under a hash of the timeline's events,
the clips' digests (the SHA-256 of their samples, which the build computes once for
its own key too), the target and the ceiling, in the clip cache (``master/*.gain``,
written by ``store.write_atomic``, removed by ``routinecast cache clear``). A damaged or
missing entry is simply measured again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from routinecast.audio.mix import master_gain_db
from routinecast.dsp.samples import Samples
from routinecast.store import write_atomic
from routinecast.timeline import Timeline

VERSION = "master-v5"


def gain_key(
    timeline: Timeline,
    digests: Mapping[str, str],
    target_lufs: float,
    ceiling_dbtp: float,
    speech_peak_dbtp: float | None = None,
    sounds: Mapping[str, Samples] | None = None,
) -> str:
    """A hash of everything the master gain depends on (the user's sounds included)."""
    digest = hashlib.sha256()
    head = [VERSION, timeline.sample_rate, target_lufs, ceiling_dbtp, speech_peak_dbtp]
    digest.update(json.dumps(head).encode())
    for event in timeline.events:
        line = f"{event.kind}|{event.start_ms}|{event.end_ms}|{event.tone}|{event.sound}\n"
        digest.update(line.encode())
        if event.text is not None:
            digest.update(event.text.encode())
    for text in sorted(digests):
        digest.update(digests[text].encode())
    for name in sorted(sounds or {}):
        digest.update(
            f"sound:{name}".encode() + hashlib.sha256((sounds or {})[name].tobytes()).digest()
        )
    return digest.hexdigest()


def cached_master_gain(
    root: Path,
    timeline: Timeline,
    clips: Mapping[str, Samples],
    digests: Mapping[str, str],
    target_lufs: float,
    ceiling_dbtp: float,
    speech_peak_dbtp: float | None = None,
    sounds: Mapping[str, Samples] | None = None,
) -> float:
    """``master_gain_db``, from ``root`` when this exact mix was measured before.

    ``digests`` are the SHA-256 of the samples of each clip the timeline speaks.
    """
    key = gain_key(timeline, digests, target_lufs, ceiling_dbtp, speech_peak_dbtp, sounds)
    path = root / "master" / f"{key}.gain"
    try:
        return float(json.loads(path.read_text("utf-8"))["gain_db"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    gain = master_gain_db(timeline, clips, target_lufs, ceiling_dbtp, speech_peak_dbtp, sounds)
    _store(path, gain)
    return gain


def _store(path: Path, gain: float) -> None:
    """Best effort: a cache that cannot be written only costs time."""
    with contextlib.suppress(OSError):
        write_atomic(path, json.dumps({"gain_db": gain}).encode("utf-8"))
