"""Encoded pieces kept in the store of built files, by what plays within each.

``audio.splice`` encodes a file in pieces on a fixed grid and asks a ``Reuse`` for each
piece first. ``KeptPieces`` keys a piece by everything that decides its samples: its
place on the grid, every event that sounds within it (where it starts, and the SHA-256
of its clip, the tone's name or the user's sound file), the master gain, the MP3
settings, ffmpeg and the code (``store.inputs_key``). Set a hold to a new value and
every piece before the first event that moved is the same, so it is taken from the
store instead of being mixed and encoded again.

A music bed depends on the whole timeline (where speech ducks it, where the file ends),
so with one nothing is kept.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from routinecast.audio.mix import sample_at
from routinecast.audio.mpeg import samples_per_frame
from routinecast.audio.splice import Piece
from routinecast.store import FileStore, inputs_key
from routinecast.timeline import Event, Timeline

MARGIN_MS = 10
"""An event's end in the timeline is rounded to the millisecond; pieces within this of
it count it, so a key never misses a sample that sounds."""


@dataclass(frozen=True)
class KeptPieces:
    """``splice.Reuse`` over a ``FileStore``, for one build's mix."""

    store: FileStore
    timeline: Timeline
    digests: Mapping[str, str]
    """The SHA-256 of each spoken line's clip, by its text."""
    sounds: Mapping[str, str]
    """The SHA-256 of each user's sound file, by the tone it replaces."""
    common: Mapping[str, object]
    """What every piece shares: the master gain, the MP3 settings, ffmpeg."""

    def key(self, piece: Piece) -> str | None:
        """Everything that decides the piece's samples."""
        rate = self.timeline.sample_rate
        start, end = piece.first * samples_per_frame(rate), piece.end
        starts, ends, events = self._placed
        sounding = [
            self._identity(event)
            for event in events[bisect.bisect_right(ends, start) : bisect.bisect_left(starts, end)]
        ]
        place = [piece.first, piece.keep_from, piece.keep_to, piece.end, piece.skipped]
        return inputs_key({"piece": place, "events": sounding, **self.common})

    @functools.cached_property
    def _placed(self) -> tuple[list[int], list[int], list[Event]]:
        """The events in time order with their first and (margin-padded) last samples.

        Events never overlap, so the ends are in order too, and the events sounding in
        a range are one slice, found by bisection: a six-hour routine has some 200
        pieces and thousands of events.
        """
        rate = self.timeline.sample_rate
        events = sorted(self.timeline.events, key=lambda event: event.start_ms)
        starts = [sample_at(event.start_ms, rate) for event in events]
        ends = [sample_at(event.end_ms + MARGIN_MS, rate) for event in events]
        return starts, ends, events

    def get(self, key: str) -> Path | None:
        """The piece kept under ``key``."""
        return self.store.get(key)

    def put(self, key: str, path: Path) -> None:
        """Keep the piece at ``path``."""
        self.store.put(key, path)

    def _identity(self, event: Event) -> list[object]:
        if event.kind == "speech":
            assert event.text is not None
            what = self.digests[event.text]
        elif event.sound is not None:
            what = f"sound:{self.sounds.get(event.tone or '', 'missing')}"
        else:
            what = f"tone:{event.tone}"
        return [event.kind, event.start_ms, what]
