"""Shared fixtures: an isolated speech cache per session, routine paths, a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
ROUTINES = ROOT / "routines"


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test shares one fresh speech cache (real clips are reused across tests)."""
    root = Path(os.environ.get("ROUTINECAST_TEST_CACHE") or tmp_path_factory.mktemp("clips"))
    old = os.environ.get("ROUTINECAST_CACHE_DIR")
    os.environ["ROUTINECAST_CACHE_DIR"] = str(root)
    yield root
    if old is None:
        os.environ.pop("ROUTINECAST_CACHE_DIR", None)
    else:
        os.environ["ROUTINECAST_CACHE_DIR"] = old


@pytest.fixture
def routines_dir() -> Path:
    """The shipped routines folder."""
    return ROUTINES


@pytest.fixture
def runner() -> CliRunner:
    """A typer CLI runner."""
    return CliRunner()


def write(path: Path, text: str) -> Path:
    """Write ``text`` (dedented by the caller) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
