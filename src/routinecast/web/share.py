"""The read-only share: the page, the podcast feed, chapters, artwork and the build's files.

Mounted under the secret prefix by ``app.create_app``. URLs, relative to ``/<token>/``:

    ""                      the page: every build, a player, chapters, the printed handout
    feed.xml                RSS 2.0 + iTunes + Podcasting 2.0, one episode per build
    artwork.png             the show's artwork (also the lock screen's)
    NAME.mp3 | NAME.vtt | NAME.timeline.json    a build's files, as written
    NAME.chapters.json      Podcasting 2.0 chapters from the timeline
    download/NAME.mp3       the MP3 with ``Content-Disposition: attachment``
    static/...              the page's CSS and script

Files go out through Werkzeug's conditional responses: HEAD, single byte ranges (206,
416), ETag and Last-Modified (304). Only the names ``catalog`` lists can be opened, so
nothing else in the folder (or outside it) can be reached, whatever the spelling.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import segno
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask import send_file as flask_send_file
from markupsafe import Markup
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.wrappers import Response as BaseResponse

from routinecast.web.artwork import artwork_png
from routinecast.web.catalog import (
    MP3,
    OUTPUTS,
    Built,
    Catalogue,
    CatalogueReader,
    Stamp,
    open_output,
)
from routinecast.web.feed import CHAPTERS_SUFFIX, CHAPTERS_TYPE, Links, chapters_json, feed_xml

EXTENSION = "routinecast.catalogue"
"""Key of the app's ``CatalogueReader`` in ``app.extensions``."""
RSS_TYPE = "application/rss+xml"

bp = Blueprint("share", __name__, static_folder="static", static_url_path="/static")


def catalogue() -> Catalogue:
    """The output folder as it is now."""
    reader: CatalogueReader = current_app.extensions[EXTENSION]
    return reader.read()


@bp.get("/")
def page() -> str:
    """Every build with its player, chapters and handout."""
    found = catalogue()
    qr = {
        b.name: _qr_svg(url_for("share.output", filename=b.filename(MP3), _external=True))
        for b in found.routines
    }
    return render_template("share.html", routines=found.routines, qr=qr, links=links())


@bp.get("/feed.xml")
def feed() -> BaseResponse:
    """The podcast feed."""
    return send_bytes(feed_xml(catalogue(), links()), RSS_TYPE)


@bp.get("/artwork.png")
def artwork() -> BaseResponse:
    """The artwork."""
    return send_bytes(artwork_png(), "image/png")


@bp.get("/download/<filename>")
def download(filename: str) -> BaseResponse:
    """A build's MP3, to be saved rather than played."""
    found = catalogue().output(filename)
    if found is None or found[1] != MP3:
        abort(404)
    return send_output(found[0], MP3, attachment=True)


@bp.get("/<filename>")
def output(filename: str) -> BaseResponse:
    """A build's file, or its chapters as JSON."""
    found = catalogue()
    if filename.endswith(CHAPTERS_SUFFIX):
        built = found.find(filename.removesuffix(CHAPTERS_SUFFIX))
        if built is None:
            abort(404)
        return send_bytes(chapters_json(built), CHAPTERS_TYPE)
    match = found.output(filename)
    if match is None:
        abort(404)
    return send_output(*match)


def links() -> Links:
    """The absolute URLs of this share, as the request's (checked) Host names it."""
    return Links(
        base=url_for("share.page", _external=True),
        feed=url_for("share.feed", _external=True),
        artwork=url_for("share.artwork", _external=True),
    )


def send_bytes(data: bytes, mimetype: str) -> BaseResponse:
    """Generated content with a content-hash ETag, answering conditional requests."""
    response = Response(data, mimetype=mimetype)
    response.set_etag(hashlib.sha256(data).hexdigest()[:32])
    return response.make_conditional(request)


def send_output(built: Built, suffix: str, *, attachment: bool = False) -> BaseResponse:
    """One of a build's files, read from a single open descriptor (a rebuild cannot tear it)."""
    path = catalogue_folder() / built.filename(suffix)
    try:
        handle = open_output(path)
    except OSError:
        abort(404)
    info = os.fstat(handle.fileno())
    response = flask_send_file(
        handle,
        mimetype=OUTPUTS[suffix],
        as_attachment=attachment,
        download_name=path.name,
        conditional=False,
        etag=Stamp.of(info).etag,
        last_modified=info.st_mtime,
    )
    response.content_length = info.st_size
    try:
        return response.make_conditional(request, accept_ranges=True, complete_length=info.st_size)
    except RequestedRangeNotSatisfiable:
        handle.close()
        raise


def catalogue_folder() -> Path:
    """The folder served."""
    reader: CatalogueReader = current_app.extensions[EXTENSION]
    return reader.folder


def _qr_svg(url: str) -> Markup:
    svg = segno.make(url, error="m").svg_inline(border=4, omitsize=True, title="Scan to play")
    return Markup(svg)  # segno's own markup: a path and the fixed title, no user text


@bp.app_template_filter("clock")
def clock_filter(ms: int) -> str:
    """Milliseconds as a player shows them: 119470 -> "1:59", 3723000 -> "1:02:03"."""
    minutes, seconds = divmod(round(ms / 1000), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
