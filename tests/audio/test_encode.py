"""Tests for routinecast.audio.encode (and the ffmpeg locator it uses)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import mutagen.mp3
import numpy as np
import numpy.typing as npt
import pytest

from routinecast.audio import ffmpeg as ffmpeg_module
from routinecast.audio.decode import decode_audio
from routinecast.audio.encode import Mp3Settings, encode_mp3
from routinecast.audio.ffmpeg import ENV_VAR, ffmpeg_exe, ffmpeg_version
from routinecast.errors import BuildError, OutputError

SR = 22050
DURATION_S = 10
BURSTS_S = (0.25, 1.0, 2.3456, 4.0001, 6.5, 9.5)
BURST_MS = 40
ATTACK_MS = 5
BURST_PEAK = 16000
ODD_CHUNK_SIZES = (1, 4097, 333, 12345, 7, 99999)
TOLERANCE_MS = 5.0
SEARCH_BEFORE_MS = 30
MPEG2_SAMPLES_PER_FRAME = 576

Int16 = npt.NDArray[np.int16]


def _ms_to_samples(ms: float) -> int:
    return round(ms * SR / 1000)


def _burst() -> Int16:
    n = _ms_to_samples(BURST_MS)
    t = np.arange(n)
    ramp = _ms_to_samples(ATTACK_MS)
    envelope = np.minimum(1.0, np.minimum(t / ramp, (n - t) / ramp))
    tone = np.sin(2 * np.pi * 1000 * t / SR)
    return np.round(BURST_PEAK * envelope * tone).astype(np.int16)


def _bursts_signal() -> tuple[Int16, list[int]]:
    signal = np.zeros(DURATION_S * SR, dtype=np.int16)
    burst = _burst()
    positions = [round(s * SR) for s in BURSTS_S]
    for pos in positions:
        signal[pos : pos + len(burst)] = burst
    return signal, positions


def _odd_chunks(signal: Int16) -> Iterator[Int16]:
    start, i = 0, 0
    while start < len(signal):
        size = ODD_CHUNK_SIZES[i % len(ODD_CHUNK_SIZES)]
        yield signal[start : start + size]
        start, i = start + size, i + 1


def _onset(audio: npt.NDArray[Any], expected: int) -> int:
    start = expected - _ms_to_samples(SEARCH_BEFORE_MS)
    window = np.abs(audio[start : expected + _ms_to_samples(BURST_MS + SEARCH_BEFORE_MS)])
    above = np.flatnonzero(window > 0.2 * window.max())
    return start + int(above[0])


@pytest.fixture(scope="module")
def bursts_mp3(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Int16, list[int]]:
    signal, positions = _bursts_signal()
    dest = tmp_path_factory.mktemp("encode") / "bursts.mp3.part"
    encode_mp3(_odd_chunks(signal), dest)
    return dest, signal, positions


def test_gapless_length_and_onsets(bursts_mp3: tuple[Path, Int16, list[int]]) -> None:
    dest, signal, positions = bursts_mp3
    decoded = decode_audio(dest, SR)
    length_error_ms = abs(len(decoded) - len(signal)) * 1000 / SR
    assert length_error_ms <= TOLERANCE_MS
    errors_ms = [(_onset(decoded, pos) - pos) * 1000 / SR for pos in positions]
    print(f"length error {length_error_ms:.2f} ms, onset errors (ms): {errors_ms}")
    assert max(abs(e) for e in errors_ms) <= TOLERANCE_MS


def test_has_info_frame_with_lame_tag(bursts_mp3: tuple[Path, Int16, list[int]]) -> None:
    dest, signal, _ = bursts_mp3
    head = dest.read_bytes()[:4096]
    assert not head.startswith(b"ID3")  # tags come later, from audio.tags
    at = max(head.find(b"Info"), head.find(b"Xing"))
    assert at >= 0
    assert head[at + 120 : at + 124] == b"LAME"
    frames = int.from_bytes(head[at + 8 : at + 12], "big")
    packed = head[at + 141 : at + 144]
    delay = (packed[0] << 4) | (packed[1] >> 4)
    padding = ((packed[1] & 0x0F) << 8) | packed[2]
    assert delay > 0
    assert frames * MPEG2_SAMPLES_PER_FRAME - delay - padding == len(signal)


def test_mutagen_length(bursts_mp3: tuple[Path, Int16, list[int]]) -> None:
    dest, _, _ = bursts_mp3
    info = mutagen.mp3.MP3(dest).info
    assert abs(info.length - DURATION_S) <= 0.05
    assert (info.sample_rate, info.channels, round(info.bitrate / 1000)) == (SR, 1, 96)
    assert info.bitrate_mode == mutagen.mp3.BitrateMode.CBR


def test_other_settings(tmp_path: Path) -> None:
    dest = tmp_path / "out.mp3"
    noise = np.random.default_rng(1).integers(-300, 300, 44100, dtype=np.int16)
    encode_mp3([noise], dest, Mp3Settings(sample_rate=44100, bitrate_kbps=128))
    info = mutagen.mp3.MP3(dest).info
    assert (info.sample_rate, round(info.bitrate / 1000)) == (44100, 128)
    assert abs(len(decode_audio(dest, 44100)) - 44100) <= 220


@pytest.mark.parametrize(
    ("rate", "kbps"), [(22000, 64), (22050, 320), (44100, 8), (22050.0, 64), (True, 64)]
)
def test_settings_rejects_bad_values(rate: Any, kbps: Any) -> None:
    with pytest.raises(ValueError):
        Mp3Settings(sample_rate=rate, bitrate_kbps=kbps)


def test_missing_folder_is_output_error(tmp_path: Path) -> None:
    dest = tmp_path / "missing" / "out.mp3"
    with pytest.raises(OutputError, match="does not exist"):
        encode_mp3([np.zeros(100, dtype=np.int16)], dest)
    assert not dest.parent.exists()


def test_ffmpeg_refusing_dest_is_output_error(tmp_path: Path) -> None:
    dest = tmp_path / "a-folder.mp3"
    dest.mkdir()
    with pytest.raises(OutputError, match="ffmpeg said"):
        encode_mp3([np.zeros(SR, dtype=np.int16)], dest)


class _Recorder(subprocess.Popen[bytes]):
    started: ClassVar[list[subprocess.Popen[bytes]]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _Recorder.started.append(self)


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_interrupted_input_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: type[BaseException]
) -> None:
    dest = tmp_path / "out.mp3.part"
    _Recorder.started = []
    monkeypatch.setattr(subprocess, "Popen", _Recorder)

    def chunks() -> Iterator[Int16]:
        for _ in range(3):
            yield np.zeros(SR, dtype=np.int16)
        deadline = time.monotonic() + 2
        while not dest.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert dest.exists()  # ffmpeg had created it before the failure
        raise error("stop")

    with pytest.raises(error, match="stop"):
        encode_mp3(chunks(), dest)
    assert not dest.exists()
    assert [p.returncode is not None for p in _Recorder.started] == [True]


def test_wrong_dtype_is_rejected_and_cleaned_up(tmp_path: Path) -> None:
    dest = tmp_path / "out.mp3"
    with pytest.raises(TypeError, match="int16"):
        encode_mp3([np.zeros(100, dtype=np.int16), np.zeros(100, dtype=np.float32)], dest)
    assert not dest.exists()


@pytest.fixture
def fake_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    if sys.platform == "win32":
        pytest.skip("uses a POSIX shell script as ffmpeg")
    script = tmp_path / "fake-ffmpeg"
    monkeypatch.setenv(ENV_VAR, str(script))
    ffmpeg_exe.cache_clear()
    yield script
    ffmpeg_exe.cache_clear()


@pytest.mark.parametrize("reads_input", [False, True])
def test_ffmpeg_failure_reports_its_stderr(
    tmp_path: Path, fake_ffmpeg: Path, reads_input: bool
) -> None:
    drain = "cat >/dev/null\n" if reads_input else ""
    fake_ffmpeg.write_text(f"#!/bin/sh\n{drain}echo 'x.mp3: No space left on device' >&2\nexit 1\n")
    fake_ffmpeg.chmod(0o755)
    dest = tmp_path / "out.mp3"
    chunks = (np.zeros(SR * 10, dtype=np.int16) for _ in range(5))
    with pytest.raises(OutputError, match=r"exit code 1.*No space left on device"):
        encode_mp3(chunks, dest)
    assert not dest.exists()


def test_ffmpeg_override_must_exist(tmp_path: Path, fake_ffmpeg: Path) -> None:
    with pytest.raises(BuildError, match="pip install imageio-ffmpeg"):
        ffmpeg_exe()


def test_ffmpeg_version_line() -> None:
    assert ffmpeg_version().startswith("ffmpeg version")


def test_the_bundled_ffmpeg_is_found_without_running_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import imageio_ffmpeg

    checked = imageio_ffmpeg.get_ffmpeg_exe()  # imageio-ffmpeg's own search runs the binary

    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("finding the bundled ffmpeg started a process")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    monkeypatch.setattr(subprocess, "run", no_process)
    monkeypatch.delenv("IMAGEIO_FFMPEG_EXE", raising=False)
    assert ffmpeg_module._bundled() == checked


def test_imageio_ffmpegs_own_variable_still_names_the_bundled_binary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = tmp_path / "my-ffmpeg"
    named.write_text("#!/bin/sh\n")
    named.chmod(0o755)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(named))
    assert ffmpeg_module._bundled() == str(named)


def test_an_ffmpeg_that_never_finishes_is_killed_and_reported(
    tmp_path: Path, fake_ffmpeg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from routinecast.audio import encode

    fake_ffmpeg.write_text("#!/bin/sh\ncat >/dev/null\nexec sleep 60\n")
    fake_ffmpeg.chmod(0o755)
    monkeypatch.setattr(encode, "_FINISH_TIMEOUT_S", 0.5)
    dest = tmp_path / "out.mp3"
    started = time.monotonic()
    with pytest.raises(OutputError, match="did not finish within 0 s of the end of the audio"):
        encode_mp3(iter([np.zeros(SR, dtype=np.int16)]), dest)
    assert time.monotonic() - started < 30  # killed by the watchdog, not waited out
    assert not dest.exists()
