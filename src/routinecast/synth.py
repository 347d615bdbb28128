"""Speech for every line of a routine: cached clips, new ones made on all cores.

``Synthesizer.clips(texts)`` returns display text -> levelled float32 clip. Each text
goes through the lexicon, then the cache; the misses are spoken by the engine (in
``spawn``ed worker processes when there are many: piper and espeak are not fork-safe
once used) and levelled, then stored. A worker that fails or dies becomes an
``EngineError``; nothing half-made is cached.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from . import SAMPLE_RATE
from .audio.level import band_limit, level_clip
from .cache import ClipCache, clip_key
from .errors import EngineError
from .lexicon import Lexicon
from .tts.base import Samples, SpeechEngine
from .tts.registry import make_engine

PARALLEL_MIN = 12
"""Fewer new clips than this are made in-process (starting workers costs ~2 s)."""
ESTIMATE_MS_PER_CHAR = 62
"""``plan``'s estimate for a text not yet in the cache (piper at rate 1 averages ~60)."""

CLIP_LUFS = -16.0
CLIP_CEILING_DBTP = -3.0
"""Clips are levelled below the master ceiling: MP3 encoding adds up to ~1 dB of overshoot."""

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class EngineSpec:
    """What a worker process needs to build its own engine."""

    name: str
    voice: str | None = None
    rate: float = 1.0


@dataclass
class SynthStats:
    """What the last ``clips`` call did."""

    cached: int = 0
    made: int = 0
    workers: int = 0
    made_texts: list[str] = field(default_factory=list)


def default_workers() -> int:
    """One worker per core, unless ``ROUTINECAST_WORKERS`` says otherwise."""
    env = os.environ.get("ROUTINECAST_WORKERS")
    return max(1, int(env)) if env and env.isdigit() else max(1, os.cpu_count() or 1)


class Synthesizer:
    """Turns display texts into levelled clips, through the lexicon and the cache."""

    def __init__(
        self, spec: EngineSpec, lexicon: Lexicon, cache: ClipCache,
        engine: SpeechEngine | None = None, workers: int | None = None,
    ) -> None:
        self.spec = spec
        self.lexicon = lexicon
        self.cache = cache
        self.engine = engine or make_engine(spec.name, spec.voice, spec.rate)
        self.workers = default_workers() if workers is None else workers
        self.stats = SynthStats()

    def keys(self, texts: Iterable[str]) -> dict[str, str]:
        """Display text -> cache key."""
        identity = self.engine.identity()
        return {t: clip_key(self.lexicon.apply(t), identity) for t in texts}

    def lengths_ms(self, texts: Iterable[str]) -> tuple[dict[str, int], list[str]]:
        """Clip lengths from the cache headers; estimates for the rest (``plan``)."""
        lengths: dict[str, int] = {}
        estimated: list[str] = []
        for text, key in self.keys(texts).items():
            count = self.cache.length(key)
            if count is None:
                estimated.append(text)
                lengths[text] = max(300, ESTIMATE_MS_PER_CHAR * len(text))
            else:
                lengths[text] = _ceil_ms(count)
        return lengths, estimated

    def clips(self, texts: Iterable[str], progress: Progress | None = None) -> dict[str, Samples]:
        """Every text's clip, making only what the cache lacks."""
        keys = self.keys(texts)
        out: dict[str, Samples] = {}
        missing: dict[str, list[str]] = {}
        for text, key in keys.items():
            clip = self.cache.load(key)
            if clip is None:
                missing.setdefault(key, []).append(text)
            else:
                out[text] = clip
        self.stats = SynthStats(cached=len(out))
        jobs = {key: self.lexicon.apply(texts_[0]) for key, texts_ in missing.items()}
        for key, clip in self._make(jobs, progress):
            self.cache.store(key, clip)
            for text in missing[key]:
                out[text] = clip
        self.stats.made = len(jobs)
        self.stats.made_texts = [missing[k][0] for k in jobs]
        return out

    def _make(self, jobs: dict[str, str], progress: Progress | None) -> Iterable[tuple[str, Samples]]:
        total = len(jobs)
        if progress:
            progress(0, total)
        if total >= PARALLEL_MIN and self.workers > 1 and self.spec.name != "fake":
            yield from self._parallel(jobs, progress)
            return
        for done, (key, spoken) in enumerate(jobs.items(), start=1):
            yield key, _finish(self.engine.synthesize(spoken), spoken)
            if progress:
                progress(done, total)

    def _parallel(
        self, jobs: dict[str, str], progress: Progress | None
    ) -> Iterable[tuple[str, Samples]]:
        workers = min(self.workers, len(jobs))
        self.stats.workers = workers
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init_worker, initargs=(self.spec,)
        )
        try:
            futures = {pool.submit(_work, spoken): key for key, spoken in jobs.items()}
            for done, future in enumerate(as_completed(futures), start=1):
                yield futures[future], future.result()
                if progress:
                    progress(done, len(jobs))
        except BrokenProcessPool:
            raise EngineError(
                "a speech worker process died (out of memory or killed); nothing was "
                "written; run the build again, or set ROUTINECAST_WORKERS=1"
            ) from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _ceil_ms(samples: int) -> int:
    return -(-samples * 1000 // SAMPLE_RATE)


def clip_ms(clip: Samples) -> int:
    """A clip's length in whole milliseconds, rounded up."""
    return _ceil_ms(len(clip))


def _finish(raw: Samples, spoken: str) -> Samples:
    if raw.size == 0:
        raise EngineError(f"the speech engine returned no audio for {spoken[:60]!r}")
    return level_clip(band_limit(raw, SAMPLE_RATE), SAMPLE_RATE, CLIP_LUFS, CLIP_CEILING_DBTP)


_WORKER: dict[str, Any] = {}


def _init_worker(spec: EngineSpec) -> None:
    _WORKER["engine"] = make_engine(spec.name, spec.voice, spec.rate, threads=1)


def _work(spoken: str) -> Samples:
    engine: SpeechEngine = _WORKER["engine"]
    return _finish(engine.synthesize(spoken), spoken)
