"""``routinecast cache``: where the speech cache is, how big, and clearing it.

The folder is ``$ROUTINECAST_CACHE_DIR`` or the user cache folder. A cache that
cannot be read or cleared is a ``CacheError`` (exit 1) with the folder named.
"""

from __future__ import annotations

import typer

from routinecast.cli.common import guarded, out
from routinecast.speech.cache import ClipCache

app = typer.Typer(help="The speech cache.", no_args_is_help=True)


@app.command("info")
def info() -> None:
    """Where the cache lives and how big it is."""
    cache = ClipCache()
    count, size = guarded(cache.size)
    out.print(f"{cache.root}: {count} clips, {size / 1e6:.1f} MB", markup=False)


@app.command("clear")
def clear() -> None:
    """Delete every cached clip (the next build re-synthesises)."""
    cache = ClipCache()
    removed = guarded(cache.clear)
    out.print(f"removed {removed} clips from {cache.root}", markup=False)
