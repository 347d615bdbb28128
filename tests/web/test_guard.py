"""Hostile requests: outside the token, a foreign Host, traversal in every spelling, files
that are not a build's, odd methods. Each gets a 4xx and nothing planted leaks."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from flask import Blueprint
from flask.testing import FlaskClient
from sharekit import BASE, SECRET, TOKEN, Shared

from routinecast.web.app import create_app
from routinecast.web.guard import HEADERS, Guard, TokenRedactor, host_names, new_token

TRAVERSALS = [
    "../notes.txt",
    "..%2fnotes.txt",
    "..%2Fnotes.txt",
    "%2e%2e/notes.txt",
    "%2E%2E%2Fnotes.txt",
    "%252e%252e%252fnotes.txt",
    "%252e%252e/notes.txt",
    "..\\notes.txt",
    "..%5cnotes.txt",
    "%2e%2e%5cnotes.txt",
    "../outside/secret.mp3",
    "%2e%2e/outside/secret.mp3",
    "..%2f..%2foutside%2fsecret.mp3",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "%2Fetc%2Fpasswd",
    "C:\\Windows\\win.ini",
    "file:///etc/passwd",
    "static/../notes.txt",
    "static/%2e%2e/notes.txt",
    "static/..%2fnotes.txt",
    "static/..%5c..%5cnotes.txt",
    "static/%252e%252e%252fnotes.txt",
    "download/../notes.txt",
    "download/..%2fnotes.txt",
    "download/%2e%2e%2fnotes.txt",
    "./notes.txt",
    "tiny-share.mp3/",
    "tiny-share.mp3%00.txt",
    "tiny-share.mp3/../notes.txt",
    "TINY-SHARE.MP3",
    "tiny-share.MP3",
    "evil.chapters.json",
    "sneaky.chapters.json",
    "half.chapters.json",
    "notes.chapters.json",
    "static",
    "static/",
    "download",
    "download/",
    "static/?C=M;O=A",
]


def _no_leak(body: bytes) -> None:
    assert SECRET.encode() not in body
    assert b"root:x:" not in body  # /etc/passwd


def test_the_token_is_long_and_fresh() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) >= 22 for t in tokens)  # >= 128 bits of URL-safe base64
    assert len(TOKEN) == 32  # 192 bits


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/feed.xml",
        "/tiny-share.mp3",
        "/static/share.css",
        "/notes.txt",
        "/favicon.ico",
        "/robots.txt",
        f"/{TOKEN[:-1]}/",
        f"/{TOKEN}x/",
        f"/x{TOKEN}/",
        f"/{TOKEN.swapcase()}/",
        f"/{new_token()}/",
        f"/{new_token()}/tiny-share.mp3",
        f"/%2f{new_token()}/",
        f"/../{TOKEN}/",
        f"/static/../{TOKEN}/",
    ],
)
def test_anything_outside_the_token_is_404(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert TOKEN.encode() not in response.data
    _no_leak(response.data)


def test_the_bare_token_redirects_to_the_page(client: FlaskClient) -> None:
    response = client.get(f"/{TOKEN}")
    assert response.status_code in (301, 308)
    assert response.headers["Location"].endswith(BASE)


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_in_every_spelling(client: FlaskClient, path: str) -> None:
    response = client.get(BASE + path)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    _no_leak(response.data)


def test_files_that_are_not_a_complete_build_are_404(client: FlaskClient, shared: Shared) -> None:
    for name in shared.hostile:
        for prefix in ("", "download/"):
            response = client.get(BASE + prefix + name)
            assert response.status_code == 404, name
            _no_leak(response.data)
    page = client.get(BASE).get_data(as_text=True)
    feed = client.get(f"{BASE}feed.xml").get_data(as_text=True)
    for name in ("evil", "sneaky", "half", "dir", "notes"):
        assert f"{name}." not in page and f"/{name}." not in feed


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "TRACE"])
@pytest.mark.parametrize("path", ["", "tiny-share.mp3", "feed.xml", "download/tiny-share.mp3"])
def test_writes_and_odd_methods_are_refused(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(BASE + path, method=method, data=b"x" * 100)
    assert response.status_code == 405
    assert client.open(f"/{path}", method=method).status_code == 404


@pytest.mark.parametrize(
    "host", ["evil.example", "localhost.evil.example", "127.0.0.1", "localhost:8080", "", "[::1]"]
)
def test_a_foreign_host_header_is_400(client: FlaskClient, host: str) -> None:
    response = client.get(f"{BASE}tiny-share.mp3", headers={"Host": host})
    assert response.status_code == 400
    _no_leak(response.data)
    assert client.get(f"{BASE}tiny-share.mp3", headers={"Host": "LOCALHOST"}).status_code == 200


def test_host_names() -> None:
    assert host_names(["192.168.1.5"], 8765) == {"192.168.1.5:8765"}
    assert host_names(["::1"], 8000) == {"[::1]:8000"}
    assert host_names(["Box"], 80) == {"box", "box:80"}


@pytest.mark.parametrize("path", ["", "nope", "tiny-share.mp3", "../x"])
def test_every_answer_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    response = client.get(BASE + path)
    for name, value in HEADERS.items():
        assert response.headers[name] == value
    foreign = client.get(BASE, headers={"Host": "evil.example"})
    assert foreign.headers["Content-Security-Policy"] == HEADERS["Content-Security-Policy"]


def test_extra_blueprints_sit_behind_the_same_guard(shared: Shared) -> None:
    api = Blueprint("api", __name__, url_prefix="/api")
    api.add_url_rule("/ping", "ping", lambda: {"ok": True})
    token = new_token()
    app = create_app(shared.folder, Guard(token, host_names(["localhost"], 80)), [api])
    client = app.test_client()
    assert client.get(f"/{token}/api/ping").json == {"ok": True}
    assert client.get(f"/{token}/").status_code == 200
    assert client.get("/api/ping").status_code == 404
    assert client.get(f"/{TOKEN}/api/ping").status_code == 404
    assert client.get(f"/{token}/api/ping", headers={"Host": "evil.example"}).status_code == 400


def test_requests_write_nothing(client: FlaskClient, shared: Shared) -> None:
    root = shared.folder.parent

    def snapshot() -> dict[str, tuple[int, int]]:
        return {
            str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in sorted(root.rglob("*"))
            if not p.name.endswith(".yaml")
        }

    before = snapshot()
    for path in ("", "feed.xml", "tiny-share.mp3", "tiny-share.chapters.json", "artwork.png"):
        client.get(BASE + path)
        client.get(BASE + path, headers={"Range": "bytes=0-1"})
    for path in TRAVERSALS[:10]:
        client.get(BASE + path)
    assert snapshot() == before
    assert not (
        Path(sys.modules["routinecast.web.app"].__file__ or "").parent / "instance"
    ).exists()


def test_the_redactor_hides_the_token_in_messages_and_tracebacks() -> None:
    token = new_token()
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "GET /%s/x", (token,), None)
    TokenRedactor(token).filter(record)
    assert record.getMessage() == "GET /<token>/x"
    try:
        raise ValueError(f"/{token}/y")
    except ValueError:
        failed = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "Exception on %s", (token,), sys.exc_info()
        )
    TokenRedactor(token).filter(failed)
    text = logging.Formatter().format(failed)
    assert token not in text and "<token>" in text and "ValueError" in text
