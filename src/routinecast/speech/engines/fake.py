"""A stand-in engine for tests of layout logic: silence (or a soft hum) of known length.

Like httpx's ``MockTransport`` or piper's silent test voice, it ships in the package
so tests can assert exact durations. Length = ``ms_per_char`` x len(text), at least
``min_ms``; ``lengths`` overrides it per text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from routinecast import SAMPLE_RATE
from routinecast.speech.engines.base import VoiceInfo

if TYPE_CHECKING:
    from routinecast.dsp.samples import Samples


class SilentEngine:
    """Returns a quiet 220 Hz hum of a predictable length for every text."""

    name = "fake"

    def __init__(
        self,
        ms_per_char: int = 60,
        min_ms: int = 200,
        lengths: Mapping[str, int] | None = None,
        fail_on: str | None = None,
    ) -> None:
        self.ms_per_char = ms_per_char
        self.min_ms = min_ms
        self.lengths = dict(lengths or {})
        self.fail_on = fail_on
        self.calls: list[str] = []

    def identity(self) -> dict[str, str]:
        """A fixed identity."""
        return {"engine": self.name, "voice": "hum", "rate": "1", "version": "1"}

    def voices(self) -> list[VoiceInfo]:
        """One voice."""
        return [VoiceInfo("hum", "Test hum")]

    def length_ms(self, text: str) -> int:
        """The length this engine gives ``text``."""
        return self.lengths.get(text, max(self.min_ms, self.ms_per_char * len(text)))

    def synthesize(self, text: str) -> Samples:
        """A hum of ``length_ms(text)``."""
        import numpy as np

        from routinecast.errors import EngineError

        self.calls.append(text)
        if self.fail_on is not None and self.fail_on in text:
            raise EngineError(f"fake engine told to fail on {text!r}")
        n = self.length_ms(text) * SAMPLE_RATE // 1000
        t = np.arange(n, dtype=np.float32) / SAMPLE_RATE
        return (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
