"""Build every shipped routine and check what a listener and a player would notice.

    python scripts/check_all.py [--engine piper|pyttsx3] [--output DIR]

Per routine: timing rules (timeline and decoded audio), loudness, true peak, clipped
samples, clicks at tone/clip edges, `ffmpeg -v error` silence, mutagen's title/length/
chapters, and that the .vtt parses as WebVTT. Prints one row per routine.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VTT_CUE = re.compile(r"^\d\d:\d\d:\d\d\.\d\d\d --> \d\d:\d\d:\d\d\.\d\d\d$")


def vtt_ok(path: Path) -> bool:
    """WEBVTT header, then cues of id / timing / text."""
    lines = path.read_text("utf-8").splitlines()
    timings = [line for line in lines if "-->" in line]
    return lines[0] == "WEBVTT" and bool(timings) and all(VTT_CUE.match(t) for t in timings)


def check(routine: Path, engine: str, out: Path) -> str:
    from mutagen.mp3 import MP3

    from routinecast.audio.ffmpeg import ffmpeg_exe
    from routinecast.audio.quality import measure, problems
    from routinecast.audio.tags import read_tags
    from routinecast.audio.verify import audio_problems, timeline_problems
    from routinecast.pipeline import BuildOptions, build

    result = build(routine, BuildOptions(output_dir=out, engine=engine))
    doc = json.loads(result.timeline_path.read_text("utf-8"))
    found = timeline_problems(doc) + audio_problems(result.mp3, doc)
    quality = measure(result.mp3, doc)
    found += problems(quality)
    said = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(result.mp3), "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
    ).stderr.strip()
    if said:
        found.append(f"ffmpeg said: {said[:200]}")
    tags, chapters = read_tags(result.mp3)
    length = MP3(result.mp3).info.length * 1000
    read_back = len(chapters) == len(doc["chapters"]) and abs(length - doc["duration_ms"]) <= 60
    if not tags.title or not read_back:
        found.append("tags/chapters/length not read back by mutagen")
    if not vtt_ok(result.vtt):
        found.append("vtt does not parse")
    status = "ok" if not found else "; ".join(found)
    return (
        f"{routine.stem:<28} {doc['duration_ms'] / 60000:6.2f} min  {quality.lufs:6.2f} LUFS "
        f"{quality.true_peak_dbtp:6.2f} dBTP  clipped {quality.clipped}  edge "
        f"{quality.worst_edge_step:.3f}  chapters {len(chapters)}  {status}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="piper")
    parser.add_argument("--output", default=str(ROOT / "output"))
    args = parser.parse_args()
    from routinecast.load.routine import is_library_file

    for routine in sorted((ROOT / "routines").glob("*.yaml")):
        if not is_library_file(routine):
            print(check(routine, args.engine, Path(args.output)), flush=True)


if __name__ == "__main__":
    main()
