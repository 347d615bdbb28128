"""Synthesis: only cache misses are spoken, engine failures become ``EngineError``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from routinecast import pipeline
from routinecast.dsp.samples import Samples
from routinecast.errors import EngineError
from routinecast.load.overrides import parse_overrides
from routinecast.pipeline import BuildOptions
from routinecast.speech.cache import ClipCache
from routinecast.speech.clip import make_clip
from routinecast.speech.engines.fake import SilentEngine
from routinecast.speech.lexicon import Lexicon
from routinecast.speech.pool import signals_held
from routinecast.speech.synth import EngineSpec, Synthesizer
from routinecast.timing.script import build_script, spoken_texts

ROUTINE = """\
title: Synth Check
steps:
  - exercise: knees-over-towel-psoas-release
    hold: 30s
  - exercise: dead-bug
    hold: 12s
"""


def synth_for(cache: Path, engine: SilentEngine, lexicon: Lexicon | None = None) -> Synthesizer:
    return Synthesizer(EngineSpec("fake"), lexicon or Lexicon(), ClipCache(cache), engine)


def texts_of(path: Path, options: BuildOptions) -> tuple[list[str], Lexicon]:
    routine = pipeline.load(path, options)
    return spoken_texts(build_script(routine)), Lexicon(routine.lexicon)


def test_only_misses_are_synthesised(tmp_path: Path) -> None:
    texts = ["Begin on the tone.", "Halfway.", "Rest for 15 seconds."]
    first = SilentEngine()
    made = synth_for(tmp_path, first).clips(texts[:2])
    assert first.calls == texts[:2]
    second = SilentEngine()
    synth = synth_for(tmp_path, second)
    clips = synth.clips(texts)
    assert second.calls == ["Rest for 15 seconds."]
    assert (synth.stats.made, synth.stats.cached) == (1, 2)
    assert synth.stats.made_texts == ["Rest for 15 seconds."]
    assert np.array_equal(clips["Halfway."], made["Halfway."])
    third = SilentEngine()
    synth_for(tmp_path, third).clips(texts)
    assert third.calls == []


def test_lexicon_changes_what_the_engine_hears(tmp_path: Path) -> None:
    engine = SilentEngine()
    synth = synth_for(tmp_path, engine, Lexicon([("zorbly", "zor blee")]))
    clips = synth.clips(["Squeeze the zorbly muscle."])
    assert engine.calls == ["Squeeze the zor blee muscle."]
    assert list(clips) == ["Squeeze the zorbly muscle."], "clips stay keyed by display text"


def test_changing_a_hold_respeaks_only_new_words(tmp_path: Path) -> None:
    path = tmp_path / "synth-check.yaml"
    path.write_text(ROUTINE, encoding="utf-8")
    base = BuildOptions(engine="fake")
    before, lexicon = texts_of(path, base)
    synth_for(tmp_path / "cache", SilentEngine(), lexicon).clips(before)

    held = BuildOptions(engine="fake", overrides=parse_overrides(sets=("1.hold=45s",)))
    after, _ = texts_of(path, held)
    engine = SilentEngine()
    synth = synth_for(tmp_path / "cache", engine, lexicon)
    synth.clips(after)

    new = [t for t in after if t not in before]
    assert engine.calls == [synth.spoken(t) for t in new]
    assert new == ["First: Knees-over-towel psoas release. 45 seconds."]
    setup = next(t for t in after if t.startswith("Go down onto both knees"))
    assert setup in before and synth.spoken(setup) not in engine.calls
    assert synth.stats.made == 1 and synth.stats.cached == len(after) - 1


class _Broken(SilentEngine):
    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def synthesize(self, text: str) -> Samples:
        raise self.error


@pytest.mark.parametrize(
    "error", [RuntimeError("onnx exploded"), KeyError("num_symbols"), ValueError("")]
)
def test_foreign_engine_exceptions_become_engine_errors(error: Exception) -> None:
    with pytest.raises(EngineError) as caught:
        make_clip(_Broken(error), "Begin on the tone.")
    message = str(caught.value)
    assert message.startswith("the fake speech engine failed on 'Begin on the tone.': ")
    assert type(error).__name__ in message
    assert caught.value.__cause__ is error


def test_engine_errors_pass_through_and_interrupts_are_not_wrapped() -> None:
    with pytest.raises(EngineError, match="told to fail"):
        make_clip(SilentEngine(fail_on="tone"), "Begin on the tone.")
    with pytest.raises(KeyboardInterrupt):
        make_clip(_Broken(KeyboardInterrupt()), "Begin on the tone.")


def test_empty_audio_is_an_engine_error() -> None:
    with pytest.raises(EngineError, match="returned no audio"):
        make_clip(SilentEngine(lengths={"x": 0}, min_ms=0), "x")


def test_nothing_half_made_is_cached(tmp_path: Path) -> None:
    texts = [f"Line number {n}." for n in range(6)]
    engine = SilentEngine(fail_on="number 3")
    with pytest.raises(EngineError):
        synth_for(tmp_path, engine).clips(texts)
    assert ClipCache(tmp_path).size()[0] == 3
    assert [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".clip"] == []


def test_a_given_engine_is_never_swapped_for_workers(tmp_path: Path) -> None:
    """Workers rebuild the engine from its spec, so a passed-in engine stays in-process."""
    texts = [f"Line number {n} of a long routine, long enough for workers." for n in range(80)]
    engine = SilentEngine()
    synth = Synthesizer(EngineSpec("piper"), Lexicon(), ClipCache(tmp_path), engine, workers=4)
    synth.clips(texts)
    assert synth.stats.workers == 0 and len(engine.calls) == len(texts)


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks")
def test_ctrl_c_while_workers_start_is_held_then_raised() -> None:
    handler = signal.getsignal(signal.SIGINT)
    reached = False
    with pytest.raises(KeyboardInterrupt), signals_held() as block:
        block()
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # still here: the signal waits
        reached = True
    assert reached
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
    assert signal.getsignal(signal.SIGINT) is handler


WORKER_SIGNALS = """
import time
from pathlib import Path
from routinecast.speech.pool import _start
from routinecast.speech.synth import EngineSpec

def sigint_shielded(pid):
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    bit = 1 << 1  # SIGINT is signal 2
    return bool(int(fields["SigBlk"], 16) & bit or int(fields["SigIgn"], 16) & bit)

pool, futures = _start(EngineSpec("fake"), 2, {str(n): f"line {n}" for n in range(4)})
states = []
for _ in range(40):  # while the workers boot, and after
    states += [sigint_shielded(pid) for pid in list(pool._processes)]
    time.sleep(0.05)
for future in futures:
    future.result()
pool.shutdown()
print(len(states), all(states))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_workers_never_take_ctrl_c_even_while_booting() -> None:
    """A fresh process (its resource tracker not yet started, which unblocks SIGINT)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", WORKER_SIGNALS],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    count, shielded = done.stdout.split()
    assert int(count) > 0 and shielded == "True"


def test_workers_only_where_they_pay() -> None:
    from routinecast.speech.costs import levellers, worker_count

    line = 60  # characters, a typical cue
    for lines in (63, 150, 400):  # eSpeak: a routine never pays a worker's start-up
        assert worker_count("pyttsx3", lines * line, lines, cores=2) == 0
    assert levellers("pyttsx3", 63 * line, 63, cores=2) == 2, "levelling is its longer part"
    assert worker_count("piper", 63 * line, 63, cores=2) == 2
    for lines in (1, 2, 5):  # a changed hold or two: the voice loads here
        assert worker_count("piper", lines * line, lines, cores=2) == 0
    assert levellers("piper", 5 * line, 5, cores=2) == 1
    assert worker_count("piper", 63 * line, 63, cores=1) == 0


@pytest.mark.slow
def test_a_line_spoken_here_does_not_import_the_pool(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from routinecast.speech.cache import ClipCache\n"
        "from routinecast.speech.lexicon import Lexicon\n"
        "from routinecast.speech.synth import EngineSpec, Synthesizer\n"
        "synth = Synthesizer(EngineSpec('piper'), Lexicon(), ClipCache(Path(sys.argv[1])))\n"
        "synth.clips(['Hold for forty seconds.'])\n"
        "print(synth.stats.made, 'multiprocessing' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["1", "False"]


def test_a_count_asked_for_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTINECAST_WORKERS", "1")
    synth = Synthesizer(EngineSpec("piper"), Lexicon(), ClipCache(tmp_path))
    assert synth.asked and synth.workers == 1
    monkeypatch.delenv("ROUTINECAST_WORKERS")
    assert not Synthesizer(EngineSpec("piper"), Lexicon(), ClipCache(tmp_path)).asked


@pytest.mark.slow
def test_workers_exit_on_their_own_once_every_line_is_made(tmp_path: Path) -> None:
    import multiprocessing

    synth = Synthesizer(EngineSpec("pyttsx3"), Lexicon(), ClipCache(tmp_path), workers=2)
    texts = [f"Line number {n}, said by a worker." for n in range(4)]
    clips = synth.clips(texts)  # returns without waiting for the workers to exit
    assert synth.stats.workers == 2 and sorted(clips) == sorted(texts)
    deadline = time.monotonic() + 30
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert multiprocessing.active_children() == []
