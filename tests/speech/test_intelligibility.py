"""Intelligibility: an offline recogniser (pocketsphinx) must understand the built MP3.

Each speech event is cut from the decoded MP3 by its timeline times (100 ms of padding
either side), resampled to 16 kHz and recognised in grammar mode: a JSGF grammar whose
alternatives are exactly the routine's distinct spoken lines, normalised (lowercase,
punctuation stripped, numbers as words). A cue counts as recognised when the
hypothesis equals its own line. Words missing from CMUdict get a pronunciation from
``HAND_PHONES`` or are derived from dictionary words (``pronounce``).

Also a script, to report the figure for any build::

    python tests/test_intelligibility.py output/NAME.mp3 [output/NAME.timeline.json]
    python tests/test_intelligibility.py --build routine.yaml --engine pyttsx3
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from listening import RATE_16K, build, cue_audio, number_words, spoken_words

PAD_MS = 100
PASS_RATE = 0.9

ROUTINE = """\
title: Listening test
intro: A short routine to check that every line can be understood.
outro: That is the end of the listening test.
steps:
  - exercise: dead-bug
    hold: 20s
  - exercise: glute-bridge
    reps: 6
    tempo: 3s
"""

HAND_PHONES = {
    "glute": "G L UW T",
    "glutes": "G L UW T S",
    "psoas": "S OW AE Z",
    "iliopsoas": "IH L IY OW S OW AE Z",
    "iliacus": "IH L IY AE K AH S",
    "clamshells": "K L AE M SH EH L Z",
    "sartorius": "S AA R T AO R IY AH S",
    "trochanter": "T R OW K AE N T ER",
    "myofascial": "M AY OW F AE SH AH L",
}
"""ARPAbet for words CMUdict lacks, written as the voice says them (after the lexicon)."""

_VOICELESS = frozenset({"P", "T", "K", "F", "TH"})
_LETTER_PHONES = {
    "a": "AE",
    "b": "B",
    "c": "K",
    "d": "D",
    "e": "EH",
    "f": "F",
    "g": "G",
    "h": "HH",
    "i": "IH",
    "j": "JH",
    "k": "K",
    "l": "L",
    "m": "M",
    "n": "N",
    "o": "AA",
    "p": "P",
    "q": "K",
    "r": "R",
    "s": "S",
    "t": "T",
    "u": "AH",
    "v": "V",
    "w": "W",
    "x": "K S",
    "y": "Y",
    "z": "Z",
    "'": "",
}
Lookup = Callable[[str], "str | None"]


def normalise(text: str) -> str:
    """Lowercase words only: numbers spelled out, hyphens split, other punctuation gone."""
    return " ".join(spoken_words(text))


def _plural(phones: str) -> str:
    last = phones.split()[-1]
    if last in {"S", "Z", "SH", "ZH", "CH", "JH"}:
        return phones + " IH Z"
    return phones + (" S" if last in _VOICELESS else " Z")


def _compound(word: str, lookup: Lookup) -> str | None:
    for cut in range(len(word) - 2, 1, -1):
        head, tail = lookup(word[:cut]), lookup(word[cut:])
        if head and tail:
            return f"{head} {tail}"
    return None


def _letters(word: str) -> str:
    phones = (_LETTER_PHONES.get(c, "") for c in word)
    return " ".join(p for p in phones if p) or "AH"


def pronounce(word: str, lookup: Lookup) -> str:
    """Phones for a word CMUdict lacks: hand-written, a plural, a compound, else letters."""
    if word in HAND_PHONES:
        return HAND_PHONES[word]
    for stem in (word[:-1], word[:-2]) if word.endswith("s") else ():
        found = HAND_PHONES.get(stem) or lookup(stem)
        if found:
            return _plural(found)
    return _compound(word, lookup) or _letters(word)


def grammar(lines: Iterable[str]) -> str:
    """A JSGF grammar with one public rule: exactly one of ``lines``."""
    options = " | ".join(f"( {line} )" for line in sorted(set(lines)))
    return f"#JSGF V1.0;\ngrammar cues;\npublic <cue> = {options};\n"


def make_decoder(lines: Iterable[str]) -> Any:
    """A 16 kHz pocketsphinx decoder that can only hear one of ``lines``.

    ``bestpath=False`` takes the grammar search's own best path: the lattice rescoring
    returns nothing at all for many one-word cues ("back", "out") under 300 ms.
    """
    from pocketsphinx import Decoder, get_model_path

    lines = sorted(set(lines))
    decoder = Decoder(
        hmm=get_model_path("en-us/en-us"),
        dict=get_model_path("en-us/cmudict-en-us.dict"),
        lm=None,
        samprate=RATE_16K,
        loglevel="FATAL",
        bestpath=False,
    )
    for word in sorted({w for line in lines for w in line.split()}):
        if decoder.lookup_word(word) is None:
            decoder.add_word(word, pronounce(word, decoder.lookup_word), True)
    decoder.add_jsgf_string("cues", grammar(lines))
    decoder.activate_search("cues")
    return decoder


def hear(decoder: Any, audio: npt.NDArray[np.float32]) -> str:
    """What the decoder hears in 16 kHz float audio ('' for nothing)."""
    pcm = np.clip(np.rint(audio * 32767), -32768, 32767).astype("<i2").tobytes()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return str(hyp.hypstr) if hyp is not None else ""


@dataclass
class Recognition:
    """How many of a build's spoken cues the recogniser got exactly right."""

    recognised: int = 0
    total: int = 0
    misses: list[tuple[str, str]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Fraction recognised (0 for no cues)."""
        return self.recognised / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.recognised} of {self.total} cues recognised ({100 * self.rate:.1f} %)"


def recognition(mp3: Path, timeline: Path) -> Recognition:
    """Recognise every speech event of a built MP3 against its own lines."""
    from routinecast.audio.decode import decode_audio

    doc = json.loads(timeline.read_text(encoding="utf-8"))
    rate = int(doc["sample_rate"])
    speech = [e for e in doc["events"] if e["kind"] == "speech"]
    decoder = make_decoder(normalise(e["text"]) for e in speech)
    samples = decode_audio(mp3, rate)
    result = Recognition(total=len(speech))
    for event in speech:
        want, got = normalise(event["text"]), hear(decoder, cue_audio(samples, event, rate, PAD_MS))
        if got == want:
            result.recognised += 1
        else:
            result.misses.append((want, got))
    return result


@pytest.mark.slow
def test_piper_speech_is_recognised(tmp_path: Path) -> None:
    pytest.importorskip("pocketsphinx")
    routine = tmp_path / "listening-test.yaml"
    routine.write_text(ROUTINE, encoding="utf-8")
    result = recognition(*build(routine, tmp_path / "out", "piper"))
    assert result.total >= 20
    assert result.rate >= PASS_RATE, f"{result}; misses: {result.misses}"


def test_cues_are_resampled_to_16_khz() -> None:
    samples = np.zeros(22050 * 3, np.float32)
    event = {"start_ms": 1000, "end_ms": 2000}
    assert len(cue_audio(samples, event, 22050, PAD_MS)) == 19_200  # 1.2 s at 16 kHz


def test_normalise_spells_numbers_and_drops_punctuation() -> None:
    assert normalise("Rest 45 seconds. Knee-to-chest hug is next!") == (
        "rest forty five seconds knee to chest hug is next"
    )
    assert normalise("That's 120 reps, 'done'.") == "that's one hundred twenty reps done"
    assert number_words(2000) == "two thousand" and number_words(13) == "thirteen"


def test_missing_words_get_pronunciations() -> None:
    words = {"clam": "K L AE M", "shell": "SH EH L", "tilt": "T IH L T", "bridge": "B R IH JH"}
    lookup = words.get
    assert pronounce("glute", lookup) == "G L UW T"
    assert pronounce("tilts", lookup) == "T IH L T S"
    assert pronounce("bridges", lookup) == "B R IH JH IH Z"
    assert pronounce("clamshell", lookup) == "K L AE M SH EH L"
    assert pronounce("zxq", lookup) == "Z K S K"


def main() -> None:
    """Report the figure for a built MP3, or build a routine first."""
    parser = argparse.ArgumentParser(description="Recognition rate of a build's spoken cues.")
    parser.add_argument("mp3", type=Path, nargs="?")
    parser.add_argument("timeline", type=Path, nargs="?")
    parser.add_argument("--build", type=Path, help="routine to build first (default: the test's)")
    parser.add_argument("--engine", default=None)
    args = parser.parse_args()
    if args.mp3 is None:
        with tempfile.TemporaryDirectory() as tmp:
            routine = args.build or Path(tmp) / "listening-test.yaml"
            if args.build is None:
                routine.write_text(ROUTINE, encoding="utf-8")
            _report(recognition(*build(routine, Path(tmp) / "out", args.engine)))
        return
    timeline = args.timeline or args.mp3.with_suffix(".timeline.json")
    _report(recognition(args.mp3, timeline))


def _report(result: Recognition) -> None:
    print(result)
    for want, got in result.misses:
        print(f"  said: {want!r}\n  heard: {got!r}")


if __name__ == "__main__":
    main()
