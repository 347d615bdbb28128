"""The studio's Flask-free core: confinement, variant files, the build queue.

The API tests (``test_studio_api.py``) go through the same code over HTTP; these pin
the rules where they are made, with cases the page never sends.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from routinecast.dsp.samples import Samples
from routinecast.errors import EngineError, InputError
from routinecast.load.routine import load_routine
from routinecast.pipeline import BuildOptions, tailor
from routinecast.speech.engines.fake import SilentEngine
from routinecast.web.studio.confine import Confinement
from routinecast.web.studio.jobs import STOPPED, Job, JobQueue, Reporter
from routinecast.web.studio.requests import parse_body
from routinecast.web.studio.service import Studio, describe
from routinecast.web.studio.variants import (
    MARKER,
    step_changes,
    variant_path,
    variant_text,
    write_variant,
)

ROUTINES = Path(__file__).resolve().parents[2] / "routines"
SECRET = "root:x:0:0:SECRET-CONTENT"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the shipped routines folder."""
    return Path(shutil.copytree(ROUTINES, tmp_path / "routines"))


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the routines folder whose content must never be quoted."""
    path = tmp_path / "private" / "notes.yaml"
    path.parent.mkdir()
    path.write_text(f"{SECRET}\n", encoding="utf-8")
    return path


def _routine(folder: Path, name: str, head: str) -> Path:
    path = folder / name
    path.write_text(
        f"{head}\ntitle: Probe\nsteps:\n  - exercise: dead-bug\n    hold: 30s\n", encoding="utf-8"
    )
    return path


# -- confinement ------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["library", "extends"])
def test_a_routine_pointing_outside_is_refused_without_reading_it(
    folder: Path, outside: Path, field: str
) -> None:
    path = _routine(folder, "probe.yaml", f"{field}: {outside}")
    with pytest.raises(InputError) as caught:
        Confinement.for_folder(folder).check(path)
    assert caught.value.field == field
    assert caught.value.line == 1
    assert "SECRET" not in str(caught.value) and "root:x" not in str(caught.value)
    # the loader on its own would have quoted the file: that is what the check prevents
    with pytest.raises(InputError) as loader:
        load_routine(path)
    assert "root:x" in str(loader.value)


def test_relative_escapes_symlinks_and_library_folders_are_refused(
    folder: Path, outside: Path
) -> None:
    confinement = Confinement.for_folder(folder)
    relative = _routine(folder, "up.yaml", "library: ../private/notes.yaml")
    (folder / "link.yaml").symlink_to(outside)
    linked_parent = _routine(folder, "via-link.yaml", "extends: link.yaml")
    libs = folder / "libs"
    libs.mkdir()
    (libs / "more.yaml").symlink_to(outside)
    lib_folder = _routine(folder, "lib-folder.yaml", "library: [exercises.yaml, libs]")
    chained = _routine(folder, "chained.yaml", "extends: up.yaml")
    for path in (relative, linked_parent, lib_folder, chained, folder / "link.yaml"):
        with pytest.raises(InputError) as caught:
            confinement.check(path)
        assert "SECRET" not in str(caught.value), path


def test_routines_inside_and_the_shipped_library_pass(folder: Path) -> None:
    confinement = Confinement.for_folder(folder)
    chain = confinement.check(folder / "desk-hip-reset-weeks-1-2.yaml")
    assert [p.name for p in chain] == ["desk-hip-reset-weeks-1-2.yaml", "desk-hip-reset.yaml"]
    _routine(folder, "lib.yaml", "library: exercises.yaml")
    confinement.check(folder / "lib.yaml")


# -- variants ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ("Maria week 2", "desk-hip-reset-maria-week-2.yaml"),
        ("45s_holds", "desk-hip-reset-45s-holds.yaml"),
    ],
)
def test_variant_names_are_sanitised(folder: Path, name: str, file: str) -> None:
    assert variant_path(folder, "desk-hip-reset", name) == folder / file


@pytest.mark.parametrize(
    "name", ["../x", "/etc/passwd", "a/b", "..", ".hidden", "", "x" * 41, "a\nb", "naïve\\x"]
)
def test_unsafe_variant_names_are_refused(folder: Path, name: str) -> None:
    with pytest.raises(InputError) as caught:
        variant_path(folder, "desk-hip-reset", name)
    assert caught.value.field == "name"


def _variant(folder: Path, sets: tuple[str, ...] = (), **options: object) -> str:
    path = folder / "desk-hip-reset.yaml"
    request = parse_body({"routine": path.name, "set": list(sets), **options})
    routine, _ = tailor(path, BuildOptions(overrides=request.overrides()))
    base = load_routine(path)
    return variant_text(path.name, base.title, step_changes(base, routine), routine.overrides)


def test_a_variant_loads_as_the_tailored_routine(folder: Path) -> None:
    for sets, options in [
        (("half-kneeling-hip-flexor-stretch.hold=45s", "4.sets=2", "5.sides=none"), {}),
        ((), {"scale": 1.37, "rest": "12s"}),
        (("2.breathe=4-6",), {"hold": "40s"}),
    ]:
        text = _variant(folder, sets, **options)
        assert text.startswith(MARKER + "\n")
        path = folder / "desk-hip-reset-probe.yaml"
        path.write_text(text, encoding="utf-8")
        request = parse_body({"routine": "x", "set": list(sets), **options})
        wanted, _ = tailor(
            folder / "desk-hip-reset.yaml", BuildOptions(overrides=request.overrides())
        )
        assert load_routine(path).steps == wanted.steps, text


def test_a_comment_cannot_break_out_of_its_line(folder: Path) -> None:
    text = _variant(folder, ("2.say=Hello\u2028extends: /etc/passwd\nlibrary: /etc",))
    path = folder / "desk-hip-reset-probe.yaml"
    path.write_text(text, encoding="utf-8")
    chain = Confinement.for_folder(folder).check(path)
    assert [p.name for p in chain] == [path.name, "desk-hip-reset.yaml"]
    assert load_routine(path).steps[1].say == "Hello extends: /etc/passwd library: /etc"


def test_write_variant_never_overwrites_a_file_it_did_not_make(folder: Path) -> None:
    def ok(_: Path) -> None:
        pass

    original = (folder / "desk-hip-reset-weeks-1-2.yaml").read_bytes()
    with pytest.raises(InputError, match="not made by the studio"):
        write_variant(folder / "desk-hip-reset-weeks-1-2.yaml", f"{MARKER}\n", (), ok)
    assert (folder / "desk-hip-reset-weeks-1-2.yaml").read_bytes() == original
    target = folder / "desk-hip-reset-mine.yaml"
    write_variant(target, f"{MARKER}\n# one\n", (), ok)
    write_variant(target, f"{MARKER}\n# two\n", (), ok)  # its own file: rewritten
    assert target.read_text() == f"{MARKER}\n# two\n"
    link = folder / "desk-hip-reset-link.yaml"
    link.symlink_to(target)
    with pytest.raises(InputError):
        write_variant(link, f"{MARKER}\n", (), ok)
    with pytest.raises(InputError, match="extends"):
        write_variant(target, f"{MARKER}\n", (target.resolve(),), ok)
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []


def test_a_failing_check_leaves_nothing(folder: Path) -> None:
    def refuse(temp: Path) -> None:
        assert temp.exists() and temp.parent == folder
        raise InputError("no")

    with pytest.raises(InputError):
        write_variant(folder / "desk-hip-reset-x.yaml", f"{MARKER}\n", (), refuse)
    assert not (folder / "desk-hip-reset-x.yaml").exists()
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


# -- jobs -------------------------------------------------------------------------------


def _queue() -> JobQueue:
    return JobQueue(describe)


def _wait(job: Job, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not job.finished and time.monotonic() < deadline:
        time.sleep(0.01)
    assert job.finished, job


def test_builds_run_one_at_a_time_in_order_and_a_second_one_says_it_waits() -> None:
    queue = _queue()
    release = threading.Event()
    running: list[str] = []

    def run(name: str) -> Callable[[Reporter], dict[str, str]]:
        def go(report: Reporter) -> dict[str, str]:
            running.append(name)
            assert len(running) - len(finished) == 1  # never two at once
            report.stage("speech")
            release.wait(10)
            finished.append(name)
            return {"mp3": f"{name}.mp3"}

        return go

    finished: list[str] = []
    first = queue.submit("a", run("a"))
    second = queue.submit("b", run("b"))
    assert queue.submit("b", run("b")) is second  # the same build asked twice
    while first.state != "running":
        time.sleep(0.01)
    assert second.state == "queued" and queue.ahead(second) == 1
    release.set()
    _wait(second)
    assert finished == ["a", "b"]
    assert first.files == {"mp3": "a.mp3"} and first.progress == 1.0
    assert queue.shutdown()


def test_a_failed_build_keeps_the_cli_message_and_the_queue_goes_on() -> None:
    queue = _queue()

    def fail(_: Reporter) -> dict[str, str]:
        raise EngineError("the piper speech engine failed on 'x': boom")

    def crash(_: Reporter) -> dict[str, str]:
        raise ZeroDivisionError("oops")

    failed, crashed = queue.submit(1, fail), queue.submit(2, crash)
    later = queue.submit(3, lambda _: {"mp3": "ok.mp3"})
    _wait(later)
    assert failed.state == "failed"
    assert failed.error == "the piper speech engine failed on 'x': boom"
    assert crashed.state == "failed" and "ZeroDivisionError" in (crashed.error or "")
    assert later.state == "done"
    assert queue.shutdown()


class SlowEngine(SilentEngine):
    """The fake engine, a little slow per line, telling the test when speech began."""

    def __init__(self, started: threading.Event) -> None:
        super().__init__()
        self.started = started

    def synthesize(self, text: str) -> Samples:
        self.started.set()
        time.sleep(0.05)
        return super().synthesize(text)


@pytest.mark.parametrize("stage", ["speech", "encode"])
def test_shutdown_abandons_a_running_build_and_leaves_nothing_half_written(
    folder: Path, tmp_path: Path, stage: str
) -> None:
    started = threading.Event()
    out = tmp_path / "out"
    options = BuildOptions(output_dir=out, engine="fake", cache_dir=tmp_path / "cache")
    studio = Studio(folder, options, engine=SlowEngine(started))
    if stage == "encode":  # warm the cache: the build goes straight to encoding
        _wait(studio.build(parse_body({"routine": "desk-hip-reset.yaml", "hold": "20s"})))
        shutil.rmtree(out)
    job = studio.build(parse_body({"routine": "desk-hip-reset.yaml", "hold": "20s"}))
    queued = studio.build(parse_body({"routine": "desk-micro-break.yaml"}))
    while job.stage != stage and not job.finished:
        time.sleep(0.005)
    if stage == "speech":
        assert started.wait(10)
    assert studio.close(timeout=60)
    assert queued.state == "failed" and queued.error == STOPPED
    assert job.state in ("failed", "done")
    left = sorted(p.name for p in out.iterdir()) if out.exists() else []
    if job.state == "failed":
        assert job.error == STOPPED
        assert left == []
    else:  # the encoding won the race: then all three files, whole
        assert len(left) == 3 and not any(name.startswith(".") for name in left)
