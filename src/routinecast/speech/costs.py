"""What speaking costs, per engine, and so where new speech is made: here or in workers.

``worker_count`` decides from the engine's measured costs (``COSTS``) and the amount of
new speech whether a pool of worker processes (``pool``) beats speaking in this
process: a worker costs a fresh interpreter, the engine's libraries and its voice
(piper: under a second of a core) before its first line. eSpeak speaks a line in a few
milliseconds, so it never pays that for a routine; piper pays it from a few lines on.
``levellers`` says how many threads level clips beside the one speaking.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineCost:
    """What speaking costs with one engine, measured on this project's 2-core machine."""

    worker_boot_s: float
    """A worker's start until it can speak: interpreter, libraries, voice."""
    load_s: float
    """Loading the voice in this process (the libraries' import included)."""
    s_per_char: float
    """Speaking one character of text, on one core."""
    level_s: float
    """Band-limiting and levelling one clip."""


COSTS = {
    "piper": EngineCost(worker_boot_s=1.2, load_s=0.4, s_per_char=0.0058, level_s=0.01),
    "pyttsx3": EngineCost(worker_boot_s=0.5, load_s=0.15, s_per_char=0.00007, level_s=0.01),
}
"""Measured on this project's 2-core machine with numpy-only levelling (level-v5) and the
piper graph kept optimised (``engines.prepared``): a fresh process loads piper's voice
and the levelling filters in about 0.4 s and eSpeak in 0.15 s; a spawned pool costs
more (3 new piper lines took 1.24 to 1.45 s to make both in this process and with two
workers, so a pool's start is taken as 1.2 s); band-limiting and levelling the 63 lines
of ``desk-hip-reset`` took 0.66 to 0.78 s on one core (level-v4: 1.2 to 1.5 s;
``scripts/bench.py`` times the builds they decide). Unknown engines (the test double)
count as piper."""


def worker_count(engine: str, chars: int, clips: int, cores: int) -> int:
    """How many workers make ``clips`` new lines of ``chars`` characters fastest; 0: in-process.

    In-process, this process loads the voice and speaks while threads level, so the
    time is about the larger of the two. A pool of n pays one boot (the workers boot
    side by side) and shares both among n workers.
    """
    if clips < 2 or cores < 2:
        return 0
    cost = COSTS.get(engine, COSTS["piper"])
    speak, level = chars * cost.s_per_char, clips * cost.level_s
    alone = cost.load_s + max(speak, level / levellers(engine, chars, clips, cores))
    best, best_time = 0, alone
    for count in range(2, min(cores, clips) + 1):
        pooled = cost.worker_boot_s + (speak + level) / count
        if pooled < 0.9 * best_time:
            best, best_time = count, pooled
    return best


def levellers(engine: str, chars: int, clips: int, cores: int) -> int:
    """Threads levelling while one speaks: two when levelling is the longer part (eSpeak
    speaks a line in milliseconds; levelling one takes tens), else one."""
    cost = COSTS.get(engine, COSTS["piper"])
    return 2 if cost.level_s * clips > cost.s_per_char * chars and cores > 1 else 1
