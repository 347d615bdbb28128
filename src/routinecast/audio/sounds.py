"""Your own sounds: a user's audio file played in place of a built-in tone.

``load_sound(path, tone)`` reads any file ffmpeg can decode (WAV, MP3, OGG, M4A,
FLAC...) with pydub, whose converter is the ffmpeg every encode uses
(``audio.ffmpeg.ffmpeg_exe``: a system one, else the ``imageio-ffmpeg`` build). pydub
decodes through a temporary WAV (``from_file_using_temporary_files``), which needs no
ffprobe. Then:

* mono (channels averaged), resampled to the routine's rate;
* trimmed: everything before the first sample above ``TRIM_DB`` under the sound's peak
  is cut, so its onset is its first sample and lands exactly on the event's
  ``start_ms``, as a tone's does; the same at the end, where a sound longer than the
  tone name allows (``MAX_MS``) is cut and faded out over ``FADE_OUT_MS``;
* levelled like a speech clip (``dsp.level.level_clip``, 5 ms edge fades) to the
  loudness of the tone it replaces, measured the same way, with its true peak at most
  the ceiling the build gives (the speech clips' ceiling), so the master gain treats
  it like any clip.

A file that cannot be read, is empty or silent, or is too large is an ``InputError``
naming it (exit 2). The processed samples are cached under ``<cache>/sounds/``, keyed
by a hash of the file's content, the tone, the rate and the ceiling: a changed file is
read again, a renamed one is not.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt

from routinecast.audio.ffmpeg import ffmpeg_exe
from routinecast.audio.tones import render_tone
from routinecast.dsp.level import integrated_lufs, level_clip
from routinecast.errors import InputError

Samples = npt.NDArray[np.float32]

VERSION = b"sound-v1"
TRIM_DB = -40.0
"""Leading and trailing audio quieter than this, relative to the peak, is cut."""
MAX_MS = {"tick": 800, "start": 3000, "stop": 3000, "breath": 3000}
"""The longest each sound may play: ticks come every second; the rest stay short."""
FADE_OUT_MS = 100
MAX_FILE_BYTES = 20_000_000
SILENT_LUFS = -70.0


def load_sound(
    path: Path, tone: str, rate: int, ceiling_dbtp: float, cache_dir: Path | None = None
) -> Samples:
    """The user's file at ``path``, ready to play as ``tone`` (see the module doc)."""
    data = _read(path)
    key = hashlib.sha256(
        b"|".join([VERSION, tone.encode(), str(rate).encode(), repr(ceiling_dbtp).encode(), data])
    ).hexdigest()
    stored = cache_dir / "sounds" / f"{key}.sound" if cache_dir is not None else None
    cached = _load(stored)
    if cached is not None:
        return cached
    sound = _prepare(_decode(path, rate), tone, rate, ceiling_dbtp, path)
    _store(stored, sound)
    return sound


def sound_ms(samples: Samples, rate: int) -> int:
    """A sound's length in whole milliseconds, rounded up."""
    return -(-len(samples) * 1000 // rate)


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _unreadable(path, f"is {size / 1e6:.0f} MB; a sound file may be at most 20 MB")
        return path.read_bytes()
    except OSError as exc:
        raise _unreadable(path, f"cannot be read ({exc.strerror or exc})") from None


def _decode(path: Path, rate: int) -> Samples:
    """Mono float32 at ``rate``, through pydub."""
    from routinecast.dsp.filters import resample_poly

    with warnings.catch_warnings():  # on import: no ffmpeg on PATH; audioop deprecated
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        from pydub import AudioSegment

    AudioSegment.converter = ffmpeg_exe()
    try:
        segment = AudioSegment.from_file_using_temporary_files(str(path))
    except Exception as exc:  # pydub raises CouldntDecodeError, IndexError, OSError...
        raise _unreadable(
            path, f"is not an audio file ffmpeg can read (WAV, MP3, OGG, M4A...){_why(exc)}"
        ) from None
    x = _floats(segment.raw_data, segment.sample_width)
    if segment.channels > 1:
        x = x[: len(x) // segment.channels * segment.channels]
        x = x.reshape(-1, segment.channels).mean(axis=1)
    if segment.frame_rate != rate:
        common = math.gcd(rate, segment.frame_rate)
        x = resample_poly(x, rate // common, segment.frame_rate // common)
    return np.asarray(x, dtype=np.float32)


def _why(exc: Exception) -> str:
    """The last line of ffmpeg's complaint (pydub wraps all of its output)."""
    lines = [
        line.strip()
        for line in str(exc).splitlines()
        if line.strip() and "returned error code" not in line and "Output from" not in line
    ]
    return f": {lines[-1][-160:]}" if lines else ""


def _floats(raw: bytes, width: int) -> npt.NDArray[np.float64]:
    """PCM bytes of ``width`` bytes per sample as floats in [-1, 1]."""
    if width == 1:
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    if width == 4:
        return np.frombuffer(raw, dtype="<i4").astype(np.float64) / 2147483648.0
    return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0


def _prepare(x: Samples, tone: str, rate: int, ceiling_dbtp: float, path: Path) -> Samples:
    """Trimmed, capped in length and levelled to the tone's loudness."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak <= 0.0:
        raise _unreadable(path, "is silent; a sound needs something to hear")
    loud = np.flatnonzero(np.abs(x) >= peak * 10 ** (TRIM_DB / 20))
    x = x[loud[0] : loud[-1] + 1]
    longest = MAX_MS[tone] * rate // 1000
    if len(x) > longest:
        x = x[:longest].copy()
        fade = min(len(x), FADE_OUT_MS * rate // 1000)
        x[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    if integrated_lufs(x, rate) <= SILENT_LUFS:
        raise _unreadable(path, "is too quiet to be heard; a sound needs something to hear")
    target = integrated_lufs(render_tone(tone, rate), rate)
    return level_clip(x, rate, target, ceiling_dbtp)


def _load(path: Path | None) -> Samples | None:
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) < 32 or hashlib.sha256(data[32:]).digest() != data[:32]:
        return None
    return np.frombuffer(data[32:], dtype="<f4").astype(np.float32)


def _store(path: Path | None, samples: Samples) -> None:
    """Best effort: a cache that cannot be written only costs time."""
    if path is None:
        return
    payload = np.asarray(samples, dtype="<f4").tobytes()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(hashlib.sha256(payload).digest() + payload)
        os.replace(tmp, path)
    except OSError:
        return


def _unreadable(path: Path, said: str) -> InputError:
    return InputError(said, file=str(path), field="sound")
