"""Builds one at a time in a background thread: queued, running, done or failed.

``JobQueue.submit`` queues a build and returns its ``Job`` at once; one worker thread
runs them in order, so a second request waits (its ``ahead`` says behind how many)
and two builds never write at the same time. The same build asked for twice while
the first is still waiting or running is the same job. Progress runs 0..1: speech
(from the pipeline's progress callback) up to 0.85, encoding after that.

A failure keeps the message the CLI would print and the worker goes on. ``shutdown``
(Ctrl-C) fails the waiting jobs and abandons the running one: ``Abandoned``, a
``KeyboardInterrupt``, is raised in the worker thread at its next Python
instruction, so the build unwinds exactly as it does on Ctrl-C in the CLI: its
temporary files are removed and nothing is half-written.
"""

from __future__ import annotations

import ctypes
import secrets
import sys
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Literal

JobState = Literal["queued", "running", "done", "failed"]
SPEECH_SHARE = 0.85
"""The part of the progress bar that speech takes; encoding takes the rest."""
KEEP_FINISHED = 100
"""Finished jobs remembered (for ``GET /api/jobs/ID``); older ones are forgotten."""
STOPPED = "the studio stopped before this build finished; nothing was written"


class Abandoned(KeyboardInterrupt):
    """Raised in the worker to abandon a build, as Ctrl-C would."""


class Reporter:
    """What a running build reports its progress and stage through."""

    def __init__(self, job: Job) -> None:
        self._job = job

    def progress(self, done: int, total: int) -> None:
        """Speech progress: ``done`` of ``total`` new clips made."""
        share = done / total if total else 1.0
        self._job.progress = round(SPEECH_SHARE * share, 3)

    def stage(self, name: str) -> None:
        """The pipeline's stage: ``speech`` or ``encode``."""
        self._job.stage = name
        if name == "encode":
            self._job.progress = SPEECH_SHARE


Run = Callable[[Reporter], dict[str, str]]
"""A build: reports through the ``Reporter``, returns its files (kind -> file name)."""


@dataclass
class Job:
    """One build request and what became of it."""

    id: str
    key: Hashable
    run: Run = field(repr=False)
    state: JobState = "queued"
    stage: str = "queued"
    progress: float = 0.0
    files: dict[str, str] | None = None
    error: str | None = None

    @property
    def finished(self) -> bool:
        """True once done or failed."""
        return self.state in ("done", "failed")


class JobQueue:
    """A queue of builds and the one worker thread that runs them."""

    def __init__(self, describe: Callable[[BaseException], str | None]) -> None:
        """``describe`` words a failure as the CLI would (None: not a known kind)."""
        self._describe = describe
        self._lock = threading.Condition()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._waiting: list[Job] = []
        self._running: Job | None = None
        self._closed = False
        self._worker: threading.Thread | None = None

    def submit(self, key: Hashable, run: Run) -> Job:
        """Queue a build (or return the same one still waiting or running)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the studio is stopping")
            for job in (self._running, *self._waiting):
                if job is not None and job.key == key:
                    return job
            job = Job(secrets.token_hex(8), key, run)
            self._jobs[job.id] = job
            self._waiting.append(job)
            self._forget_old()
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="studio-build", daemon=True)
                self._worker.start()
            self._lock.notify()
            return job

    def get(self, job_id: str) -> Job | None:
        """The job with this id, if remembered."""
        with self._lock:
            return self._jobs.get(job_id)

    @property
    def running(self) -> Job | None:
        """The build running now, if any."""
        with self._lock:
            return self._running

    def ahead(self, job: Job) -> int:
        """How many builds run or wait before ``job``."""
        with self._lock:
            if job not in self._waiting:
                return 0
            return self._waiting.index(job) + (self._running is not None)

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Fail the waiting builds, abandon the running one; True when the worker ended."""
        with self._lock:
            self._closed = True
            for job in self._waiting:
                job.state, job.stage, job.error = "failed", "failed", STOPPED
            self._waiting.clear()
            running, worker = self._running, self._worker
            self._lock.notify_all()
        if worker is None:
            return True
        if running is not None and worker.ident is not None:
            _raise_in(worker.ident, Abandoned)
        worker.join(timeout)
        return not worker.is_alive()

    def _forget_old(self) -> None:
        finished = [job_id for job_id, job in self._jobs.items() if job.finished]
        for job_id in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job_id]

    def _next(self) -> Job | None:
        with self._lock:
            while not self._waiting and not self._closed:
                self._lock.wait()
            if self._closed:
                return None
            job = self._waiting.pop(0)
            job.state, job.stage = "running", "load"
            self._running = job
            return job

    def _work(self) -> None:
        try:
            while (job := self._next()) is not None:
                self._run(job)
        except Abandoned:
            pass  # shutdown landed between builds

    def _run(self, job: Job) -> None:
        try:
            files = job.run(Reporter(job))
        except Abandoned:
            self._finish(job, error=STOPPED)
            raise
        except BaseException as exc:
            self._finish(job, error=self._explain(exc))
            if not isinstance(exc, Exception):
                raise
        else:
            self._finish(job, files=files)

    def _explain(self, exc: BaseException) -> str:
        message = self._describe(exc)
        if message is not None:
            return message
        traceback.print_exception(exc, file=sys.stderr)
        return f"the build failed unexpectedly ({type(exc).__name__}: {exc}); see the terminal"

    def _finish(
        self, job: Job, files: dict[str, str] | None = None, error: str | None = None
    ) -> None:
        with self._lock:
            if error is None:
                job.files, job.progress, job.state, job.stage = files, 1.0, "done", "done"
            else:
                job.error, job.state, job.stage = error, "failed", "failed"
            self._running = None


def _raise_in(thread_id: int, exc: type[BaseException]) -> None:
    """Raise ``exc`` in the thread with this id at its next Python instruction."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc))


def job_json(job: Job, ahead: int, url: Callable[[str], str]) -> dict[str, Any]:
    """``GET /api/jobs/ID``: state, progress, stage, files as URLs, error, builds ahead."""
    return {
        "id": job.id,
        "state": job.state,
        "stage": job.stage,
        "progress": job.progress,
        "ahead": ahead,
        "files": {kind: url(name) for kind, name in job.files.items()} if job.files else None,
        "error": job.error,
    }
