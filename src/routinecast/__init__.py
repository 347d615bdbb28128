"""routinecast: compile an exercise routine into one voice-guided MP3.

The pipeline flows one way: routine YAML -> validated model (``loader``) ->
cue text (``cues``) -> speech clips (``synth`` with an engine from ``tts``) ->
timeline (``compiler``, pure) -> mixed audio (``audio.mix``) -> MP3 with tags
and chapters (``audio.encode``, ``audio.tags``) plus JSON and WebVTT beside it.
"""

__version__ = "0.1.0"
SAMPLE_RATE = 22050
"""Every clip, tone and output file runs at this rate (Hz), mono."""

__all__ = ["SAMPLE_RATE", "__version__"]
