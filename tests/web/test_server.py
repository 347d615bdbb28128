"""``routinecast share`` for real: a subprocess on loopback, fetched with urllib and raw HTTP."""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sharekit import SECRET, TINY, Shared, ShareProcess, listening_on, start_share
from typer.testing import CliRunner

from routinecast.cli import app as cli
from routinecast.web.server import is_loopback, lan_address

URL = re.compile(r"^http://127\.0\.0\.1:(\d+)/([A-Za-z0-9_-]{32})/$")


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as failed:
        return failed.code, dict(failed.headers), failed.read()


def _raw(url: str, method: str, path: str, headers: dict[str, str] | None = None) -> int:
    """A request sent as written (no client-side normalising of the path)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", (headers or {}).get("Host", parts.netloc))
        for name, value in (headers or {}).items():
            if name != "Host":
                connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        assert SECRET.encode() not in body
        return response.status
    finally:
        connection.close()


def test_share_serves_and_stops_on_ctrl_c(shared: Shared) -> None:
    running = start_share(str(shared.folder), "--host", "127.0.0.1", "--port", "0")
    try:
        match = URL.match(running.url)
        assert match, running.url
        token = match.group(2)
        status, headers, page = _get(running.url)
        assert status == 200 and b"<h2>Tiny Share</h2>" in page
        mp3 = shared.path("tiny-share.mp3").read_bytes()
        status, headers, part = _get(running.url + "tiny-share.mp3", {"Range": "bytes=0-1"})
        assert (status, part) == (206, mp3[:2])
        assert headers["Content-Range"] == f"bytes 0-1/{len(mp3)}"
        status, _, tail = _get(running.url + "tiny-share.mp3", {"Range": "bytes=-500"})
        assert (status, tail) == (206, mp3[-500:])
        assert _get(running.url + "nope.mp3")[0] == 404
        assert _get(running.url.replace(token, token[::-1]))[0] == 404
        _bad_request_line(running.url, token)
    finally:
        code, out, err = running.stop()
    assert code == 0, err
    assert out.count(token) == 1  # the URL, once (the QR code is drawn, not written)
    assert token not in err
    assert out.rstrip().endswith("stopped")


def _bad_request_line(url: str, token: str) -> None:
    """A malformed request holding the token: the server's error log must redact it."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as raw:
        raw.sendall(f"GET /{token}/x HTTP/9.9\r\n\r\n".encode())
        assert b"Error" in raw.recv(1000)


def test_raw_paths_are_not_normalised_into_the_folder(live: ShareProcess) -> None:
    base = urlsplit(live.url).path
    assert _raw(live.url, "GET", base) == 200
    assert _raw(live.url, "HEAD", base + "tiny-share.mp3") == 200
    for path in (
        base + "../notes.txt",
        base + "%2e%2e/notes.txt",
        base + "%2e%2e%2fnotes.txt",
        base + "%252e%252e%252fnotes.txt",
        base + "..\\notes.txt",
        base + "/etc/passwd",
        base + "static/../../notes.txt",
        base + "static/%2e%2e/%2e%2e/notes.txt",
        "/" + base.strip("/") + "/../../outside/secret.mp3",
        "/notes.txt",
        "/etc/passwd",
        "http://evil.example/etc/passwd",
        "*",
    ):
        assert 400 <= _raw(live.url, "GET", path) < 500, path
    assert _raw(live.url, "GET", base, {"Host": "evil.example"}) == 400
    assert _raw(live.url, "GET", base, {"Host": "127.0.0.1.nip.io"}) == 400
    assert _raw(live.url, "POST", base + "tiny-share.mp3") == 405
    assert _raw(live.url, "DELETE", base + "tiny-share.mp3") == 405


def test_share_stops_by_itself_after_for(shared: Shared) -> None:
    start = time.monotonic()
    running = start_share(str(shared.folder), "--host", "127.0.0.1", "--port", "0", "--for", "2s")
    assert running.proc.wait(timeout=30) == 0
    code, out, err = running.stop()
    assert code == 0 and "stopped after" in out, (out, err)
    assert time.monotonic() - start < 30


def test_share_builds_routine_files_first(tmp_path: Path) -> None:
    routine = tmp_path / "tiny-built.yaml"
    routine.write_text(TINY, encoding="utf-8")
    out = tmp_path / "out"
    running = start_share(
        str(routine), "--engine", "fake", "-o", str(out), "--host", "127.0.0.1", "--port", "0"
    )
    try:
        assert (out / "tiny-built.mp3").is_file()
        assert any(line.startswith("wrote ") for line in running.head)  # build's own report
        status, _, page = _get(running.url)
        assert status == 200 and b'id="tiny-built"' in page
    finally:
        code, _, err = running.stop()
    assert code == 0, err


def test_by_default_it_listens_on_the_lan_address_only(shared: Shared) -> None:
    if not Path("/proc/net/tcp").is_file():
        pytest.skip("reads the listening address from /proc/net/tcp (Linux)")
    address = lan_address()
    running = start_share(str(shared.folder), "--port", "0")
    try:
        parts = urlsplit(running.url)
        assert parts.hostname == address
        assert parts.port is not None
        assert listening_on(parts.port) == {address}  # not 0.0.0.0, not loopback as well
        if not is_loopback(address):
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", parts.port), timeout=2).close()
    finally:
        assert running.stop()[0] == 0


def test_lan_address_is_an_ipv4_address() -> None:
    address = ipaddress.ip_address(lan_address())
    assert address.version == 4 and not address.is_unspecified


def test_a_port_in_use_is_a_clear_error(shared: Shared) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["share", str(shared.folder), "--host", "127.0.0.1", "--port", str(port)]
        )
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1 port {port}" in result.stderr
    assert "--port 0" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["share", "{missing}"], "does not exist"),
        (["share", "{folder}", "{folder}"], "give one output folder"),
        (["share", "{folder}", "--for", "soon"], "--for must be a duration"),
        (["share", "{folder}", "--for", "0"], "--for must be longer than 0"),
        (["share", "{folder}", "--hold", "45s"], "build options need routine files"),
        (["share", "{folder}", "--port", "70000"], "65535"),
    ],
)
def test_bad_arguments_exit_2(
    shared: Shared, tmp_path: Path, args: list[str], message: str
) -> None:
    filled = [a.format(missing=tmp_path / "nope", folder=shared.folder) for a in args]
    result = CliRunner().invoke(cli, filled)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
