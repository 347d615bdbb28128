"""``routinecast cache``: where the speech cache is, and clearing it."""

from __future__ import annotations

import typer

from ..cache import ClipCache
from .common import out

app = typer.Typer(help="The speech cache.", no_args_is_help=True)


@app.command("info")
def info() -> None:
    """Where the cache lives and how big it is."""
    cache = ClipCache()
    count, size = cache.size()
    out.print(f"{cache.root}: {count} clips, {size / 1e6:.1f} MB")


@app.command("clear")
def clear() -> None:
    """Delete every cached clip (the next build re-synthesises)."""
    cache = ClipCache()
    out.print(f"removed {cache.clear()} clips from {cache.root}")
