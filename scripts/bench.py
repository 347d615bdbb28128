"""Benchmark the builds people wait for, each beside its floor.

    python scripts/bench.py [--runs 3] [--routine routines/desk-hip-reset.yaml]
                            [--long-hours H]

Every figure is the median of ``--runs`` fresh processes (interpreter start-up and
imports included, and the process's end: a build's child ends as the command line
does, ``console.leave``), on one routine:

  cold piper    empty caches, the default voice    floor: 1.2 x (synthesis + encode)
  cold eSpeak   empty caches, --engine pyttsx3     floor: 2 x encode
  unchanged     the same build again               target: 0.3 s
  hold, before  a hold set back to a value built before               0.3 s
                (both also timed through the command line: ``... CLI``)
  hold, new     a hold set to a value never built (one line spoken)   1.3 x encode
                (``--step``, early in the routine; ``hold, new, late``: ``--late-step``,
                near its end, where the pieces before the change are reused)
  plan          ``routinecast plan`` (the command line) on cached lines  0.3 s

The floors: *encode*, ffmpeg alone encoding the same PCM at the same settings from a
file; *synthesis*, one process speaking every line of the routine with piper (its
voice already loaded), divided by the cores. Builds report their stages (load,
up-to-date, synth, layout, master, mix+encode, tags, store, commit) from the pipeline.
With --long-hours, also a generated routine of that length, cold (peak memory must
stay flat).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
Row = dict[str, Any]


def one_build(routine: str, out: str, engine: str, sets: list[str]) -> None:
    """Child mode: build once, print JSON with wall time, stages and peak memory."""
    start = time.perf_counter()
    from routinecast.load.overrides import parse_overrides
    from routinecast.pipeline import BuildOptions, build

    options = BuildOptions(
        output_dir=Path(out), engine=engine or None, overrides=parse_overrides(tuple(sets))
    )
    result = build(Path(routine), options)
    wall = time.perf_counter() - start
    me = resource.getrusage(resource.RUSAGE_SELF)
    them = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = me.ru_utime + me.ru_stime + them.ru_utime + them.ru_stime
    print(
        json.dumps(
            {
                "wall": wall,
                "stages": result.stages,
                "rss_mb": me.ru_maxrss / 1024,
                "child_rss_mb": them.ru_maxrss / 1024,
                "cores_busy": cpu / wall,
                "made": result.clips_made,
                "up_to_date": result.up_to_date,
                "duration_ms": result.timeline.duration_ms,
                "mp3": str(result.mp3),
                "lines": result.clips_made + result.clips_cached,
            }
        )
    )


def speak_all(routine: str) -> None:
    """Child mode: the synthesis floor's measurement (piper, voice loaded first)."""
    from routinecast.load.routine import load_routine
    from routinecast.speech.engines.registry import make_engine
    from routinecast.speech.lexicon import Lexicon
    from routinecast.timing.script import build_script, spoken_texts

    loaded = load_routine(Path(routine))
    lexicon = Lexicon(loaded.lexicon)
    texts = [lexicon.apply(t) for t in spoken_texts(build_script(loaded))]
    engine = make_engine("piper", threads=1)
    engine.synthesize("Ready.")
    start = time.perf_counter()
    for text in texts:
        engine.synthesize(text)
    print(json.dumps({"seconds": time.perf_counter() - start, "lines": len(texts)}))


class Bench:
    """Runs children against one cache and one output folder."""

    def __init__(self, routine: Path, tmp: Path) -> None:
        self.routine, self.tmp = routine, tmp
        self.cache, self.out = tmp / "cache", tmp / "out"

    def env(self) -> dict[str, str]:
        return {**os.environ, "ROUTINECAST_CACHE_DIR": str(self.cache)}

    def build(self, engine: str = "", sets: tuple[str, ...] = ()) -> Row:
        args = [sys.executable, __file__, "--child", str(self.routine), str(self.out), engine]
        return self._timed([*args, *sets], json_out=True)

    def cli(self, *args: str) -> Row:
        command = [sys.executable, "-c", "from routinecast.cli import main; main()", *args]
        return self._timed(command, json_out=False)

    def _timed(self, args: list[str], json_out: bool) -> Row:
        start = time.perf_counter()
        done = subprocess.run(args, env=self.env(), capture_output=True, text=True, check=False)
        outer = time.perf_counter() - start
        if done.returncode:
            raise SystemExit(f"failed: {' '.join(args)}\n{done.stderr.strip()[-2000:]}")
        row: Row = json.loads(done.stdout.strip().splitlines()[-1]) if json_out else {}
        row["outer_wall"] = outer
        return row

    def fresh(self) -> None:
        shutil.rmtree(self.cache, ignore_errors=True)


def encode_floor(bench: Bench, runs: int) -> float:
    """ffmpeg alone: the build's PCM (decoded back) to the same settings, from a file."""
    from routinecast import SAMPLE_RATE
    from routinecast.audio.encode import _command
    from routinecast.audio.ffmpeg import ffmpeg_exe
    from routinecast.pipeline import BuildOptions, _mp3_settings

    mp3 = bench.out / f"{bench.routine.stem}.mp3"
    raw = bench.tmp / "pcm.raw"
    decode = [ffmpeg_exe(), "-v", "error", "-y", "-i", str(mp3), "-f", "s16le", "-ac", "1"]
    subprocess.run([*decode, "-ar", str(SAMPLE_RATE), str(raw)], check=True)
    command = _command(bench.tmp / "floor.mp3", _mp3_settings(BuildOptions()))
    command[command.index("pipe:0")] = str(raw)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdin=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def synthesis_floor(routine: Path, runs: int) -> tuple[float, int]:
    """One process speaking every line (median of ``runs``), divided by the cores."""
    found = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, __file__, "--speak", str(routine)],
            capture_output=True,
            text=True,
            check=True,
        )
        found.append(json.loads(done.stdout.strip().splitlines()[-1]))
    cores = os.cpu_count() or 1
    return statistics.median(f["seconds"] for f in found) / cores, int(found[0]["lines"])


def median_of(runs: int, setup: Callable[[int], None], case: Callable[[int], Row]) -> list[Row]:
    rows = []
    for run in range(runs):
        setup(run)
        rows.append(case(run))
    return rows


def summarise(name: str, rows: list[Row], floor: float | None, limit: str) -> str:
    wall = statistics.median(float(r["outer_wall"]) for r in rows)
    ratio = f"{wall / floor:5.2f}x" if floor else "      "
    line = f"{name:<16} {wall:6.2f} s {ratio}  target {limit:<22}"
    if "stages" in rows[0]:
        stages = rows[len(rows) // 2]["stages"]
        rss = max(float(r["rss_mb"]) for r in rows)
        kids = max(float(r["child_rss_mb"]) for r in rows)
        busy = statistics.median(float(r["cores_busy"]) for r in rows)
        parts = " ".join(f"{k}={v:.2f}" for k, v in stages.items())
        line += (
            f" made {rows[-1]['made']!s:>3}  peak {rss:4.0f}/{kids:4.0f} MB"
            f"  cores {busy:.2f} | {parts}"
        )
    return line


def compile_package() -> None:
    """Byte-compile the package first, as ``pip install`` leaves it: with
    ``PYTHONDONTWRITEBYTECODE`` set (as on this machine) an edited module would
    otherwise be compiled again in every fresh process, tens of milliseconds."""
    package = ROOT / "src" / "routinecast"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--routine", default=str(ROOT / "routines" / "desk-hip-reset.yaml"))
    parser.add_argument("--step", default="half-kneeling-hip-flexor-stretch")
    parser.add_argument("--late-step", default="dead-bug", help="a step near the end")
    parser.add_argument("--long-hours", type=float, default=0.0)
    args = parser.parse_args()
    routine, runs = Path(args.routine), args.runs
    before = f"{args.step}.hold=45s"
    compile_package()
    with tempfile.TemporaryDirectory() as name:
        bench = Bench(routine, Path(name))
        rows: dict[str, list[Row]] = {}

        def nothing(_: int) -> None:
            return None

        rows["cold eSpeak"] = median_of(
            runs, lambda _: bench.fresh(), lambda _: bench.build("pyttsx3")
        )
        rows["cold piper"] = median_of(runs, lambda _: bench.fresh(), lambda _: bench.build())
        rows["unchanged"] = median_of(runs, nothing, lambda _: bench.build())
        rows["unchanged CLI"] = median_of(
            runs, nothing, lambda _: bench.cli("build", str(routine), "-o", str(bench.out))
        )
        bench.build(sets=(before,))  # the value built before
        rows["hold, before"] = median_of(
            runs, lambda _: bench.build(), lambda _: bench.build(sets=(before,))
        )
        rows["hold, before CLI"] = median_of(
            runs,
            lambda _: bench.cli("build", str(routine), "-o", str(bench.out)),
            lambda _: bench.cli("build", str(routine), "-o", str(bench.out), "--set", before),
        )
        rows["hold, new"] = median_of(
            runs, nothing, lambda run: bench.build(sets=(f"{args.step}.hold={31 + run}s",))
        )
        rows["hold, new, late"] = median_of(
            runs, nothing, lambda run: bench.build(sets=(f"{args.late_step}.hold={61 + run}s",))
        )
        rows["plan"] = median_of(runs, nothing, lambda _: bench.cli("plan", str(routine)))
        encode = encode_floor(bench, runs)
        speak, lines = synthesis_floor(routine, runs)
        minutes = int(rows["unchanged"][0]["duration_ms"]) / 60000
        print(
            f"routine {routine.name}: {minutes:.1f} min of audio, {lines} spoken lines, "
            f"median of {runs} fresh processes, {os.cpu_count()} cores"
        )
        print(f"{'floor: encode':<16} {encode:6.2f} s  (ffmpeg alone, same PCM and settings)")
        print(f"{'floor: speech':<16} {speak:6.2f} s  (one process speaking every line / cores)")
        cold = 1.2 * (speak + encode)
        for name, floor, limit in (
            ("cold piper", speak + encode, f"<= {cold:.2f} s (1.2 x floors)"),
            ("cold eSpeak", encode, f"<= {2 * encode:.2f} s (2 x encode)"),
            ("unchanged", None, "<= 0.30 s"),
            ("unchanged CLI", None, "<= 0.30 s"),
            ("hold, before", None, "<= 0.30 s"),
            ("hold, before CLI", None, "<= 0.30 s"),
            ("hold, new", encode, f"<= {1.3 * encode:.2f} s (1.3 x encode)"),
            ("hold, new, late", encode, f"<= {1.3 * encode:.2f} s (1.3 x encode)"),
            ("plan", None, "<= 0.30 s"),
        ):
            print(summarise(name, rows[name], floor, limit))
        if args.long_hours:
            print(long_case(args.long_hours, Path(name)))


def long_case(hours: float, tmp: Path) -> str:
    script = ROOT / "scripts" / "long_routine.py"
    path = tmp / "long-routine.yaml"
    subprocess.run([sys.executable, str(script), str(path), str(hours)], check=True)
    bench = Bench(path, tmp / "long")
    row = bench.build()
    hours_built = int(row["duration_ms"]) / 3.6e6
    return summarise(f"{hours:g}h cold", [row], None, "") + f"  length {hours_built:.2f} h"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        one_build(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
        from routinecast.console import leave

        leave(0)  # as the command line ends
    elif len(sys.argv) > 1 and sys.argv[1] == "--speak":
        speak_all(sys.argv[2])
    else:
        main()
