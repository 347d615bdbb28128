"""The store of built files: whole files by key, checked on read, bounded least recently used."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from routinecast.store import (
    STORE_MB_ENV,
    FileStore,
    cache_root,
    file_digest,
    inputs_key,
    remove_quietly,
    write_atomic,
)


def a_file(folder: Path, name: str, size: int, fill: bytes = b"x") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(fill * size)
    return path


def test_put_then_get_returns_the_same_bytes(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "cache", limit_bytes=10_000)
    source = a_file(tmp_path, "a.mp3", 1000)
    assert store.get("k1") is None
    store.put("k1", source)
    found = store.get("k1")
    assert found is not None and found.read_bytes() == source.read_bytes()
    assert found.name == f"{file_digest(source)}.blob", "named by its content"


def test_identical_files_are_stored_once(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "cache", limit_bytes=10_000)
    store.put("k1", a_file(tmp_path, "a.mp3", 1000))
    store.put("k2", a_file(tmp_path, "b.mp3", 1000))
    assert store.size().files == 1
    assert store.get("k1") == store.get("k2")


@pytest.mark.parametrize("how", ["flipped", "truncated", "ref-garbage", "blob-gone"])
def test_a_damaged_entry_is_dropped(tmp_path: Path, how: str) -> None:
    store = FileStore(tmp_path / "cache", limit_bytes=10_000)
    store.put("k1", a_file(tmp_path, "a.mp3", 1000))
    blob = store.get("k1")
    assert blob is not None
    ref = store.folder / "k1.ref"
    if how == "flipped":
        data = bytearray(blob.read_bytes())
        data[500] ^= 0xFF
        blob.write_bytes(bytes(data))
    elif how == "truncated":
        blob.write_bytes(blob.read_bytes()[:10])
    elif how == "ref-garbage":
        ref.write_bytes(b"\xff\xfe not a digest")
    else:
        blob.unlink()
    assert store.get("k1") is None
    assert not ref.exists()
    if how != "ref-garbage":  # a blob that still matches its name is left to the eviction
        assert store.size().files == 0


def test_least_recently_used_go_first(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "cache", limit_bytes=2500)
    for number, fill in enumerate((b"a", b"b")):
        store.put(f"k{number}", a_file(tmp_path, f"{number}.mp3", 1000, fill))
    old = store.folder / f"{file_digest(tmp_path / '0.mp3')}.blob"
    os.utime(old, (1, 1))  # long unused: k0 goes, not k1
    os.utime(store.folder / f"{file_digest(tmp_path / '1.mp3')}.blob", (2, 2))
    assert store.get("k0") is not None  # used again now
    store.put("k2", a_file(tmp_path, "2.mp3", 1000, b"c"))
    assert store.get("k1") is None, "the least recently used went"
    assert store.get("k0") is not None and store.get("k2") is not None
    assert store.size().bytes <= 2500
    assert not (store.folder / "k1.ref").exists()


def test_one_store_counts_its_folder_once_while_under_its_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileStore(tmp_path / "cache", limit_bytes=10_500)
    for number in range(3):  # stored by other builds
        FileStore(tmp_path / "cache", limit_bytes=10_500).put(
            f"old{number}", a_file(tmp_path, f"old{number}.mp3", 1000, bytes([number]))
        )
    scans: list[str] = []
    stats = FileStore._stats

    def counted(self: FileStore, pattern: str) -> object:
        scans.append(pattern)
        return stats(self, pattern)

    monkeypatch.setattr(FileStore, "_stats", counted)
    for number in range(7):  # a build's pieces and MP3: 3 + 7 files of 1000 bytes fit
        store.put(f"k{number}", a_file(tmp_path, f"{number}.mp3", 1000, bytes([100 + number])))
    assert scans == ["*.blob"]
    store.put("k7", a_file(tmp_path, "7.mp3", 1000, b"z"))  # 11 000 bytes: over
    assert store.size().bytes <= 10_500
    assert [store.get(f"k{n}") is not None for n in range(8)] == [True] * 8  # the old went


def test_a_limit_of_zero_turns_the_store_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STORE_MB_ENV, "0")
    store = FileStore(tmp_path / "cache")
    store.put("k1", a_file(tmp_path, "a.mp3", 100))
    assert store.get("k1") is None and not store.folder.exists()


def test_clear_removes_everything(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "cache", limit_bytes=10_000)
    store.put("k1", a_file(tmp_path, "a.mp3", 100))
    (store.folder / ".stray-1234.tmp").write_bytes(b"half")
    assert store.clear() == 1
    assert list(store.folder.iterdir()) == []


def test_put_never_raises_on_an_unwritable_store(tmp_path: Path) -> None:
    blocked = tmp_path / "cache"
    blocked.write_bytes(b"a file where the folder should be")
    FileStore(blocked, limit_bytes=10_000).put("k1", a_file(tmp_path, "a.mp3", 100))


def test_write_atomic_leaves_no_temporary_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("routinecast.store.os.replace", refuse)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "sub" / "x.gain", b"{}")
    assert [p.name for p in (tmp_path / "sub").iterdir()] == []


def test_inputs_key_covers_every_part_and_the_code() -> None:
    parts = {"timeline": "{}", "mp3": "96k"}
    assert inputs_key(parts) == inputs_key(dict(reversed(parts.items())))
    assert inputs_key(parts) != inputs_key({**parts, "mp3": "64k"})
    assert inputs_key(parts) != inputs_key({**parts, "music": None})


def test_cache_root_is_the_environment_or_the_user_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTINECAST_CACHE_DIR", "/somewhere/else")
    assert cache_root() == Path("/somewhere/else")
    monkeypatch.delenv("ROUTINECAST_CACHE_DIR")
    assert cache_root().parts[-2:] == ("routinecast", "clips")


def test_remove_quietly_takes_a_file_a_folder_or_nothing(tmp_path: Path) -> None:
    folder, file = tmp_path / "kept.voice", tmp_path / "a.tmp"
    (folder / "inner").mkdir(parents=True)
    (folder / "inner" / "graph.onnx").write_bytes(b"graph")
    file.write_bytes(b"half")
    for path in (folder, file, tmp_path / "never-there"):
        remove_quietly(path)
        assert not path.exists()
    assert list(tmp_path.iterdir()) == []
