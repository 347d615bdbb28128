"""Tests for routinecast.speech.engines.prepared: the piper graph optimised once, kept.

Real piper throughout: the voice is loaded from the kept graph and from the model
itself, and both speak the same samples.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from routinecast.speech.cache import ClipCache
from routinecast.speech.engines import prepared, resident
from routinecast.speech.engines.piper_engine import PiperEngine, _voice_files

LINE = "Lie on your back with both knees bent."


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROUTINECAST_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _kept() -> Path:
    model, _ = _voice_files(None)
    return prepared.prepared_path(model, onnxruntime.__version__)


def _speak() -> np.ndarray:
    """As a new process would: the voice loaded again, not the one this process keeps."""
    resident.forget_all()
    return np.asarray(PiperEngine(threads=1).synthesize(LINE))


def test_the_kept_graph_speaks_the_same_samples(cache: Path) -> None:
    (cache / prepared.FOLDER).mkdir(parents=True)
    old_layout = cache / prepared.FOLDER / "0123456789abcdef.onnx"
    old_layout.write_bytes(b"a graph kept in one file")
    first = _speak()
    kept = _kept()
    assert kept.is_file() and kept.parent.parent == cache / prepared.FOLDER
    weights = kept.with_name(prepared.WEIGHTS)
    assert weights.stat().st_size > 50_000_000 > kept.stat().st_size, "the weights apart"
    stamp = kept.stat().st_mtime_ns
    again = _speak()
    assert kept.stat().st_mtime_ns == stamp  # loaded, not written again
    np.testing.assert_array_equal(first, again)
    assert not list((cache / prepared.FOLDER).glob("*.tmp"))
    assert not old_layout.exists()


@pytest.mark.parametrize("part", [prepared.GRAPH, prepared.WEIGHTS])
def test_a_damaged_kept_graph_is_made_again(cache: Path, part: str) -> None:
    first = _speak()
    damaged = _kept().with_name(part)
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    np.testing.assert_array_equal(_speak(), first)
    assert _kept().with_name(prepared.WEIGHTS).stat().st_size > 50_000_000


def test_a_graph_kept_by_another_process_first_stays(tmp_path: Path) -> None:
    folder, ours = tmp_path / "abc.voice", tmp_path / ".abc-1-2.tmp"
    for made in (folder, ours):
        made.mkdir()
        (made / prepared.GRAPH).write_bytes(made.name.encode())
    prepared._keep(ours, folder)
    assert (folder / prepared.GRAPH).read_bytes() == b"abc.voice"
    assert not ours.exists()


def test_an_unwritable_cache_only_means_optimising_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("ROUTINECAST_CACHE_DIR", str(blocker / "cache"))
    assert _speak().size > 0


def test_cache_clear_removes_kept_graphs(cache: Path) -> None:
    _speak()
    ClipCache(cache).clear()
    assert not _kept().parent.exists()
    assert list((cache / prepared.FOLDER).iterdir()) == []
