"""One clip: spoken by an engine, band-limited, levelled, checked, and the tag of all that.

``make_clip(engine, spoken, rate)`` is what a worker runs; in-process the two halves
run on two threads. ``speak_checked``: the engine speaks (silence trimmed,
``TRIM_KEEP_MS`` kept) and the length is checked against what the text could
plausibly take (``plausible_ms``): a clip far outside that (a cut-off sentence, a
runaway or silent one) is spoken once more, and if it is still implausible the build
stops with an ``EngineError``. So a wrong clip never reaches the cache, where it would
stay for good; nor do the sentences of a line that was implausible once (a
``SentenceMemo`` is handed a line's new sentences only once the line is checked, and
a second try speaks every sentence afresh). ``finish``: low-passed at
``BAND_LIMIT_HZ`` and levelled to ``CLIP_LUFS`` under ``CLIP_CEILING_DBTP`` (the
length does not change).

``PROCESSING``, part of every cache key, is built from those same constants, so
changing one of them re-makes the clips instead of reusing ones made differently.

numpy and the levelling libraries are imported on first use: ``plan`` needs only the
tag and the length arithmetic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from routinecast import SAMPLE_RATE
from routinecast.dsp.constants import BAND_LIMIT_HZ, LEVEL_VERSION
from routinecast.errors import EngineError, RoutinecastError
from routinecast.speech.engines.base import TRIMMED, speak

if TYPE_CHECKING:
    from routinecast.dsp.samples import Samples
    from routinecast.speech.engines.base import SentenceMemo, SpeechEngine

CLIP_LUFS = -16.0
CLIP_CEILING_DBTP = -3.3
"""Clips are levelled below the master ceiling: MP3 encoding adds up to ~1 dB of overshoot."""
PROCESSING = ":".join(
    [
        LEVEL_VERSION,
        f"lp{BAND_LIMIT_HZ}Hz",
        f"{CLIP_LUFS:g}LUFS",
        f"{CLIP_CEILING_DBTP:g}dBTP",
        TRIMMED,
    ]
)
"""Everything done to a clip after the engine, for the cache key."""

ESTIMATE_MS_PER_CHAR = 62
"""``plan``'s estimate for a text not yet in the cache (piper at rate 1 averages ~60)."""
PLAUSIBLE_MS_PER_CHAR = (18, 160)
"""Measured on every line of the shipped routines at rate 1 (213 lines): piper takes
39 to 71 ms per character at the median and extremes, eSpeak 38 to 60; a lone digit
("7") takes 360-470 ms. A clip at under half the fastest pace is cut off; one over
``PLAUSIBLE_EXTRA_MS`` plus 160 ms a character ran away (both scaled by the rate)."""
PLAUSIBLE_EXTRA_MS = 1200


def ceil_ms(samples: int) -> int:
    """A sample count as whole milliseconds, rounded up."""
    return -(-samples * 1000 // SAMPLE_RATE)


def clip_ms(clip: Samples) -> int:
    """A clip's length in whole milliseconds, rounded up."""
    return ceil_ms(len(clip))


def estimate_ms(text: str) -> int:
    """``plan``'s length for a line not spoken yet."""
    return max(300, ESTIMATE_MS_PER_CHAR * len(text))


def plausible_ms(spoken: str, rate: float) -> tuple[int, int]:
    """The shortest and longest a clip of ``spoken`` may be at ``rate``."""
    chars = len(spoken.strip())
    low, high = PLAUSIBLE_MS_PER_CHAR
    return round(low * chars / rate), round((PLAUSIBLE_EXTRA_MS + high * chars) / rate)


def implausible(clip: Samples, spoken: str, rate: float) -> str | None:
    """Why a clip cannot be right for its text, or None."""
    shortest, longest = plausible_ms(spoken, rate)
    length = clip_ms(clip)
    if shortest <= length <= longest:
        return None
    return f"{length} ms for {len(spoken)} characters (expected {shortest}-{longest} ms)"


def finish(raw: Samples) -> Samples:
    """Band-limit and level what an engine returned (same length)."""
    from routinecast.dsp.level import band_limit, level_clip

    return level_clip(band_limit(raw, SAMPLE_RATE), SAMPLE_RATE, CLIP_LUFS, CLIP_CEILING_DBTP)


def make_clip(
    engine: SpeechEngine,
    spoken: str,
    rate: float | None = None,
    memo: SentenceMemo | None = None,
) -> Samples:
    """``engine`` speaks ``spoken``, checked and levelled; any failure is an ``EngineError``."""
    return finish(speak_checked(engine, spoken, rate, memo))


def speak_checked(
    engine: SpeechEngine,
    spoken: str,
    rate: float | None = None,
    memo: SentenceMemo | None = None,
) -> Samples:
    """What ``engine`` says for ``spoken``, its length checked when ``rate`` is given.

    A clip outside ``plausible_ms`` is spoken once more (without ``memo``: every
    sentence afresh) before the build gives up (levelling keeps a clip's length, so
    the raw clip is what is checked).
    """
    held = None if memo is None else _Held(memo)
    clip = _spoken(engine, spoken, held)
    if rate is None or implausible(clip, spoken, rate) is None:
        if held is not None:
            held.keep()
        return clip
    clip = _spoken(engine, spoken)
    problem = implausible(clip, spoken, rate)
    if problem is not None:
        raise EngineError(
            f"the {_name(engine)} speech engine made an implausible clip for "
            f"{_short(spoken)!r}: {problem}; nothing was cached"
        )
    return clip


class _Held:
    """A memo whose new sentences wait until their line is found plausible (``keep``)."""

    def __init__(self, memo: SentenceMemo) -> None:
        self.memo = memo
        self.new: dict[str, Samples] = {}

    def get(self, sentence: str) -> Samples | None:
        found = self.new.get(sentence)
        return self.memo.get(sentence) if found is None else found

    def put(self, sentence: str, part: Samples) -> None:
        self.new[sentence] = part

    def keep(self) -> None:
        for sentence, part in self.new.items():
            self.memo.put(sentence, part)


def _spoken(engine: SpeechEngine, spoken: str, memo: SentenceMemo | None = None) -> Samples:
    try:
        raw = speak(engine, spoken, memo)
        if raw.size == 0:
            raise EngineError(f"the speech engine returned no audio for {spoken[:60]!r}")
        return raw
    except RoutinecastError:
        raise
    except Exception as exc:  # engines wrap C libraries that raise anything
        raise EngineError(
            f"the {_name(engine)} speech engine failed on {_short(spoken)!r}: {describe(exc)}"
        ) from exc


def _name(engine: SpeechEngine) -> str:
    return str(getattr(engine, "name", type(engine).__name__))


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def describe(exc: BaseException) -> str:
    """``Type: message`` on one line (just the type when there is no message)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
