"""The app factory: one Flask app for an output folder, every blueprint behind the guard.

``create_app(folder, guard)`` mounts the share; ``extra`` blueprints (a later JSON API)
are mounted beside it under the same secret prefix and the same Host check. The app has
no static route of its own (the share's assets live under the prefix), no sessions and
no instance folder: it writes nothing to disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flask import Blueprint, Flask

from routinecast.web import share
from routinecast.web.catalog import CatalogueReader
from routinecast.web.guard import Guard


def create_app(folder: Path, guard: Guard, extra: Sequence[Blueprint] = ()) -> Flask:
    """The web app serving ``folder``, reachable only as ``guard`` allows."""
    app = Flask(__name__, static_folder=None, template_folder="templates")
    app.config.update(TEMPLATES_AUTO_RELOAD=False, MAX_CONTENT_LENGTH=64 * 1024)
    app.extensions[share.EXTENSION] = CatalogueReader(folder)
    guard.install(app)
    for blueprint in (share.bp, *extra):
        app.register_blueprint(blueprint, url_prefix=guard.prefix + (blueprint.url_prefix or ""))
    return app
