"""Speech for every line of a routine: cached clips, new ones made on all cores.

``Synthesizer.clips(texts)`` returns display text -> levelled float32 clip. Each text
is put in the form the voice renders clearly (``spoken``), goes through the lexicon,
then the cache (keyed by what the voice is sent); the misses are spoken by the engine (in
``spawn``ed worker processes when there are many: piper and espeak are not fork-safe
once used) and levelled, then stored. A worker that fails or dies becomes an
``EngineError``; nothing half-made is cached.

Failure rules:

* Any exception an engine raises that is not a ``RoutinecastError`` (onnxruntime,
  espeak, a ``KeyError`` from a bad voice config) becomes an ``EngineError`` naming
  the engine and the text, in-process and in workers alike.
* A worker killed from outside (OOM killer, ``kill -9``) breaks the pool: that is
  an ``EngineError`` saying a speech worker died; the other workers are stopped.
* Ctrl-C is the parent's business. Workers are started with SIGINT blocked (so a
  Ctrl-C while they boot cannot print a traceback from inside the interpreter's
  startup) and ignore it from then on; the parent gets ``KeyboardInterrupt``
  (held until the pool is set up), cancels the queued texts and waits for the
  running ones before re-raising.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from routinecast import SAMPLE_RATE
from routinecast.dsp.level import band_limit, level_clip, preload
from routinecast.errors import EngineError, RoutinecastError
from routinecast.speech.cache import ClipCache, clip_key
from routinecast.speech.engines.base import Samples, SpeechEngine
from routinecast.speech.engines.registry import make_engine
from routinecast.speech.lexicon import Lexicon
from routinecast.speech.spoken import spoken_form

PARALLEL_MIN = 12
"""Fewer new clips than this are made in-process (starting workers costs ~2 s)."""
ESTIMATE_MS_PER_CHAR = 62
"""``plan``'s estimate for a text not yet in the cache (piper at rate 1 averages ~60)."""

CLIP_LUFS = -16.0
CLIP_CEILING_DBTP = -3.3
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
        self,
        spec: EngineSpec,
        lexicon: Lexicon,
        cache: ClipCache,
        engine: SpeechEngine | None = None,
        workers: int | None = None,
    ) -> None:
        self.spec = spec
        self.lexicon = lexicon
        self.cache = cache
        self.engine = engine or make_engine(spec.name, spec.voice, spec.rate)
        self.own_engine = engine is None
        """Workers rebuild the engine from ``spec``: only possible when it came from there."""
        self.workers = default_workers() if workers is None else workers
        self.stats = SynthStats()

    @property
    def peak_bound_dbtp(self) -> float:
        """Every clip this synthesizer returns is limited to this true peak (``make_clip``)."""
        return CLIP_CEILING_DBTP

    def keys(self, texts: Iterable[str]) -> dict[str, str]:
        """Display text -> cache key."""
        identity = self.engine.identity()
        return {t: clip_key(self.spoken(t), identity) for t in texts}

    def spoken(self, text: str) -> str:
        """What the voice is sent for a display text: its clear form, then the lexicon."""
        return self.lexicon.apply(spoken_form(text))

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
        jobs = {key: self.spoken(texts_[0]) for key, texts_ in missing.items()}
        made = self._make(jobs, progress)
        try:
            for key, clip in made:
                self.cache.store(key, clip)
                for text in missing[key]:
                    out[text] = clip
        finally:
            made.close()  # stops the workers at once when storing failed
        self.stats.made = len(jobs)
        self.stats.made_texts = [missing[k][0] for k in jobs]
        return out

    def _make(
        self, jobs: dict[str, str], progress: Progress | None
    ) -> Generator[tuple[str, Samples], None, None]:
        total = len(jobs)
        if progress:
            progress(0, total)
        if self._use_workers(total):
            yield from self._parallel(jobs, progress)
            return
        if total:  # the levelling libraries import while the voice model loads
            threading.Thread(target=preload, name="preload", daemon=True).start()
        for done, (key, spoken) in enumerate(jobs.items(), start=1):
            yield key, make_clip(self.engine, spoken)
            if progress:
                progress(done, total)

    def _use_workers(self, total: int) -> bool:
        return (
            total >= PARALLEL_MIN
            and self.workers > 1
            and self.own_engine
            and self.spec.name != "fake"
        )

    def _parallel(
        self, jobs: dict[str, str], progress: Progress | None
    ) -> Iterator[tuple[str, Samples]]:
        workers = min(self.workers, len(jobs))
        self.stats.workers = workers
        pool, futures = _start_pool(self.spec, workers, jobs)
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                yield futures[future], _result(future)
                if progress:
                    progress(done, len(jobs))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _start_pool(
    spec: EngineSpec, workers: int, jobs: dict[str, str]
) -> tuple[ProcessPoolExecutor, dict[Future[Samples], str]]:
    """A spawn pool with every job submitted; workers start with SIGINT blocked."""
    pool: ProcessPoolExecutor | None = None
    try:
        with _sigint_held() as block_sigint:
            pool = ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(spec,),
            )
            block_sigint()  # starting the resource tracker just unblocked it (CPython)
            futures = {pool.submit(_work, spoken): key for key, spoken in jobs.items()}
    except BaseException as exc:  # a Ctrl-C held meanwhile is raised here, on leaving
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if isinstance(exc, BrokenProcessPool):
            raise _worker_died() from None
        if isinstance(exc, OSError):  # no processes left, no memory to fork
            raise EngineError(
                f"cannot start speech worker processes ({exc.strerror or exc}); "
                "set ROUTINECAST_WORKERS=1"
            ) from None
        raise
    return pool, futures


def _worker_died() -> EngineError:
    return EngineError(
        "a speech worker process died (out of memory or killed); nothing was "
        "written; run the build again, or set ROUTINECAST_WORKERS=1"
    )


def _result(future: Future[Samples]) -> Samples:
    """A worker's clip; a dead worker or a stray exception becomes an ``EngineError``."""
    try:
        return future.result()
    except BrokenProcessPool:
        raise _worker_died() from None
    except RoutinecastError:
        raise
    except Exception as exc:  # e.g. a result that could not be sent back
        raise EngineError(f"a speech worker failed: {_describe(exc)}") from exc


@contextmanager
def _sigint_held() -> Iterator[Callable[[], None]]:
    """Hold Ctrl-C while worker processes start, then raise it; yields ``block()``.

    ``block()`` blocks SIGINT in this thread, and processes started afterwards
    inherit the blocked mask (``_init_worker`` then ignores and unblocks it: the
    trick ``multiprocessing.resource_tracker`` uses for its own process, which is
    also why ``block()`` must be called again after the tracker starts: it unblocks
    SIGINT when done). Another thread (a progress bar) may still take the signal,
    so a recording handler stands in meanwhile: no ``KeyboardInterrupt`` lands
    inside the executor's bookkeeping; it is raised on leaving, even over another
    error (the user asked to stop; a worker dying of that is no news).
    """
    in_charge = threading.current_thread() is threading.main_thread()
    if not in_charge or signal.getsignal(signal.SIGINT) is None:  # a handler not from Python
        yield lambda: None
        return
    caught: list[int] = []
    old_handler = signal.signal(signal.SIGINT, lambda number, _: caught.append(number))
    masking = hasattr(signal, "pthread_sigmask")
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, set()) if masking else None

    def block() -> None:
        if masking:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})

    block()
    try:
        yield block
    finally:
        if old_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        signal.signal(signal.SIGINT, old_handler)  # runs a pending handler first
        if caught and callable(old_handler):
            old_handler(signal.SIGINT, None)


def _ceil_ms(samples: int) -> int:
    return -(-samples * 1000 // SAMPLE_RATE)


def clip_ms(clip: Samples) -> int:
    """A clip's length in whole milliseconds, rounded up."""
    return _ceil_ms(len(clip))


def _finish(raw: Samples, spoken: str) -> Samples:
    if raw.size == 0:
        raise EngineError(f"the speech engine returned no audio for {spoken[:60]!r}")
    return level_clip(band_limit(raw, SAMPLE_RATE), SAMPLE_RATE, CLIP_LUFS, CLIP_CEILING_DBTP)


def make_clip(engine: SpeechEngine, spoken: str) -> Samples:
    """``engine`` speaks ``spoken``, levelled; any failure is an ``EngineError``."""
    try:
        return _finish(engine.synthesize(spoken), spoken)
    except RoutinecastError:
        raise
    except Exception as exc:  # engines wrap C libraries that raise anything
        name = getattr(engine, "name", type(engine).__name__)
        raise EngineError(
            f"the {name} speech engine failed on {_short(spoken)!r}: {_describe(exc)}"
        ) from exc


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


_WORKER: dict[str, Any] = {}


def _init_worker(spec: EngineSpec) -> None:
    """Ignore Ctrl-C (the parent handles it), then build this worker's engine."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _WORKER["engine"] = make_engine(spec.name, spec.voice, spec.rate, threads=1)


def _work(spoken: str) -> Samples:
    engine: SpeechEngine = _WORKER["engine"]
    return make_clip(engine, spoken)
