"""The studio's page and its JSON API under ``/api/`` (documented in ``docs/studio-api.md``).

Mounted at the root of the app (outside the share's secret path) by ``studio.app``; the
guard checks the ``Host`` of every request and, on every POST, the ``Origin`` and the
per-run token that ``GET /api/session`` hands the page. The views are thin: the work is
``Studio``'s. A built file is served by the share blueprint mounted in the same app, so
the player gets byte ranges, ETags and the rest exactly as a phone does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from routinecast.errors import RoutinecastError
from routinecast.web.studio.jobs import Job, job_json
from routinecast.web.studio.phone import Phone, qr_svg
from routinecast.web.studio.requests import RequestError, StudioRequest, parse_body
from routinecast.web.studio.service import Studio, describe

EXTENSION = "routinecast.studio"
"""Key of the app's ``StudioContext`` in ``app.extensions``."""

bp = Blueprint(
    "studio",
    __name__,
    static_folder="static",
    static_url_path="/studio/static",
    template_folder="templates",
)


@dataclass(frozen=True)
class StudioContext:
    """What the views need: the studio, the session token, the phone share."""

    studio: Studio
    token: str
    phone: Phone | None


def context() -> StudioContext:
    """The running studio."""
    found: StudioContext = current_app.extensions[EXTENSION]
    return found


def body() -> StudioRequest:
    """The request's JSON body, checked."""
    return parse_body(request.get_json(silent=True))


@bp.get("/")
def page() -> str:
    """The studio page."""
    return render_template("studio.html")


@bp.get("/api/session")
def session() -> Response:
    """The per-run token every write must carry; never cached, never shared cross-origin."""
    response = jsonify(token=context().token)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/routines")
def routines() -> Response:
    """Every routine the studio offers: ``file``, ``title``, ``length_ms``."""
    return jsonify(context().studio.routines())


@bp.post("/api/plan")
def plan() -> Response:
    """The timeline JSON of the routine with the body's changes (no audio work)."""
    return jsonify(context().studio.plan(body()))


@bp.post("/api/build")
def build() -> tuple[Response, int]:
    """Queue a build; ``{"job": ID}`` at once (checked first: a bad value is a 422)."""
    job = context().studio.build(body())
    return jsonify(_job(job) | {"job": job.id}), 202


@bp.get("/api/jobs/<job_id>")
def job(job_id: str) -> Response | tuple[Response, int]:
    """A build's state, progress, files (URLs) and error."""
    found = context().studio.jobs.get(job_id)
    if found is None:
        return jsonify(errors=[_item("job", "is not a build of this studio")]), 404
    return jsonify(_job(found))


@bp.post("/api/save")
def save() -> tuple[Response, int]:
    """Write the changes as a variant next to the routine: ``{"file"}``."""
    return jsonify(context().studio.save(body())), 201


@bp.post("/api/phone")
def phone() -> Response | tuple[Response, int]:
    """Share the builds on the LAN (once), and the QR code of a build's place on the page."""
    found = context()
    if found.phone is None:
        return jsonify(errors=[_item("phone", "sending to a phone is off in this studio")]), 404
    data = request.get_json(silent=True)
    job_id = data.get("job") if isinstance(data, dict) else None
    built = found.studio.jobs.get(job_id) if isinstance(job_id, str) else None
    try:
        url = found.phone.url()
    except OSError as exc:
        message = f"cannot share on the network: {exc.strerror or exc}"
        return jsonify(errors=[_item("phone", message)]), 503
    if built is not None and built.files:
        url += "#" + built.files["mp3"].removesuffix(".mp3")
    return jsonify(url=url, svg=str(qr_svg(url)), local_only=found.phone.local_only)


def _job(job: Job) -> dict[str, Any]:
    studio = context().studio

    def link(name: str) -> str:
        return url_for("share.output", filename=name)

    out = job_json(job, studio.jobs.ahead(job), link)
    if job.files:
        out["files"]["download"] = url_for("share.download", filename=job.files["mp3"])
    return out


def _item(field: str | None, message: str) -> dict[str, Any]:
    text = f"{field} {message}" if field else message
    return {"file": None, "line": None, "step": None, "field": field, "message": message,
            "text": text}  # fmt: skip


@bp.errorhandler(RequestError)
def refused(exc: RequestError) -> tuple[Response, int]:
    """Bad input: 422 with every problem, each with its file, line, step and field."""
    return jsonify(errors=exc.errors), 422


@bp.errorhandler(RoutinecastError)
@bp.errorhandler(OSError)
def failed(exc: RoutinecastError | OSError) -> tuple[Response, int]:
    """Input was fine but the work failed: 500 with the CLI's message."""
    return jsonify(errors=[_item(None, describe(exc) or str(exc))]), 500
