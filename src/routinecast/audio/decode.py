"""Decode any audio file ffmpeg reads (MP3, WAV, OGG, ...) to mono float32 samples.

ffmpeg resamples to the requested rate and writes raw little-endian float32 to
a pipe. Several channels are averaged, not summed: ffmpeg's default downmix
gives each stereo channel a gain of 0.707, so a loud stereo bed would come out
3 dB hotter and clip; ``aresample=rematrix_maxval=1`` keeps the mix in range.
Samples are clipped to [-1, 1] (MP3 decoding can overshoot slightly).
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt

from routinecast import SAMPLE_RATE
from routinecast.audio.ffmpeg import ffmpeg_exe, stderr_tail
from routinecast.errors import BuildError, InputError

_BYTES_PER_SAMPLE = 4
DEFAULT_CHUNK_SAMPLES = 1 << 16
"""Samples per chunk ``decode_stream`` yields unless told otherwise (~3 s at 22050 Hz)."""


def decode_audio(path: Path, sample_rate: int = SAMPLE_RATE) -> npt.NDArray[np.float32]:
    """All of ``path`` as mono float32 in [-1, 1] at ``sample_rate`` Hz.

    Raises ``InputError`` naming the file when it is missing or not audio ffmpeg can read.
    """
    _check_args(path, sample_rate, 1)
    try:
        done = subprocess.run(
            _command(path, sample_rate), stdin=subprocess.DEVNULL, capture_output=True
        )
    except OSError as exc:
        raise BuildError(f"could not start ffmpeg: {exc}") from exc
    if done.returncode != 0:
        raise _unreadable(path, stderr_tail(done.stderr))
    return _samples(done.stdout)


def decode_stream(
    path: Path, sample_rate: int = SAMPLE_RATE, chunk_samples: int = DEFAULT_CHUNK_SAMPLES
) -> Iterator[npt.NDArray[np.float32]]:
    """Like ``decode_audio`` but yields chunks of ``chunk_samples`` (the last may be shorter).

    Memory stays at one chunk however long the file. Arguments and the file's
    existence are checked now; a file ffmpeg cannot read raises ``InputError``
    from the first ``next()``. Closing the iterator early stops ffmpeg.
    """
    _check_args(path, sample_rate, chunk_samples)
    return _stream(path, sample_rate, chunk_samples)


def _check_args(path: Path, sample_rate: int, chunk_samples: int) -> None:
    if not isinstance(sample_rate, int) or isinstance(sample_rate, bool) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive int, got {sample_rate!r}")
    if not isinstance(chunk_samples, int) or chunk_samples <= 0:
        raise ValueError(f"chunk_samples must be a positive int, got {chunk_samples!r}")
    if not path.is_file():
        raise InputError("audio file not found", file=str(path))


def _command(path: Path, sample_rate: int) -> list[str]:
    return [
        ffmpeg_exe(),
        *("-hide_banner", "-nostdin", "-loglevel", "error"),
        *("-i", f"file:{path}", "-map", "0:a:0", "-af", "aresample=rematrix_maxval=1"),
        *("-f", "f32le", "-ac", "1", "-ar", str(sample_rate), "pipe:1"),
    ]


def _stream(path: Path, sample_rate: int, chunk_samples: int) -> Iterator[npt.NDArray[np.float32]]:
    with tempfile.TemporaryFile() as log:
        with _popen(_command(path, sample_rate), log) as proc:
            try:
                yield from _chunks(_stdout(proc), chunk_samples * _BYTES_PER_SAMPLE)
            except BaseException:
                proc.kill()
                raise
        if proc.returncode != 0:
            raise _unreadable(path, stderr_tail(log))


def _popen(command: list[str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log
        )
    except OSError as exc:
        raise BuildError(f"could not start ffmpeg ({command[0]}): {exc}") from exc


def _stdout(proc: subprocess.Popen[bytes]) -> IO[bytes]:
    assert proc.stdout is not None  # Popen was given stdout=PIPE
    return proc.stdout


def _chunks(stdout: IO[bytes], chunk_bytes: int) -> Iterator[npt.NDArray[np.float32]]:
    while data := stdout.read(chunk_bytes):
        yield _samples(data)


def _samples(data: bytes) -> npt.NDArray[np.float32]:
    count = len(data) // _BYTES_PER_SAMPLE
    samples = np.frombuffer(data, dtype="<f4", count=count).astype(np.float32)
    np.clip(samples, -1.0, 1.0, out=samples)
    return samples


def _unreadable(path: Path, said: str) -> InputError:
    detail = f" (ffmpeg said: {said})" if said else ""
    return InputError(f"is not audio ffmpeg can read{detail}", file=str(path))
