"""Serving the app on the LAN: the address, a threaded Werkzeug server, a quiet request log.

``lan_address`` finds the address other machines on the Wi-Fi reach this one at: a UDP
socket "connected" to a TEST-NET address reports the interface the kernel would route
through (connecting a UDP socket sends no packet); with no route it falls back to
127.0.0.1. ``open_share`` binds (nothing listens before it is called), then builds the
app with a fresh token for exactly the addresses it answers at; ``serve`` runs until
Ctrl-C or for a set time. Each connection gets a thread (Werkzeug's threaded server), so
a client that drops mid-download ends only its own thread.

Werkzeug's access log is dropped (every line would carry the token); its error lines and
the app's pass through ``TokenRedactor``.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from routinecast.web.app import create_app
from routinecast.web.catalog import Catalogue, CatalogueReader
from routinecast.web.guard import Guard, TokenRedactor, host_names, new_token, url_host
from routinecast.web.share import EXTENSION

PROBE = ("192.0.2.1", 9)
"""TEST-NET-1 (RFC 5737), discard port: only used to ask the kernel for a route."""
LOOPBACK = "127.0.0.1"
WILDCARDS = frozenset({"0.0.0.0", "::"})
IDLE_TIMEOUT_S = 120
"""A connection that neither sends nor reads for this long is closed (its thread ends)."""


def lan_address() -> str:
    """This machine's address on its default route, else 127.0.0.1."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(PROBE)
            address = str(probe.getsockname()[0])
    except OSError:
        return LOOPBACK
    return address if address not in WILDCARDS else LOOPBACK


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if address.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without the access log, with an idle timeout."""

    timeout = IDLE_TIMEOUT_S

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Nothing: a request line holds the token."""


@dataclass(frozen=True)
class Sharing:
    """A bound, not yet running share."""

    server: BaseWSGIServer
    app: Flask
    url: str
    token: str
    address: str
    """The address in the URL."""

    @property
    def local_only(self) -> bool:
        """True when only this computer can reach the URL."""
        return is_loopback(self.address)

    def catalogue(self) -> Catalogue:
        """What the share lists right now."""
        reader: CatalogueReader = self.app.extensions[EXTENSION]
        return reader.read()


def open_share(
    folder: Path, host: str | None = None, port: int = 0, extra: Sequence[Blueprint] = ()
) -> Sharing:
    """Bind ``host`` (default: the LAN address) and ``port`` (0: any free one).

    Raises ``OSError`` when the address cannot be bound.
    """
    bind = host or lan_address()
    server = bind_server(bind, port)
    shown, addresses = reachable(bind)
    token = new_token()
    app = create_app(folder, Guard(token, host_names(addresses, server.port)), extra)
    server.app = app
    url = f"http://{url_host(shown)}:{server.port}/{token}/"
    return Sharing(server, app, url, token, shown)


def reachable(bind: str) -> tuple[str, set[str]]:
    """The address a URL shows for a server bound to ``bind``, and every name it answers to."""
    shown = lan_address() if bind in WILDCARDS else bind
    addresses = {bind, shown}
    if bind in WILDCARDS or is_loopback(bind):
        addresses |= {LOOPBACK, "localhost", "::1"}
    return shown, addresses


def bind_server(host: str, port: int) -> BaseWSGIServer:
    """A threaded Werkzeug server on a socket bound here (so errors are ``OSError``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.create_server((host, port), family=family)
    try:
        return make_server(
            host,
            port,
            _not_ready,
            threaded=True,
            request_handler=QuietHandler,
            fd=listening.fileno(),
        )
    finally:
        listening.close()  # the server holds its own duplicate


def _not_ready(environ: object, start_response: object) -> list[bytes]:  # pragma: no cover
    raise RuntimeError("the share's app is set before the server runs")


def serve(sharing: Sharing, stop_after_s: float | None = None) -> bool:
    """Serve until Ctrl-C, or ``stop_after_s``; True when the time ran out."""
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        sharing.server.shutdown()

    timer = threading.Timer(stop_after_s, expire) if stop_after_s else None
    redactor = TokenRedactor(sharing.token)
    werkzeug_log = logging.getLogger("werkzeug")
    werkzeug_log.addFilter(redactor)
    try:
        if timer is not None:
            timer.daemon = True
            timer.start()
        sharing.server.serve_forever()  # returns on Ctrl-C too (Werkzeug catches it)
    finally:
        if timer is not None:
            timer.cancel()
        sharing.server.server_close()
        werkzeug_log.removeFilter(redactor)
    return expired.is_set()
