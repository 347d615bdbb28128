"""Sentence parts: what the voice said for one sentence, kept so a line speaks only
the sentences it does not share with a line spoken before.

Changing a hold from 45 to 47 seconds changes one line, "Next: Half-kneeling hip
flexor stretch. 2 sets of 47 seconds on each side.", whose first sentence was
spoken for the line before it: only the second is spoken again (about half the
time). piper speaks each sentence on its own (its model is fed one sentence's
phoneme ids at a time, with no random variation), so a part is named by exactly
what the model is fed and the line comes out sample for sample as if spoken whole.

``SentenceParts`` is the ``SentenceMemo`` the synthesizer hands an engine that
remembers sentences (``engines.base.speak``): files beside the clips
(``cache.PART``), keyed by the sentence's name, the engine identity (voice, rate,
versions) and the trimming, written atomically like clips and checked when read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from routinecast.speech.cache import PART, ClipCache
from routinecast.speech.engines.base import TRIMMED

if TYPE_CHECKING:
    from routinecast.dsp.samples import Samples
    from routinecast.speech.engines.base import SpeechEngine


class SentenceParts:
    """Sentence parts of one engine identity, on disk under ``root``."""

    def __init__(self, root: Path, identity: Mapping[str, str]) -> None:
        self.cache = ClipCache(root, suffix=PART)
        self._salt = json.dumps(
            {"engine": dict(sorted(identity.items())), "part": TRIMMED},
            sort_keys=True,
            ensure_ascii=False,
        )

    def key(self, sentence: str) -> str:
        """The file key of one sentence, as its engine names it."""
        blob = f"{self._salt}\n{sentence}".encode()
        return hashlib.sha256(blob).hexdigest()

    def get(self, sentence: str) -> Samples | None:
        """The part said before, or None (a damaged file counts as missing)."""
        return self.cache.load(self.key(sentence))

    def put(self, sentence: str, part: Samples) -> None:
        """Keep ``part``; ``CacheError`` when the folder cannot be written."""
        self.cache.store(self.key(sentence), part)


def memo_for(engine: SpeechEngine, root: Path) -> SentenceParts | None:
    """The sentences ``engine`` said before, kept under ``root``, when it speaks sentence by
    sentence (``remembers_sentences``); else None."""
    if not getattr(engine, "remembers_sentences", False):
        return None
    return SentenceParts(root, engine.identity())
