"""Measure LAME's quality levels and bitrates on a real routine; the table of docs/encoder.md.

    python scripts/encoder_survey.py [--routine routines/desk-hip-reset.yaml] [--runs 3]
                                     [--bitrates 64,80,96,112,128] [--joins]

The routine is built once (speech from the cache, or made) and the exact PCM the
build sends to ffmpeg is kept. Then every bitrate and ``-compression_level`` (LAME's
``-q``: 0 is its slowest, most careful search, 9 its fastest) encodes that PCM from a
file (median wall time of ``--runs``), and each MP3 is decoded and checked the way a
build is: integrated loudness, true peak, tone onsets against the timeline, clipping,
and the spectral distortion against the slowest level at the same bitrate:

* per 20 ms frame (Hann, 10 ms hop), the energy in 21 critical bands (equal steps of
  the Bark scale, 50 Hz to 8 kHz, the band every clip is limited to): the spectral
  envelope a listener hears, not the fine structure the encoder may change under the
  masking threshold. Every band is floored 60 dB under the loudest band of the whole
  file: played so the speech peaks at 80 dB SPL that is 20 dB SPL, the threshold of
  hearing in a quiet room, so nothing below it can be heard; frames with no band
  above the floor are left out. A frame's distortion is the RMS difference in dB over
  its bands;
* speech coding calls a spectral envelope transparent when the mean distortion is
  under 1 dB, under 2% of frames are 2-4 dB off and none is over 4 dB (Paliwal and
  Atal, 1993). A level passes when it meets that against the slowest level, and every
  check a build makes (loudness within 0.3 LU of the target, true peak <= -1 dBTP, tone
  onsets within 5 ms, no clipping).

``default`` is LAME's own choice when ffmpeg is not told a level (its ``-q 3``).
The distortion of the slowest level against the PCM itself is printed for scale.

``--joins`` measures instead what builds do at 96 kbps level 7: LAME's bit reservoir
off (``audio.encode``) against on, and the file encoded in two pieces side by side and
joined (``audio.splice``), each against level 0 with the reservoir on.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
FRAME_MS, HOP_MS = 20, 10
LOW_HZ, HIGH_HZ = 50, 8000
BANDS = 21
FLOOR_DB = 60.0


def build_pcm(routine: Path, folder: Path) -> tuple[Path, dict[str, Any]]:
    """Build ``routine`` once; the PCM ffmpeg was fed, and the timeline document."""
    from routinecast.audio import splice
    from routinecast.pipeline import BuildOptions, build

    raw = folder / "mix.s16le"
    real = splice.encode_split

    def keep(render: Any, total: int, dest: Path, *args: Any, **kwargs: Any) -> None:
        with raw.open("wb") as handle:
            for chunk in render(0, total):
                handle.write(chunk.astype("<i2").tobytes())
        real(render, total, dest, *args, **kwargs)

    splice.encode_split = keep  # type: ignore[assignment]
    os.environ["ROUTINECAST_STORE_MB"] = "0"  # encode, even when built before
    result = build(routine, BuildOptions(output_dir=folder / "out"))
    splice.encode_split = real  # type: ignore[assignment]
    return raw, json.loads(result.timeline_path.read_text("utf-8"))


def encode_file(
    raw: Path, dest: Path, kbps: int, level: int | None, reservoir: bool = False
) -> float:
    """Seconds ffmpeg takes to encode ``raw`` at ``kbps`` and ``level``.

    Builds turn LAME's bit reservoir off (``audio.encode``); ``reservoir`` turns it on.
    """
    from routinecast.audio.encode import Mp3Settings, _command

    command = _command(dest, Mp3Settings(bitrate_kbps=kbps, compression_level=level))
    command[command.index("pipe:0")] = str(raw)
    if reservoir:
        at = command.index("-reservoir")
        del command[at : at + 2]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - start


def encode_pieces(raw: Path, dest: Path, pieces: int) -> float:
    """Seconds ``audio.splice`` takes to encode ``raw`` in ``pieces`` side by side."""
    from routinecast.audio.encode import Mp3Settings
    from routinecast.audio.splice import encode_split

    pcm = np.fromfile(raw, dtype="<i2")

    def render(start: int, stop: int) -> Iterable[npt.NDArray[np.int16]]:
        for at in range(start, stop, 1 << 18):
            yield pcm[at : min(stop, at + (1 << 18))]

    frames = -(-len(pcm) // 576)
    begin = time.perf_counter()
    encode_split(render, len(pcm), dest, Mp3Settings(), frames_per_piece=-(-frames // pieces))
    return time.perf_counter() - begin


def _bark(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(13 * np.arctan(0.00076 * hz) + 3.5 * np.arctan((hz / 7500) ** 2))


def band_frames(samples: npt.NDArray[np.float32], rate: int) -> npt.NDArray[np.float64]:
    """Critical-band energies (dB) of 20 ms Hann frames every 10 ms, 50 Hz to 8 kHz."""
    size, hop = rate * FRAME_MS // 1000, rate * HOP_MS // 1000
    count = 1 + (len(samples) - size) // hop
    index = np.arange(size)[None, :] + hop * np.arange(count)[:, None]
    frames = samples[index].astype(np.float64) * np.hanning(size)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    bark = _bark(np.fft.rfftfreq(size, 1 / rate))
    edges = np.linspace(_bark(np.array(LOW_HZ)), _bark(np.array(HIGH_HZ)), BANDS + 1)
    which = np.digitize(bark, edges) - 1
    bands = np.stack([power[:, which == b].sum(axis=1) for b in range(BANDS)], axis=1)
    return np.asarray(10 * np.log10(bands + 1e-20), dtype=np.float64)


def distortion(test: npt.NDArray[np.float64], ref: npt.NDArray[np.float64]) -> dict[str, float]:
    """Spectral distortion (dB) of ``test`` against ``ref``, audible frames only."""
    count = min(len(test), len(ref))
    test, ref = test[:count], ref[:count]
    floor = ref.max() - FLOOR_DB
    sound = ref.max(axis=1) > floor
    a, b = np.maximum(test, floor)[sound], np.maximum(ref, floor)[sound]
    frames = np.sqrt(np.mean((a - b) ** 2, axis=1))
    return {
        "mean_db": float(frames.mean()),
        "frames_2_4db": float(np.mean((frames > 2) & (frames <= 4))),
        "frames_over_4db": float(np.mean(frames > 4)),
    }


def check(mp3: Path, doc: dict[str, Any]) -> tuple[npt.NDArray[np.float32], dict[str, Any]]:
    """Decoded samples and the build's own checks."""
    from routinecast.audio.decode import decode_audio
    from routinecast.audio.verify import tone_onset_errors
    from routinecast.dsp.level import integrated_lufs, true_peak_dbtp

    rate = int(doc["sample_rate"])
    samples = decode_audio(mp3, rate)
    onsets = [abs(e) for _, e in tone_onset_errors(samples, doc, rate)]
    return samples, {
        "lufs": integrated_lufs(samples, rate),
        "true_peak_dbtp": true_peak_dbtp(samples, rate),
        "worst_onset_ms": max(onsets),
        "clipped": int(np.count_nonzero(np.abs(samples) >= 0.999)),
        "size_mb": mp3.stat().st_size / 1e6,
    }


def survey(raw: Path, doc: dict[str, Any], bitrates: list[int], runs: int, tmp: Path) -> None:
    rate = int(doc["sample_rate"])
    pcm = np.fromfile(raw, dtype="<i2").astype(np.float32) / 32768.0
    original = band_frames(pcm, rate)
    for kbps in bitrates:
        reference = None
        for level in [0, None, *range(1, 10)]:
            mp3 = tmp / f"{kbps}-{level}.mp3"
            seconds = statistics.median(encode_file(raw, mp3, kbps, level) for _ in range(runs))
            samples, found = check(mp3, doc)
            spectra = band_frames(samples[: len(pcm)], rate)
            if reference is None:
                reference = spectra
                scale = distortion(spectra, original)
                print(f"{kbps} kbps, level 0 against the PCM: {scale}", flush=True)
            found.update(distortion(spectra, reference), kbps=kbps, level=level, seconds=seconds)
            transparent = (
                found["mean_db"] < 1.0
                and found["frames_2_4db"] < 0.02
                and found["frames_over_4db"] == 0.0
            )
            found["passes"] = bool(
                transparent
                and abs(found["lufs"] + 16.0) <= 0.3
                and found["true_peak_dbtp"] <= -1.0
                and found["worst_onset_ms"] <= 5.0
                and found["clipped"] == 0
            )
            print(row_text(found), flush=True)


def joins(raw: Path, doc: dict[str, Any], runs: int, tmp: Path) -> None:
    """96 kbps level 7: the reservoir on, off, and off in pieces, against level 0 with it on."""
    rate = int(doc["sample_rate"])
    pcm_length = raw.stat().st_size // 2
    best = tmp / "best.mp3"
    encode_file(raw, best, 96, 0, reservoir=True)
    reference = band_frames(check(best, doc)[0][:pcm_length], rate)
    cases = {
        "reservoir on, one encode": lambda mp3: encode_file(raw, mp3, 96, 7, reservoir=True),
        "reservoir off, one encode": lambda mp3: encode_file(raw, mp3, 96, 7),
        "reservoir off, 2 pieces joined": lambda mp3: encode_pieces(raw, mp3, 2),
    }
    for name, encode in cases.items():
        mp3 = tmp / "case.mp3"
        seconds = statistics.median(encode(mp3) for _ in range(runs))
        samples, found = check(mp3, doc)
        found.update(distortion(band_frames(samples[:pcm_length], rate), reference))
        print(
            f"| {name} | {seconds:.2f} | {found['lufs']:.2f} | {found['true_peak_dbtp']:.2f} "
            f"| {found['worst_onset_ms']:.1f} | {found['mean_db']:.2f} "
            f"| {100 * found['frames_2_4db']:.2f} | {100 * found['frames_over_4db']:.2f} |",
            flush=True,
        )


def row_text(row: dict[str, Any]) -> str:
    level = "default" if row["level"] is None else row["level"]
    return (
        f"| {row['kbps']} | {level} | {row['seconds']:.2f} | {row['size_mb']:.2f} "
        f"| {row['lufs']:.2f} | {row['true_peak_dbtp']:.2f} | {row['worst_onset_ms']:.1f} "
        f"| {row['mean_db']:.2f} | {100 * row['frames_2_4db']:.2f} "
        f"| {100 * row['frames_over_4db']:.2f} | {'yes' if row['passes'] else 'no'} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routine", default=str(ROOT / "routines" / "desk-hip-reset.yaml"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bitrates", default="64,80,96,112,128")
    parser.add_argument(
        "--joins", action="store_true", help="only the bit reservoir and the joined pieces"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        raw, doc = build_pcm(Path(args.routine), tmp)
        minutes = doc["duration_ms"] / 60000
        print(f"{Path(args.routine).name}: {minutes:.1f} min, {os.cpu_count()} cores")
        if args.joins:
            print(
                "| encode | s | LUFS | dBTP | worst onset ms | SD mean dB | 2-4 dB % | > 4 dB % |"
            )
            print("|---|---|---|---|---|---|---|---|")
            joins(raw, doc, args.runs, tmp)
            return
        print(
            "| kbps | level | encode s | MB | LUFS | dBTP | worst onset ms "
            "| SD mean dB | SD 2-4 dB % | SD > 4 dB % | passes |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        bitrates = [int(b) for b in args.bitrates.split(",")]
        survey(raw, doc, bitrates, args.runs, tmp)


if __name__ == "__main__":
    sys.exit(main())
