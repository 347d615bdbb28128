"""Sentence parts: a changed line speaks only its new sentences, and comes out sample for
sample as if spoken whole (``speech.parts``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from routinecast.dsp.samples import Samples
from routinecast.errors import EngineError
from routinecast.speech.cache import CLIP, PART, ClipCache
from routinecast.speech.clip import speak_checked
from routinecast.speech.engines.base import (
    SentenceMemo,
    join_sentences,
    speak,
    to_rate,
    trim_silence,
)
from routinecast.speech.engines.fake import SilentEngine
from routinecast.speech.engines.piper_engine import NOISE_SCALE, NOISE_W, PiperEngine
from routinecast.speech.engines.registry import EngineSpec
from routinecast.speech.lexicon import Lexicon
from routinecast.speech.parts import SentenceParts, memo_for
from routinecast.speech.synth import Synthesizer

BEFORE = "Next: Half-kneeling hip flexor stretch. 2 sets of 45 seconds on each side."
AFTER = "Next: Half-kneeling hip flexor stretch. 2 sets of 47 seconds on each side."
IDENTITY = {"engine": "piper", "voice": "v", "rate": "1", "version": "x"}


@pytest.fixture(scope="module")
def piper() -> PiperEngine:
    return PiperEngine(threads=1)


@pytest.fixture
def model_runs(piper: PiperEngine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many ids each run of piper's model was fed (the voice is loaded first)."""
    voice, runs = piper._load(), []
    real = voice.phoneme_ids_to_audio

    def counted(ids: list[int], *args: Any, **kwargs: Any) -> Any:
        runs.append(len(ids))
        return real(ids, *args, **kwargs)

    monkeypatch.setattr(voice, "phoneme_ids_to_audio", counted)
    yield runs


def _piper_whole(engine: PiperEngine, text: str) -> Samples:
    """What the engine made before it spoke by sentence: piper's own loop over the text."""
    from piper import SynthesisConfig

    config = SynthesisConfig(
        length_scale=engine._length_scale / engine.rate,
        noise_scale=NOISE_SCALE,
        noise_w_scale=NOISE_W,
        normalize_audio=False,
    )
    chunks = engine._load().synthesize(text, syn_config=config)
    parts = [trim_silence(to_rate(np.asarray(c.audio_float_array), c.sample_rate)) for c in chunks]
    return join_sentences([p for p in parts if p.size])


def test_by_sentence_is_piper_speaking_the_whole_text(piper: PiperEngine) -> None:
    text = "Breathe in, and out. Good! Three more; keep going? " + BEFORE
    assert np.array_equal(piper.synthesize(text), _piper_whole(piper, text))


def test_a_changed_line_speaks_only_its_new_sentence(
    piper: PiperEngine, model_runs: list[int], tmp_path: Path
) -> None:
    memo = SentenceParts(tmp_path, piper.identity())
    piper.synthesize(BEFORE, memo=memo)
    assert len(model_runs) == 2 and len(list(tmp_path.glob(f"*/*{PART}"))) == 2
    after = piper.synthesize(AFTER, memo=memo)
    assert len(model_runs) == 3, "the shared first sentence is not spoken again"
    again = piper.synthesize(AFTER, memo=memo)
    assert len(model_runs) == 3 and np.array_equal(again, after)
    assert np.array_equal(after, _piper_whole(piper, AFTER))


def test_a_part_is_kept_per_voice_rate_and_version(tmp_path: Path) -> None:
    one = SentenceParts(tmp_path, IDENTITY)
    assert one.key("1 2 3") == SentenceParts(tmp_path, dict(IDENTITY)).key("1 2 3")
    assert one.key("1 2 3") != one.key("1 2 4")
    for field in IDENTITY:
        other = SentenceParts(tmp_path, {**IDENTITY, field: "changed"})
        assert other.key("1 2 3") != one.key("1 2 3"), field


def test_a_damaged_part_is_spoken_again(
    piper: PiperEngine, model_runs: list[int], tmp_path: Path
) -> None:
    memo = SentenceParts(tmp_path, piper.identity())
    first = piper.synthesize("Switch to your left side.", memo=memo)
    (stored,) = tmp_path.glob(f"*/*{PART}")
    stored.write_bytes(stored.read_bytes()[:-8])
    assert np.array_equal(piper.synthesize("Switch to your left side.", memo=memo), first)
    assert len(model_runs) == 2 and stored.exists()


class _Sentences(SilentEngine):
    """A hum per sentence ("." ends one), each kept in the memo; ``cut``: all cut off."""

    remembers_sentences = True

    def __init__(self, cut: bool = False) -> None:
        super().__init__()
        self.cut = cut

    def synthesize(self, text: str, memo: SentenceMemo | None = None) -> Samples:
        parts = []
        for sentence in [f"{s.strip()}." for s in text.split(".") if s.strip()]:
            part = memo.get(sentence) if memo is not None else None
            if part is None:
                part = super().synthesize(sentence)[: 10 if self.cut else None]
                if memo is not None:
                    memo.put(sentence, part)
            parts.append(part)
        return join_sentences(parts)


def test_a_line_keeps_its_sentences_once_it_is_found_plausible(tmp_path: Path) -> None:
    memo, engine = SentenceParts(tmp_path, IDENTITY), _Sentences()
    speak_checked(engine, "Breathe in slowly. Now hold it.", rate=1.0, memo=memo)
    assert memo.get("Breathe in slowly.") is not None and memo.get("Now hold it.") is not None


def test_the_sentences_of_an_implausible_line_are_not_kept(tmp_path: Path) -> None:
    memo, engine = SentenceParts(tmp_path, IDENTITY), _Sentences(cut=True)
    with pytest.raises(EngineError, match="implausible"):
        speak_checked(engine, "Breathe in slowly. Now hold it.", rate=1.0, memo=memo)
    assert engine.calls == ["Breathe in slowly.", "Now hold it."] * 2, "spoken afresh"
    assert not list(tmp_path.rglob(f"*{PART}"))


def test_a_memo_only_for_an_engine_that_speaks_by_sentence(tmp_path: Path) -> None:
    assert memo_for(SilentEngine(), tmp_path) is None
    piper = PiperEngine()
    memo = memo_for(piper, tmp_path)
    assert isinstance(memo, SentenceParts) and memo.cache.root == tmp_path
    assert memo.key("1 2") == SentenceParts(tmp_path, piper.identity()).key("1 2")


def test_only_an_engine_that_remembers_is_given_the_memo(tmp_path: Path) -> None:
    engine = SilentEngine()
    speak(engine, "Two sentences. Both new.", SentenceParts(tmp_path, IDENTITY))
    assert engine.calls == ["Two sentences. Both new."]
    assert not list(tmp_path.rglob(f"*{PART}"))


def test_the_synthesizer_hands_piper_its_parts(model_runs: list[int], tmp_path: Path) -> None:
    engine = PiperEngine(threads=1)  # shares the loaded voice the fixture counts
    synth = Synthesizer(EngineSpec("piper"), Lexicon(), ClipCache(tmp_path), engine=engine)
    synth.clips([BEFORE])
    runs = len(model_runs)
    clips = synth.clips([AFTER])
    assert synth.stats.made == 1 and len(model_runs) == runs + 1
    alone = Synthesizer(EngineSpec("piper"), Lexicon(), ClipCache(tmp_path / "alone"), workers=1)
    assert np.array_equal(clips[AFTER], alone.clips([AFTER])[AFTER])


@pytest.mark.slow
def test_workers_keep_and_use_parts(tmp_path: Path) -> None:
    texts = [f"Line {n} for a worker. Hold it there." for n in range(2)]
    synth = Synthesizer(EngineSpec("piper"), Lexicon(), ClipCache(tmp_path), workers=2)
    clips = synth.clips(texts)
    assert synth.stats.workers == 2
    assert len(list(tmp_path.glob(f"*/*{CLIP}"))) == 2
    assert len(list(tmp_path.glob(f"*/*{PART}"))) == 3, "the shared sentence once"
    one_thread = PiperEngine(threads=1)  # as in a worker: see test_exact's thread counts
    alone = Synthesizer(
        EngineSpec("piper"), Lexicon(), ClipCache(tmp_path / "alone"), engine=one_thread
    )
    for text in texts:
        assert np.array_equal(clips[text], alone.clips([text])[text])


def test_size_counts_parts_and_clear_removes_them(tmp_path: Path) -> None:
    cache, memo = ClipCache(tmp_path), SentenceParts(tmp_path, IDENTITY)
    cache.store("ab" * 32, np.zeros(100, np.float32))
    memo.put("1 2 3", np.zeros(50, np.float32))
    count, size = cache.size()
    assert count == 1 and size == sum(p.stat().st_size for p in tmp_path.rglob("*.*"))
    assert memo.get("1 2 3") is not None
    assert cache.clear() == 1 and memo.get("1 2 3") is None
