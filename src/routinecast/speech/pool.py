"""Speech worker processes: how they start, how they always stop.

Whether a pool pays is ``costs.worker_count``'s business. ``SpeechPool`` starts
``spawn``ed workers as soon as it is made, with every job queued (piper and eSpeak are
not fork-safe once used), so they boot while this process reads the cached clips. Each
worker builds its own engine from an ``EngineSpec``.

Failure rules:

* Any exception an engine raises that is not a ``RoutinecastError`` becomes an
  ``EngineError`` naming the engine and the text (``clip.make_clip``), in workers too.
* A worker killed from outside (OOM killer, ``kill -9``) breaks the pool: that is an
  ``EngineError`` saying a speech worker died; the other workers are stopped.
* Stopping is the parent's business. Workers are started with Ctrl-C, SIGTERM and
  SIGHUP blocked (so one arriving while they boot cannot print a traceback from
  inside the interpreter's startup), then ignore Ctrl-C and SIGHUP (a terminal sends
  them to its whole process group; the parent stops the workers) and take SIGTERM as
  usual: the executor stops a broken pool's workers with SIGTERM, and a service
  manager's SIGTERM to every process ends them at once while the parent cleans up.
  On Linux they also die with the parent (``PR_SET_PDEATHSIG``), so even a ``kill -9``
  of the build leaves no worker behind. The parent's handlers are held while the pool starts
  (``signals_held``) and run right after; on leaving, queued texts are cancelled and
  the running ones waited for.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routinecast.errors import EngineError, RoutinecastError
from routinecast.speech.clip import describe, make_clip
from routinecast.speech.engines.registry import EngineSpec, make_engine
from routinecast.speech.parts import memo_for

if TYPE_CHECKING:
    from routinecast.dsp.samples import Samples
    from routinecast.speech.engines.base import SpeechEngine

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""What a user or a service manager sends to stop a build."""
TERMINAL_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGHUP") if hasattr(signal, name)
)
"""What a terminal sends its whole process group: workers leave them to the parent."""
_PR_SET_PDEATHSIG = 1


class SpeechPool:
    """Worker processes making clips.

    Made empty; ``start`` launches the workers with every job queued. The caller makes
    the pool, then starts it inside the ``try`` whose ``finally`` calls ``close``: so
    no moment exists at which workers run that no ``finally`` owns (an interrupt landing
    just after the workers started, before the caller's ``try``, used to leave them
    running after the build had stopped).
    """

    def __init__(self, spec: EngineSpec, workers: int, parts: Path | None = None) -> None:
        self.spec = spec
        self.workers = workers
        self.parts = parts
        """The cache folder whose sentence parts the workers use and add to (``speech.parts``)."""
        self.total = 0
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[Future[Samples], str] = {}

    def start(self, jobs: Mapping[str, str]) -> None:
        """Start the workers (stop signals held meanwhile, then acted on) and queue ``jobs``."""
        self.total = len(jobs)
        try:
            with signals_held() as block:
                self._pool = ProcessPoolExecutor(
                    min(self.workers, self.total),
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_worker,
                    initargs=(self.spec, self.parts),
                )
                block()  # starting the resource tracker just unblocked them (CPython)
                longest_first = sorted(jobs.items(), key=lambda job: -len(job[1]))  # even finish
                for key, spoken in longest_first:
                    self._futures[self._pool.submit(_work, spoken)] = key
        except BrokenProcessPool:
            raise worker_died() from None
        except OSError as exc:  # no processes left, no memory to fork
            raise EngineError(
                f"cannot start speech worker processes ({exc.strerror or exc}); "
                "set ROUTINECAST_WORKERS=1"
            ) from None

    def results(
        self, progress: Callable[[int, int], None] | None = None
    ) -> Iterator[tuple[str, Samples]]:
        """(key, clip) as each is done."""
        for done, future in enumerate(as_completed(self._futures), start=1):
            yield self._futures[future], _result(future)
            if progress:
                progress(done, self.total)

    def close(self, wait: bool = True) -> None:
        """Cancel what has not started, wait for what has (a line each at most).

        ``wait=False`` (every line made) lets the workers exit while the build goes on:
        freeing a voice took 0.08 s of a build's time. The executor still joins them
        before this process exits.
        """
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)


def _start(
    spec: EngineSpec, workers: int, jobs: Mapping[str, str]
) -> tuple[ProcessPoolExecutor, dict[Future[Samples], str]]:
    """A started pool and its futures (for tests that watch the workers)."""
    pool = SpeechPool(spec, workers)
    try:
        pool.start(jobs)
    except BaseException:
        pool.close()
        raise
    assert pool._pool is not None
    return pool._pool, pool._futures


def worker_died() -> EngineError:
    """The error for a worker that vanished."""
    return EngineError(
        "a speech worker process died (out of memory or killed); nothing was "
        "written; run the build again, or set ROUTINECAST_WORKERS=1"
    )


def _result(future: Future[Samples]) -> Samples:
    """A worker's clip; a dead worker or a stray exception becomes an ``EngineError``."""
    try:
        return future.result()
    except BrokenProcessPool:
        raise worker_died() from None
    except RoutinecastError:
        raise
    except Exception as exc:  # e.g. a result that could not be sent back
        raise EngineError(f"a speech worker failed: {describe(exc)}") from exc


@contextmanager
def signals_held() -> Iterator[Callable[[], None]]:
    """Hold the stop signals while worker processes start, then act on them; yields ``block()``.

    ``block()`` blocks them in this thread, and processes started afterwards inherit
    the blocked mask (``_init_worker`` then ignores and unblocks them: the trick
    ``multiprocessing.resource_tracker`` uses for its own process, which is also why
    ``block()`` must be called again after the tracker starts: it unblocks SIGINT
    when done). Another thread (a progress bar) may still take a signal, so
    recording handlers stand in meanwhile: nothing is raised inside the executor's
    bookkeeping; the held signal's own handler runs on leaving, even over another
    error (the user asked to stop; a worker dying of that is no news).
    """
    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    held = [s for s in STOP_SIGNALS if signal.getsignal(s) is not None]  # None: not from Python
    caught: list[int] = []
    old_handlers = {s: signal.signal(s, lambda number, _: caught.append(number)) for s in held}
    masking = hasattr(signal, "pthread_sigmask")
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, set()) if masking else None

    def block() -> None:
        if masking:
            signal.pthread_sigmask(signal.SIG_BLOCK, set(held))

    block()
    try:
        yield block
    finally:
        if old_mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        for number, handler in old_handlers.items():
            signal.signal(number, handler)  # runs a pending recording handler first
        _replay(caught, old_handlers)


def _replay(caught: list[int], handlers: Mapping[int, Any]) -> None:
    """Act on the first signal held: its Python handler, or its default action."""
    if not caught:
        return
    number = caught[0]
    handler = handlers.get(number)
    if callable(handler):
        handler(number, None)
    elif handler == signal.SIG_DFL:
        signal.raise_signal(number)


_WORKER: dict[str, Any] = {}


def _init_worker(spec: EngineSpec, parts: Path | None = None) -> None:
    """Ignore the terminal's signals (the parent handles them), die with the parent, build
    the engine (and its sentence parts' memo, when it speaks by sentence)."""
    for number in TERMINAL_SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, set(STOP_SIGNALS))
    _die_with_parent()
    from routinecast.dsp.level import preload

    threading.Thread(target=preload, name="preload", daemon=True).start()
    engine = make_engine(spec.name, spec.voice, spec.rate, threads=1)
    _WORKER["engine"] = engine
    _WORKER["rate"] = spec.rate
    _WORKER["memo"] = None if parts is None else memo_for(engine, parts)


def _die_with_parent() -> None:
    """Linux: SIGKILL this worker when the process that started it is gone."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # it died before prctl
        os._exit(1)


def _work(spoken: str) -> Samples:
    engine: SpeechEngine = _WORKER["engine"]
    return make_clip(engine, spoken, _WORKER["rate"], _WORKER["memo"])
