"""The lexicon: how the voice should say words it gets wrong.

The built-in lexicon (``data/lexicon.yaml``) covers the anatomy words of the shipped
routines; a routine's ``lexicon:`` adds to it and wins. Only the text sent to the
voice changes; displayed text (timeline, captions) keeps the original words.

For piper, which reads phonemes written ``[[...]]`` in its text, ``data/phonemes.yaml``
gives the phonemes of words whose last consonant the voice swallows ("hips" was heard
as "hits"). piper's phonemizer reads the text around such a block in pieces, so the
block also takes the punctuation right after the word (a sentence that ends in a
block would otherwise lose its full stop, and be rushed) and a lone "a" right before
it (which, ending a piece, is read as the letter). A routine's entry for the word wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib import resources

import yaml

PHONEME_ENGINES = frozenset({"piper"})
"""Engines that read ``[[phonemes]]`` in their text."""
ARTICLE_PHONEMES = "ɐ"
""""a" as piper's phonemizer says it inside a sentence."""


@cache
def builtin_lexicon() -> tuple[tuple[str, str], ...]:
    """The shipped respellings."""
    return _pairs("data/lexicon.yaml")


@cache
def builtin_phonemes() -> tuple[tuple[str, str], ...]:
    """The shipped phonemes (for ``PHONEME_ENGINES`` only)."""
    return _pairs("data/phonemes.yaml")


def _pairs(name: str) -> tuple[tuple[str, str], ...]:
    text = resources.files("routinecast").joinpath(name).read_text("utf-8")
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    return tuple((str(k), str(v)) for k, v in data.items())


class Lexicon:
    """Whole-word, case-insensitive replacements, longest words first.

    Respellings are lowered: people mark stress with capitals (SO-az), but the voices
    spell capital letters out like an acronym ("EYE" becomes "E Y E").
    """

    def __init__(self, entries: Iterable[tuple[str, str]] = (), engine: str | None = None) -> None:
        own = {k.lower(): v.lower() for k, v in entries}
        merged = {k.lower(): v.lower() for k, v in builtin_lexicon()}
        merged.update(own)
        self.entries = tuple(sorted(merged.items()))
        words = sorted(merged, key=len, reverse=True)
        self._pattern = (
            re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
            if words
            else None
        )
        self._map = merged
        phonemes = dict(builtin_phonemes()) if engine in PHONEME_ENGINES else {}
        self.phonemes = {k.lower(): v for k, v in phonemes.items() if k.lower() not in own}
        names = "|".join(map(re.escape, sorted(self.phonemes, key=len, reverse=True)))
        self._phoneme_pattern = (
            re.compile(
                rf"(?<![\w'-])(?P<a>a )?(?P<word>{names})(?![\w'-])(?P<mark>[.,!?;:]*)",
                re.IGNORECASE,
            )
            if names
            else None
        )

    def apply(self, text: str) -> str:
        """The text as the voice should get it."""
        if self._pattern is not None:
            text = self._pattern.sub(lambda m: self._map[m.group(0).lower()], text)
        if self._phoneme_pattern is not None:
            text = self._phoneme_pattern.sub(self._phoneme_block, text)
        return text

    def _phoneme_block(self, found: re.Match[str]) -> str:
        article = f"{ARTICLE_PHONEMES} " if found["a"] else ""
        return f"[[{article}{self.phonemes[found['word'].lower()]}{found['mark']}]]"
