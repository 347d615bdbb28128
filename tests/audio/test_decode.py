"""Tests for routinecast.audio.decode: any audio file to mono float32."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pytest

from routinecast.audio.decode import decode_audio, decode_stream
from routinecast.audio.encode import encode_mp3
from routinecast.audio.ffmpeg import ffmpeg_exe
from routinecast.errors import InputError

SR = 22050


def _write_wav(path: Path, frames: npt.NDArray[np.int16], rate: int) -> Path:
    channels = 1 if frames.ndim == 1 else frames.shape[1]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames.astype("<i2").tobytes())
    return path


def _ramp(count: int) -> npt.NDArray[np.int16]:
    return (np.arange(count) % 2000 - 1000).astype(np.int16)


def _full_scale(value: float) -> int:
    return round(value * 32767)


def test_mono_wav_is_exact(tmp_path: Path) -> None:
    pcm = _ramp(SR)
    decoded = decode_audio(_write_wav(tmp_path / "a.wav", pcm, SR), SR)
    assert decoded.dtype == np.float32 and decoded.ndim == 1
    np.testing.assert_allclose(decoded, pcm / 32768, atol=1e-6)


def test_stereo_is_averaged_and_resampled(tmp_path: Path) -> None:
    stereo = np.empty((44100, 2), dtype=np.int16)
    stereo[:, 0], stereo[:, 1] = _full_scale(0.6), _full_scale(0.2)
    decoded = decode_audio(_write_wav(tmp_path / "s.wav", stereo, 44100), SR)
    assert abs(len(decoded) - SR) <= 2
    assert abs(float(np.median(decoded)) - 0.4) < 0.005


def test_loud_stereo_stays_in_range(tmp_path: Path) -> None:
    stereo = np.full((SR, 2), _full_scale(0.9), dtype=np.int16)
    stereo[::2] = -stereo[::2]
    decoded = decode_audio(_write_wav(tmp_path / "loud.wav", stereo, SR), SR)
    assert float(np.abs(decoded).max()) <= 1.0
    assert abs(float(np.median(np.abs(decoded))) - 0.9) < 0.01


def test_mp3_round_trip_length(tmp_path: Path) -> None:
    dest = tmp_path / "a.mp3"
    encode_mp3([_ramp(SR * 2)], dest)
    assert abs(len(decode_audio(dest)) - 2 * SR) <= SR * 5 // 1000


def test_ogg(tmp_path: Path) -> None:
    src = _write_wav(tmp_path / "a.wav", _ramp(SR), SR)
    ogg = tmp_path / "a.ogg"
    made = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(src), "-c:a", "libvorbis", str(ogg)],
        capture_output=True,
    )
    if made.returncode != 0:
        pytest.skip("this ffmpeg cannot encode Vorbis")
    assert abs(len(decode_audio(ogg, 16000)) - 16000) <= 80


@pytest.mark.parametrize("content", [b"just some notes\n" * 50, b""])
def test_text_file_is_input_error(tmp_path: Path, content: bytes) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(content)
    with pytest.raises(InputError, match=r"notes\.txt: is not audio ffmpeg can read"):
        decode_audio(notes)


def test_missing_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing\.wav"):
        decode_audio(tmp_path / "missing.wav")
    with pytest.raises(InputError, match=r"missing\.wav"):
        decode_stream(tmp_path / "missing.wav", SR, 100)


def test_stream_matches_whole_decode(tmp_path: Path) -> None:
    src = _write_wav(tmp_path / "a.wav", _ramp(SR * 3 + 17), 44100)
    chunks = list(decode_stream(src, SR, 4096))
    assert all(len(c) == 4096 for c in chunks[:-1]) and 0 < len(chunks[-1]) <= 4096
    assert all(c.dtype == np.float32 for c in chunks)
    np.testing.assert_array_equal(np.concatenate(chunks), decode_audio(src, SR))


def test_stream_of_text_file_fails_on_first_chunk(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    chunks = decode_stream(notes, SR, 100)
    with pytest.raises(InputError, match="not audio ffmpeg can read"):
        next(chunks)


class _Recorder(subprocess.Popen[bytes]):
    started: ClassVar[list[subprocess.Popen[bytes]]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _Recorder.started.append(self)


def test_closing_stream_early_stops_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = _write_wav(tmp_path / "long.wav", _ramp(SR * 20), SR)
    _Recorder.started = []
    monkeypatch.setattr(subprocess, "Popen", _Recorder)
    chunks = decode_stream(src, SR, 1000)
    assert len(next(chunks)) == 1000
    chunks.close()  # type: ignore[attr-defined]
    assert [p.returncode is not None for p in _Recorder.started] == [True]


@pytest.mark.parametrize(("rate", "chunk"), [(0, 100), (SR, 0), (22050.5, 100)])
def test_bad_arguments(tmp_path: Path, rate: Any, chunk: Any) -> None:
    src = _write_wav(tmp_path / "a.wav", _ramp(100), SR)
    with pytest.raises(ValueError):
        decode_stream(src, rate, chunk)
