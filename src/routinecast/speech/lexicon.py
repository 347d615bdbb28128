"""The lexicon: how the voice should say words it gets wrong.

The built-in lexicon (``data/lexicon.yaml``) covers the anatomy words of the shipped
routines; a routine's ``lexicon:`` adds to it and wins. Only the text sent to the
voice changes; displayed text (timeline, captions) keeps the original words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib import resources

import yaml


@cache
def builtin_lexicon() -> tuple[tuple[str, str], ...]:
    """The shipped respellings."""
    text = resources.files("routinecast").joinpath("data/lexicon.yaml").read_text("utf-8")
    data = yaml.safe_load(text) or {}
    return tuple((str(k), str(v)) for k, v in data.items())


class Lexicon:
    """Whole-word, case-insensitive replacements, longest words first.

    Respellings are lowered: people mark stress with capitals (SO-az), but the voices
    spell capital letters out like an acronym ("EYE" becomes "E Y E").
    """

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        merged = {k.lower(): v.lower() for k, v in builtin_lexicon()}
        merged.update({k.lower(): v.lower() for k, v in entries})
        self.entries = tuple(sorted(merged.items()))
        words = sorted(merged, key=len, reverse=True)
        self._pattern = (
            re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
            if words
            else None
        )
        self._map = merged

    def apply(self, text: str) -> str:
        """The text as the voice should get it."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self._map[m.group(0).lower()], text)
