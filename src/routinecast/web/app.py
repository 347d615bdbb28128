"""The app factory: one Flask app for an output folder, every blueprint behind the guard.

``create_app(folder, guard)`` mounts the share; ``extra`` blueprints (a later JSON API)
are mounted beside it under the same secret prefix and the same Host check. ``root``
blueprints (the studio) are mounted at their own prefix, outside the secret path, behind
the same Host check and the guard's write check (same origin, session token). The app
has no static route of its own (the share's assets live under the prefix), no sessions
and no instance folder: it writes nothing to disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from flask import Blueprint, Flask

from routinecast.web import share
from routinecast.web.catalog import CatalogueReader
from routinecast.web.guard import Guard


def create_app(
    folder: Path, guard: Guard, extra: Sequence[Blueprint] = (), root: Sequence[Blueprint] = ()
) -> Flask:
    """The web app serving ``folder``, reachable only as ``guard`` allows."""
    app = Flask(__name__, static_folder=None, template_folder="templates")
    app.config.update(TEMPLATES_AUTO_RELOAD=False, MAX_CONTENT_LENGTH=64 * 1024)
    app.extensions[share.EXTENSION] = CatalogueReader(folder)
    replace(guard, open=guard.open | {b.name for b in root}).install(app)
    for blueprint in (share.bp, *extra):
        app.register_blueprint(blueprint, url_prefix=guard.prefix + (blueprint.url_prefix or ""))
    for blueprint in root:
        app.register_blueprint(blueprint)
    return app
