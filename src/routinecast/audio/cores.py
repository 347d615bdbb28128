"""Where the encoders run: one thread per core, kept on its core with the ffmpeg it starts.

ffmpeg 7 and later run every stage of an encode (reading, decoding, filtering,
encoding, writing) on a thread of its own and hand each 26 ms frame from one to the
next. Left to the scheduler, a woken stage preempts the one that woke it and hops
between cores: encoding ``desk-hip-reset`` (pieces on 2 cores, 4 ffmpegs at once)
spent 40 % of ffmpeg's time switching tasks. ``settle`` keeps a thread on one core
and marks it ``SCHED_BATCH`` (no wake-up preemption; the same priority), and the
ffmpeg that thread starts inherits both, so its stages run in turns on that core.

Measured on ``desk-hip-reset``, the whole file encoded in its 9 pieces (median of 5):

==================================  ======  ============
threads                             wall    ffmpeg's CPU
==================================  ======  ============
2 per core, left to the scheduler   0.78 s  1.22 s
2 per core, settled                 0.64 s  0.92 s
1 per core, settled (``workers``)   0.54 s  0.83 s
==================================  ======  ============

Nothing here is needed for correctness: where the system refuses (not Linux, a
changed CPU set), the threads run as they would have.
"""

from __future__ import annotations

import contextlib
import os


def available() -> list[int]:
    """The cores this process may run on, in order."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def workers() -> int:
    """How many encoding threads to run at once: one per core."""
    return len(available())


def settle(index: int) -> None:
    """Keep the calling thread (and every process it starts) on core ``index`` (modulo
    the cores there are), scheduled as a batch job."""
    cores = available()
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {cores[index % len(cores)]})
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
