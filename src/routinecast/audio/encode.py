"""Encode mono 16-bit PCM to a gapless CBR MP3 by streaming it through ffmpeg.

ffmpeg writes the MP3 to the destination path itself, never to a pipe: only on a
seekable output does its muxer go back and fill in the Xing/"Info" frame with
the LAME tag that records encoder delay and padding. Without it every decoder
plays about 50 ms of extra silence first (1105 samples at 22050 Hz) and every
cue lands late. The encoder string in that tag is set to "LAME3.100" (the
libmp3lame that encodes) because some readers, mutagen among them, only trust
the delay and padding fields behind a "LAME" string, and ffmpeg would otherwise
write "Lavc<version>".

Tags are not written here (``-id3v2_version 0``): ``audio.tags`` adds them.

LAME's bit reservoir is off (``-reservoir 0``): every frame holds its own bits, so
frames of encodes made side by side can be joined (``audio.splice``). On this
content it cost 0.07 dB of signal-to-noise ratio at 96 kbps (``docs/encoder.md``).
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from routinecast import SAMPLE_RATE
from routinecast.audio.ffmpeg import ffmpeg_exe, stderr_tail
from routinecast.errors import BuildError, OutputError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_MPEG1_KBPS = frozenset({32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320})
_MPEG2_KBPS = frozenset({8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160})
_MPEG25_KBPS = frozenset({8, 16, 24, 32, 40, 48, 56, 64})
_BITRATES_KBPS: dict[int, frozenset[int]] = {
    **dict.fromkeys((32000, 44100, 48000), _MPEG1_KBPS),
    **dict.fromkeys((16000, 22050, 24000), _MPEG2_KBPS),
    **dict.fromkeys((8000, 11025, 12000), _MPEG25_KBPS),
}
_LAME_TAG_ENCODER = "LAME3.100"
_FINISH_TIMEOUT_S = 60.0
_STDERR_TAIL_LINES = 5


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


COMPRESSION_LEVEL = 7
"""LAME's ``-q`` (ffmpeg's ``-compression_level``): 0 is its slowest search, 9 its fastest.
Measured on ``desk-hip-reset`` (``docs/encoder.md``, ``scripts/encoder_survey.py``): at
96 kbps level 7 encodes in about 0.75x the time of LAME's default (level 3), its loudness
is the same to 0.01 LU, its true peak 0.24 dB lower, its worst tone onset the same 2 ms,
and its spectral envelope stays within 0.28 dB (mean) of the slowest level's, no frame
over 4 dB: transparent by the speech-coding criterion. Levels 8 and 9 write the same
bytes as 7."""


@dataclass(frozen=True)
class Mp3Settings:
    """Output format: always mono, constant bitrate; ``compression_level`` is LAME's ``-q``
    (None leaves LAME's own default)."""

    sample_rate: int = SAMPLE_RATE
    bitrate_kbps: int = 96
    compression_level: int | None = COMPRESSION_LEVEL

    def __post_init__(self) -> None:
        allowed = _BITRATES_KBPS.get(self.sample_rate) if _is_int(self.sample_rate) else None
        if allowed is None:
            raise ValueError(
                f"MP3 sample rate must be one of {sorted(_BITRATES_KBPS)} Hz, "
                f"got {self.sample_rate!r}"
            )
        if not _is_int(self.bitrate_kbps) or self.bitrate_kbps not in allowed:
            raise ValueError(
                f"MP3 bitrate at {self.sample_rate} Hz must be one of {sorted(allowed)} kbps, "
                f"got {self.bitrate_kbps!r}"
            )
        level = self.compression_level
        if level is not None and (not _is_int(level) or not 0 <= level <= 9):
            raise ValueError(f"LAME's compression level is 0 to 9, got {level!r}")


def encode_mp3(
    chunks: Iterable[npt.NDArray[np.int16]],
    dest: Path,
    settings: Mp3Settings = Mp3Settings(),
) -> None:
    """Encode int16 mono ``chunks`` (at ``settings.sample_rate``) to an MP3 file at ``dest``.

    Chunks are written to ffmpeg one by one, so memory does not grow with length.
    ``dest`` is overwritten; pass a temporary name and rename it afterwards.
    Raises ``OutputError`` (with ffmpeg's last words) when ffmpeg fails or stops
    reading; if ``chunks`` raises, ffmpeg is killed, ``dest`` removed and the
    exception (even ``KeyboardInterrupt``) propagates unchanged.
    """
    check_folder(dest)
    with tempfile.TemporaryFile() as log:
        proc = _start(_command(dest, settings), log)
        try:
            write_error = _feed(_stdin(proc), chunks)
            _finish(proc, log, dest, write_error)
        except BaseException:
            _abort(proc, dest)
            raise


def _command(dest: Path, settings: Mp3Settings) -> list[str]:
    rate = str(settings.sample_rate)
    return [
        ffmpeg_exe(),
        *("-y", "-hide_banner", "-nostdin", "-loglevel", "error"),
        *("-f", "s16le", "-ar", rate, "-ac", "1", "-i", "pipe:0"),
        *("-c:a", "libmp3lame", "-b:a", f"{settings.bitrate_kbps}k", "-ar", rate, "-ac", "1"),
        *_level(settings),
        *("-reservoir", "0"),
        *("-id3v2_version", "0", "-write_xing", "1"),
        *("-metadata:s:a:0", f"encoder={_LAME_TAG_ENCODER}"),
        *("-f", "mp3", f"file:{dest}"),
    ]


def _level(settings: Mp3Settings) -> tuple[str, ...]:
    if settings.compression_level is None:
        return ()
    return ("-compression_level", str(settings.compression_level))


def check_folder(dest: Path) -> None:
    """Refuse a destination whose folder does not exist, naming it."""
    if not dest.parent.is_dir():
        raise OutputError(f"folder {dest.parent} does not exist", path=dest)


def _start(command: list[str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log
        )
    except OSError as exc:
        raise BuildError(f"could not start ffmpeg ({command[0]}): {exc}") from exc


def _stdin(proc: subprocess.Popen[bytes]) -> IO[bytes]:
    assert proc.stdin is not None  # Popen was given stdin=PIPE
    return proc.stdin


def _feed(stdin: IO[bytes], chunks: Iterable[npt.NDArray[np.int16]]) -> OSError | None:
    """Write every chunk; stop at (and return) the first failed write."""
    for chunk in chunks:
        data = _pcm_bytes(chunk)
        try:
            stdin.write(data)
        except OSError as exc:
            return exc
    return _close(stdin)


def _pcm_bytes(chunk: npt.NDArray[Any]) -> bytes:
    import numpy as np

    arr = np.asarray(chunk)
    if arr.dtype.kind != "i" or arr.dtype.itemsize != 2:
        raise TypeError(f"audio chunks must be int16 arrays, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"audio chunks must be 1-D (mono), got shape {arr.shape}")
    return arr.astype("<i2", copy=False).tobytes()


def _close(stream: IO[bytes] | None) -> OSError | None:
    if stream is None:
        return None
    try:
        stream.close()
    except OSError as exc:
        return exc
    return None


def _abort(proc: subprocess.Popen[bytes], dest: Path) -> None:
    with contextlib.suppress(OSError):
        proc.kill()
    _close(proc.stdin)
    proc.wait()
    _remove(dest)


def _remove(dest: Path) -> None:
    with contextlib.suppress(OSError):
        dest.unlink(missing_ok=True)


def _finish(
    proc: subprocess.Popen[bytes], log: IO[bytes], dest: Path, write_error: OSError | None
) -> None:
    close_error = _close(proc.stdin)
    problem = _problem(_wait(proc), write_error or close_error)
    if problem is None:
        return
    _remove(dest)
    raise OutputError(f"{problem}{_said(log)}", path=dest, doing="could not write")


def _wait(proc: subprocess.Popen[bytes]) -> int | None:
    """ffmpeg's exit code; None when it had not finished ``_FINISH_TIMEOUT_S`` after its
    input ended (then it is killed).

    ``Popen.wait(timeout=...)`` polls, sleeping up to 50 ms between looks: each piece
    of a build waited 9 ms on average after its ffmpeg had exited (0.08 s over the 9
    pieces of ``desk-hip-reset``). A plain ``wait`` returns as the process exits; a timer
    kills a stuck one.
    """
    expired = threading.Event()

    def kill() -> None:
        expired.set()
        with contextlib.suppress(OSError):
            proc.kill()

    watchdog = threading.Timer(_FINISH_TIMEOUT_S, kill)
    watchdog.daemon = True
    watchdog.start()
    try:
        code = proc.wait()
    finally:
        watchdog.cancel()
    return None if expired.is_set() else code


def _problem(code: int | None, write_error: OSError | None) -> str | None:
    if code is None:
        return f"ffmpeg did not finish within {_FINISH_TIMEOUT_S:.0f} s of the end of the audio"
    if code != 0:
        return f"ffmpeg failed with exit code {code}{_signal_note(code)}"
    if write_error is not None:
        return f"sending audio to ffmpeg failed ({write_error})"
    return None


def _signal_note(code: int) -> str:
    """' (killed by SIGXFSZ: File size limit exceeded)' for exit code -25, else ''."""
    if code >= 0:
        return ""
    try:
        number = signal.Signals(-code)
    except ValueError:
        return ""
    described = signal.strsignal(number) or ""
    return f" (killed by {number.name}{': ' + described if described else ''})"


def _said(log: IO[bytes]) -> str:
    """ffmpeg's last words, as a suffix for an error message."""
    tail = stderr_tail(log, _STDERR_TAIL_LINES)
    return f"; ffmpeg said: {tail}" if tail else ""
