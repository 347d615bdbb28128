"""The speech-engine interface and helpers every engine shares.

An engine is cheap to construct: ``identity()`` (which goes into the cache key) must
not load a model. ``synthesize(text)`` loads lazily and returns float32 mono samples
at ``SAMPLE_RATE`` with leading and trailing silence trimmed (``TRIM_KEEP_MS`` kept).
numpy is imported inside the helpers: ``plan`` builds engines for their identity only.

An engine that speaks a text sentence by sentence, each sentence independent of the
others (piper), may say ``remembers_sentences = True`` and take a ``SentenceMemo`` in
``synthesize(text, memo=...)``: it asks the memo for each sentence before speaking it
and hands it each one it spoke. The memo is the caller's (``speech.parts`` keeps it on
disk); the engine only names each sentence by what its model is fed (``speak``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

from routinecast import SAMPLE_RATE

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from routinecast.dsp.samples import Samples

TRIM_KEEP_MS = 15
"""Silence kept before and after the sound when a clip is trimmed (part of the cache key)."""
TRIM_THRESHOLD = 0.004
TRIMMED = f"trim{TRIM_KEEP_MS}ms@{TRIM_THRESHOLD:g}"
"""The trimming, as cache keys name it (clips' ``PROCESSING``, sentence parts' keys)."""


@dataclass(frozen=True)
class VoiceInfo:
    """A voice an engine offers."""

    id: str
    name: str
    language: str = ""


@runtime_checkable
class SpeechEngine(Protocol):
    """Text in, audio out. One method that matters, like a transport."""

    name: str

    def identity(self) -> dict[str, str]:
        """Everything that changes the sound besides the text: engine, voice, rate, versions."""
        ...

    def synthesize(self, text: str) -> Samples:
        """Speak ``text``; float32 mono at ``SAMPLE_RATE``, silence trimmed."""
        ...

    def voices(self) -> list[VoiceInfo]:
        """The voices this engine can use here."""
        ...


class SentenceMemo(Protocol):
    """The sentences a voice said before, by the name its engine gives each one."""

    def get(self, sentence: str) -> Samples | None:
        """The audio said for ``sentence`` before (silence trimmed), or None."""
        ...

    def put(self, sentence: str, part: Samples) -> None:
        """Keep what was just said for ``sentence``."""
        ...


class SentenceEngine(SpeechEngine, Protocol):
    """An engine whose ``synthesize`` takes a ``SentenceMemo``."""

    remembers_sentences: bool

    def synthesize(self, text: str, memo: SentenceMemo | None = None) -> Samples:
        """Speak ``text``, each sentence taken from ``memo`` when it has it."""
        ...


def speak(engine: SpeechEngine, text: str, memo: SentenceMemo | None = None) -> Samples:
    """``engine`` speaks ``text``, with ``memo`` when it remembers sentences."""
    if memo is not None and getattr(engine, "remembers_sentences", False):
        return cast("SentenceEngine", engine).synthesize(text, memo=memo)
    return engine.synthesize(text)


def own_files(engine: SpeechEngine) -> list[Path]:
    """The user's files ``engine``'s voice is read from (a voice given by path), if it has
    an ``own_files()``: what a build's receipt must check besides the routine's files."""
    files = getattr(engine, "own_files", None)
    return list(files()) if callable(files) else []


def warm_up(engine: SpeechEngine) -> None:
    """Load ``engine``'s voice now, if it has a ``load()`` (piper's model, eSpeak's data)."""
    load = getattr(engine, "load", None)
    if callable(load):
        load()


def to_rate(samples: npt.NDArray[np.floating], rate: int) -> Samples:
    """Resample to ``SAMPLE_RATE`` when an engine speaks at another rate."""
    import numpy as np

    data = np.asarray(samples, dtype=np.float32)
    if rate == SAMPLE_RATE:
        return data
    from math import gcd

    from routinecast.dsp.filters import resample_poly

    g = gcd(rate, SAMPLE_RATE)
    out: Samples = resample_poly(data, SAMPLE_RATE // g, rate // g).astype(np.float32)
    return out


def trim_silence(
    samples: Samples, threshold: float = TRIM_THRESHOLD, keep_ms: int = TRIM_KEEP_MS
) -> Samples:
    """Drop leading and trailing near-silence, keeping ``keep_ms`` around the sound."""
    import numpy as np

    loud = np.flatnonzero(np.abs(samples) > threshold)
    if loud.size == 0:
        return samples[:0]
    keep = keep_ms * SAMPLE_RATE // 1000
    start = max(0, int(loud[0]) - keep)
    end = min(len(samples), int(loud[-1]) + 1 + keep)
    return samples[start:end]


def join_sentences(parts: list[Samples], gap_ms: int = 220) -> Samples:
    """Concatenate sentence chunks with a short pause between them."""
    import numpy as np

    gap = np.zeros(gap_ms * SAMPLE_RATE // 1000, dtype=np.float32)
    pieces: list[Samples] = []
    for index, part in enumerate(parts):
        if index:
            pieces.append(gap)
        pieces.append(part)
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
