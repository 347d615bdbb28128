"""Write a routine of about HOURS hours (and optionally build it and measure memory).

    python scripts/long_routine.py /tmp/long.yaml 2
    python scripts/long_routine.py /tmp/long.yaml 2 --measure --output /tmp/out
    python scripts/long_routine.py /tmp/long.yaml 2 --measure --music bed.mp3

The routine repeats the shipped library's exercises in order with varied holds, reps,
sets and rests, and as many steps as ``routinecast plan`` says make HOURS hours.
``--measure`` then runs ``/usr/bin/time -v routinecast build`` on it and polls
``/proc`` every 50 ms, reporting wall time, the Python build process's peak RSS
(``VmHWM``) and the peak of the summed RSS of the whole process tree (Python,
speech workers and ffmpeg). Set ``ROUTINECAST_CACHE_DIR`` to keep the real cache clean.
"""

from __future__ import annotations

import argparse
import itertools
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from routinecast.load.routine import load_library, shipped_library_path
from routinecast.model import Exercise
from routinecast.pipeline import plan

HOLDS_S = (20, 30, 45, 60, 90, 40, 25, 75)
REPS = (6, 8, 10, 12, 15)
SETS = (1, 2, 1, 3)
RESTS_S = (20, 30, 45)
POLL_S = 0.05


def steps(library: dict[str, Exercise]) -> Iterator[dict[str, Any]]:
    """An endless, varied sequence of routine steps over the whole library."""
    for n, exercise in enumerate(itertools.cycle(sorted(library.values(), key=lambda e: e.id))):
        step: dict[str, Any] = {"exercise": exercise.id}
        if exercise.kind == "reps":
            step["reps"] = REPS[n % len(REPS)]
        else:
            step["hold"] = f"{HOLDS_S[n % len(HOLDS_S)]}s"
        sets = SETS[n % len(SETS)]
        if sets > 1:
            step.update(sets=sets, rest=f"{RESTS_S[n % len(RESTS_S)]}s")
        yield step


def routine(count: int, hours: float) -> dict[str, Any]:
    """The routine document with the first ``count`` steps."""
    return {
        "title": f"Long routine ({hours:g} h)",
        "summary": "A generated routine for length and memory tests.",
        "intro": "A long session built to test the builder. Settle in.",
        "outro": "That is the end of the long session. Well done.",
        "pacing": {"transition": "15s", "rest": "20s", "switch": "6s"},
        "steps": list(itertools.islice(steps(load_library(shipped_library_path())), count)),
    }


def write(path: Path, count: int, hours: float) -> int:
    """Write ``count`` steps to ``path``; the planned length in ms."""
    path.write_text(yaml.safe_dump(routine(count, hours), sort_keys=False), encoding="utf-8")
    return plan(path).duration_ms


def generate(path: Path, hours: float) -> int:
    """Write a routine of about ``hours`` hours to ``path``; its planned length in ms."""
    target = hours * 3_600_000
    count = 20
    length = write(path, count, hours)
    for _ in range(3):
        count = max(1, round(count * target / length))
        length = write(path, count, hours)
    return length


def _tree_rss_kb(root: int) -> int:
    """Summed VmRSS (kB) of ``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _status_kb(pid, "VmRSS")
        todo += children.get(pid, [])
    return total


def _status_kb(pid: int, key: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
    return int(found.group(1)) if found else 0


def _build_pid(timer: int) -> int | None:
    """The ``routinecast`` process that ``/usr/bin/time`` started."""
    try:
        text = Path(f"/proc/{timer}/task/{timer}/children").read_text().split()
    except OSError:
        return None
    return int(text[0]) if text else None


def measure(path: Path, output: Path, extra: list[str]) -> dict[str, float]:
    """Build ``path`` under ``/usr/bin/time -v``; wall s and peak RSS figures in MB."""
    command = ["/usr/bin/time", "-v", "routinecast", "build", str(path), "-o", str(output)]
    start = time.perf_counter()
    proc = subprocess.Popen([*command, *extra], stderr=subprocess.PIPE, text=True)
    python_kb = tree_kb = 0
    while proc.poll() is None:
        pid = _build_pid(proc.pid)
        if pid is not None:
            python_kb = max(python_kb, _status_kb(pid, "VmHWM"))
        tree_kb = max(tree_kb, _tree_rss_kb(proc.pid))
        time.sleep(POLL_S)
    wall = time.perf_counter() - start
    report = proc.stderr.read() if proc.stderr else ""
    if proc.returncode != 0:
        sys.exit(f"build failed ({proc.returncode}):\n{report}")
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report)
    largest_kb = int(found.group(1)) if found else 0
    return {
        "wall_s": wall,
        "python_peak_mb": python_kb / 1024,
        "largest_process_mb": largest_kb / 1024,
        "tree_peak_mb": tree_kb / 1024,
    }


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", type=Path, help="routine file to write (.yaml added if missing)")
    parser.add_argument("hours", type=float)
    parser.add_argument("--measure", action="store_true", help="build it and report memory")
    parser.add_argument("--output", type=Path, default=Path("output"))
    parser.add_argument("--music", type=Path, help="build with this music bed")
    parser.add_argument("--engine", help="build with this speech engine")
    args = parser.parse_args()
    extra = [
        *(["--music", str(args.music)] if args.music else []),
        *(["--engine", args.engine] if args.engine else []),
    ]
    path: Path = args.name if args.name.suffix else args.name.with_suffix(".yaml")
    length = generate(path, args.hours)
    print(f"wrote {path}: planned {length / 3_600_000:.2f} h")
    if args.measure:
        for key, value in measure(path, args.output, extra).items():
            print(f"{key}: {value:.1f}")


if __name__ == "__main__":
    main()
