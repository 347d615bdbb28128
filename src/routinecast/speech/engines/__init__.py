"""Speech engines behind one small interface (``base.SpeechEngine``).

Engines return audio (float32 mono at ``SAMPLE_RATE``); the caller owns every file.
``registry.make_engine`` picks one by name; ``fake.SilentEngine`` is the test double.
"""
