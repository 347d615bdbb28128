"""The app's locks, in one place for every blueprint: the secret path, the Host check, headers.

* Every URL lives under ``/<token>/``, a path of 192 random bits from ``secrets``; any
  other path is 404 before a view runs (compared in constant time). The exception is a
  blueprint named in ``open`` (the studio, on loopback): it lives outside the token path,
  and every write to it (any method but GET, HEAD, OPTIONS) must come from this origin
  (``Origin``, when the browser sends one) and carry the per-run ``session`` token in the
  ``X-Routinecast-Token`` header, or the answer is 403. A page on another site can send a
  request but cannot read the token (no CORS headers anywhere), so it cannot write.
* The ``Host`` header must name an address the server was started for, or the answer is
  400: a page on another site cannot reach the app through DNS rebinding.
* Every response says ``nosniff``, ``no-referrer`` and a Content-Security-Policy that lets
  a page load only from this origin.
* ``TokenRedactor`` rewrites log records so the token never reaches a log line.
"""

from __future__ import annotations

import logging
import secrets
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import Flask, Response, abort, request

TOKEN_BYTES = 24
"""192 bits, 32 URL-safe characters."""
REDACTED = "<token>"
TOKEN_HEADER = "X-Routinecast-Token"
"""The header that carries the per-run session token on every write to an open blueprint."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


def new_token() -> str:
    """A fresh secret path segment."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def url_host(address: str) -> str:
    """An address as it appears in a URL or a Host header (IPv6 in brackets)."""
    return f"[{address}]" if ":" in address else address


def host_names(addresses: Iterable[str], port: int) -> frozenset[str]:
    """The ``Host`` header values that name these addresses on ``port``."""
    names = {f"{url_host(a).lower()}:{port}" for a in addresses}
    if port == 80:
        names |= {url_host(a).lower() for a in addresses}
    return frozenset(names)


@dataclass(frozen=True)
class Guard:
    """The secret path segment and the Host header values the app answers to.

    ``open`` names blueprints served outside the secret path; their writes need the
    ``session`` token (a guard without one refuses them all).
    """

    token: str
    hosts: frozenset[str]
    session: str | None = None
    open: frozenset[str] = field(default_factory=frozenset)

    @property
    def prefix(self) -> str:
        """The URL prefix every blueprint is mounted under."""
        return f"/{self.token}"

    def install(self, app: Flask) -> None:
        """Check every request, add the headers to every response, redact the app's log."""
        app.before_request(self.check)
        app.after_request(add_headers)
        app.logger.addFilter(TokenRedactor(self.token))

    def check(self) -> None:
        """400 for a foreign Host, 404 for a path outside the token, 403 for a foreign write."""
        if request.host.lower() not in self.hosts:
            abort(400)
        if request.blueprint is not None and request.blueprint in self.open:
            self.check_write()
            return
        head = request.path.split("/", 2)[1] if request.path.startswith("/") else ""
        if not secrets.compare_digest(head.encode(), self.token.encode()):
            abort(404)

    def check_write(self) -> None:
        """403 for a write from another origin or without the session token."""
        if request.method in SAFE_METHODS:
            return
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() not in {f"http://{h}" for h in self.hosts}:
            abort(403)
        sent = request.headers.get(TOKEN_HEADER, "")
        if self.session is None or not secrets.compare_digest(sent.encode(), self.session.encode()):
            abort(403)


def add_headers(response: Response) -> Response:
    """The security headers of every response."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


class TokenRedactor(logging.Filter):
    """Replaces the token in a record's message (and traceback) with ``<token>``."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drop it."""
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            record.exc_info = None
            record.exc_text = None
        record.msg = text.replace(self.token, REDACTED)
        record.args = None
        return True
