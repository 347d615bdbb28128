"""Benchmark the builds people wait for, next to the floor (ffmpeg encoding alone).

    python scripts/bench.py [--runs N] [--routine routines/desk-hip-reset.yaml]
                            [--long-hours H]

Cases, each built N times in a fresh process (median wall time, peak memory):
  cold      empty speech cache (every clip synthesised, on all cores)
  warm      the same build again (everything cached)
  override  --set STEP.hold=45s, built once before (everything cached)
  new-hold  a hold value never used before (one or two cues re-spoken)
Then the floor: ffmpeg encoding the same PCM to the same MP3 settings, from a file.
With --long-hours, also a generated routine of that length (peak memory must stay flat).
Per-stage times (load, synth, layout, master, mix+encode, tags) come from the pipeline.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_build(routine: str, out: str, sets: list[str]) -> None:
    """Child mode: build once, print JSON with wall time, stages and peak memory."""
    start = time.perf_counter()
    from routinecast.load.overrides import parse_overrides
    from routinecast.pipeline import BuildOptions, build

    options = BuildOptions(output_dir=Path(out), overrides=parse_overrides(tuple(sets)))
    result = build(Path(routine), options)
    wall = time.perf_counter() - start
    me = resource.getrusage(resource.RUSAGE_SELF)
    them = resource.getrusage(resource.RUSAGE_CHILDREN)
    own, kids = me.ru_maxrss / 1024, them.ru_maxrss / 1024
    cpu = me.ru_utime + me.ru_stime + them.ru_utime + them.ru_stime
    print(
        json.dumps(
            {
                "wall": wall,
                "stages": result.stages,
                "rss_mb": own,
                "child_rss_mb": kids,
                "cores_busy": cpu / wall,
                "made": result.clips_made,
                "cached": result.clips_cached,
                "duration_ms": result.timeline.duration_ms,
                "mp3": str(result.mp3),
            }
        )
    )


def run_case(routine: Path, out: Path, cache: Path, sets: list[str]) -> dict[str, object]:
    env = {**os.environ, "ROUTINECAST_CACHE_DIR": str(cache)}
    args = [sys.executable, __file__, "--child", str(routine), str(out), *sets]
    start = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    outer = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"build failed: {done.stderr.strip()[-2000:]}")
    data: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    data["outer_wall"] = outer
    return data


def floor_seconds(mp3: Path, runs: int) -> float:
    """ffmpeg alone: encode the same PCM (the build, decoded) to the same settings, from a file."""
    from routinecast import SAMPLE_RATE
    from routinecast.audio.encode import Mp3Settings, _command
    from routinecast.audio.ffmpeg import ffmpeg_exe

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "pcm.raw"
        subprocess.run(
            [
                ffmpeg_exe(),
                "-v",
                "error",
                "-y",
                "-i",
                str(mp3),
                "-f",
                "s16le",
                "-ac",
                "1",
                "-ar",
                str(SAMPLE_RATE),
                str(raw),
            ],
            check=True,
        )
        command = _command(Path(tmp) / "floor.mp3", Mp3Settings())
        command[command.index("pipe:0")] = str(raw)
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(command, check=True, stdin=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def summarise(name: str, rows: list[dict[str, object]], floor: float | None) -> str:
    walls = [float(r["outer_wall"]) for r in rows]  # type: ignore[arg-type]
    med = statistics.median(walls)
    rss = max(float(r["rss_mb"]) for r in rows)  # type: ignore[arg-type]
    kids = max(float(r["child_rss_mb"]) for r in rows)  # type: ignore[arg-type]
    stages = rows[len(rows) // 2]["stages"]
    ratio = f"{med / floor:5.2f}x" if floor else "     "
    made = rows[-1]["made"]
    busy = statistics.median(float(r["cores_busy"]) for r in rows)  # type: ignore[arg-type]
    parts = " ".join(f"{k}={v:.2f}" for k, v in stages.items())  # type: ignore[union-attr]
    return (
        f"{name:<10} {med:7.2f} s {ratio}  peak {rss:6.0f} MB (children {kids:5.0f} MB)"
        f"  clips made {made!s:>3}  cores busy {busy:.2f}  | {parts}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--routine", default=str(ROOT / "routines" / "desk-hip-reset.yaml"))
    parser.add_argument("--step", default="half-kneeling-hip-flexor-stretch")
    parser.add_argument("--long-hours", type=float, default=0.0)
    args = parser.parse_args()
    routine = Path(args.routine)
    with tempfile.TemporaryDirectory() as tmp:
        cache, out = Path(tmp) / "cache", Path(tmp) / "out"
        results: dict[str, list[dict[str, object]]] = {
            "cold": [],
            "warm": [],
            "override": [],
            "new-hold": [],
        }
        for run in range(args.runs):
            subprocess.run(["rm", "-rf", str(cache)], check=True)
            results["cold"].append(run_case(routine, out, cache, []))
            results["warm"].append(run_case(routine, out, cache, []))
            results["override"].append(run_case(routine, out, cache, [f"{args.step}.hold=45s"]))
            results["override"][-1] = run_case(routine, out, cache, [f"{args.step}.hold=45s"])
            new = f"{args.step}.hold={31 + run}s"
            results["new-hold"].append(run_case(routine, out, cache, [new]))
        floor = floor_seconds(out / f"{routine.stem}.mp3", args.runs)
        minutes = int(results["warm"][0]["duration_ms"]) / 60000  # type: ignore[arg-type]
        print(
            f"routine {routine.name}: {minutes:.1f} min of audio, {args.runs} runs each, "
            f"{os.cpu_count()} cores"
        )
        print(f"{'floor':<10} {floor:7.2f} s  1.00x  (ffmpeg alone, same PCM and MP3 settings)")
        for name, rows in results.items():
            print(summarise(name, rows, floor))
        if args.long_hours:
            print(long_case(args.long_hours, Path(tmp)))


def long_case(hours: float, tmp: Path) -> str:
    script = ROOT / "scripts" / "long_routine.py"
    path = tmp / "long-routine.yaml"
    subprocess.run([sys.executable, str(script), str(path), str(hours)], check=True)
    row = run_case(path, tmp / "out", tmp / "cache", [])
    hours_built = int(row["duration_ms"]) / 3.6e6  # type: ignore[call-overload]
    return summarise(f"{hours:g}h", [row], None) + f"  length {hours_built:.2f} h"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        one_build(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        main()
