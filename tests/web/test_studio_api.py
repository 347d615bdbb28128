"""The studio's JSON API through Flask's test client: plan, 422s, builds, save, send, safety.

Builds run through the real pipeline (ffmpeg encodes real MP3s) with the fake engine,
handed to the studio the way the app factory takes build options for tests: the API
itself never lets a page choose an engine. The saved variant is then built by the real
command line and must give the blocks of the studio's own build.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from typer.testing import CliRunner

import routinecast
from routinecast.cli import app as cli_app
from routinecast.cli.common import explain
from routinecast.speech.engines.base import Samples
from routinecast.speech.engines.fake import SilentEngine
from routinecast.web.guard import TOKEN_HEADER, host_names
from routinecast.web.studio.app import studio_app
from routinecast.web.studio.phone import Phone
from routinecast.web.studio.service import Studio
from routinecast.web.studio.variants import MARKER

ROUTINES = Path(__file__).resolve().parents[2] / "routines"
SECRET = "root:x:0:0:SECRET-do-not-quote"
HOLD_45 = "half-kneeling-hip-flexor-stretch.hold=45s"


class GatedEngine(SilentEngine):
    """The fake engine; while ``gate`` is closed, speech waits (a build that stays running)."""

    def __init__(self, fail_on: str | None = None) -> None:
        super().__init__(fail_on=fail_on)
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()

    def synthesize(self, text: str) -> Samples:
        self.waiting.set()
        assert self.gate.wait(60)
        return super().synthesize(text)


@dataclass
class Rig:
    """A studio on a copy of the routines folder, its app, a client and the session token."""

    folder: Path
    out: Path
    studio: Studio
    engine: GatedEngine
    client: FlaskClient
    token: str

    def post(self, path: str, body: Any, **headers: str) -> Any:
        sent = {TOKEN_HEADER: self.token, **headers}
        return self.client.post(path, json=body, headers={k: v for k, v in sent.items() if v})

    def build(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post("/api/build", body)
        assert response.status_code == 202, response.json
        return wait_job(self.client, response.json["job"])


def wait_job(client: FlaskClient, job: str, timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/api/jobs/{job}").json
        if state["state"] in ("done", "failed"):
            return dict(state)
        time.sleep(0.05)
    raise AssertionError(f"job {job} did not finish")


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    folder = Path(shutil.copytree(ROUTINES, tmp_path / "routines"))
    out = tmp_path / "output"
    engine = GatedEngine()
    options = routinecast.BuildOptions(output_dir=out, engine="fake", cache_dir=tmp_path / "cache")
    studio = Studio(folder, options, engine=engine)
    phone = Phone(out, host="127.0.0.1")
    app = studio_app(studio, host_names(["localhost"], 80), phone)
    client = app.test_client()
    token = client.get("/api/session").json["token"]
    try:
        yield Rig(folder, out, studio, engine, client, token)
    finally:
        engine.gate.set()
        assert studio.close()
        phone.close()


def _plan(rig: Rig, *sets: str, **options: Any) -> routinecast.BuildOptions:
    from routinecast.load.overrides import parse_overrides

    overrides = parse_overrides(sets, options.get("hold"), options.get("rest"))
    return routinecast.BuildOptions(
        output_dir=rig.out,
        engine="fake",
        overrides=overrides,
        cache_dir=rig.studio.options.cache_dir,
    )


# -- the page and the session ------------------------------------------------------------


def test_the_page_and_its_assets_are_served_from_here_only(rig: Rig) -> None:
    page = rig.client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for attribute in ("src=", "href="):
        for piece in html.split(attribute)[1:]:
            url = piece[1:].split(piece[0], 1)[0]
            assert url.startswith(("/", "#", "data:")), url
            if url.startswith("/"):
                assert rig.client.get(url).status_code == 200, url
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


def test_the_session_token_carries_no_cors_headers(rig: Rig) -> None:
    response = rig.client.get("/api/session", headers={"Origin": "http://evil.example"})
    assert response.status_code == 200
    assert len(response.json["token"]) >= 32
    assert response.headers["Cache-Control"] == "no-store"
    assert not [h for h, _ in response.headers.items() if h.lower().startswith("access-control")]
    preflight = rig.client.options(
        "/api/plan",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert not [h for h, _ in preflight.headers.items() if h.lower().startswith("access-control")]


# -- routines and plan ------------------------------------------------------------------


def test_routines_lists_the_folders_routines_with_title_and_length(rig: Rig) -> None:
    listed = {r["file"]: r for r in rig.client.get("/api/routines").json}
    assert "exercises.yaml" not in listed  # a library, not a routine
    entry = listed["desk-hip-reset.yaml"]
    assert entry["title"] == "Desk Hip Reset" and entry["target_ms"] == 720_000
    expected = routinecast.plan(rig.folder / "desk-hip-reset.yaml", _plan(rig))
    assert entry["length_ms"] == expected.duration_ms
    assert not any(name.startswith("shipped/") for name in listed)  # the same files


def test_plan_is_the_timeline_of_the_cli_with_the_same_changes(rig: Rig) -> None:
    response = rig.post("/api/plan", {"routine": "desk-hip-reset.yaml", "set": [HOLD_45]})
    assert response.status_code == 200
    plan = response.json
    expected = routinecast.plan(rig.folder / "desk-hip-reset.yaml", _plan(rig, HOLD_45))
    for key, value in json.loads(json.dumps(expected.to_json())).items():
        assert plan[key] == value, key
    works = [b for b in plan["blocks"] if b["kind"] == "work" and b["step"] == 2]
    assert [b["end_ms"] - b["start_ms"] for b in works] == [45_000] * 4
    assert plan["overrides"] == [HOLD_45]
    assert plan["estimated"]  # nothing is spoken yet in this cache: estimated, and it says so
    step = plan["steps"][1]
    assert step == step | {"number": 2, "hold": "45s", "sets": 2, "sides": "each", "rest": "10s"}
    before = rig.post("/api/plan", {"routine": "desk-hip-reset.yaml"}).json
    assert plan["duration_ms"] > before["duration_ms"]


def _cli_error(*args: str) -> str:
    result = CliRunner().invoke(cli_app, ["plan", *args, "--engine", "fake"])
    assert result.exit_code == 2
    return result.stderr.strip().removeprefix("error: ")


def test_a_bad_value_is_a_422_with_field_step_and_the_clis_message(rig: Rig) -> None:
    path = rig.folder / "desk-hip-reset.yaml"
    body = {"routine": path.name, "set": [HOLD_45, "2.sets=3", "4.tempo=fast"]}
    response = rig.post("/api/plan", body)
    assert response.status_code == 422
    (error,) = response.json["errors"]
    assert error["set"] == 2 and error["field"] == "tempo"
    assert error["step"] == "step 4 (glute-bridge-march)"
    assert error["message"].startswith("must be a duration like")
    assert error["text"] == _cli_error(str(path), *(f"--set={s}" for s in body["set"]))
    hold = rig.post("/api/plan", {"routine": path.name, "hold": "a while"}).json["errors"][0]
    assert hold["field"] == "--hold"
    assert hold["text"] == _cli_error(str(path), "--hold", "a while")
    scale = rig.post("/api/plan", {"routine": path.name, "scale": 9}).json["errors"][0]
    assert scale["field"] == "--scale" and "between 0.25 and 4" in scale["message"]
    unknown = rig.post("/api/plan", {"routine": path.name, "set": ["2.hld=3"]}).json["errors"][0]
    assert unknown["set"] == 0 and 'did you mean "hold"' in unknown["message"]


def test_a_bad_value_in_the_file_is_a_422_with_file_and_line(rig: Rig) -> None:
    path = rig.folder / "broken.yaml"
    path.write_text(
        "title: Broken\nsteps:\n  - exercise: dead-bug\n    hold: forever\n", encoding="utf-8"
    )
    response = rig.post("/api/plan", {"routine": "broken.yaml"})
    assert response.status_code == 422
    (error,) = response.json["errors"]
    assert (error["file"].endswith("broken.yaml"), error["line"], error["field"]) == (
        True,
        4,
        "hold",
    )
    listed = {r["file"]: r for r in rig.client.get("/api/routines").json}
    assert "hold must be a duration" in listed["broken.yaml"]["error"]


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"routine": 3},
        {},
        {"routine": "desk-hip-reset.yaml", "set": "2.hold=45s"},
        {"routine": "desk-hip-reset.yaml", "scale": "big"},
        {"routine": "desk-hip-reset.yaml", "colour": "red"},
        {"routine": "../routines/desk-hip-reset.yaml"},
        {"routine": "exercises2.yaml"},
    ],
)
def test_malformed_bodies_are_422s_naming_the_field(rig: Rig, body: Any) -> None:
    response = rig.post("/api/plan", body)
    assert response.status_code == 422, response.json
    assert all(e["field"] and e["message"] for e in response.json["errors"])


# -- builds -----------------------------------------------------------------------------


def test_a_build_runs_to_completion_and_its_files_are_served(rig: Rig) -> None:
    body = {"routine": "desk-hip-reset.yaml", "set": [HOLD_45]}
    job = rig.build(body)
    assert job["state"] == "done" and job["progress"] == 1 and job["error"] is None
    files = job["files"]
    built = json.loads(rig.client.get(files["timeline"]).data)
    assert [b["end_ms"] - b["start_ms"] for b in built["blocks"] if b["step"] == 2][1] == 45_000
    mp3 = rig.client.get(files["mp3"])
    assert mp3.status_code == 200 and mp3.data[:3] == b"ID3"
    assert rig.client.get(files["vtt"]).data.startswith(b"WEBVTT")
    download = rig.client.get(files["download"])
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert sorted(p.name for p in rig.out.iterdir()) == sorted(
        Path(files[k]).name for k in ("mp3", "timeline", "vtt")
    )
    # now every line is spoken: the plan is exact and equals the build
    plan = rig.post("/api/plan", body).json
    assert plan["estimated"] == [] and plan["blocks"] == built["blocks"]
    assert plan["events"] == built["events"]


def test_a_second_build_waits_and_two_tabs_get_their_own_files(rig: Rig) -> None:
    rig.engine.gate.clear()
    first = rig.post("/api/build", {"routine": "desk-micro-break.yaml", "set": ["1.reps=4"]}).json
    assert rig.engine.waiting.wait(60)
    second = rig.post("/api/build", {"routine": "desk-micro-break.yaml", "set": ["1.reps=5"]}).json
    again = rig.post("/api/build", {"routine": "desk-micro-break.yaml", "set": ["1.reps=5"]}).json
    assert again["job"] == second["job"]  # the same build asked for twice
    assert rig.client.get(f"/api/jobs/{first['job']}").json["state"] == "running"
    waiting = rig.client.get(f"/api/jobs/{second['job']}").json
    assert (waiting["state"], waiting["ahead"]) == ("queued", 1)
    rig.engine.gate.set()
    done = [wait_job(rig.client, j["job"]) for j in (first, second)]
    holds = []
    for job in done:
        timeline = json.loads(rig.client.get(job["files"]["timeline"]).data)
        works = [b for b in timeline["blocks"] if b["kind"] == "work"]
        holds.append(works[0]["end_ms"] - works[0]["start_ms"])
    assert holds == [4 * 7000, 5 * 7000]
    assert done[0]["files"]["mp3"] != done[1]["files"]["mp3"]


def test_a_failed_build_shows_the_clis_message_and_the_studio_goes_on(rig: Rig) -> None:
    rig.engine.fail_on = "Desk Micro-Break"
    failed = rig.build({"routine": "desk-micro-break.yaml"})
    assert failed["state"] == "failed" and failed["files"] is None
    with pytest.raises(routinecast.RoutinecastError) as caught:  # what the CLI would print
        routinecast.build(
            rig.folder / "desk-micro-break.yaml",
            routinecast.BuildOptions(output_dir=rig.out / "x"),
            engine=SilentEngine(fail_on="Desk Micro-Break"),
        )
    assert failed["error"] == explain(caught.value)[0]
    assert failed["error"].startswith("fake engine told to fail on 'Desk Micro-Break.")
    assert not rig.out.exists() or not list(rig.out.iterdir())
    rig.engine.fail_on = None
    assert rig.build({"routine": "desk-micro-break.yaml"})["state"] == "done"
    assert rig.client.get("/api/jobs/nope").status_code == 404


# -- save -------------------------------------------------------------------------------


def test_save_writes_a_variant_that_the_cli_builds_to_the_same_blocks(rig: Rig) -> None:
    body = {"routine": "desk-hip-reset.yaml", "set": [HOLD_45, "4.sets=2"], "rest": "15s"}
    studio_build = rig.build(body)
    saved = rig.post("/api/save", body | {"name": "Maria week 2"})
    assert saved.status_code == 201
    assert saved.json == {"file": "desk-hip-reset-maria-week-2.yaml"}
    variant = rig.folder / "desk-hip-reset-maria-week-2.yaml"
    text = variant.read_text("utf-8")
    assert text.startswith(MARKER + "\n") and "extends: desk-hip-reset.yaml\n" in text
    assert "override:\n" in text and "# step 2, Half-kneeling hip flexor stretch" in text
    assert "desk-hip-reset-maria-week-2.yaml" in [
        r["file"] for r in rig.client.get("/api/routines").json
    ]
    out = rig.out.parent / "cli"
    result = CliRunner().invoke(
        cli_app, ["build", str(variant), "--engine", "fake", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    ours = json.loads(rig.client.get(studio_build["files"]["timeline"]).data)
    theirs = json.loads((out / "desk-hip-reset-maria-week-2.timeline.json").read_text("utf-8"))
    assert theirs["blocks"] == ours["blocks"]
    assert theirs["events"] == ours["events"]
    assert theirs["chapters"] == ours["chapters"]
    assert theirs["duration_ms"] == ours["duration_ms"]
    # the studio may rewrite its own file, never one it did not make
    assert (
        rig.post(
            "/api/save", {"routine": "desk-hip-reset.yaml", "name": "Maria week 2"}
        ).status_code
        == 201
    )
    original = (rig.folder / "desk-hip-reset-weeks-1-2.yaml").read_bytes()
    refused = rig.post("/api/save", {"routine": "desk-hip-reset.yaml", "name": "weeks 1 2"})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "name"
    assert (rig.folder / "desk-hip-reset-weeks-1-2.yaml").read_bytes() == original


# -- safety -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["evil.example", "127.0.0.1:1", "localhost:8080", "localhost.evil"]
)
def test_a_foreign_host_is_refused_and_learns_nothing(rig: Rig, host: str) -> None:
    for path in ("/", "/api/session", "/api/routines"):
        response = rig.client.get(path, headers={"Host": host})
        assert response.status_code == 400
        assert rig.token.encode() not in response.data and b"Desk Hip" not in response.data
    response = rig.post("/api/save", {"routine": "desk-hip-reset.yaml", "name": "x"}, Host=host)
    assert response.status_code == 400
    assert not (rig.folder / "desk-hip-reset-x.yaml").exists()


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://localhost.evil.example"},
        {TOKEN_HEADER: ""},
        {TOKEN_HEADER: "not-the-token"},
    ],
)
def test_writes_from_another_origin_or_without_the_token_are_refused(
    rig: Rig, headers: dict[str, str]
) -> None:
    for path, body in [
        ("/api/save", {"routine": "desk-hip-reset.yaml", "name": "x"}),
        ("/api/build", {"routine": "desk-micro-break.yaml"}),
        ("/api/plan", {"routine": "desk-hip-reset.yaml"}),
        ("/api/phone", {}),
    ]:
        response = rig.post(path, body, **headers)
        assert response.status_code == 403, (path, headers)
    assert not (rig.folder / "desk-hip-reset-x.yaml").exists()
    assert rig.studio.jobs.running is None and not rig.out.exists()
    same_origin = rig.post(
        "/api/plan", {"routine": "desk-hip-reset.yaml"}, Origin="http://localhost"
    )
    assert same_origin.status_code == 200


@pytest.mark.parametrize(
    "name", ["../../escape", "/tmp/escape", "a/b", "..", "%2e%2e%2fescape", "a\\b", ".hidden", ""]
)
def test_save_names_cannot_escape_the_folder(rig: Rig, name: str) -> None:
    before = sorted(p.name for p in rig.folder.parent.rglob("*"))
    response = rig.post("/api/save", {"routine": "desk-hip-reset.yaml", "name": name})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "name"
    assert sorted(p.name for p in rig.folder.parent.rglob("*")) == before


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    private = tmp_path / "private"
    private.mkdir()
    (private / "notes.yaml").write_text(f"{SECRET}\n", encoding="utf-8")
    return private / "notes.yaml"


@pytest.mark.parametrize(
    "head",
    ["library: {path}", "extends: {path}", "library: ../private/notes.yaml", "extends: link.yaml"],
)
def test_a_routine_reaching_outside_the_folder_is_refused_and_nothing_leaks(
    rig: Rig, outside: Path, head: str
) -> None:
    (rig.folder / "link.yaml").symlink_to(outside)
    (rig.folder / "evil.yaml").write_text(
        head.format(path=outside) + "\ntitle: Evil\nsteps:\n  - exercise: dead-bug\n",
        encoding="utf-8",
    )
    body = {"routine": "evil.yaml"}
    answers = [
        rig.client.get("/api/routines"),
        rig.post("/api/plan", body),
        rig.post("/api/build", body),
        rig.post("/api/save", body | {"name": "copy"}),
    ]
    for response in answers:
        assert b"SECRET" not in response.data and b"root:x" not in response.data
    for response in answers[1:]:
        assert response.status_code == 422
        assert response.json["errors"][0]["field"] in ("library", "extends")
    listed = {r["file"]: r for r in answers[0].json}
    assert "outside the folders the studio reads" in listed["evil.yaml"]["error"]
    assert "link.yaml" not in listed  # a symlink out of the folder is not offered at all
    assert not (rig.folder / "evil-copy.yaml").exists() and not rig.out.exists()


# -- send to phone ----------------------------------------------------------------------


def test_send_to_phone_shares_the_builds_through_the_share_and_nothing_else(rig: Rig) -> None:
    job = rig.build({"routine": "desk-micro-break.yaml"})
    answer = rig.post("/api/phone", {"job": job["id"]})
    assert answer.status_code == 200
    url = answer.json["url"]
    assert url.startswith("http://127.0.0.1:") and url.endswith("/#desk-micro-break")
    assert answer.json["svg"].startswith("<svg")
    with urllib.request.urlopen(url.split("#")[0], timeout=30) as page:
        html = page.read().decode("utf-8")
    assert "Desk Micro-Break" in html and "desk-micro-break.mp3" in html
    base = url.split("/")[2]
    for path in ("/", "/api/session", "/api/routines"):
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"http://{base}{path}", timeout=30)
        assert caught.value.code == 404
    assert rig.post("/api/phone", {}).json["url"].split("#")[0] == url.split("#")[0]  # one share
