"""The numbers that name the sample math, importable without numpy.

Caches key what they keep by these (``speech.clip.PROCESSING``), and ``plan`` computes
keys without loading numpy, so they live apart from the math in ``level``.
"""

from __future__ import annotations

LEVEL_VERSION = "level-v6"
"""Bump when ``level.level_clip`` changes what it returns."""
BAND_LIMIT_HZ = 8000
"""The MP3 encoder low-passes 22.05 kHz mono near 8.5-9 kHz; clips are band-limited
below that first, so loudness and true peak measured here survive encoding."""
