"""Real lines, levelled: every spoken line of a shipped routine, said by eSpeak and
levelled as a build levels it, lands on the clips' loudness under their ceiling.

level-v3's secant left 31 of these 63 lines more than 0.05 LU off; the gain search of
level-v4 and later (``dsp.level._next_gain``) leaves only words too short for the target.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from routinecast import SAMPLE_RATE
from routinecast.dsp.level import AIM_LU, integrated_lufs, true_peak_dbtp
from routinecast.load.routine import load_routine
from routinecast.speech.clip import CLIP_CEILING_DBTP, CLIP_LUFS, finish, speak_checked
from routinecast.speech.engines.registry import make_engine
from routinecast.speech.lexicon import Lexicon
from routinecast.timing.script import build_script, spoken_texts

ROUTINE = Path(__file__).resolve().parents[2] / "routines" / "desk-hip-reset.yaml"


@pytest.mark.slow
def test_every_line_of_a_routine_lands_on_the_target() -> None:
    routine = load_routine(ROUTINE)
    lexicon = Lexicon(routine.lexicon)
    engine = make_engine("pyttsx3")
    off: list[str] = []
    for text in spoken_texts(build_script(routine)):
        clip = finish(speak_checked(engine, lexicon.apply(text)))
        assert true_peak_dbtp(clip, SAMPLE_RATE) <= CLIP_CEILING_DBTP
        error = integrated_lufs(clip, SAMPLE_RATE) - CLIP_LUFS
        if len(clip) >= SAMPLE_RATE and abs(error) > AIM_LU:
            off.append(f"{text!r}: {error:+.3f} LU")
    assert not off, off
