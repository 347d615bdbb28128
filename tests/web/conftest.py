"""Fixtures for the web side: real builds made once per session, the app behind its guard,
a running ``routinecast share`` per module and a headless browser (helpers: ``sharekit``,
``browser``).

The builds go through the real pipeline with the fake engine (a hum of known length:
the layout is what matters here); ffmpeg still encodes a real MP3 with real tags.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import chromium
from flask import Flask
from flask.testing import FlaskClient
from sharekit import TOKEN, Shared, ShareProcess, build_shared, start_share

from routinecast.web.app import create_app
from routinecast.web.guard import Guard, host_names


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Shared:
    """Two routines built once per session, with hostile files planted beside them."""
    return build_shared(tmp_path_factory.mktemp("share"), session_cache)


@pytest.fixture(scope="session")
def app(shared: Shared) -> Flask:
    """The app for the shared folder, answering to the test client's Host (localhost)."""
    return create_app(shared.folder, Guard(TOKEN, host_names(["localhost"], 80)))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


@pytest.fixture(scope="module")
def live(shared: Shared) -> Iterator[ShareProcess]:
    """``routinecast share`` serving the shared folder on loopback, for one test module."""
    running = start_share(str(shared.folder), "--host", "127.0.0.1", "--port", "0")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """A headless Chromium (Selenium, the system chromedriver); skips if not installed."""
    with chromium(tmp_path / "profile") as driver:
        yield driver
