"""pyttsx3: the system voice (SAPI5, NSSpeechSynthesizer, eSpeak NG). All its traps live here.

Known traps, each handled in this module and nowhere else:

* On Linux with no system eSpeak, ``espeakng-loader`` provides the library: it is
  loaded with ctypes and ``ESPEAK_DATA_PATH`` set *before* pyttsx3 is imported
  (without the data path espeak exits the process with code 1).
* Several queued ``save_to_file`` calls write only the last file: one call and one
  ``runAndWait`` per text.
* ``save_to_file("")`` asserts: empty text is never sent.
* A forked child hangs once the parent used the engine: parallel synthesis uses
  ``spawn`` (see ``synth``), never fork.
* The espeak driver prints "Audio saved to ...": stdout is silenced around it.
* The engine initialises once per process, so one engine object is shared.
* With eSpeak, ``runAndWait`` can return before a longer text is finished (its loop
  ends before the last synthesis callback); the rest then leaks into the *next*
  text. After each ``runAndWait`` the driver is drained with ``espeak_Synchronize``.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import io
import os
import sys
import tempfile
import wave
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from routinecast.errors import EngineError
from routinecast.speech.engines.base import Samples, VoiceInfo, to_rate, trim_silence

BASE_WPM = 175
"""Words per minute at rate 1.0 (espeak's default 200 is hard to follow while moving)."""
DEFAULT_ESPEAK_VOICE = "gmw/en-us"


def _prepare_espeak() -> None:
    """Make pyttsx3's espeak driver find a library and its data, pip-only on Linux."""
    if not sys.platform.startswith("linux") or os.environ.get("ROUTINECAST_SYSTEM_ESPEAK"):
        return
    try:
        import espeakng_loader
    except ImportError:
        return  # a system eSpeak NG may still be there
    ctypes.CDLL(espeakng_loader.get_library_path())
    os.environ.setdefault("ESPEAK_DATA_PATH", espeakng_loader.get_data_path())


@cache
def _engine() -> Any:
    """The process's one pyttsx3 engine."""
    _prepare_espeak()
    try:
        import pyttsx3
    except ImportError:
        raise EngineError("pyttsx3 is not installed: pip install pyttsx3") from None
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            engine = pyttsx3.init()
        atexit.register(_release)  # before interpreter teardown, or its __del__ complains
        return engine
    except Exception as exc:
        raise EngineError(
            f"the system voice could not start ({exc}); on Linux: pip install espeakng-loader"
        ) from exc


def _release() -> None:
    """Drop the engine while Python is still whole (pyttsx3's ``__del__`` needs its modules)."""
    _engine.cache_clear()
    import gc

    gc.collect()


def _version() -> str:
    try:
        return (
            metadata.version("pyttsx3") + "/espeakng-loader " + metadata.version("espeakng-loader")
        )
    except metadata.PackageNotFoundError:
        return "unknown"


class Pyttsx3Engine:
    """The system voice through pyttsx3."""

    name = "pyttsx3"

    def __init__(self, voice: str | None = None, rate: float = 1.0) -> None:
        self.voice = voice
        self.rate = rate

    def identity(self) -> dict[str, str]:
        """Engine, voice, rate and versions."""
        return {
            "engine": self.name,
            "voice": self.voice or DEFAULT_ESPEAK_VOICE,
            "rate": f"{self.rate:g}",
            "version": f"pyttsx3 {_version()} on {sys.platform}",
        }

    def voices(self) -> list[VoiceInfo]:
        """Every voice the system engine reports."""
        engine = _engine()
        return [
            VoiceInfo(v.id, v.name, ",".join(str(x) for x in (v.languages or [])))
            for v in engine.getProperty("voices")
        ]

    def _configure(self, engine: Any) -> None:
        wanted = self.voice or DEFAULT_ESPEAK_VOICE
        ids = {v.id for v in engine.getProperty("voices")}
        if wanted in ids:
            engine.setProperty("voice", wanted)
        elif self.voice:
            raise EngineError(
                f'pyttsx3 has no voice "{self.voice}" here; `routinecast voices` lists them'
            )
        engine.setProperty("rate", int(BASE_WPM * self.rate))

    def synthesize(self, text: str) -> Samples:
        """Speak ``text`` to a private temporary WAV, read it back, delete it."""
        if not text.strip():
            return np.zeros(0, dtype=np.float32)
        engine = _engine()
        self._configure(engine)
        with tempfile.TemporaryDirectory(prefix="routinecast-pyttsx3-") as tmp:
            path = Path(tmp) / "clip.wav"
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    engine.save_to_file(text, str(path))
                    engine.runAndWait()
                    _drain(engine)
            except Exception as exc:
                raise EngineError(f"pyttsx3 failed on {text[:60]!r}: {exc}") from exc
            if not path.exists() or path.stat().st_size <= 44:
                raise EngineError(f"pyttsx3 wrote no audio for {text[:60]!r}")
            return trim_silence(_read_wav(path))


def _drain(engine: Any) -> None:
    """Let an eSpeak synthesis that outlived ``runAndWait`` finish (see the module notes)."""
    driver = getattr(getattr(engine, "proxy", None), "_driver", None)
    if driver is None or not hasattr(driver, "_speaking"):
        return
    from pyttsx3.drivers import _espeak

    for _ in range(100):
        if not driver._speaking:
            return
        _espeak.Synchronize()


def _read_wav(path: Path) -> Samples:
    with wave.open(str(path), "rb") as wav:
        rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
        frames = wav.readframes(wav.getnframes())
    if width != 2:
        raise EngineError(f"pyttsx3 wrote {8 * width}-bit audio; expected 16-bit")
    data = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    return to_rate(data, rate)
