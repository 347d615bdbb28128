"""Many phones at once, from loopback: random ranges from 50 clients, and clients that drop
mid-transfer. Every byte must be right, memory roughly flat, no descriptor left open."""

from __future__ import annotations

import http.client
import os
import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from sharekit import Shared, ShareProcess

CLIENTS = 50
LOAD_SECONDS = float(os.environ.get("ROUTINECAST_LOAD_SECONDS", "20"))
RSS_SLACK_KB = 24 * 1024
"""Allowed growth of the server's resident memory once warm (threads, allocator noise)."""
FD_SLACK = 32
"""Werkzeug's handler leaves a selector to the garbage collector when a client resets the
connection while it drains the request: a few descriptors, collected later, never growing
with the number of drops. Open files and sockets must all be gone."""


class Target:
    """Where the MP3 is served and what it holds."""

    def __init__(self, live: ShareProcess, shared: Shared) -> None:
        parts = urlsplit(live.url)
        self.host, self.port = parts.hostname or "", parts.port or 0
        self.path = parts.path + "tiny-share.mp3"
        self.data = shared.path("tiny-share.mp3").read_bytes()

    def random_range(self, rng: random.Random) -> tuple[str, int, int]:
        """A Range header and the first and last byte it names."""
        size = len(self.data)
        kind = rng.random()
        if kind < 0.1:
            count = rng.randint(1, size)
            return f"bytes=-{count}", size - count, size - 1
        start = rng.randrange(size)
        if kind < 0.2:
            return f"bytes={start}-", start, size - 1
        end = min(size - 1, start + rng.randint(0, 256 * 1024))
        return f"bytes={start}-{end}", start, end

    def fetch(self, connection: http.client.HTTPConnection, rng: random.Random) -> None:
        """One range request on a kept-alive connection, checked byte for byte."""
        header, first, last = self.random_range(rng)
        connection.request("GET", self.path, headers={"Range": header})
        response = connection.getresponse()
        body = response.read()
        assert response.status == 206, (header, response.status)
        assert response.getheader("Content-Range") == f"bytes {first}-{last}/{len(self.data)}"
        assert body == self.data[first : last + 1], header

    def drop(self, rng: random.Random) -> None:
        """Ask for the whole file, read a little, hang up (half of the time with a reset)."""
        with socket.create_connection((self.host, self.port), timeout=10) as raw:
            if rng.random() < 0.5:
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            request = f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n"
            raw.sendall(request.encode())
            raw.recv(rng.randint(1, 4096))


def _run(workers: int, job: Callable[[random.Random], None], until: float) -> list[str]:
    """``job`` in ``workers`` threads until ``until``; the failures."""
    errors: list[str] = []

    def loop(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < until and not errors:
            try:
                job(rng)
            except Exception as exc:
                errors.append(repr(exc))

    threads = [threading.Thread(target=loop, args=(seed,)) for seed in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=until - time.monotonic() + 60)
    return errors


def _settle(live: ShareProcess, shared: Shared, timeout: float = 15) -> list[str]:
    """Wait until no connection and no served file is open; what is open then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = [fd for fd in live.open_fds if _served_or_connection(fd, shared)]
        if len(held) <= 1:  # the listening socket
            break
        time.sleep(0.1)
    return live.open_fds


def _served_or_connection(fd: str, shared: Shared) -> bool:
    return fd.startswith("socket:") or fd.startswith(str(shared.folder))


def _check_descriptors(before: list[str], after: list[str], shared: Shared) -> None:
    assert [fd for fd in after if fd.startswith(str(shared.folder))] == []
    assert sum(fd.startswith("socket:") for fd in after) == 1  # listening only
    assert len(after) <= len(before) + FD_SLACK


def _client_job(target: Target) -> Callable[[random.Random], None]:
    local = threading.local()

    def job(rng: random.Random) -> None:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection(target.host, target.port, timeout=30)
        try:
            target.fetch(local.connection, rng)
        except BaseException:
            local.connection.close()
            del local.connection
            raise

    return job


def test_clients_that_drop_mid_transfer_disturb_no_one(live: ShareProcess, shared: Shared) -> None:
    target = Target(live, shared)
    fds = _settle(live, shared)
    until = time.monotonic() + 4
    dropped: list[str] = []
    droppers = threading.Thread(target=lambda: dropped.extend(_run(10, target.drop, until)))
    droppers.start()
    full: list[bytes] = []

    def whole(_: random.Random) -> None:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=30)
        try:
            connection.request("GET", target.path)
            full.append(connection.getresponse().read())
        finally:
            connection.close()

    errors = _run(4, whole, until)
    droppers.join()
    assert errors == [] and dropped == []
    assert full and all(body == target.data for body in full)
    _check_descriptors(fds, _settle(live, shared), shared)
    assert live.proc.poll() is None


@pytest.mark.slow
def test_fifty_clients_fetching_random_ranges(live: ShareProcess, shared: Shared) -> None:
    target = Target(live, shared)
    warm = _run(CLIENTS, _client_job(target), time.monotonic() + 2)  # threads, buffers, caches
    assert warm == []
    fds = _settle(live, shared)
    rss_warm = live.rss_kb
    peak = [rss_warm]
    until = time.monotonic() + LOAD_SECONDS
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            peak.append(live.rss_kb)

    sampler = threading.Thread(target=sample)
    sampler.start()
    dropped: list[str] = []
    droppers = threading.Thread(target=lambda: dropped.extend(_run(5, target.drop, until)))
    droppers.start()
    try:
        errors = _run(CLIENTS, _client_job(target), until)
        droppers.join()
    finally:
        stop.set()
        sampler.join()
    assert errors == [] and dropped == []
    assert max(peak) - rss_warm < RSS_SLACK_KB, (rss_warm, max(peak))
    _check_descriptors(fds, _settle(live, shared), shared)
    assert live.proc.poll() is None
