"""The speech stage: cue texts -> levelled clips, cached by everything that changes the sound.

``lexicon`` respells words for the voice, ``cache`` keeps clips on disk, ``synth`` makes
the missing ones (in-process or on a worker pool) with an engine from ``engines``.
"""
