"""The encoding threads: one per core, each kept on its core with the processes it starts."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from routinecast.audio import cores

LINUX = hasattr(os, "sched_setaffinity") and hasattr(os, "SCHED_BATCH")


def test_one_worker_per_core_this_process_may_use() -> None:
    assert cores.workers() == len(cores.available()) >= 1
    if LINUX:
        assert set(cores.available()) == os.sched_getaffinity(0)


def _started_from_settled_thread(index: int) -> tuple[str, tuple[set[int], int]]:
    """What a process started by a thread settled on ``index`` says of its own core and policy."""
    found: dict[str, str] = {}

    def run() -> None:
        cores.settle(index)
        found["child"] = subprocess.run(
            [
                sys.executable,
                "-c",
                "import os; print(sorted(os.sched_getaffinity(0)), os.sched_getscheduler(0))",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return found["child"], (os.sched_getaffinity(0), os.sched_getscheduler(0))


@pytest.mark.skipif(not LINUX, reason="CPU affinity and SCHED_BATCH are Linux's")
@pytest.mark.parametrize("index", [0, 1, 5])
def test_a_settled_thread_and_what_it_starts_stay_on_one_core_as_a_batch_job(index: int) -> None:
    allowed = cores.available()
    core = allowed[index % len(allowed)]
    child, ours = _started_from_settled_thread(index)
    assert child == f"[{core}] {os.SCHED_BATCH}"
    # only that thread was settled: the rest of the process keeps its cores and policy
    assert ours == (set(allowed), os.SCHED_OTHER)
