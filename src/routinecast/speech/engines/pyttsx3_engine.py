"""pyttsx3: the system voice (SAPI5, NSSpeechSynthesizer, eSpeak NG). All its traps live here.

On Linux the system voice is eSpeak NG, and this module speaks to it directly, through
ctypes, in eSpeak's *synchronous* mode: the voice and the rate are set, checked, and
``espeak_Synth`` returns only when the whole text is spoken. That is the root fix of a
wrong speed: pyttsx3's eSpeak driver runs eSpeak asynchronously (``RETRIEVAL`` mode),
where ``espeak_SetParameter(RATE)`` is only queued, and every ``runAndWait`` ends its
loop with ``stop()``, which calls ``espeak_Cancel`` whenever eSpeak still reports busy.
Cancel empties eSpeak's queue (the rate command with it) and restores the parameters
of the utterance before; in a fresh process the driver's own queued default (200 words
a minute) could land after that restore. So about one clip in thirteen came out at
200 instead of 175 words a minute, 13% short, and a later change of rate in the same
process was dropped outright. In synchronous mode nothing is queued, so nothing can be
cancelled; the rate read back from eSpeak is checked before each text all the same.

Known traps, each handled here and nowhere else:

* With no system eSpeak, ``espeakng-loader`` provides the library: it is loaded with
  ctypes and ``ESPEAK_DATA_PATH`` set first (without the data path espeak exits the
  process with code 1). ``ROUTINECAST_SYSTEM_ESPEAK=1`` uses the system library.
* eSpeak initialises once per process and keeps global state: one ``_Espeak`` per
  process, behind a lock.
* A forked child hangs once the parent used the library: parallel synthesis uses
  ``spawn`` (see ``speech.pool``), never fork.
* Elsewhere (SAPI5, NSSpeechSynthesizer) pyttsx3 itself drives the voice: one
  ``save_to_file`` and one ``runAndWait`` per text (queued saves write only the last
  file), never empty text (it asserts), its stdout chatter silenced.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import io
import os
import sys
import tempfile
import threading
import wave
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routinecast.errors import EngineError
from routinecast.speech.engines.base import VoiceInfo, to_rate, trim_silence
from routinecast.speech.engines.versions import installed_version

if TYPE_CHECKING:
    from routinecast.dsp.samples import Samples

BASE_WPM = 175
"""Words per minute at rate 1.0 (espeak's default 200 is hard to follow while moving)."""
DEFAULT_ESPEAK_VOICE = "gmw/en-us"
DRIVER = "espeak-ng synchronous"
"""How this module drives the voice on Linux; part of the identity, so clips made
through pyttsx3's asynchronous driver (some at the wrong speed) are never reused."""

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_RATE, _VOLUME = 1, 2
_CHARS_UTF8, _ENDPAUSE = 1, 0x1000
_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


def _uses_espeak() -> bool:
    return sys.platform.startswith("linux")


class _VoiceSpec(ctypes.Structure):
    _fields_ = (
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    )


def _library_path() -> str:
    """espeakng-loader's library (data path exported first), else the system one."""
    if not os.environ.get("ROUTINECAST_SYSTEM_ESPEAK"):
        try:
            import espeakng_loader
        except ImportError:
            pass
        else:
            os.environ.setdefault("ESPEAK_DATA_PATH", espeakng_loader.get_data_path())
            return str(espeakng_loader.get_library_path())
    found = ctypes.util.find_library("espeak-ng")
    if found is None:
        raise EngineError("eSpeak NG is missing; on Linux: pip install espeakng-loader")
    return found


class _Espeak:
    """eSpeak NG in synchronous mode: one text at a time, its samples collected."""

    def __init__(self) -> None:
        try:
            lib = ctypes.CDLL(_library_path())
        except OSError as exc:
            raise EngineError(f"eSpeak NG could not be loaded ({exc})") from exc
        lib.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_GetParameter.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceSpec))
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        lib.espeak_Info.restype = ctypes.c_char_p
        self.lib = lib
        self.sample_rate = int(lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, 0))
        if self.sample_rate <= 0:
            raise EngineError("eSpeak NG could not start (no voice data?)")
        self._chunks: list[bytes] = []
        self._callback = _CALLBACK(self._collect)  # kept alive as long as eSpeak holds it
        lib.espeak_SetSynthCallback(self._callback)
        self.lock = threading.Lock()
        self.voice = ""
        self._voices: list[VoiceInfo] | None = None

    def _collect(self, wav: Any, count: int, _events: Any) -> int:
        if count > 0 and wav:
            self._chunks.append(ctypes.string_at(wav, 2 * count))
        return 0

    def version(self) -> str:
        """eSpeak NG's own version string."""
        return (self.lib.espeak_Info(None) or b"?").decode("utf-8", "replace")

    def voices(self) -> list[VoiceInfo]:
        """Every voice eSpeak NG has (ids as pyttsx3 names them: lower-case identifiers)."""
        if self._voices is None:
            with self.lock:
                self._voices = self._list_voices()
        return self._voices

    def _list_voices(self) -> list[VoiceInfo]:
        found: list[VoiceInfo] = []
        listed = self.lib.espeak_ListVoices(None)
        index = 0
        while listed[index]:
            voice = listed[index][0]
            ident = (voice.identifier or b"").decode("utf-8", "replace").lower()
            language = (voice.languages or b"")[1:].decode("utf-8", "ignore")
            found.append(VoiceInfo(ident, (voice.name or b"").decode("utf-8", "replace"), language))
            index += 1
        return found

    def speak(self, text: str, voice: str, wpm: int) -> bytes:
        """16-bit mono PCM at ``sample_rate``: ``text`` spoken by ``voice`` at ``wpm``."""
        with self.lock:
            if voice != self.voice:
                if self.lib.espeak_SetVoiceByName(voice.encode("utf-8")) != 0:
                    raise EngineError(
                        f'pyttsx3 has no voice "{voice}" here; `routinecast voices` lists them'
                    )
                self.voice = voice
            self.lib.espeak_SetParameter(_RATE, wpm, 0)
            self.lib.espeak_SetParameter(_VOLUME, 100, 0)
            applied = int(self.lib.espeak_GetParameter(_RATE, 1))
            if applied != wpm:
                raise EngineError(f"eSpeak NG did not take the rate {wpm} (it is at {applied})")
            self._chunks = []
            data = text.encode("utf-8")
            status = self.lib.espeak_Synth(
                data, len(data) + 1, 0, 1, 0, _CHARS_UTF8 | _ENDPAUSE, None, None
            )
            if status != 0:
                raise EngineError(f"eSpeak NG failed (status {status}) on {text[:60]!r}")
            pcm, self._chunks = b"".join(self._chunks), []
            return pcm


_STARTING = threading.Lock()


def _espeak() -> _Espeak:
    """The process's one eSpeak NG (started once, whichever thread asks first)."""
    with _STARTING:
        return _espeak_once()


@cache
def _espeak_once() -> _Espeak:
    return _Espeak()


@cache
def _pyttsx3() -> Any:
    """The process's one pyttsx3 engine (platforms other than Linux)."""
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
        raise EngineError(f"the system voice could not start ({exc})") from exc


def _release() -> None:
    """Drop the engine while Python is still whole (pyttsx3's ``__del__`` needs its modules)."""
    _pyttsx3.cache_clear()
    import gc

    gc.collect()


@cache
def _version() -> str:
    if _uses_espeak():
        return f"espeakng-loader {installed_version('espeakng-loader')}; {DRIVER}"
    return f"pyttsx3 {installed_version('pyttsx3')}"


class Pyttsx3Engine:
    """The system voice: eSpeak NG on Linux (driven directly), pyttsx3 elsewhere."""

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
            "version": f"{_version()} on {sys.platform}",
        }

    def load(self) -> None:
        """Start the system voice now (eSpeak reads its data)."""
        if _uses_espeak():
            _espeak()

    @property
    def wpm(self) -> int:
        """Words per minute asked of the voice."""
        return int(BASE_WPM * self.rate)

    def voices(self) -> list[VoiceInfo]:
        """Every voice the system engine reports."""
        if _uses_espeak():
            return _espeak().voices()
        return [
            VoiceInfo(v.id, v.name, ",".join(str(x) for x in (v.languages or [])))
            for v in _pyttsx3().getProperty("voices")
        ]

    def synthesize(self, text: str) -> Samples:
        """Speak ``text``; trimmed float32 at ``SAMPLE_RATE``."""
        import numpy as np

        if not text.strip():
            return np.zeros(0, dtype=np.float32)
        if _uses_espeak():
            espeak = _espeak()
            pcm = espeak.speak(text, self._espeak_voice(espeak), self.wpm)
            if not pcm:
                raise EngineError(f"eSpeak NG made no audio for {text[:60]!r}")
            data = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
            return trim_silence(to_rate(data, espeak.sample_rate))
        return trim_silence(self._via_pyttsx3(text))

    def _espeak_voice(self, espeak: _Espeak) -> str:
        wanted = self.voice or DEFAULT_ESPEAK_VOICE
        if self.voice and self.voice not in {v.id for v in espeak.voices()}:
            raise EngineError(
                f'pyttsx3 has no voice "{self.voice}" here; `routinecast voices` lists them'
            )
        return wanted

    def _via_pyttsx3(self, text: str) -> Samples:
        """Speak to a private temporary WAV through pyttsx3, read it back, delete it."""
        engine = _pyttsx3()
        if self.voice:
            if self.voice not in {v.id for v in engine.getProperty("voices")}:
                raise EngineError(
                    f'pyttsx3 has no voice "{self.voice}" here; `routinecast voices` lists them'
                )
            engine.setProperty("voice", self.voice)
        engine.setProperty("rate", self.wpm)
        with tempfile.TemporaryDirectory(prefix="routinecast-pyttsx3-") as tmp:
            path = Path(tmp) / "clip.wav"
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    engine.save_to_file(text, str(path))
                    engine.runAndWait()
            except Exception as exc:
                raise EngineError(f"pyttsx3 failed on {text[:60]!r}: {exc}") from exc
            if not path.exists() or path.stat().st_size <= 44:
                raise EngineError(f"pyttsx3 wrote no audio for {text[:60]!r}")
            return _read_wav(path)


def _read_wav(path: Path) -> Samples:
    import numpy as np

    with wave.open(str(path), "rb") as wav:
        rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
        frames = wav.readframes(wav.getnframes())
    if width != 2:
        raise EngineError(f"pyttsx3 wrote {8 * width}-bit audio; expected 16-bit")
    data = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    return to_rate(data, rate)
