"""The form a line is sent to the voice in (``speech.spoken``); the display never changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from routinecast.speech.cache import ClipCache
from routinecast.speech.engines.fake import SilentEngine
from routinecast.speech.lexicon import Lexicon
from routinecast.speech.spoken import spoken_form
from routinecast.speech.synth import EngineSpec, Synthesizer


@pytest.mark.parametrize(
    ("shown", "sent"),
    [
        ("Right 8", "Right, 8!"),
        ("Left 10", "Left, 10!"),
        ("8", "8!"),
        ("out", "Out."),
        ("back", "Back."),
        ("Shake out your legs", "Shake out your legs."),
        ("Halfway.", "Halfway."),
        ("Ready?", "Ready?"),
        ('Say "now."', 'Say "now."'),
        ("  two   spaces ", "Two spaces."),
        ("", ""),
    ],
)
def test_short_cues_get_a_clear_form(shown: str, sent: str) -> None:
    assert spoken_form(shown) == sent


def test_lines_that_already_read_clearly_are_sent_unchanged() -> None:
    for line in ("Rest for 10 seconds.", "Switch to your left side.", "First: Plank. 30 seconds."):
        assert spoken_form(line) == line


def test_the_voice_gets_the_clear_form_and_clips_keep_the_display_text(tmp_path: Path) -> None:
    engine = SilentEngine()
    synth = Synthesizer(EngineSpec("fake"), Lexicon(), ClipCache(tmp_path), engine=engine)
    clips = synth.clips(["Right 8", "out", "Breathe in."])
    assert engine.calls == ["Right, 8!", "Out.", "Breathe in."]
    assert list(clips) == ["Right 8", "out", "Breathe in."]
