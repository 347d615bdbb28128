"""The timeline: every sound in the file and every block, in integer milliseconds.

Data only: frozen dataclasses checked when built, plus ``to_json``. The compiler
builds a ``Timeline``; the mixer, the tag writer, the VTT writer and ``plan`` read it.
The tone specs (``TONES``: name, length, main frequency, envelope) live here too: the
compiler lays tones out by their length and ``audio.tones`` renders them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Literal

FORMAT = "routinecast.timeline/1"

EventKind = Literal["speech", "tone"]
BlockKind = Literal["intro", "transition", "prepare", "work", "rest", "switch", "outro"]


def _is_ms(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_span(what: str, start_ms: int, end_ms: int) -> None:
    if not (_is_ms(start_ms) and _is_ms(end_ms)):
        raise TypeError(f"{what}: times must be integer milliseconds")
    if start_ms < 0 or end_ms < start_ms:
        raise ValueError(f"{what}: bad span {start_ms}..{end_ms} ms")


@dataclass(frozen=True)
class Chapter:
    """One ID3 chapter: an exercise, from its announcement to its last stop tone."""

    title: str
    start_ms: int
    end_ms: int

    def __post_init__(self) -> None:
        _check_span(f"chapter {self.title!r}", self.start_ms, self.end_ms)


@dataclass(frozen=True)
class Event:
    """One sound: a speech clip (``cue``, ``text``) or a tone (``tone``, ``freq_hz``).

    A tone the user replaced with their own file names it in ``sound`` (its
    ``freq_hz`` is then None).
    """

    kind: EventKind
    start_ms: int
    end_ms: int
    cue: str | None = None
    text: str | None = None
    tone: str | None = None
    freq_hz: int | None = None
    sound: str | None = None

    def __post_init__(self) -> None:
        _check_span(f"{self.kind} event", self.start_ms, self.end_ms)
        if self.kind == "speech" and not self.text:
            raise ValueError("a speech event needs text")
        if self.kind == "tone" and not self.tone:
            raise ValueError("a tone event needs a tone name")

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``docs/timeline.md``."""
        out: dict[str, Any] = {"kind": self.kind, "start_ms": self.start_ms, "end_ms": self.end_ms}
        if self.kind == "speech":
            out.update(cue=self.cue, text=self.text)
        else:
            out.update(tone=self.tone, freq_hz=self.freq_hz)
            if self.sound is not None:
                out["sound"] = self.sound
        return out

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Event:
        """The event ``to_json`` wrote."""
        return cls(
            doc["kind"],
            doc["start_ms"],
            doc["end_ms"],
            cue=doc.get("cue"),
            text=doc.get("text"),
            tone=doc.get("tone"),
            freq_hz=doc.get("freq_hz"),
            sound=doc.get("sound"),
        )


@dataclass(frozen=True)
class Block:
    """A stretch of the file: intro, transition, prepare, work, rest, switch or outro."""

    kind: BlockKind
    start_ms: int
    end_ms: int
    planned_ms: int | None = None
    step: int | None = None
    exercise: str | None = None
    name: str | None = None
    side: str | None = None
    set: int | None = None
    sets: int | None = None

    def __post_init__(self) -> None:
        _check_span(f"{self.kind} block", self.start_ms, self.end_ms)

    @property
    def length_ms(self) -> int:
        """``end_ms - start_ms``."""
        return self.end_ms - self.start_ms

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``docs/timeline.md``."""
        return {
            "kind": self.kind,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "planned_ms": self.planned_ms,
            "step": self.step,
            "exercise": self.exercise,
            "name": self.name,
            "side": self.side,
            "set": self.set,
            "sets": self.sets,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Block:
        """The block ``to_json`` wrote."""
        return cls(**{f.name: doc[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class Dropped:
    """A sound the cue scheduler left out of a work interval, and why (``plan --verbose``).

    ``at_ms`` is where it was wanted, from the start of the file; ``step`` its step number.
    """

    at_ms: int
    step: int
    cue: str
    text: str
    reason: str


@dataclass(frozen=True)
class Timeline:
    """Everything ``build`` writes beside the MP3, and what the mixer plays."""

    title: str
    routine: str
    sample_rate: int
    duration_ms: int
    voice: dict[str, Any]
    events: tuple[Event, ...]
    blocks: tuple[Block, ...]
    chapters: tuple[Chapter, ...]
    warnings: tuple[str, ...] = ()
    target_ms: int | None = None
    overrides: tuple[str, ...] = ()
    estimated: tuple[str, ...] = field(default=(), compare=False)
    """Texts whose length was estimated, not measured (``plan`` only)."""
    dropped: tuple[Dropped, ...] = ()
    """What the cue scheduler left out, in time order (not part of the JSON)."""

    def __post_init__(self) -> None:
        if not _is_ms(self.duration_ms) or self.duration_ms < 0:
            raise ValueError(
                f"duration_ms must be integer milliseconds >= 0, not {self.duration_ms!r}"
            )
        if self.blocks and self.blocks[-1].end_ms != self.duration_ms:
            raise ValueError("blocks must end at duration_ms")

    @property
    def speech(self) -> tuple[Event, ...]:
        """The speech events, in time order."""
        return tuple(e for e in self.events if e.kind == "speech")

    @property
    def work_ms(self) -> int:
        """Total planned work time."""
        return sum(b.length_ms for b in self.blocks if b.kind == "work")

    def to_json(self) -> dict[str, Any]:
        """The ``routinecast.timeline/1`` document."""
        out: dict[str, Any] = {
            "format": FORMAT,
            "title": self.title,
            "routine": self.routine,
            "sample_rate": self.sample_rate,
            "duration_ms": self.duration_ms,
            "voice": self.voice,
            "events": [e.to_json() for e in self.events],
            "blocks": [b.to_json() for b in self.blocks],
            "chapters": [
                {"title": c.title, "start_ms": c.start_ms, "end_ms": c.end_ms}
                for c in self.chapters
            ],
            "warnings": list(self.warnings),
            "overrides": list(self.overrides),
        }
        if self.target_ms is not None:
            out["target_ms"] = self.target_ms
        return out

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Timeline:
        """The timeline ``to_json`` wrote (what the scheduler left out is not in it).

        ``ValueError`` when ``doc`` is not a ``routinecast.timeline/1`` document.
        """
        if doc.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} document")
        try:
            return cls(
                title=doc["title"],
                routine=doc["routine"],
                sample_rate=doc["sample_rate"],
                duration_ms=doc["duration_ms"],
                voice=dict(doc["voice"]),
                events=tuple(Event.from_json(e) for e in doc["events"]),
                blocks=tuple(Block.from_json(b) for b in doc["blocks"]),
                chapters=tuple(
                    Chapter(c["title"], c["start_ms"], c["end_ms"]) for c in doc["chapters"]
                ),
                warnings=tuple(doc["warnings"]),
                target_ms=doc.get("target_ms"),
                overrides=tuple(doc["overrides"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a {FORMAT} document: {exc!r}") from None


@dataclass(frozen=True)
class ToneSpec:
    """How one cue tone sounds.

    ``freq_hz`` is the main partial, held after the optional glide from
    ``glide_from_hz`` over ``glide_ms``.  ``overtones`` lists ``(ratio, amplitude)``
    pairs relative to the main partial; they follow the glide.  The whole tone is
    scaled so its sample peak is exactly ``peak_dbfs``.
    """

    name: str
    freq_hz: int
    length_ms: int
    peak_dbfs: float
    attack_ms: float
    release_ms: float
    glide_from_hz: float | None = None
    glide_ms: float = 0.0
    overtones: tuple[tuple[float, float], ...] = ()


TONES: Mapping[str, ToneSpec] = MappingProxyType(
    {
        "tick": ToneSpec(
            "tick", 880, 120, -11.0, attack_ms=3.0, release_ms=70.0, overtones=((2.0, 0.2),)
        ),
        "start": ToneSpec(
            "start",
            1320,
            300,
            -8.0,
            attack_ms=4.0,
            release_ms=90.0,
            glide_from_hz=990.0,
            glide_ms=70.0,
            overtones=((2.0, 0.3),),
        ),
        "stop": ToneSpec(
            "stop",
            660,
            400,
            -8.0,
            attack_ms=5.0,
            release_ms=160.0,
            glide_from_hz=880.0,
            glide_ms=100.0,
            overtones=((2.0, 0.3),),
        ),
        "breath": ToneSpec(
            "breath", 440, 500, -14.0, attack_ms=150.0, release_ms=250.0, overtones=((2.0, 0.3),)
        ),
    }
)


@dataclass(frozen=True)
class Sound:
    """What a tone name plays: the built-in tone, or the user's file ``file``.

    The compiler lays sounds out by ``length_ms``; ``freq_hz`` is the built-in tone's
    main partial (None for a user's file).
    """

    length_ms: int
    freq_hz: int | None = None
    file: str | None = None


BUILTIN_SOUNDS: Mapping[str, Sound] = MappingProxyType(
    {name: Sound(spec.length_ms, spec.freq_hz) for name, spec in TONES.items()}
)
"""Every tone name as the built-in tone."""
