"""Synthesised cue tones: countdown tick, "go", "stop" and a breathing pace tone.

Each tone is a main sine partial (``freq_hz``, the pitch the timeline JSON reports)
plus optional harmonic overtones, an optional pitch glide into the main partial,
and a raised-cosine attack and release, so the first and last samples are exactly
zero and no tone ever clicks.

=======  =======  ======  =========  =======  ========  ==============================
name     main Hz  length  peak dBFS  attack   release   character
=======  =======  ======  =========  =======  ========  ==============================
tick     880      120 ms  -11        3 ms     70 ms     short, neutral countdown pip
start    1320     300 ms  -8         4 ms     90 ms     bright, glides up a fourth
stop     660      400 ms  -8         5 ms     160 ms    an octave lower, glides down
breath   440      500 ms  -14        150 ms   250 ms    soft swell, no sharp onset
=======  =======  ======  =========  =======  ========  ==============================

"go" and "stop" are told apart with eyes closed three ways: an octave apart in
pitch, opposite glide direction (start rises 990 -> 1320 Hz, stop falls
880 -> 660 Hz), and stop is longer with a slow fade.  Every tone has a second
harmonic so that even the low ones come through on small phone speakers, which
barely reproduce anything below ~500 Hz.

Levels relative to speech.  Speech clips are levelled to -16 LUFS integrated with
true peak <= -2 dBTP (``audio.level.level_clip``) and the mix is mastered to
-16 LUFS with true peak <= -1 dBTP.  Levelled piper speech then reads about -16
LUFS momentary (400 ms) in the median and -13.5 LUFS at its loudest.  The tones
are fixed in peak level, not loudness-normalised, and measure (BS.1770
K-weighting, over the tone's own length / over a 400 ms momentary window):

=======  =========  ===============  ============  ===============================
name     peak dBFS  own length       momentary     relative to -16 LUFS speech
=======  =========  ===============  ============  ===============================
start    -8         -11.8 LUFS       -13.0 LUFS    +4 LU: level with the loudest
                                                   speech moments
stop     -8         -13.4 LUFS       -13.4 LUFS    +2.6 LU: same peak, lower
                                                   pitch, longer
tick     -11        -16.7 LUFS       -21.9 LUFS    -0.7 LU: like average speech,
                                                   3 dB under start/stop in peak
breath   -14        -21.5 LUFS       -20.6 LUFS    -5.5 LU: background, never
                                                   startling
=======  =========  ===============  ============  ===============================

A 120-300 ms tone is heard roughly 2-4 dB quieter than a steady one with the same
meter reading (temporal integration), so start/stop are perceived about as loud
as stressed speech: clear over room noise, not startling.  Every tone peaks at
least 8 dB under full scale (sample and true peak), leaving 5 dB of headroom
for MP3 overshoot before the -3 dBFS limit (at 48-96 kbit/s the decoded peaks
measured slightly lower, not higher, and onsets stayed within 2 ms).
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

from routinecast import SAMPLE_RATE
from routinecast.timeline import TONES, ToneSpec

__all__ = ["TONES", "ToneSpec", "render_tone", "tone_names"]

FloatArray = NDArray[np.float64]


def tone_names() -> tuple[str, ...]:
    """Names of every tone, in table order."""
    return tuple(TONES)


def _ms_to_samples(ms: float, sample_rate: int) -> int:
    return max(1, round(ms * sample_rate / 1000))


def _pitch_track(spec: ToneSpec, n: int, sample_rate: int) -> FloatArray:
    """Instantaneous frequency of the main partial per sample (eased log glide)."""
    freq = np.full(n, float(spec.freq_hz))
    if spec.glide_from_hz is None:
        return freq
    g = min(n, _ms_to_samples(spec.glide_ms, sample_rate))
    ease = 0.5 * (1.0 - np.cos(np.pi * np.arange(g) / g))
    freq[:g] = spec.glide_from_hz * (spec.freq_hz / spec.glide_from_hz) ** ease
    return freq


def _oscillator(spec: ToneSpec, n: int, sample_rate: int) -> FloatArray:
    """Main partial plus overtones, every partial starting at phase zero."""
    freq = _pitch_track(spec, n, sample_rate)
    phase = 2.0 * np.pi * (np.cumsum(freq) - freq[0]) / sample_rate
    wave: FloatArray = np.sin(phase)
    for ratio, amplitude in spec.overtones:
        wave += amplitude * np.sin(ratio * phase)
    return wave


def _envelope(spec: ToneSpec, n: int, sample_rate: int) -> FloatArray:
    """Raised-cosine attack and release; exactly 0 at the first and last sample."""
    env = np.ones(n)
    attack = min(n // 2, _ms_to_samples(spec.attack_ms, sample_rate))
    release = min(n - attack, _ms_to_samples(spec.release_ms, sample_rate))
    env[:attack] = 0.5 * (1.0 - np.cos(np.pi * np.arange(attack) / attack))
    env[n - release :] = 0.5 * (1.0 + np.cos(np.pi * np.arange(1, release + 1) / release))
    env[0] = env[-1] = 0.0
    return env


@functools.cache
def render_tone(name: str, sample_rate: int = SAMPLE_RATE) -> NDArray[np.float32]:
    """Render tone ``name`` as read-only mono float32 of ``length_ms * sample_rate // 1000``.

    Raises ``KeyError`` for an unknown name.  Results are cached; do not mutate.
    """
    spec = TONES[name]
    n = spec.length_ms * sample_rate // 1000
    wave = _oscillator(spec, n, sample_rate) * _envelope(spec, n, sample_rate)
    wave *= 10.0 ** (spec.peak_dbfs / 20.0) / np.max(np.abs(wave))
    out = wave.astype(np.float32)
    out[0] = out[-1] = 0.0  # also clears a -0.0 left by the envelope
    out.flags.writeable = False
    return out
