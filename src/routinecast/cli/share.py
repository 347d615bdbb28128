"""``routinecast share``: serve built routines, read-only, to a phone on the same Wi-Fi.

``share`` serves ``output/``; ``share FOLDER`` serves that output folder; ``share
ROUTINE.yaml...`` builds them first (exactly as ``build`` does, with its options) into
``--output`` and serves that. It prints the URL on a line of its own, then as a QR code,
and serves until Ctrl-C or ``--for``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from routinecast.cli import options as opt
from routinecast.cli.build import build_command
from routinecast.cli.common import err, fail, guarded, out
from routinecast.durations import DurationError, parse_duration
from routinecast.errors import InputError
from routinecast.request import DEFAULT_LOUDNESS

if TYPE_CHECKING:
    from routinecast.web.server import Sharing

DEFAULT_PORT = 8765
HINT = "; build a routine first (routinecast build routines/NAME.yaml)"


def register(app: typer.Typer) -> None:
    """Add the command."""
    app.command("share")(share_command)


def share_command(
    sources: Annotated[
        list[Path] | None,
        typer.Argument(
            help="An output folder (default: output), or routine files to build first.",
            metavar="FOLDER | ROUTINE.yaml",
            show_default=False,
        ),
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: this machine's LAN address).")
    ] = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port; 0 picks a free one.")] = (
        DEFAULT_PORT
    ),
    for_: Annotated[
        str | None, typer.Option("--for", help="Stop after this long, e.g. 2h or 90m.")
    ] = None,
    output: opt.Output = Path("output"),
    engine: opt.Engine = None,
    voice: opt.Voice = None,
    rate: opt.Rate = None,
    loudness: opt.Loudness = DEFAULT_LOUDNESS,
    music: opt.Music = None,
    set_: opt.Sets = None,
    hold: opt.Hold = None,
    rest: opt.Rest = None,
    scale: opt.Scale = None,
    fit: opt.Fit = None,
    sound: opt.Sound = None,
) -> None:
    """Serve the built routines to a phone on this Wi-Fi: a page, a podcast feed, the files."""
    from routinecast.web.server import serve

    stop_after_ms = guarded(lambda: _stop_after(for_))
    paths = list(sources or [])
    if paths and all(p.is_file() for p in paths):
        build_command(
            routines=paths,
            output=output,
            engine=engine,
            voice=voice,
            rate=rate,
            loudness=loudness,
            music=music,
            set_=set_,
            hold=hold,
            rest=rest,
            scale=scale,
            fit=fit,
            sound=sound,
        )
        folder = output
    elif (
        any((engine, voice, rate, music, set_, hold, rest, scale, fit, sound))
        or loudness != DEFAULT_LOUDNESS
    ):
        raise fail("build options need routine files to build: share ROUTINE.yaml... --hold 45s", 2)
    else:
        folder = guarded(lambda: _folder(paths))
    sharing = _listen(folder, host, port)
    try:
        _announce(sharing, folder, stop_after_ms)
        expired = serve(sharing, stop_after_ms / 1000 if stop_after_ms else None)
    except KeyboardInterrupt:  # Ctrl-C while the address is still being printed
        sharing.server.server_close()
        expired = False
    out.print(f"stopped after {for_}" if expired else "stopped")


def _listen(folder: Path, host: str | None, port: int) -> Sharing:
    from routinecast.web.server import open_share

    try:
        return open_share(folder, host, port)
    except OSError as exc:
        where = f"{host or 'the LAN address'} port {port}"
        raise fail(f"cannot listen on {where}: {exc.strerror or exc} (try --port 0)", 1) from None


def _stop_after(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        ms = parse_duration(text)
    except DurationError as exc:
        raise InputError(str(exc), field="--for") from None
    if ms <= 0:
        raise InputError(f'must be longer than 0, got "{text}"', field="--for")
    return ms


def _folder(paths: list[Path]) -> Path:
    """The one output folder to serve."""
    if len(paths) > 1 or any(p.is_file() for p in paths):
        raise InputError(
            "give one output folder, or routine files only (a folder of routines: its files)"
        )
    folder = paths[0] if paths else Path("output")
    if folder.is_dir():
        return folder
    if folder.exists():
        raise InputError("is not a folder", file=str(folder))
    hint = "" if folder.suffix in (".yaml", ".yml") else HINT
    raise InputError(f"does not exist{hint}", file=str(folder))


def _announce(sharing: Sharing, folder: Path, stop_after_ms: int | None) -> None:
    """What is shared, the URL on its own line, the QR code, how it stops."""
    count = len(sharing.catalogue().routines)
    what = f"{count} routine{'' if count == 1 else 's'}"
    out.print(f"Sharing {what} from {escape(str(folder))}. Open this on your phone or scan it:")
    out.print(sharing.url, markup=False)
    out.file.flush()
    _qr(sharing.url)
    if count == 0:
        err.print(
            "[yellow]warning:[/] nothing is built there yet; the page lists builds as they land"
        )
    if sharing.local_only:
        err.print("[yellow]note:[/] only this computer can open it (a loopback address)")
    if stop_after_ms:
        until = time.strftime("%H:%M", time.localtime(time.time() + stop_after_ms / 1000))
        out.print(f"Stops at {until}, or press Ctrl-C.")
    else:
        out.print("Press Ctrl-C to stop.")
    out.file.flush()


def _qr(url: str) -> None:
    import segno

    code = segno.make(url, error="m")
    try:
        code.terminal(out=sys.stdout, compact=True, border=2)
    except UnicodeEncodeError:
        code.terminal(out=sys.stdout, border=2)
    sys.stdout.flush()
