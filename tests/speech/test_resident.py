"""Voices kept loaded for the life of the process: one load per voice, thread count and files."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from routinecast.speech.engines import resident
from routinecast.speech.engines.piper_engine import PiperEngine

LINE = "Squeeze the back glute."


@pytest.fixture(autouse=True)
def fresh() -> None:
    resident.forget_all()


def test_a_key_is_loaded_once_and_the_least_recently_used_dropped_first() -> None:
    loads: list[str] = []

    def loader(name: str) -> object:
        return lambda: loads.append(name) or object()

    first = resident.resident("a", loader("a"))
    assert resident.resident("a", loader("a")) is first
    resident.resident("b", loader("b"))
    resident.resident("a", loader("a"))  # a used last: b goes when c comes
    resident.resident("c", loader("c"))
    assert resident.resident("a", loader("a")) is first
    resident.resident("b", loader("b"))
    assert loads == ["a", "b", "c", "b"]


def test_a_file_is_known_by_its_path_size_and_time(tmp_path: Path) -> None:
    path = tmp_path / "voice.onnx"
    assert resident.file_identity(path) is None
    path.write_bytes(b"one")
    before = resident.file_identity(path)
    path.write_bytes(b"three")
    assert before is not None and resident.file_identity(path) not in (None, before)


def test_a_second_engine_speaks_with_the_voice_the_first_loaded() -> None:
    first, second = PiperEngine(threads=1), PiperEngine(threads=1)
    spoken = first.synthesize(LINE)
    assert second._load() is first._load()
    np.testing.assert_array_equal(second.synthesize(LINE), spoken)
    assert PiperEngine(threads=2)._load() is not first._load()  # its own thread count


def test_engines_sharing_a_voice_speak_from_two_threads_at_once() -> None:
    lines = [LINE, "Lower your hips slowly, one vertebra at a time."]
    alone = [PiperEngine(threads=1).synthesize(line) for line in lines]
    together: dict[int, np.ndarray] = {}
    start = threading.Barrier(2)

    def speak(index: int) -> None:
        engine = PiperEngine(threads=1)
        start.wait()
        together[index] = engine.synthesize(lines[index])

    threads = [threading.Thread(target=speak, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, clip in enumerate(alone):
        np.testing.assert_array_equal(together[index], clip)
