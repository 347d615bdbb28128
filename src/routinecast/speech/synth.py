"""Speech for every line of a routine: cached clips, the new ones made where it pays.

``Synthesizer.clips(texts)`` returns display text -> levelled float32 clip. Each text
is put in the form the voice renders clearly (``spoken``), goes through the lexicon,
then the cache (keyed by what the voice is sent). What the cache lacks is made either in this
process (the engine speaks in this thread while another levels, so eSpeak's fast voice
and the levelling share the two cores) or by a ``pool.SpeechPool`` of worker processes,
whichever ``costs.worker_count`` expects to finish first. A pool is started before the
cached clips are read, so the workers boot meanwhile. Every clip is checked
(``clip.make_clip``) and stored as it arrives; nothing half-made is cached. An engine
that speaks sentence by sentence (piper) is handed the sentences it said before
(``parts.memo_for``), in this process and in the workers: a changed line speaks only
its new sentences.

``ROUTINECAST_WORKERS=N`` (or ``workers=N``) overrides the estimate: N workers
whenever there are at least N new lines, and ``1`` never starts any.

``lengths_ms`` and ``headers`` read the cache's headers only: ``plan`` and an
up-to-date build import neither numpy, nor an engine's libraries, nor multiprocessing.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from routinecast.speech.cache import ClipCache, ClipHeader, clip_key
from routinecast.speech.clip import (
    CLIP_CEILING_DBTP,
    ceil_ms,
    estimate_ms,
    finish,
    speak_checked,
)
from routinecast.speech.costs import levellers, worker_count
from routinecast.speech.engines.base import warm_up
from routinecast.speech.engines.registry import EngineSpec, make_engine
from routinecast.speech.lexicon import Lexicon
from routinecast.speech.parts import memo_for
from routinecast.speech.spoken import spoken_form

if TYPE_CHECKING:
    from routinecast.dsp.samples import Samples
    from routinecast.speech.engines.base import SpeechEngine
    from routinecast.speech.pool import SpeechPool

Progress = Callable[[int, int], None]
__all__ = ["EngineSpec", "Progress", "SynthStats", "Synthesizer", "default_workers"]


@dataclass
class SynthStats:
    """What the last ``clips`` call did."""

    cached: int = 0
    made: int = 0
    workers: int = 0
    made_texts: list[str] = field(default_factory=list)


def default_workers() -> int:
    """One worker per core at most, unless ``ROUTINECAST_WORKERS`` says otherwise."""
    env = os.environ.get("ROUTINECAST_WORKERS")
    return max(1, int(env)) if env and env.isdigit() else max(1, os.cpu_count() or 1)


def speaking_threads() -> int:
    """Threads for the voice in this process: every core, up to 4.

    This process speaks only when workers do not pay (a few new lines), one line at a
    time, so the voice may use the cores the workers would have: measured, piper speaks
    a 75-character line in 0.40 s on one thread and 0.23 s on two. Workers keep one
    thread each. The lengths are the same on any thread count, and mostly the samples
    too (tests/speech/test_exact.py), but not always: on 17 of ``desk-hip-reset``'s 63
    lines onnxruntime's sums come out in another order on two threads, at most 2.2e-5
    apart (-93 dBFS). A clip is made once and kept, so a build still depends only on
    the clips in its cache (whose digests key the store of built files).
    """
    return max(1, min(4, os.cpu_count() or 1))


def workers_asked() -> bool:
    """``ROUTINECAST_WORKERS`` is set: its count is used whenever there are that many lines."""
    return bool(os.environ.get("ROUTINECAST_WORKERS", "").isdigit())


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
        self.engine = engine or make_engine(
            spec.name, spec.voice, spec.rate, threads=speaking_threads()
        )
        self.own_engine = engine is None
        """Workers rebuild the engine from ``spec``: only possible when it came from there."""
        self.workers = default_workers() if workers is None else workers
        self.asked = workers is not None or workers_asked()
        """A count given (argument or environment) is used as given; else costs decide."""
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

    def headers(self, texts: Iterable[str]) -> dict[str, ClipHeader | None]:
        """Display text -> its cached clip's header (length, digest), or None when missing."""
        return {text: self.cache.header(key) for text, key in self.keys(texts).items()}

    def lengths_ms(self, texts: Iterable[str]) -> tuple[dict[str, int], list[str]]:
        """Clip lengths from the cache headers; estimates for the rest (``plan``)."""
        lengths: dict[str, int] = {}
        estimated: list[str] = []
        for text, header in self.headers(texts).items():
            if header is None:
                estimated.append(text)
                lengths[text] = estimate_ms(text)
            else:
                lengths[text] = ceil_ms(header.samples)
        return lengths, estimated

    def clips(self, texts: Iterable[str], progress: Progress | None = None) -> dict[str, Samples]:
        """Every text's clip, making only what the cache lacks."""
        keys = self.keys(texts)
        missing: dict[str, list[str]] = {}
        for text, key in keys.items():
            if self.cache.header(key) is None:
                missing.setdefault(key, []).append(text)
        jobs = {key: self.spoken(group[0]) for key, group in missing.items()}
        self.stats = SynthStats()
        pool = self._pool(jobs)
        finished = False
        try:
            if pool is not None:  # started before the cache is read: workers boot meanwhile
                pool.start(jobs)
            elif jobs:  # the voice loads meanwhile instead
                threading.Thread(target=_warm_up, args=(self.engine,), daemon=True).start()
            out, damaged = self._cached(keys, missing)
            late = {key: self.spoken(missing[key][0]) for key in damaged}
            ticks = _Ticks(progress, len(jobs) + len(late))
            made = self._in_process(late if pool else {**jobs, **late}, ticks)
            if pool is not None:
                made = itertools.chain(pool.results(ticks), made)
            for key, clip in made:
                self.cache.store(key, clip)
                for text in missing[key]:
                    out[text] = clip
            finished = True
        finally:
            if pool is not None:  # stops the workers at once when anything failed
                pool.close(wait=not finished)
        made_keys = [*jobs, *late]
        self.stats.made = len(made_keys)
        self.stats.cached = len(keys) - sum(len(missing[k]) for k in made_keys)
        self.stats.made_texts = [missing[k][0] for k in made_keys]
        return out

    def _cached(
        self, keys: dict[str, str], missing: dict[str, list[str]]
    ) -> tuple[dict[str, Samples], list[str]]:
        """The cached clips, and the keys of those found damaged since their header was read."""
        out: dict[str, Samples] = {}
        damaged: list[str] = []
        for text, key in keys.items():
            if key in missing and key not in damaged:
                continue
            clip = self.cache.load(key)
            if clip is None:
                if key not in missing:
                    damaged.append(key)
                missing.setdefault(key, []).append(text)
            else:
                out[text] = clip
        return out, damaged

    def _pool(self, jobs: dict[str, str]) -> SpeechPool | None:
        """A pool (not started yet) when workers pay for ``jobs``, else None."""
        if not jobs or not self.own_engine or self.spec.name == "fake" or self.workers < 2:
            return None
        if self.asked:
            count = min(self.workers, len(jobs)) if len(jobs) >= self.workers else 0
        else:
            chars = sum(len(spoken) for spoken in jobs.values())
            count = worker_count(self.spec.name, chars, len(jobs), self.workers)
        if not count:
            return None
        from routinecast.speech.pool import SpeechPool  # multiprocessing: ~60 ms, when used

        self.stats.workers = count
        return SpeechPool(self.spec, count, self.cache.root)

    def _in_process(self, jobs: dict[str, str], ticks: _Ticks) -> Iterator[tuple[str, Samples]]:
        """The engine speaks in this thread; other threads level the clips meanwhile."""
        if not jobs:
            return
        rate = self.spec.rate if self.own_engine else None  # an outside engine: no length check
        chars = sum(len(spoken) for spoken in jobs.values())
        threads = levellers(self.spec.name, chars, len(jobs), os.cpu_count() or 1)
        memo = memo_for(self.engine, self.cache.root)
        with ThreadPoolExecutor(threads, thread_name_prefix="level") as leveller:
            pending: deque[tuple[str, Future[Samples]]] = deque()
            for key, spoken in jobs.items():
                try:
                    raw = speak_checked(self.engine, spoken, rate, memo)
                except BaseException:
                    while pending:  # the clips spoken before this one are good: keep them
                        yield _done(pending.popleft(), ticks)
                    raise
                pending.append((key, leveller.submit(finish, raw)))
                while pending and (pending[0][1].done() or len(pending) > 2 * threads):
                    yield _done(pending.popleft(), ticks)
            while pending:
                yield _done(pending.popleft(), ticks)


def _warm_up(engine: SpeechEngine) -> None:
    """Load the voice in a thread; a failure shows again, in place, when it speaks."""
    with contextlib.suppress(Exception):
        warm_up(engine)


def _done(item: tuple[str, Future[Samples]], ticks: _Ticks) -> tuple[str, Samples]:
    key, future = item
    clip = future.result()
    ticks()
    return key, clip


class _Ticks:
    """Progress: how many of ``total`` clips are made (as a ``Progress`` callback too)."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0
        if progress:
            progress(0, total)

    def __call__(self, *_: int) -> None:
        self.done += 1
        if self.progress:
            self.progress(min(self.done, self.total), self.total)


def preload_levelling() -> None:
    """Import numpy and prepare the levelling filters in a thread (about 0.06 s), so this
    one goes on at once to find the missing lines and start the voice loading."""
    threading.Thread(target=_preload, name="preload", daemon=True).start()


def _preload() -> None:
    from routinecast.dsp.level import preload

    preload()
