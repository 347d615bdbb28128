"""The clip cache: complete keys, exact round trips, damage detected, atomic writes."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import numpy as np
import pytest

from routinecast.dsp.samples import Samples
from routinecast.errors import CacheError
from routinecast.speech.cache import HEADER, MAGIC, PROCESSING, ClipCache, clip_key
from routinecast.speech.engines.fake import SilentEngine
from routinecast.speech.lexicon import Lexicon
from routinecast.speech.synth import EngineSpec, Synthesizer

IDENTITY = {"engine": "piper", "voice": "en_US-joe-medium", "rate": "1", "version": "piper 1.3"}


def a_clip(n: int = 2205, seed: int = 1) -> Samples:
    return np.random.default_rng(seed).uniform(-0.5, 0.5, n).astype(np.float32)


# --------------------------------------------------------------------------- keys


def test_same_inputs_same_key() -> None:
    assert clip_key("Begin.", IDENTITY) == clip_key("Begin.", dict(reversed(IDENTITY.items())))
    assert clip_key("Begin.", IDENTITY) == clip_key("Begin.", IDENTITY)


@pytest.mark.parametrize(
    "change",
    [
        {"engine": "pyttsx3"},
        {"voice": "en_US-other-medium"},
        {"rate": "1.1"},
        {"version": "piper 1.4"},
    ],
    ids=["engine", "voice", "rate", "engine-version"],
)
def test_every_identity_field_changes_the_key(change: dict[str, str]) -> None:
    assert clip_key("Begin.", {**IDENTITY, **change}) != clip_key("Begin.", IDENTITY)


def test_text_changes_the_key() -> None:
    assert clip_key("Begin.", IDENTITY) != clip_key("Begin!", IDENTITY)
    assert clip_key("Begin.", IDENTITY) != clip_key("begin.", IDENTITY)


def test_processing_version_is_in_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    before = clip_key("Begin.", IDENTITY)
    monkeypatch.setattr("routinecast.speech.cache.PROCESSING", PROCESSING + "-next")
    assert clip_key("Begin.", IDENTITY) != before


def _keys(lexicon: Lexicon, texts: list[str]) -> dict[str, str]:
    synth = Synthesizer(EngineSpec("fake"), lexicon, ClipCache(Path("unused")), SilentEngine())
    return synth.keys(texts)


def test_lexicon_output_is_what_is_keyed() -> None:
    texts = ["Squeeze the zorbly muscle.", "Breathe out."]
    plain = _keys(Lexicon(), texts)
    respelled = _keys(Lexicon([("zorbly", "zor blee")]), texts)
    assert respelled[texts[0]] != plain[texts[0]], "the respelled text is new speech"
    assert respelled[texts[1]] == plain[texts[1]], "untouched text keeps its clip"
    same_sound = _keys(Lexicon([("zorbly", "zor blee"), ("unused", "un used")]), texts)
    assert same_sound == respelled, "an entry that changes no text changes no key"


# --------------------------------------------------------------------------- files


def test_store_load_round_trip(tmp_path: Path) -> None:
    cache, clip = ClipCache(tmp_path), a_clip()
    cache.store("ab" * 32, clip)
    loaded = cache.load("ab" * 32)
    assert loaded is not None and loaded.dtype == np.float32
    assert np.array_equal(loaded, clip)
    assert cache.length("ab" * 32) == len(clip)
    assert cache.size() == (1, HEADER.size + 4 * len(clip))


def test_missing_clip_is_none(tmp_path: Path) -> None:
    assert ClipCache(tmp_path).load("cd" * 32) is None
    assert ClipCache(tmp_path).length("cd" * 32) is None


def _damaged(data: bytes, how: str) -> bytes:
    if how == "truncated":
        return data[: len(data) - 7]
    if how == "header-only":
        return data[: HEADER.size - 3]
    if how == "empty":
        return b""
    if how == "flipped":
        return data[:-1] + bytes([data[-1] ^ 0x01])
    if how == "wrong-magic":
        return b"RCCLIP00" + data[len(MAGIC) :]
    if how == "extra":
        return data + b"\x00\x00\x00\x00"
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how", ["truncated", "header-only", "empty", "flipped", "wrong-magic", "extra"]
)
def test_damaged_file_is_none_and_deleted(tmp_path: Path, how: str) -> None:
    cache, key = ClipCache(tmp_path), "ef" * 32
    cache.store(key, a_clip())
    path = cache.path(key)
    path.write_bytes(_damaged(path.read_bytes(), how))
    assert cache.load(key) is None
    assert not path.exists()
    cache.store(key, a_clip())
    assert cache.load(key) is not None


def test_store_leaves_no_temporaries(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path)
    for seed in range(5):
        cache.store(f"{seed:02d}" * 32, a_clip(seed=seed))
    names = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert len(names) == 5 and all(n.endswith(".clip") for n in names)


@pytest.mark.parametrize("fault", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_failed_store_removes_its_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: BaseException
) -> None:
    cache, key = ClipCache(tmp_path), "12" * 32

    def replace(src: str, dst: str) -> None:
        raise fault

    monkeypatch.setattr("routinecast.store.os.replace", replace)
    expected: type[BaseException] = CacheError if isinstance(fault, OSError) else KeyboardInterrupt
    with pytest.raises(expected) as caught:
        cache.store(key, a_clip())
    if expected is CacheError:
        assert "No space left on device" in str(caught.value)
        assert "ROUTINECAST_CACHE_DIR" in str(caught.value)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_clear_and_size(tmp_path: Path) -> None:
    cache = ClipCache(tmp_path / "clips")
    assert cache.size() == (0, 0) and cache.clear() == 0
    for seed in range(3):
        cache.store(f"{seed:02d}" * 32, a_clip(seed=seed))
    (cache.root / "00" / ".00000000-stray.tmp").write_bytes(b"half")
    assert cache.size()[0] == 3
    assert cache.clear() == 3
    assert [p for p in cache.root.rglob("*") if p.is_file()] == []


# --------------------------------------------------------------------------- concurrency


def _store_many(root: str, key: str, rounds: int) -> None:
    cache = ClipCache(Path(root))
    for _ in range(rounds):
        cache.store(key, a_clip(n=22050))


def test_two_processes_store_the_same_key(tmp_path: Path) -> None:
    key = clip_key("Both at once.", IDENTITY)
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_store_many, args=(str(tmp_path), key, 150)) for _ in range(2)]
    for proc in procs:
        proc.start()
    cache, seen = ClipCache(tmp_path), 0
    while any(p.is_alive() for p in procs):
        clip = cache.load(key)  # never half a clip: absent, or whole
        if clip is not None:
            assert np.array_equal(clip, a_clip(n=22050))
            seen += 1
    for proc in procs:
        proc.join(30)
        assert proc.exitcode == 0
    final = cache.load(key)
    assert final is not None and np.array_equal(final, a_clip(n=22050))
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [f"{key}.clip"]
    assert os.path.getsize(cache.path(key)) == HEADER.size + 4 * 22050
