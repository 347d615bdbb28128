"""The studio's app and its server: the share's app factory with the studio at the root.

``studio_app`` asks ``web.app.create_app`` for the app serving the studio's output folder
(the share blueprint under a secret path, which plays the studio's builds) and mounts the
studio's page and API at the root, behind a guard that knows the studio's addresses and
a per-run session token. ``open_studio`` binds it (127.0.0.1 unless told otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from werkzeug.serving import BaseWSGIServer

from routinecast.web.app import create_app
from routinecast.web.guard import Guard, host_names, new_token, url_host
from routinecast.web.server import LOOPBACK, bind_server, reachable
from routinecast.web.studio.phone import Phone
from routinecast.web.studio.routes import EXTENSION, StudioContext, bp
from routinecast.web.studio.service import Studio


def studio_app(studio: Studio, hosts: frozenset[str], phone: Phone | None = None) -> Flask:
    """The studio's app, answering to ``hosts`` (``Host`` header values) only."""
    session = new_token()
    app = create_app(
        studio.options.output_dir, Guard(new_token(), hosts, session=session), root=[bp]
    )
    app.extensions[EXTENSION] = StudioContext(studio, session, phone)
    return app


@dataclass(frozen=True)
class StudioServer:
    """A bound, not yet running studio."""

    server: BaseWSGIServer
    app: Flask
    url: str


def open_studio(
    studio: Studio, host: str = LOOPBACK, port: int = 0, phone: Phone | None = None
) -> StudioServer:
    """Bind ``host`` and ``port`` (0: any free one); raises ``OSError`` when it cannot."""
    server = bind_server(host, port)
    shown, addresses = reachable(host)
    app = studio_app(studio, host_names(addresses, server.port), phone)
    server.app = app
    return StudioServer(server, app, f"http://{url_host(shown)}:{server.port}/")
