"""``routinecast cache``: where the caches are, how big, and clearing them.

The folder is ``$ROUTINECAST_CACHE_DIR`` or the user cache folder; it holds the speech
clips and piper's sentences (``speech.parts``; ``info`` counts their bytes with the
clips'), the remembered master gains, piper's prepared voice (``voices/``) and the store
of built MP3s (``built/``, bounded by ``$ROUTINECAST_STORE_MB``, least recently used
first). A cache that cannot be read or cleared is a ``CacheError`` (exit 1) with the
folder named.
"""

from __future__ import annotations

import typer

from routinecast.cli.common import guarded, out
from routinecast.errors import CacheError
from routinecast.speech.cache import ClipCache
from routinecast.store import FileStore

app = typer.Typer(help="The speech cache and the store of built files.", no_args_is_help=True)


@app.command("info")
def info() -> None:
    """Where the cache lives and how big it is."""
    cache = ClipCache()
    count, size = guarded(cache.size)
    built = FileStore(cache.root).size()
    out.print(f"{cache.root}: {count} clips, {size / 1e6:.1f} MB", markup=False)
    out.print(
        f"{cache.root / 'built'}: {built.files} built files, {built.bytes / 1e6:.1f} MB "
        f"(at most {built.limit_bytes / 1e6:.0f} MB, least recently used go first)",
        markup=False,
    )


@app.command("clear")
def clear() -> None:
    """Delete every cached clip and built file (the next build re-synthesises)."""
    cache = ClipCache()
    removed = guarded(cache.clear)
    built = guarded(lambda: _clear_store(FileStore(cache.root)))
    out.print(f"removed {removed} clips and {built} built files from {cache.root}", markup=False)


def _clear_store(store: FileStore) -> int:
    try:
        return store.clear()
    except OSError as exc:
        raise CacheError(
            f"cannot clear the store of built files at {store.folder}: {exc.strerror or exc}"
        ) from None
